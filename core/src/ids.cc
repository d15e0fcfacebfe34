#include "flexwatch/core/ids.h"

#include <array>

namespace flexwatch {

bool IsValidId(std::string_view s, size_t max_len) {
  static const auto kAllowed = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c)
      t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '_' || c == ':' || c == '-';
    return t;
  }();
  if (s.empty() || s.size() > max_len) return false;
  bool ok = true;
  for (unsigned char c : s) ok &= kAllowed[c];
  return ok;
}

std::string FileStem(std::string_view id) {
  const bool unsafe = id.empty() || id.front() == '-' || id.front() == '.';
  return (unsafe ? "_" : "") + std::string(id);
}

}  // namespace flexwatch
