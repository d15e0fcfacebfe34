// Sealed months (rules.md section 4). The monitor seals a month's verdict as revision 0 when it
// first alerts or publishes it final; events that arrive for it later are still applied, and when
// they change a platform's verdict the monitor records revision 1, 2, ... Each revision keeps the
// verdict it sealed (per platform and dimension: level, in-scope and affected counts) and when;
// what changed is the difference from the revision before. Kept in the state's bookkeeping
// (meta_keys::Revision), so that `announce` on the state says what the monitor published.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "flexwatch/rules/evaluate.h"

namespace flexwatch {

struct SealedCell {
  Level level = Level::kGreen;
  int64_t in_scope = 0;
  int64_t affected = 0;
  bool operator==(const SealedCell&) const = default;
};
// By platform, each dimension's cell.
using SealedVerdict = std::map<std::string, std::array<SealedCell, kDimensionCount>>;

struct RevisionChange {
  std::string platform_id;
  Dimension dimension = Dimension::kContractAvoidance;
  std::optional<SealedCell> from, to;  // none: the platform was not in the month then, or now
};

struct Revision {
  int number = 0;
  TimestampMs sealed_at = 0;  // wall-clock time the monitor sealed it
  SealedVerdict verdict;
  std::vector<RevisionChange> changes;  // from the revision before (none for revision 0)
};

// The verdict of a judged month, as a revision keeps it.
SealedVerdict SealedVerdictOf(const MonthEvaluation& m);
// What differs from `before` to `after`, by platform then dimension.
std::vector<RevisionChange> ChangesBetween(const SealedVerdict& before, const SealedVerdict& after);

// The month's revisions in order (empty: not sealed), each with its changes. Corruption when a
// stored revision cannot be read.
Result<std::vector<Revision>> ReadRevisions(Store& store, Period p);
// Adds revision `r` of month `p` to `batch`.
void PutRevision(Batch& batch, Period p, const Revision& r);
// Revision `r` as the state keeps it (the value of meta_keys::Revision): what a seal carries to
// the other instances of a group.
std::string EncodeRevision(const Revision& r);

// Events for month `p` applied after it was sealed, per platform (none listed with 0). Where the
// seal recorded the month's events as they stood (meta_keys::AtSeal), the month's events now less
// those: exact, and the same on every state that has read the same messages, whichever instance
// sealed. Else (a seal of a build that did not record them) the counts kept as events arrived
// (meta_keys::AfterSeal), or with `seen_here` those this state applied itself after it held the
// seal (meta_keys::SeenAfterSeal).
std::map<std::string, int64_t> ArrivedAfterSeal(Store& store, Period p, bool seen_here = false);
// Records in `batch`, with the seal of month `p` (revision 0), the month's events per platform
// as the state holds them (meta_keys::MonthEvents), and returns them: what the seal sends.
std::map<std::string, int64_t> RecordEventsAtSeal(Store& store, Batch& batch, Period p);
// Those records (none: not recorded, a seal of an earlier build or none yet).
std::optional<std::map<std::string, int64_t>> EventsAtSeal(Store& store, Period p);
// The same records from counts a seal carried (an instance adopting another's seal).
void PutEventsAtSeal(Batch& batch, Period p, const std::map<std::string, int64_t>& at);

// {"revision": N, "sealed_at": "...", "changes": [{"platform_id", "dimension", "from":
// {"level", "in_scope", "affected"} or null, "to": ...}]}
std::string RevisionJson(const Revision& r);
std::string SealedCellJson(const std::optional<SealedCell>& c);

}  // namespace flexwatch
