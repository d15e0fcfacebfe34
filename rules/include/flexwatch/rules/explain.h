// Why a worker-month is judged as it is, in words, in Chinese or English: for `inspect`, the
// self-check and the inspector's list of a platform's affected worker-months.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "flexwatch/core/lang.h"
#include "flexwatch/rules/evaluate.h"

namespace flexwatch {

// One sentence (or a few, joined by "; " or "；") saying what is wrong with a worker-month on one
// dimension and what would satisfy the rule, for platform engineers and inspectors.
std::string ExplainText(const RuleSet& rules, const MonthRow& row, const Verdict& v, Dimension d,
                        Lang lang = Lang::kEn);

// For `flexwatch inspect`: the worker-month's tier and why, and each dimension's outcome with
// the numbers behind it, as a JSON object; "null" when there is no such worker-month. A
// dispatched labour relation is placed against the platform's dispatch cap for the month.
Result<std::string> ExplainWorkerMonth(Store& store, const RuleSet& rules, Period p,
                                       const std::string& platform, const std::string& worker,
                                       bool close, Lang lang = Lang::kEn);

// For `flexwatch inspect --platform P --month M --dimension D`: the platform's score on the
// dimension (the announcement's counts, level and kinds of fault) and every affected
// worker-month, by worker id, with the facts of the evidence files and the reason in words. The
// list has as many entries as the score's `affected`, and each kind of fault is on as many
// entries as `findings` counts. `pseudonym` (optional) adds each worker's evidence pseudonym.
// NotFound when the platform has no worker-month in the month.
Result<std::string> AffectedWorkerMonthsJson(
    Store& store, const RuleSet& rules, Period p, const std::string& platform, Dimension d,
    bool close, Lang lang, const std::function<std::string(std::string_view)>& pseudonym = {});

}  // namespace flexwatch
