#include "terms.h"

#include "flexwatch/core/decimal.h"
#include "flexwatch/rules/words.h"

namespace flexwatch::render_detail {
namespace {

const Terms kEn = {
    "Monthly compliance announcement",
    "final",
    "provisional: contributions are still due, findings may change",
    words::kDimensionsEn,
    words::kLevelsEn,
    words::kTiersEn,
    std::map<std::string_view, const char*>(words::kFindingsEn.begin(), words::kFindingsEn.end()),
    {{"own_history", "against its own past"},
     {"sector_peers", "against its sector"},
     {"hours_bunching", "hours piling up below a threshold"},
     {"complaint_spike", "complaint spike"}},
    {{"labor_contract_share", "share on labour contracts"},
     {"contract_exit_share", "share leaving labour contracts"},
     {"contribution_ratio", "contributions over earnings"},
     {"contribution_to_due", "contributions over what is due"},
     {"premium_per_order", "premium per pilot order (yuan)"},
     {"pilot_covered_share", "share of pilot orders covered"},
     {"sum_insured_per_risk_worker",
      "sum insured per high-risk worker (times the sector's minimum, tiers weighed alike)"},
     {"complaints_per_10k", "complaints per 10,000 workers"}},
};

const Terms kZh = {
    "月度合规情况公告",
    "终版",
    "初步（缴费宽限期未满，结果可能变化）",
    words::kDimensionsZh,
    words::kLevelsZh,
    words::kTiersZh,
    std::map<std::string_view, const char*>(words::kFindingsZh.begin(), words::kFindingsZh.end()),
    {{"own_history", "与自身历史比较"},
     {"sector_peers", "与同行业企业比较"},
     {"hours_bunching", "工时在临界值下方聚集"},
     {"complaint_spike", "投诉激增"}},
    {{"labor_contract_share", "签订劳动合同比例"},
     {"contract_exit_share", "劳动合同转出比例"},
     {"contribution_ratio", "缴费与收入之比"},
     {"contribution_to_due", "实缴与应缴之比"},
     {"premium_per_order", "每单职业伤害保障费（元）"},
     {"pilot_covered_share", "试点订单覆盖比例"},
     {"sum_insured_per_risk_worker", "高风险行业人均保额（行业最低保额的倍数，各用工类别等权）"},
     {"complaints_per_10k", "每万名劳动者投诉数"}},
};

}  // namespace

std::string PlatformName(const PlatformRegistry* platforms, Lang l, const std::string& id) {
  const PlatformInfo* info = platforms ? platforms->Find(id) : nullptr;
  return info ? info->Name(l) : id;
}

std::string PlatformNameAndCode(const PlatformRegistry* platforms, Lang l, const std::string& id) {
  const PlatformInfo* info = platforms ? platforms->Find(id) : nullptr;
  if (!info) return id;
  return l == Lang::kZh ? info->name_zh + "（统一社会信用代码：" + info->credit_code + "）"
                        : info->name_en + " (unified social credit code " + info->credit_code + ")";
}

std::string UnregisteredSentence(const PlatformRegistry* platforms, Lang l,
                                 const std::vector<std::string>& ids) {
  if (!platforms || platforms->empty()) return "";
  std::string listed;
  for (const std::string& id : ids)
    if (!platforms->Find(id)) listed += (listed.empty() ? "" : (l == Lang::kZh ? "、" : ", ")) + id;
  if (listed.empty())
    return l == Lang::kZh ? "本月报告的平台企业均已在平台企业名录中登记。"
                          : "Every platform enterprise reported this month is in the platform "
                            "register.";
  return l == Lang::kZh
             ? "未在平台企业名录中登记的平台（以平台编号列示）：" + listed + "。"
             : "Not in the platform register (named by their platform ids): " + listed + ".";
}

std::vector<std::string> Masthead(const Issuer* issuer, const std::optional<IssueRecord>& issue,
                                  Lang l) {
  if (!issuer || issuer->empty()) return {};
  const bool zh = l == Lang::kZh;
  std::vector<std::string> lines = {(zh ? "发布机关：" : "Issued by: ") + issuer->Authority(l)};
  if (issue)
    lines.push_back((zh ? "文号：" : "Document number: ") +
                    issuer->DocumentNumber(issue->Year(), issue->seq) +
                    (zh ? "　发布日期：" : "; date of issue: ") + issue->DateWords(l));
  else
    lines.push_back(zh ? "未发布稿：尚无文号和发布日期（由监测系统发布时确定）。"
                       : "Draft, not issued: no document number or date of issue yet (given "
                         "when the monitor publishes it).");
  return lines;
}

std::vector<std::string> BasisAndContact(const Issuer* issuer, Lang l) {
  if (!issuer || issuer->empty()) return {};
  std::vector<std::string> lines = {issuer->LegalBasis(l)};
  if (!issuer->Contact(l).empty())
    lines.push_back((l == Lang::kZh ? "联系方式：" : "Contact: ") + issuer->Contact(l));
  return lines;
}

const Terms& TermsOf(Lang l) { return l == Lang::kZh ? kZh : kEn; }

std::string Lookup(const std::map<std::string_view, const char*>& m, std::string_view key) {
  auto it = m.find(key);
  return it != m.end() ? it->second : std::string(key);
}

// A warning's series in words: a known series, "complaints/<category>", "hours_below_<T>h".
std::string SeriesWords(const Terms& t, Lang l, const std::string& series) {
  if (series.rfind("complaints/", 0) == 0)
    return (l == Lang::kZh ? "投诉：" : "complaints: ") + series.substr(11);
  if (series.rfind("hours_below_", 0) == 0) {
    const std::string hours = series.substr(12, series.size() - 13);
    return l == Lang::kZh ? "月工时略低于" + hours + "小时的人月"
                          : "worker-months just below " + hours + " h";
  }
  return Lookup(t.series, series);
}

// affected / in_scope as a percentage with one decimal, rounded half up: "31.3%".
std::string Percent(int64_t affected, int64_t in_scope) {
  if (in_scope <= 0) return "0%";
  const __int128 tenths = (static_cast<__int128>(affected) * 2000 + in_scope) / (2 * in_scope);
  const int64_t v = static_cast<int64_t>(tenths);
  return std::to_string(v / 10) + "." + std::to_string(v % 10) + "%";
}

std::string PeriodWords(Period p, Lang l) {
  if (l == Lang::kZh)
    return std::to_string(PeriodYear(p)) + "年" + std::to_string(PeriodMonth(p)) + "月";
  return std::string(EnglishMonthName(PeriodMonth(p))) + " " + std::to_string(PeriodYear(p));
}

std::string MomentWords(TimestampMs t, Lang l) {
  const std::string iso = FormatBeijing(t);  // 2024-10-20T14:37:09.656+08:00
  const Result<Day> day = ParseDate(iso.substr(0, 10));
  const std::string date = day.ok() ? DayWords(*day, l) : iso.substr(0, 10);
  return date + (l == Lang::kZh ? " " : ", ") + iso.substr(11, 5);
}

std::string PeriodRangeWords(Period from, Period to, Lang l) {
  if (from == to) return PeriodWords(from, l);
  const bool same_year = PeriodYear(from) == PeriodYear(to);
  if (l == Lang::kZh)
    return PeriodWords(from, l) + "至" +
           (same_year ? std::to_string(PeriodMonth(to)) + "月" : PeriodWords(to, l));
  return (same_year ? std::string(EnglishMonthName(PeriodMonth(from))) : PeriodWords(from, l)) +
         " to " + PeriodWords(to, l);
}

std::string MonthsWords(const std::vector<Period>& months, Lang l) {
  std::string out;
  for (size_t i = 0; i < months.size(); ++i) {
    const Period p = months[i];
    const bool new_year = i == 0 || PeriodYear(months[i - 1]) != PeriodYear(p);
    if (l == Lang::kZh) {
      out += (i ? "、" : "") + (new_year ? std::to_string(PeriodYear(p)) + "年" : std::string()) +
             std::to_string(PeriodMonth(p)) + "月";
    } else {
      const bool last_of_year =
          i + 1 == months.size() || PeriodYear(months[i + 1]) != PeriodYear(p);
      out += std::string(i == 0 ? "" : (last_of_year && !new_year ? " and " : ", ")) +
             EnglishMonthName(PeriodMonth(p)) +
             (last_of_year ? " " + std::to_string(PeriodYear(p)) : "");
    }
  }
  return out;
}

std::string N(int64_t v) { return std::to_string(v); }

// A scaled integer without trailing zeros: 98000 at scale 4 is "9.8".
std::string NoTrailingZeros(int64_t v, int scale) {
  std::string s = FormatScaled(v, scale);
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string Unit(int64_t v) { return N(v) + (v == 1 ? " worker-month" : " worker-months"); }

const PlatformScore* Find(const MonthEvaluation* m, const std::string& id) {
  if (!m) return nullptr;
  for (const PlatformScore& ps : m->platforms)
    if (ps.platform_id == id) return &ps;
  return nullptr;
}

std::string Change(const Terms& t, Lang l, const PlatformScore& now, const PlatformScore* before,
                   bool earlier_month) {
  const bool zh = l == Lang::kZh;
  if (!earlier_month) return zh ? "无上月数据" : "no earlier month";
  if (!before) return zh ? "上月未报告" : "not reported last month";
  if (!before->ranked) return zh ? "上月未纳入排名" : "not ranked last month";
  const std::string was = t.levels[static_cast<int>(before->level)];
  if (now.level == before->level) return zh ? "持平" : "unchanged";
  if (now.level > before->level)
    return zh ? "风险上升（上月" + was + "）" : "worse (was " + was + ")";
  return zh ? "风险下降（上月" + was + "）" : "better (was " + was + ")";
}

std::vector<std::string> Methodology(const RuleSet& r, Period p, Lang l) {
  const bool zh = l == Lang::kZh;
  auto pct = [](Ppm v) { return NoTrailingZeros(v, 4) + "%"; };
  auto hours = [](MilliMinutes m) { return NoTrailingZeros(m / 600, 2); };
  std::vector<std::string> s;
  auto line = [&](const std::string& en, const std::string& cn) { s.push_back(zh ? cn : en); };
  line("Rules applied: " + r.id + ", version " + r.version + " (checksum " + r.fingerprint +
           ", by which anyone can confirm the same rules were used).",
       "适用的核查规则：" + r.id + "，版本 " + r.version + "（校验码 " + r.fingerprint +
           "，可据此核对所用规则）。");
  line("Unit: the worker-month, one worker's calendar month (Beijing time) on one platform.",
       "计量单位：人月，即一名劳动者在一个平台企业的一个自然月（北京时间）。");
  line("Tiers: more than " + hours(r.labor_relation_above) +
           " h in the month is a labour relation; " + hours(r.managed_from) +
           " h up to it is managed; fewer is independent.",
       "分类：当月工时超过" + hours(r.labor_relation_above) +
           "小时的，按符合确立劳动关系情形核查；" + hours(r.managed_from) + "小时至" +
           hours(r.labor_relation_above) + "小时的，按不完全符合确立劳动关系情形核查；不足" +
           hours(r.managed_from) + "小时的，按个人依托平台自主经营。");
  line(
      "Contract avoidance: the contract in force at the worker's last order of the month; "
      "dispatched workers beyond " +
          pct(r.dispatch_cap) + " of labour-relation worker-months count too.",
      "规避订立劳动合同：以当月最后一单时有效的合同为准；劳务派遣人月超过劳动关系人月" +
          pct(r.dispatch_cap) + "的部分一并计入。");
  if (auto b = r.BaseFor(p); b.ok())
    line(
        "Underpayment: the employer's pension, medical, unemployment and work-injury "
        "contributions on a base of the month's earnings within " +
            NoTrailingZeros(b->lower, 2) + "-" + NoTrailingZeros(b->upper, 2) +
            " yuan, tolerance " + pct(r.tolerance) + "; a period is final " + N(r.grace_days) +
            " days after its end.",
        "社会保险费少缴漏缴：单位应缴养老、医疗、失业、工伤保险费，缴费基数按当月收入在" +
            NoTrailingZeros(b->lower, 2) + "至" + NoTrailingZeros(b->upper, 2) +
            "元之间确定，容差" + pct(r.tolerance) + "；月末后" + N(r.grace_days) +
            "日缴费宽限期满即为终版。");
  line(
      "Coverage: every order in a pilot sector insured by the per-order premium; other high-risk "
      "sectors need a commercial policy valid on the order's day with at least the sector's "
      "minimum sum.",
      "职业伤害保障：试点行业每单必保、按单缴费；其他高风险行业须有订单当日有效且保额不低于行业最低"
      "标准的商业保险。");
  line("Levels: rate = affected / in scope; yellow from " + pct(r.yellow) + ", orange from " +
           pct(r.orange) + ", red from " + pct(r.red) +
           "; the overall level is the worst; fewer "
           "than " +
           N(r.min_ranked_workers) + " workers in scope: not ranked.",
       "等级：问题比例 = 存在问题人月 / 纳入核查人月；" + pct(r.yellow) + "起为黄色，" +
           pct(r.orange) + "起为橙色，" + pct(r.red) +
           "起为红色；综合等级取各维度最高；纳入核查劳动者不足" + N(r.min_ranked_workers) +
           "人的，不纳入排名。");
  line(
      "Counts of worker-months only: no worker is named; inspectors receive the evidence "
      "files, in which each worker is a pseudonymous identifier.",
      "公告只列人月数，不公开任何劳动者身份；核查证据提供给劳动保障监察人员，其中劳动者以假名化编号"
      "标识。");
  return s;
}

}  // namespace flexwatch::render_detail
