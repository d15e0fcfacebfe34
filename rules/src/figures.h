// How the rules layer writes its figures in JSON and explanations. Internal to rules/.
#pragma once

#include <string>

#include "flexwatch/core/decimal.h"
#include "flexwatch/rules/rule_set.h"

namespace flexwatch {

// `v` (scaled by 10^scale) without trailing zeros, keeping one decimal: 0.0, 16.0, 9.8.
inline std::string KeepOneDecimal(int64_t v, int scale) {
  std::string s = FormatScaled(v, scale);
  while (s.size() > 2 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
  return s;
}
inline std::string Yuan(Fen f) { return FormatScaled(f, 2); }
inline std::string Percent(Ppm p) { return KeepOneDecimal(p, 4); }

}  // namespace flexwatch
