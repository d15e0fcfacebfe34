// What state holds, as deterministic JSON for operators and tests (`flexwatch inspect`).
#pragma once

#include <functional>
#include <string>

#include "flexwatch/state/store.h"

namespace flexwatch {

struct InspectQuery {
  std::string platform;  // empty: any
  std::string worker;    // empty: any
  std::optional<Period> month;
  // When set, each worker-month shown gets a "verdict": explain(period, platform, worker), a
  // JSON value (the rules layer's explanation; the state layer knows no rules).
  std::function<Result<std::string>(Period, const std::string&, const std::string&)> explain;
  // When set, and a platform is asked for, each of its months gets a "verdict": score(period,
  // platform), a JSON value (its levels and counts, as the rules layer judges them).
  std::function<Result<std::string>(Period, const std::string&)> score;
};

// Summary of the whole state when the query is empty; else the platform, the worker (across
// platforms unless one is given) or the worker-month. Pretty-printed JSON ending in a newline.
Result<std::string> InspectJson(Store& store, const InspectQuery& q);

}  // namespace flexwatch
