// What state holds, as deterministic JSON for operators and tests (`flexwatch inspect`).
#pragma once

#include <string>

#include "flexwatch/state/store.h"

namespace flexwatch {

struct InspectQuery {
  std::string platform;  // empty: any
  std::string worker;    // empty: any
  std::optional<Period> month;
};

// Summary of the whole state when the query is empty; else the platform, the worker (across
// platforms unless one is given) or the worker-month. Pretty-printed JSON ending in a newline.
Result<std::string> InspectJson(Store& store, const InspectQuery& q);

}  // namespace flexwatch
