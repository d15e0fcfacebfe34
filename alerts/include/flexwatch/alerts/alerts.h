// Alerts: when a platform-dimension level of a month changes (or becomes final at a level other
// than green), an alert is written to the state's outbox in the same batch as the level it now
// remembers, and delivered to the alerts topic at least once. Its id is a hash of what it says,
// so that a re-delivery, or the same alert made again after a crash, carries the same id.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "flexwatch/alerts/options.h"
#include "flexwatch/detectors/detectors.h"
#include "flexwatch/rules/evaluate.h"

namespace flexwatch {

struct Alert {
  std::string alert_id;
  std::string json;  // one line
  // What it says, for counting: kind "level_change" (dimension and level), "revision" (a sealed
  // month's verdict changed: dimension and the level it has now) or "early_warning" (detector).
  std::string kind, dimension, level, detector;
  bool final = false;
  // For the operator's line on stderr: whose, which month, the level it was (a level change, a
  // revision's from) or the series (an early warning), and a revision's number.
  std::string platform_id;
  Period period = 0;
  std::string previous, series;
  int revision = 0;
};

// What a round judged, for metrics and Alertmanager: each month it evaluated (those not yet
// alerted as final, including any that became final in it) and the last month alerted as final
// before them, with every platform's scores and the month's early warnings. Ascending.
struct RoundMonth {
  Period period = 0;
  bool final = false;
  std::vector<PlatformScore> platforms;
  std::vector<EarlyWarning> warnings;
};
// A seal (revision 0) or revision this state recorded in a round, and how many
// platform-dimensions it changed.
struct SealMade {
  Period period = 0;
  int revision = 0;
  size_t changes = 0;
};

struct AlertRound {
  std::vector<RoundMonth> months;
  // Months in the state that the rule set cannot judge (no row of a dated table holds them),
  // with the reason: left out of the round, never a reason to stop. Ascending.
  std::vector<std::pair<Period, std::string>> not_judged;
  std::vector<SealMade> sealed;  // in order
  // A platform taken over (AlertOptions::takeover) has a final level no instance said, and
  // events arrived since its month's latest revision: said once that revision is made (the
  // caller asks for the takeover's look again next round).
  bool takeover_pending = false;
};

struct AlertOptions {
  std::string topic = "flexwatch.alerts";  // where the outbox delivers the alerts
  // The wall-clock time, given when the topics have been quiet long enough for months to close
  // in wall-clock time (CloseQuietMonths).
  std::optional<TimestampMs> quiet_now = std::nullopt;
  // When given, keeps the series of the months already alerted as final from one call to the
  // next (they are the detectors' history and no longer change), so that a round reads only the
  // months still open; without it every month the detectors look back on is read again.
  SeriesCache* history = nullptr;
  // Records, in the batch that remembers a month as final, that its announcement is due
  // (meta_keys::PublishDue), and in the batch of each later revision, that its correction is
  // (meta_keys::CorrectionDue); announce/publish.h keeps their documents and publishes them.
  bool mark_publication = false;
  // The wall-clock time a month sealed or revised in this round is recorded at (none: now).
  std::optional<TimestampMs> now = std::nullopt;
  // The platforms this instance alerts for (cli.md 1.1, "Several monitors, one city"; none: every
  // one). Another instance's platform is judged (its months are sealed here too) but neither
  // alerted nor remembered: the levels it was alerted at come from its owner's alerts, read back
  // from the alerts topic (their headers flexwatch.state_key and flexwatch.state_value carry what
  // the sender remembered), so that a platform taken over is alerted for what changed since, once.
  std::function<bool(std::string_view platform)> owns = nullptr;
  // Whether this state seals and revises months (rules.md section 4). In a group one instance
  // does, the one that publishes, so that the city has one seal: the others adopt its seals,
  // read back from `seal_topic`, and alert each adopted revision's changes for the platforms
  // they own (EvaluateAndAlert alerts them here when `seals` is false).
  bool seals = true;
  // Where a seal, and each change of its counts of events arrived after it, is sent for the
  // other instances (empty: not sent): a message of kind "seal" whose headers carry the revision
  // record as the state keeps it (flexwatch.state_key, flexwatch.state_value) and the counts
  // (flexwatch.after_seal: "<platform>\t<n>" lines), and the group's name (flexwatch.group):
  // only the instances of that group adopt it.
  std::string seal_topic{};
  std::string group{};
  // The event time this state has itself read every source to (none: no limit). A month final
  // on a closing watermark taken from another instance (alerts carry theirs) is not sealed here
  // before this state's own reading has passed its grace: a seal made on part of the month's
  // events would be the city's (a month closed in wall-clock time is sealed as it closes).
  std::optional<TimestampMs> seal_until = std::nullopt;
  // This state has just become the one that seals (a group's publisher changed, or a run
  // started): every sealed month is judged once more, whatever its last check says, and its
  // counts of events arrived after the seal are at least those this state saw itself
  // (meta_keys::SeenAfterSeal). Late events it applied while another instance sealed were
  // neither counted nor judged by it then.
  bool recheck = false;
  // The platforms `owns` names changed since the last call (a rebalance settled, or a run
  // started): every revision change of a sealed month for a platform owned now is alerted unless
  // it has been already, here or by another instance (meta_keys::RevisionChangeAlerted, read back
  // from the alerts topic): a platform's previous judge may have died before it delivered one.
  bool takeover = false;
};

// Evaluates every month in the state not yet alerted as final (provisional levels, or final
// ones once the grace has passed), compares each platform-dimension level with the one the
// state remembers (green when none), and writes an alert for each change, with the new levels,
// in one batch. A month alerted final is sealed as revision 0 (rules/revisions.h) in that batch;
// a sealed month that events have arrived for since is judged again, and when any
// platform-dimension's level or counts changed, the next revision is recorded and each change is
// alerted once (kind "revision"). Early warnings of those months (`detectors`) are alerted the same
// way, each (month, platform, detector, series) once, when first raised (kind "early_warning"). A
// month the rule set cannot judge (RuleSet::Judgeable) is skipped and listed in
// `round->not_judged`. Returns the alerts written; `round` (optional) receives what the round
// judged.
Result<std::vector<Alert>> EvaluateAndAlert(Store& store, const RuleSet& rules,
                                            const DetectorConfig& detectors,
                                            const AlertOptions& options,
                                            AlertRound* round = nullptr);

}  // namespace flexwatch
