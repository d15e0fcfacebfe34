#include "flexwatch/core/decimal.h"

#include <cstdlib>
#include <string>

namespace flexwatch {
namespace {
constexpr int kMaxDigits = 18;
constexpr int64_t kMaxMagnitude = 1'000'000'000'000'000LL;  // 10^15 after scaling
}  // namespace

Result<int64_t> ParseScaledDecimal(std::string_view t, int scale, ExcessDigits excess) {
  size_t i = 0;
  bool neg = false;
  if (i < t.size() && t[i] == '-') {
    neg = true;
    ++i;
  }
  // Significant digits (leading zeros dropped) and the decimal exponent they carry. Digits past
  // kMaxDigits only matter as "is any of them non-zero" (the value is then too large or has
  // excess decimals), so they are not kept.
  char digits[kMaxDigits + 2];
  int nd = 0;
  bool overflow_nonzero = false;
  int dropped_int_digits = 0;
  int exp10 = 0;
  auto take = [&](char c, bool fraction) {
    if (nd == 0 && c == '0') {
      if (fraction) --exp10;
      return;
    }
    if (nd < kMaxDigits + 1) {
      digits[nd++] = c;
      if (fraction) --exp10;
    } else {
      if (c != '0') overflow_nonzero = true;
      if (!fraction) ++dropped_int_digits;
    }
  };
  size_t int_start = i;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') take(t[i++], false);
  if (i == int_start) return Status::InvalidArgument("not a number");
  if (i - int_start > 1 && t[int_start] == '0') return Status::InvalidArgument("leading zero");
  if (i < t.size() && t[i] == '.') {
    ++i;
    size_t frac_start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') take(t[i++], true);
    if (i == frac_start) return Status::InvalidArgument("no digit after the decimal point");
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) eneg = t[i++] == '-';
    size_t exp_start = i;
    int e = 0;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (e < 10000) e = e * 10 + (t[i] - '0');
      ++i;
    }
    if (i == exp_start) return Status::InvalidArgument("no digit in the exponent");
    exp10 += eneg ? -e : e;
  }
  if (i != t.size()) return Status::InvalidArgument("not a number");
  if (nd == 0) return int64_t{0};
  exp10 += dropped_int_digits;
  // The value is digits[0..nd) * 10^(exp10 + scale), plus whatever was past kMaxDigits.
  const int shift = exp10 + scale;
  int64_t v = 0;
  if (shift >= 0) {
    if (nd + shift > kMaxDigits) return Status::InvalidArgument("number too large");
    for (int k = 0; k < nd; ++k) v = v * 10 + (digits[k] - '0');
    for (int k = 0; k < shift; ++k) v *= 10;
  } else {
    const int keep = nd + shift > 0 ? nd + shift : 0;
    bool nonzero_dropped = overflow_nonzero;
    for (int k = keep; k < nd; ++k) nonzero_dropped |= digits[k] != '0';
    if (nonzero_dropped && excess == ExcessDigits::kReject)
      return Status::InvalidArgument("more than " + std::to_string(scale) + " decimals");
    if (keep > kMaxDigits) return Status::InvalidArgument("number too large");
    for (int k = 0; k < keep; ++k) v = v * 10 + (digits[k] - '0');
    // Round half away from zero on the first dropped digit (a 0 when the dropped part is
    // shorter than -shift, i.e. the value is below half a unit).
    if (keep == nd + shift && keep < nd && digits[keep] >= '5') ++v;
  }
  if (v > kMaxMagnitude) return Status::InvalidArgument("number too large");
  return neg ? -v : v;
}

std::string FormatScaled(int64_t v, int scale) {
  std::string sign = v < 0 ? "-" : "";
  uint64_t a = v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  std::string s = std::to_string(a);
  if (scale == 0) return sign + s;
  if (s.size() <= static_cast<size_t>(scale)) s.insert(0, scale + 1 - s.size(), '0');
  s.insert(s.size() - scale, ".");
  return sign + s;
}

}  // namespace flexwatch
