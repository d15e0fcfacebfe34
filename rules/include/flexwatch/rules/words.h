// The words of the verdict's codes in each language (announce/glossary.md): dimensions, levels,
// tiers and kinds of fault. One table for the announcements, the explanations and the self-check.
#pragma once

#include <array>
#include <string_view>
#include <utility>

#include "flexwatch/core/lang.h"
#include "flexwatch/rules/evaluate.h"

namespace flexwatch::words {

inline constexpr std::array<const char*, kDimensionCount> kDimensionsEn = {
    "Contract avoidance", "Social-insurance underpayment", "Coverage mismatch"};
inline constexpr std::array<const char*, kDimensionCount> kDimensionsZh = {
    "规避订立劳动合同", "社会保险费少缴漏缴", "职业伤害保障不到位"};
inline constexpr std::array<const char*, 4> kLevelsEn = {"green", "yellow", "orange", "red"};
inline constexpr std::array<const char*, 4> kLevelsZh = {"绿色", "黄色", "橙色", "红色"};
inline constexpr std::array<const char*, 3> kTiersEn = {
    "independent", "managed, not a full labour relation", "labour relation"};
inline constexpr std::array<const char*, 3> kTiersZh = {
    "个人依托平台自主开展经营活动", "不完全符合确立劳动关系情形", "符合确立劳动关系情形"};

using Finding = std::pair<std::string_view, const char*>;
inline constexpr std::array<Finding, 9> kFindingsEn = {{
    {"no_contract", "no contract at all"},
    {"form_not_sufficient", "a contract form that does not fit the work"},
    {"dispatch_over_cap", "dispatched workers beyond the cap"},
    {"missing_scheme", "a scheme not paid"},
    {"underdeclared_base", "contribution base declared too low"},
    {"short_payment", "amount paid too low"},
    {"paid_late", "paid only after the grace (does not count)"},
    {"pilot_uncovered", "pilot orders without the per-order premium"},
    {"policy_inadequate", "commercial cover missing or below the minimum"},
}};
inline constexpr std::array<Finding, 9> kFindingsZh = {{
    {"no_contract", "未签订任何合同或协议"},
    {"form_not_sufficient", "合同形式与用工实际不符"},
    {"dispatch_over_cap", "劳务派遣用工超过比例上限"},
    {"missing_scheme", "险种漏缴"},
    {"underdeclared_base", "缴费基数申报不足"},
    {"short_payment", "缴费金额不足"},
    {"paid_late", "宽限期满后才缴费（不予认可）"},
    {"pilot_uncovered", "试点行业订单未按单缴纳职业伤害保障费"},
    {"policy_inadequate", "商业保险缺失或保额不足"},
}};

inline const char* DimensionWord(Dimension d, Lang l) {
  return (l == Lang::kZh ? kDimensionsZh : kDimensionsEn)[static_cast<int>(d)];
}
inline const char* LevelWord(Level v, Lang l) {
  return (l == Lang::kZh ? kLevelsZh : kLevelsEn)[static_cast<int>(v)];
}
// The kind of fault in words; the code itself when it has none.
inline std::string_view FindingWord(std::string_view code, Lang l) {
  for (const Finding& f : l == Lang::kZh ? kFindingsZh : kFindingsEn)
    if (f.first == code) return f.second;
  return code;
}

}  // namespace flexwatch::words
