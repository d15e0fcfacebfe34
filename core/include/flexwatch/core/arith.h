// Sums the state keeps, checked for overflow: a sum of non-negative values saturates at the
// largest int64 instead of wrapping to a negative, so that no feed can turn a month's earnings or
// payments negative. Saturation keeps the fold order-independent for non-negative values.
#pragma once

#include <cstdint>
#include <limits>

namespace flexwatch {

inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  return r;
}

}  // namespace flexwatch
