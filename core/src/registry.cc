#include "flexwatch/core/registry.h"

#include <string>

namespace flexwatch {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";  // 31 characters
constexpr int kWeights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

}  // namespace

std::optional<char> CreditCodeCheck(std::string_view first17) {
  if (first17.size() != 17) return std::nullopt;
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) {
    const size_t v = kAlphabet.find(first17[i]);
    if (v == std::string_view::npos) return std::nullopt;
    sum += static_cast<int>(v) * kWeights[i];
  }
  const int check = (31 - sum % 31) % 31;
  return kAlphabet[static_cast<size_t>(check)];
}

bool IsCreditCode(std::string_view code) {
  if (code.size() != 18) return false;
  const std::optional<char> check = CreditCodeCheck(code.substr(0, 17));
  return check && *check == code[17];
}

std::string Issuer::DocumentNumber(int year, int seq) const {
  std::string out = document_number;
  auto fill = [&out](std::string_view field, const std::string& value) {
    for (size_t at; (at = out.find(field)) != std::string::npos;)
      out.replace(at, field.size(), value);
  };
  fill("{year}", std::to_string(year));
  fill("{seq}", std::to_string(seq));
  return out;
}

std::string IssueRecord::Encode() const { return FormatDate(day) + " " + std::to_string(seq); }

std::optional<IssueRecord> IssueRecord::Decode(std::string_view text) {
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const Result<Day> day = ParseDate(text.substr(0, space));
  if (!day.ok()) return std::nullopt;
  IssueRecord r;
  r.day = *day;
  const std::string_view seq = text.substr(space + 1);
  if (seq.empty() || seq.size() > 6) return std::nullopt;
  for (char c : seq) {
    if (c < '0' || c > '9') return std::nullopt;
    r.seq = r.seq * 10 + (c - '0');
  }
  return r.seq > 0 ? std::optional<IssueRecord>(r) : std::nullopt;
}

std::string IssueRecord::DateWords(Lang lang) const { return DayWords(day, lang); }

const char* EnglishMonthName(int month) {
  static constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};
  return kMonths[month - 1];
}

std::string DayWords(Day day, Lang lang) {
  const CivilDate d = CivilOfDay(day);
  if (lang == Lang::kZh)
    return std::to_string(d.year) + "年" + std::to_string(d.month) + "月" + std::to_string(d.day) +
           "日";
  return std::to_string(d.day) + " " + EnglishMonthName(d.month) + " " + std::to_string(d.year);
}

}  // namespace flexwatch
