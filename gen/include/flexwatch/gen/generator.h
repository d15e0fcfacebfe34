// A synthetic, realistic Beijing platform feed with planted violations and their ground truth.
// Deterministic: the same options give the same bytes (own PRNG and integer-only sampling, no
// implementation-defined standard distributions).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "flexwatch/core/status.h"
#include "flexwatch/core/time.h"
#include "flexwatch/rules/rule_set.h"

namespace flexwatch {

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
  // Event ids: a producer's sequence ("o-123") by default, or random 16-hex-digit ids.
  bool random_ids = false;

  // The rule set an honest platform complies with (base limits, rates, sectors, minimum sums)
  // and by which the ground truth is judged. REQUIRES: set (the config's rules).
  const RuleSet* rules = nullptr;
  // The occupational-injury pilot premium per order (what platforms pay; not a rule figure).
  int64_t premium_per_order_fen = 10;
};

// Writes the feed (NDJSON) to `feed` and, when `truth` is given, the ground truth JSON to it: per
// platform and month the counts and levels that the rules give, with every month final.
Status Generate(const GenOptions& options, std::ostream& feed, std::ostream* truth);

}  // namespace flexwatch
