// The languages flexwatch writes for people: the announcements, evidence and inspect's
// explanations, in Chinese and English.
#pragma once

#include <optional>
#include <string_view>

namespace flexwatch {

enum class Lang { kEn, kZh };

// "en" or "zh"; nullopt otherwise.
inline std::optional<Lang> LangFromName(std::string_view name) {
  if (name == "en") return Lang::kEn;
  if (name == "zh") return Lang::kZh;
  return std::nullopt;
}

}  // namespace flexwatch
