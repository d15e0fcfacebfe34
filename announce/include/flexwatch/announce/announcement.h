// Announcements as JSON (spec/cli.md): the monthly verdict per platform and dimension, and the
// annual record with its lists. Deterministic: the same evaluation gives the same bytes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "flexwatch/core/registry.h"
#include "flexwatch/detectors/detectors.h"
#include "flexwatch/rules/evaluate.h"
#include "flexwatch/rules/revisions.h"

namespace flexwatch {

// What the monitor sealed of a month (rules/revisions.h): its revisions, and per platform the
// events applied after the seal.
struct MonthSealing {
  std::vector<Revision> revisions;
  std::map<std::string, int64_t> arrived_after_seal;
};

// `warnings`: the month's early warnings (DetectWarnings), listed under their platforms.
// `sealing`: for a final month the monitor sealed, "revision" (the latest), "revisions" and each
// platform's "arrived_after_seal" (spec/cli.md 1.1).
// `platforms`: the registry; each platform in it gets its "name_zh", "name_en" and
// "credit_code", and the month's platforms not in it are listed under "unregistered" (none when
// no registry is configured).
std::string MonthlyJson(const MonthEvaluation& month, const RuleSet& rules,
                        const std::vector<EarlyWarning>& warnings = {},
                        const MonthSealing* sealing = nullptr,
                        const PlatformRegistry* platforms = nullptr);

// `months`: the evaluations of the year's months that have any worker-month, in order.
std::string AnnualJson(int year, const std::vector<MonthEvaluation>& months, const RuleSet& rules,
                       const PlatformRegistry* platforms = nullptr);

// One platform's year: its months and the list it is on, by the criteria of every annual
// publication: violation (red in a ranked month), watch (yellow or orange in a ranked month),
// commendation (ranked and green in every month it has).
struct AnnualRecord {
  std::string platform_id;
  std::vector<std::pair<const MonthEvaluation*, const PlatformScore*>> months;
  std::string list;  // "violation", "watch", "commendation", or empty
  bool any_ranked = false;
  Level worst = Level::kGreen;  // of the ranked months
};
std::vector<AnnualRecord> AnnualRecords(const std::vector<MonthEvaluation>& months);

}  // namespace flexwatch
