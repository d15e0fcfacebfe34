// Exact decimal parsing of JSON number tokens into scaled integers (yuan -> fen), without binary
// floating point on the way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "flexwatch/core/status.h"

namespace flexwatch {

enum class ExcessDigits {
  kReject,  // a digit beyond `scale` decimals that is not 0 is an error ("at most 2 decimals")
  kRound,   // round half away from zero to `scale` decimals
};

// Parses a JSON number token (-?int(.frac)?(e[+-]?exp)?) and returns its value times 10^scale.
// REQUIRES: 0 <= scale <= 6. Fails on a malformed token or a magnitude above 10^15.
Result<int64_t> ParseScaledDecimal(std::string_view token, int scale, ExcessDigits excess);

// 123456 with scale 2 -> "1234.56"; trailing zeros of the fraction kept to `scale` digits.
std::string FormatScaled(int64_t v, int scale);

}  // namespace flexwatch
