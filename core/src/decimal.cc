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
  // Collect significant digits and the decimal exponent they carry.
  std::string digits;
  int exp10 = 0;
  size_t int_start = i;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') digits.push_back(t[i++]);
  if (i == int_start) return Status::InvalidArgument("not a number");
  if (i - int_start > 1 && t[int_start] == '0') return Status::InvalidArgument("leading zero");
  if (i < t.size() && t[i] == '.') {
    ++i;
    size_t frac_start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      digits.push_back(t[i++]);
      --exp10;
    }
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
  // Strip leading zeros; the value is digits * 10^(exp10 + scale).
  size_t nz = digits.find_first_not_of('0');
  if (nz == std::string::npos) return int64_t{0};
  digits.erase(0, nz);
  int shift = exp10 + scale;
  int64_t v = 0;
  if (shift >= 0) {
    if (static_cast<int>(digits.size()) + shift > kMaxDigits)
      return Status::InvalidArgument("number too large");
    for (char c : digits) v = v * 10 + (c - '0');
    for (int k = 0; k < shift; ++k) v *= 10;
  } else {
    size_t keep = digits.size() > static_cast<size_t>(-shift) ? digits.size() + shift : 0;
    std::string_view dropped = std::string_view(digits).substr(keep);
    bool nonzero_dropped = dropped.find_first_not_of('0') != std::string_view::npos;
    if (nonzero_dropped && excess == ExcessDigits::kReject)
      return Status::InvalidArgument("more than " + std::to_string(scale) + " decimals");
    if (keep > kMaxDigits) return Status::InvalidArgument("number too large");
    for (size_t k = 0; k < keep; ++k) v = v * 10 + (digits[k] - '0');
    // Round half away from zero: look at the first dropped digit (padded with zeros if the
    // dropped part is shorter than -shift, which means the first dropped digit is a 0).
    size_t missing = static_cast<size_t>(-shift) - dropped.size();
    if (missing == 0 && !dropped.empty() && dropped[0] >= '5') ++v;
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
