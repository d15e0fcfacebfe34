// The words of the publications in each language, and the sentences built from them (the terms
// are those of announce/glossary.md). Internal to announce/.
#pragma once

#include <array>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "flexwatch/announce/render.h"

namespace flexwatch::render_detail {

// The words of one language (announce/glossary.md).
struct Terms {
  const char* monthly_title;
  const char* final_word;
  const char* provisional_word;
  std::array<const char*, kDimensionCount> dimensions;
  std::array<const char*, 4> levels;
  std::array<const char*, 3> tiers;
  std::map<std::string_view, const char*> findings;
  std::map<std::string_view, const char*> detectors;
  std::map<std::string_view, const char*> series;
};

const Terms& TermsOf(Lang l);
std::string Lookup(const std::map<std::string_view, const char*>& m, std::string_view key);
// The platform as the publications name it: its registered name in `l`, or its id when the
// registry (if any) does not have it.
std::string PlatformName(const PlatformRegistry* platforms, Lang l, const std::string& id);
// The same, with the unified social credit code after a registered name.
std::string PlatformNameAndCode(const PlatformRegistry* platforms, Lang l, const std::string& id);
// The platforms of `ids` the registry does not have, when there is a registry ("" otherwise):
// named by their ids, for the data-quality section.
std::string UnregisteredSentence(const PlatformRegistry* platforms, Lang l,
                                 const std::vector<std::string>& ids);
// The masthead of a publication (the authority; the document number and date of issue, or that
// it is a draft not issued), and its closing section (the legal basis and contact); nothing
// without an issuer.
std::vector<std::string> Masthead(const Issuer* issuer, const std::optional<IssueRecord>& issue,
                                  Lang l);
std::vector<std::string> BasisAndContact(const Issuer* issuer, Lang l);
// A detector series named in words.
std::string SeriesWords(const Terms& t, Lang l, const std::string& series);
// affected / in_scope as a percentage with one decimal.
std::string Percent(int64_t affected, int64_t in_scope);
// "September 2024", "2024年9月".
std::string PeriodWords(Period p, Lang l);
// A moment in Beijing time, to the minute: "2024年10月20日 14:37", "20 October 2024, 14:37".
std::string MomentWords(TimestampMs t, Lang l);
// A span of months in words: "2024年7月至12月", "July to December 2024", "2023年11月至2024年2月",
// "November 2023 to February 2024".
std::string PeriodRangeWords(Period from, Period to, Lang l);
// Months of one year in words: "2024年7月、8月、9月", "July, August and September 2024".
std::string MonthsWords(const std::vector<Period>& months, Lang l);
std::string N(int64_t v);
// "1 worker-month", "9 worker-months".
std::string Unit(int64_t v);
// A scaled integer without trailing zeros: 98000 at scale 4 is "9.8".
std::string NoTrailingZeros(int64_t v, int scale);
// The platform's score in the month; null when the month or the platform is absent.
const PlatformScore* Find(const MonthEvaluation* m, const std::string& id);
// The change of a platform's level since the month before, in words.
// `earlier_month`: the state has the month before (else there is nothing to compare with).
std::string Change(const Terms& t, Lang l, const PlatformScore& now, const PlatformScore* before,
                   bool earlier_month);
// How the month was judged: the rules' figures in force for it, in words.
std::vector<std::string> Methodology(const RuleSet& r, Period p, Lang l);

}  // namespace flexwatch::render_detail
