// Announcements as JSON (spec/cli.md): the monthly verdict per platform and dimension, and the
// annual record with its lists. Deterministic: the same evaluation gives the same bytes.
#pragma once

#include <string>
#include <vector>

#include "flexwatch/detectors/detectors.h"
#include "flexwatch/rules/evaluate.h"

namespace flexwatch {

// `warnings`: the month's early warnings (DetectWarnings), listed under their platforms.
std::string MonthlyJson(const MonthEvaluation& month, const RuleSet& rules,
                        const std::vector<EarlyWarning>& warnings = {});

// `months`: the evaluations of the year's months that have any worker-month, in order.
std::string AnnualJson(int year, const std::vector<MonthEvaluation>& months, const RuleSet& rules);

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
