// Who the announcements name: the platform enterprises by their registered names and unified
// social credit codes (统一社会信用代码, GB 32100-2015), and the authority that issues the
// announcements (configured in `platforms` and `issuer`, docs/operations.md).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "flexwatch/core/event.h"
#include "flexwatch/core/lang.h"
#include "flexwatch/core/time.h"

namespace flexwatch {

struct PlatformInfo {
  std::string id;  // the platform_id of its events
  std::string name_zh, name_en;
  std::string credit_code;  // 18 characters, its last a check character
  Sector sector = Sector::kOther;
  // The registered name in `lang`.
  const std::string& Name(Lang lang) const { return lang == Lang::kZh ? name_zh : name_en; }
};

struct PlatformRegistry {
  std::map<std::string, PlatformInfo, std::less<>> platforms;  // by id
  const PlatformInfo* Find(std::string_view id) const {
    auto it = platforms.find(id);
    return it == platforms.end() ? nullptr : &it->second;
  }
  bool empty() const { return platforms.empty(); }
};

// Whether `code` is a unified social credit code: 18 characters of 0-9 and the capitals but
// I, O, Z, S and V, whose last is the check character over the other 17 (GB 32100-2015).
bool IsCreditCode(std::string_view code);
// The check character of the first 17 characters of a code; nullopt when one is not allowed.
std::optional<char> CreditCodeCheck(std::string_view first17);

// The issuing authority's block, printed on every announcement.
struct Issuer {
  std::string authority_zh, authority_en;
  // The document number (文号), with {year} (the publication's) and {seq} (its number among the
  // year's publications) filled in: "京人社监〔{year}〕{seq}号".
  std::string document_number;
  std::string legal_basis_zh, legal_basis_en;
  std::string contact_zh, contact_en;
  bool empty() const { return authority_zh.empty() && authority_en.empty(); }
  const std::string& Authority(Lang l) const {
    return l == Lang::kZh ? authority_zh : authority_en;
  }
  const std::string& LegalBasis(Lang l) const {
    return l == Lang::kZh ? legal_basis_zh : legal_basis_en;
  }
  const std::string& Contact(Lang l) const { return l == Lang::kZh ? contact_zh : contact_en; }
  // The document number for the publication `seq` of `year`.
  std::string DocumentNumber(int year, int seq) const;
};

// When a publication was issued, and its number among the year's publications: recorded in the
// state when `run` first publishes it (meta_keys::Issued), so that the same state prints the
// same date and number.
struct IssueRecord {
  Day day = 0;  // the date of issue, Beijing
  int seq = 0;
  int Year() const { return CivilOfDay(day).year; }
  // "2024-10-20 3".
  std::string Encode() const;
  static std::optional<IssueRecord> Decode(std::string_view text);
  // "2024年10月20日", "20 October 2024".
  std::string DateWords(Lang lang) const;
};

// A date in words: "2024年10月20日", "20 October 2024".
std::string DayWords(Day day, Lang lang);
// A month's English name: 1 is "January". REQUIRES: 1 <= month <= 12.
const char* EnglishMonthName(int month);

}  // namespace flexwatch
