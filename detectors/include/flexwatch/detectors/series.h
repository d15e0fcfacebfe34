// The monthly series of each platform that the early-warning detectors watch, computed from the
// aggregates the state keeps as events arrive (worker-months, contracts, contributions, policies,
// complaints) in the one scan that also evaluates the month's rules. Nothing derived is stored:
// the same state always gives the same series.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "flexwatch/detectors/options.h"
#include "flexwatch/rules/evaluate.h"

namespace flexwatch {

// One platform's month.
struct PlatformMonth {
  std::string platform_id;
  Period period = 0;
  // The month is final: the series that depend on contributions (paid after the month) are
  // complete. Before that they are not judged.
  bool final = false;
  Sector sector = Sector::kOther;  // the main sector: the one with most orders
  std::array<int64_t, kSectorCount> orders{};

  int64_t active_workers = 0;     // worker-months with an order
  int64_t labor_relation = 0;     // labour-relation worker-months
  int64_t on_labor_contract = 0;  // of which on a form the rule accepts (labour or dispatch)
  // Workers active this month on a labour or dispatch contract at the end of the last one, and
  // those of them on outsourcing, freelance or an individual business at their last order now.
  int64_t contracted_before = 0, exits = 0;
  Fen labor_relation_earnings = 0, employer_paid = 0;  // the four employer schemes
  Fen employer_due = 0;  // the required base times each scheme's rate, summed
  int64_t pilot_workers = 0, pilot_orders = 0, pilot_covered = 0;
  Fen premium = 0;           // occupational-injury contributions, every payer
  int64_t risk_workers = 0;  // worker-months with orders in a high-risk (non-pilot) sector
  Fen risk_sum_insured = 0;  // sum over them of the largest adequate cover valid in the month
  // The same per tier, each cover as a multiple of its sector's minimum (the sector of most of
  // the worker-month's high-risk orders): what `sum_insured_per_risk_worker` averages, so that
  // neither a change of the tier mix (part-timers hired) nor of the sector mix moves it.
  std::array<int64_t, 3> risk_workers_by_tier{};
  std::array<double, 3> risk_multiple_by_tier{};
  std::array<int64_t, kComplaintCategoryCount> complaints{};

  // The distribution of monthly hours, in whole-hour bins, up to a little past the upper tier
  // threshold: `hours_upto[b]` counts worker-months with hours in (b, b+1] (for a threshold
  // that obliges above it), `hours_from[b]` those in [b, b+1) (one that obliges from it on).
  // The last bin holds every worker-month from its hours on.
  std::vector<int64_t> hours_upto, hours_from;
  std::vector<int64_t> daily_active;  // workers active on each day of the month

  struct Point {
    bool defined = false;  // anything in the series' scope this month
    double value = 0;
    int64_t n = 0;  // worker-months in scope (the sampling size of a share)
  };
  Point Value(SeriesId s) const;
  int64_t TotalComplaints() const;
};

struct SeriesTraits {
  bool share = false;        // a proportion of worker-months (binomial sampling error)
  bool needs_final = false;  // complete only once the month is final
  int adverse = 0;           // -1: falling fails workers; +1: rising does; 0: neither
  const char* unit = "";
};
SeriesTraits TraitsOf(SeriesId s);

// Evaluates month `p` (as EvaluateMonth does) and computes every platform's series in the same
// scan; complaints are added from the state. `close` as for EvaluateMonth.
struct MonthSeries {
  MonthEvaluation evaluation;
  std::vector<PlatformMonth> platforms;  // by platform_id, each with worker-months that month
};
// `platform` non-empty: that platform's alone (none when it has no worker-month in `p`).
Result<MonthSeries> ComputeSeries(Store& store, const RuleSet& rules, Period p, bool close,
                                  std::string_view platform = {});

// A platform's series as JSON (for `flexwatch series` and the evidence behind a warning).
std::string SeriesJson(const PlatformMonth& m);

}  // namespace flexwatch
