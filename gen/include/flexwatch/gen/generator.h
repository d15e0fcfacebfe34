// A synthetic, realistic Beijing platform feed with planted violations and their ground truth.
// Deterministic: the same options give the same bytes (own PRNG and integer-only sampling, no
// implementation-defined standard distributions).
#pragma once

#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "flexwatch/core/status.h"
#include "flexwatch/core/time.h"
#include "flexwatch/rules/rule_set.h"

namespace flexwatch {

// A drift planted on one platform from a month on, growing month by month, for the early-warning
// detectors (and, where it breaks a rule, for the rules too):
//   agency        a gradual move of labour-contract workers to agencies (outsourcing)
//   contribution  a growing share of labour-relation worker-months declared on half the base
//   premium       the occupational-injury premium per order falling (every order still claimed)
//   capping       a growing share of labour-relation workers capped at 101-103 h (under 104 h)
//   complaints    a surge of complaints of one category
enum class DriftKind : uint8_t { kAgency, kContribution, kPremium, kCapping, kComplaints };
inline constexpr std::array<std::string_view, 5> kDriftKindNames = {
    "agency", "contribution", "premium", "capping", "complaints"};
struct Drift {
  DriftKind kind = DriftKind::kAgency;
  int platform = 0;  // index, 0-based (the platform id ends in index + 1)
  Period start = 0;
};

// The shapes of event ids real producers use:
//   sequential  a producer's counter behind a type prefix: "o-123"
//   uuid        UUID version 4: "1b4e28ba-2fa1-4d2b-883f-0016d3cca427"
//   hex         16 random hex digits: "9f86d081884c7d65"
//   snowflake   a 64-bit time-ordered number (milliseconds, machine, sequence) in decimal
enum class IdShape : uint8_t { kSequential, kUuid, kHex, kSnowflake };
inline constexpr std::array<std::string_view, 4> kIdShapeNames = {"sequential", "uuid", "hex",
                                                                  "snowflake"};
// time: each day's events in time order (a few swapped, duplicates a few days later); shuffled:
// every line of the feed in a uniformly random order (the whole feed is held in memory).
enum class FeedOrder : uint8_t { kTime, kShuffled };
inline constexpr std::array<std::string_view, 2> kFeedOrderNames = {"time", "shuffled"};

struct GenOptions {
  int workers = 1000;
  int platforms = 6;
  int months = 3;
  uint64_t seed = 1;
  Period start = MakePeriod(2024, 7);
  // Share of workers who also work for a second platform (paper 3.1: multi-homing is common).
  double multi_homing = 0.08;
  // Awkward cases real feeds have, as shares of the valid events.
  double duplicate_share = 0.004;  // exact re-deliveries, later in the feed
  double malformed_share = 0.001;  // extra lines that must be rejected
  double late_share = 0.1;         // contributions paid 20-40 days after the month, not on the 10th
  // Event ids in one of the shapes real producers use (IdShape), and the order of the lines.
  IdShape ids = IdShape::kSequential;
  FeedOrder order = FeedOrder::kTime;
  // The shapes of real workforces, all honest (`gen --seasons`): platforms of very different
  // sizes (a few dozen workers next to hundreds) with their own levels (tier mix, premium per
  // order, cover bought); churn (workers leave, with their labour contracts terminated, and
  // others join); a Spring Festival trough each February (fewer workers, fewer hours, more
  // leaving); one fast-growing platform; one high-risk platform hiring part-timers each July and
  // August, insured at the minimum where its full-timers have more; and one platform whose
  // orders move partly to a second sector from June to September. Planted drifts go to platforms
  // expected to have 60 workers or more (on fewer, a drift moves one or two worker-months).
  // Off: a fixed workforce, alike within a sector, steady month to month.
  bool seasons = false;

  // The rule set an honest platform complies with (base limits, rates, sectors, minimum sums)
  // and by which the ground truth is judged. REQUIRES: set (the config's rules).
  const RuleSet* rules = nullptr;
  // The occupational-injury pilot premium per order (what platforms pay; not a rule figure).
  int64_t premium_per_order_fen = 10;

  // The fixed violations planted on every platform but those with index % 6 in {0, 4}. Off:
  // every platform is honest but for its drifts.
  bool static_violations = true;
  std::vector<Drift> drifts;
  // Plants this many drifts besides `drifts`: kinds in turn, on platforms drawn from the seed
  // (one drift per platform, a pilot-sector one for a premium drift), starting in the second
  // half of the feed. REQUIRES: months >= 6.
  int auto_drifts = 0;
};

// Parses "KIND:PLATFORM:YYYY-MM" (PLATFORM the 1-based number the platform id ends in).
Result<Drift> ParseDrift(std::string_view text);

// Writes the feed (NDJSON) to `feed` and, when `truth` is given, the ground truth JSON to it: per
// platform and month the counts and levels that the rules give, with every month final.
Status Generate(const GenOptions& options, std::ostream& feed, std::ostream* truth);

}  // namespace flexwatch
