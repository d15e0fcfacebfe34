#include "flexwatch/announce/render.h"

#include <algorithm>
#include <map>

#include "flexwatch/announce/announcement.h"
#include "flexwatch/core/decimal.h"

namespace flexwatch {
namespace {

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

const Terms kEn = {
    "Monthly compliance announcement",
    "final",
    "provisional: contributions are still due, findings may change",
    {"Contract avoidance", "Social-insurance underpayment", "Coverage mismatch"},
    {"green", "yellow", "orange", "red"},
    {"independent", "managed, not a full labour relation", "labour relation"},
    {{"no_contract", "no contract at all"},
     {"form_not_sufficient", "a contract form that does not fit the work"},
     {"dispatch_over_cap", "dispatched workers beyond the cap"},
     {"missing_scheme", "a scheme not paid"},
     {"underdeclared_base", "contribution base declared too low"},
     {"short_payment", "amount paid too low"},
     {"pilot_uncovered", "pilot orders without the per-order premium"},
     {"policy_inadequate", "commercial cover missing or below the minimum"}},
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
     {"sum_insured_per_risk_worker", "sum insured per high-risk worker (yuan)"},
     {"complaints_per_10k", "complaints per 10,000 workers"}},
};

const Terms kZh = {
    "月度合规情况公告",
    "终版",
    "初步（缴费宽限期未满，结果可能变化）",
    {"规避订立劳动合同", "社会保险费少缴漏缴", "职业伤害保障不到位"},
    {"绿色", "黄色", "橙色", "红色"},
    {"个人依托平台自主开展经营活动", "不完全符合确立劳动关系情形", "符合确立劳动关系情形"},
    {{"no_contract", "未签订任何合同或协议"},
     {"form_not_sufficient", "合同形式与用工实际不符"},
     {"dispatch_over_cap", "劳务派遣用工超过比例上限"},
     {"missing_scheme", "险种漏缴"},
     {"underdeclared_base", "缴费基数申报不足"},
     {"short_payment", "缴费金额不足"},
     {"pilot_uncovered", "试点行业订单未按单缴纳职业伤害保障费"},
     {"policy_inadequate", "商业保险缺失或保额不足"}},
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
     {"sum_insured_per_risk_worker", "高风险行业人均保额（元）"},
     {"complaints_per_10k", "每万名劳动者投诉数"}},
};

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
  static constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};
  if (l == Lang::kZh)
    return std::to_string(PeriodYear(p)) + "年" + std::to_string(PeriodMonth(p)) + "月";
  return std::string(kMonths[PeriodMonth(p) - 1]) + " " + std::to_string(PeriodYear(p));
}

std::string N(int64_t v) { return std::to_string(v); }

// A scaled integer without trailing zeros: 98000 at scale 4 is "9.8".
std::string Trimmed(int64_t v, int scale) {
  std::string s = FormatScaled(v, scale);
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

const PlatformScore* Find(const MonthEvaluation* m, const std::string& id) {
  if (!m) return nullptr;
  for (const PlatformScore& ps : m->platforms)
    if (ps.platform_id == id) return &ps;
  return nullptr;
}

std::string Change(const Terms& t, Lang l, const PlatformScore& now, const PlatformScore* before) {
  const bool zh = l == Lang::kZh;
  if (!before || !before->ranked) return zh ? "上月未纳入排名" : "not ranked last month";
  const std::string was = t.levels[static_cast<int>(before->level)];
  if (now.level == before->level) return zh ? "持平" : "unchanged";
  if (now.level > before->level)
    return zh ? "风险上升（上月" + was + "）" : "worse (was " + was + ")";
  return zh ? "风险下降（上月" + was + "）" : "better (was " + was + ")";
}

std::string Methodology(const RuleSet& r, Period p, Lang l) {
  const bool zh = l == Lang::kZh;
  auto pct = [](Ppm v) { return Trimmed(v, 4) + "%"; };
  auto hours = [](MilliMinutes m) { return Trimmed(m / 600, 2); };
  std::string s;
  auto line = [&](const std::string& en, const std::string& cn) {
    s += "- " + (zh ? cn : en) + "\n";
  };
  line("Rule set " + r.id + ", version " + r.version + " (fingerprint " + r.fingerprint + ").",
       "规则集 " + r.id + "，版本 " + r.version + "（指纹 " + r.fingerprint + "）。");
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
            Trimmed(b->lower, 2) + "-" + Trimmed(b->upper, 2) + " yuan, tolerance " +
            pct(r.tolerance) + "; a period is final " + N(r.grace_days) + " days after its end.",
        "社会保险费少缴漏缴：单位应缴养老、医疗、失业、工伤保险费，缴费基数按当月收入在" +
            Trimmed(b->lower, 2) + "至" + Trimmed(b->upper, 2) + "元之间确定，容差" +
            pct(r.tolerance) + "；月末后" + N(r.grace_days) + "日缴费宽限期满即为终版。");
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
  line("Counts only: no worker is named; inspectors receive pseudonymous evidence files.",
       "公告只列人数，不公开任何劳动者身份；核查证据以化名形式提供给监察人员。");
  return s;
}

}  // namespace

std::optional<Lang> LangFromName(std::string_view name) {
  if (name == "en") return Lang::kEn;
  if (name == "zh") return Lang::kZh;
  return std::nullopt;
}

std::string MonthlyMarkdown(const MonthlyInputs& in, Lang l) {
  const Terms& t = TermsOf(l);
  const bool zh = l == Lang::kZh;
  const MonthEvaluation& m = *in.month;
  std::string s = "# " + std::string(t.monthly_title) + (zh ? "（" : ": ") +
                  PeriodWords(m.period, l) + (zh ? "）" : "") + "\n\n";
  s += (zh ? "状态：" : "Status: ") + std::string(m.final ? t.final_word : t.provisional_word) +
       (zh ? "。规则集 " : ". Rule set ") + in.rules->id + " " + in.rules->version + "\n\n";

  std::array<int, 4> by_level{};
  int ranked = 0;
  for (const PlatformScore& ps : m.platforms)
    if (ps.ranked) ++ranked, ++by_level[static_cast<int>(ps.level)];
  s += zh ? "## 概况\n\n" : "## Summary\n\n";
  if (zh)
    s += "本月报告平台企业" + N(static_cast<int64_t>(m.platforms.size())) + "家，纳入排名" +
         N(ranked) + "家：绿色" + N(by_level[0]) + "家，黄色" + N(by_level[1]) + "家，橙色" +
         N(by_level[2]) + "家，红色" + N(by_level[3]) + "家。\n\n";
  else
    s += N(static_cast<int64_t>(m.platforms.size())) + " platform enterprises reported, " +
         N(ranked) + " ranked: green " + N(by_level[0]) + ", yellow " + N(by_level[1]) +
         ", orange " + N(by_level[2]) + ", red " + N(by_level[3]) + ".\n\n";

  s += zh ? "## 纳入排名的平台企业\n\n| 平台企业 | 综合等级 | "
          : "## Ranked platforms\n\n| Platform | Level | ";
  for (const char* d : t.dimensions) s += std::string(d) + " | ";
  s += zh ? "较上月 |\n|---|---|---|---|---|---|\n"
          : "Since last month |\n|---|---|---|---|---|---|\n";
  // The worst first, then by id.
  std::vector<const PlatformScore*> order;
  for (const PlatformScore& ps : m.platforms)
    if (ps.ranked) order.push_back(&ps);
  std::stable_sort(order.begin(), order.end(), [](const PlatformScore* a, const PlatformScore* b) {
    return a->level > b->level;
  });
  for (const PlatformScore* p : order) {
    const PlatformScore& ps = *p;
    s += "| " + ps.platform_id + " | " + t.levels[static_cast<int>(ps.level)] + " | ";
    for (const DimensionScore& ds : ps.dimensions)
      s += ds.in_scope == 0
               ? std::string(zh ? "不适用 | " : "n/a | ")
               : std::string(t.levels[static_cast<int>(ds.level)]) + (zh ? "（" : " (") +
                     Percent(ds.affected, ds.in_scope) + (zh ? "） | " : ") | ");
    s += Change(t, l, ps, Find(in.previous, ps.platform_id)) + " |\n";
  }
  if (ranked == 0) s += zh ? "| （无） | | | | | |\n" : "| (none) | | | | | |\n";

  s += zh ? "\n## 橙色、红色等级平台企业\n\n" : "\n## Platforms at orange or red\n\n";
  bool any = false;
  for (const PlatformScore* p : order) {
    const PlatformScore& ps = *p;
    if (ps.level < Level::kOrange) continue;
    any = true;
    s += "### " + ps.platform_id + (zh ? "：" : ": ") + t.levels[static_cast<int>(ps.level)] +
         "\n\n";
    for (int d = 0; d < kDimensionCount; ++d) {
      const DimensionScore& ds = ps.dimensions[d];
      if (ds.affected == 0) continue;
      s += "- " + std::string(t.dimensions[d]) + (zh ? "：纳入核查" : ": ") + N(ds.in_scope) +
           (zh ? "人月中" : " worker-months in scope, ") + N(ds.affected) +
           (zh ? "人月存在问题（" : " affected (") + Percent(ds.affected, ds.in_scope) +
           (zh ? "，" : ", ") + t.levels[static_cast<int>(ds.level)] + (zh ? "）" : ")");
      std::string kinds;
      for (const auto& [kind, n] : ds.findings)
        kinds += (kinds.empty() ? "" : (zh ? "；" : "; ")) + Lookup(t.findings, kind) +
                 (zh ? " " : " ") + N(n);
      if (!kinds.empty()) s += (zh ? "。其中：" : ". Of which: ") + kinds;
      if (static_cast<Dimension>(d) == Dimension::kContractAvoidance &&
          ps.dispatched > ps.dispatch_cap)
        s += zh ? "（劳务派遣" + N(ps.dispatched) + "人月，上限" + N(ps.dispatch_cap) + "人月）"
                : " (dispatched " + N(ps.dispatched) + ", cap " + N(ps.dispatch_cap) + ")";
      s += zh ? "。\n" : ".\n";
    }
    s += "\n";
  }
  if (!any) s += zh ? "无。\n\n" : "None.\n\n";

  s += zh ? "## 风险预警\n\n" : "## Early warnings\n\n";
  if (!in.warnings || in.warnings->empty())
    s += zh ? "无。\n\n" : "None.\n\n";
  else {
    for (const EarlyWarning& w : *in.warnings) {
      const std::string window =
          FormatPeriod(w.window_from) + (zh ? "至" : " to ") + FormatPeriod(w.window_to);
      if (zh)
        s += "- " + w.platform_id + "：" + Lookup(t.detectors, w.detector) + "（" + w.detector +
             " 版本" + w.version + "），" + SeriesWords(t, l, w.series) + "为" +
             WarningNumber(w.observed) + "，预期" + WarningNumber(w.expected) + "（" + window +
             "，得分" + WarningNumber(w.score, 2) + "）。\n";
      else
        s += "- " + w.platform_id + ": " + Lookup(t.detectors, w.detector) + " (" + w.detector +
             " v" + w.version + "): " + SeriesWords(t, l, w.series) + " " +
             WarningNumber(w.observed) + ", expected " + WarningNumber(w.expected) + " (" + window +
             ", score " + WarningNumber(w.score, 2) + ").\n";
    }
    s += "\n";
  }

  std::string unranked;
  for (const PlatformScore& ps : m.platforms)
    if (!ps.ranked) unranked += (unranked.empty() ? "" : (zh ? "、" : ", ")) + ps.platform_id;
  s += zh ? "## 未纳入排名\n\n" : "## Not ranked\n\n";
  if (unranked.empty())
    s += zh ? "无。\n\n" : "None.\n\n";
  else
    s += (zh ? "纳入核查的劳动者不足" + N(in.rules->min_ranked_workers) + "人：" + unranked +
                   "。\n\n"
             : "Fewer than " + N(in.rules->min_ranked_workers) + " workers in scope: " + unranked +
                   ".\n\n");

  s += zh ? "## 核查方法\n\n" : "## Methodology\n\n";
  s += Methodology(*in.rules, m.period, l);
  return s;
}

std::string MonthlyCsv(const MonthlyInputs& in, Lang l) {
  const bool zh = l == Lang::kZh;
  const Terms& t = TermsOf(l);
  const MonthEvaluation& m = *in.month;
  // Chinese spreadsheets read a UTF-8 file as such only after a byte-order mark.
  std::string s = zh ? "\xEF\xBB\xBF期间,是否终版,平台企业,是否纳入排名,综合等级,上月综合等级,维度,"
                       "纳入核查人月,存在问题人月,待定人月,问题比例,维度等级\r\n"
                     : "period,final,platform_id,ranked,level,previous_level,dimension,in_scope,"
                       "affected,pending,rate,dimension_level\r\n";
  auto yes = [&](bool b) { return std::string(zh ? (b ? "是" : "否") : (b ? "true" : "false")); };
  auto level = [&](Level v) {
    return zh ? std::string(t.levels[static_cast<int>(v)]) : std::string(NameOf(v));
  };
  for (const PlatformScore& ps : m.platforms) {
    const PlatformScore* before = Find(in.previous, ps.platform_id);
    for (int d = 0; d < kDimensionCount; ++d) {
      const DimensionScore& ds = ps.dimensions[d];
      s += FormatPeriod(m.period) + "," + yes(m.final) + "," + ps.platform_id + "," +
           yes(ps.ranked) + "," + level(ps.level) + "," + (before ? level(before->level) : "") +
           "," + (zh ? std::string(t.dimensions[d]) : std::string(kDimensionNames[d])) + "," +
           N(ds.in_scope) + "," + N(ds.affected) + "," + N(ds.pending) + "," +
           RateText(ds.affected, ds.in_scope) + "," + level(ds.level) + "\r\n";
    }
  }
  return s;
}

namespace {

const char* ListWords(const std::string& list, Lang l) {
  const bool zh = l == Lang::kZh;
  if (list == "commendation") return zh ? "守法诚信企业名单" : "commendation list";
  if (list == "watch") return zh ? "重点关注名单" : "watch list";
  if (list == "violation") return zh ? "违规企业名单" : "violation list";
  return zh ? "不列入名单" : "no list";
}

// A level in one character for the month-by-month tables (the legend says which).
std::string Cell(const PlatformScore* ps, int dimension, Lang l) {
  if (!ps) return l == Lang::kZh ? "—" : "-";
  const Level v = dimension < 0 ? ps->level : ps->dimensions[dimension].level;
  static constexpr const char* kEn[] = {"G", "Y", "O", "R"};
  static constexpr const char* kZh[] = {"绿", "黄", "橙", "红"};
  std::string c = (l == Lang::kZh ? kZh : kEn)[static_cast<int>(v)];
  return ps->ranked ? c : "(" + c + ")";
}

}  // namespace

std::string AnnualMarkdown(const AnnualInputs& in, Lang l) {
  const Terms& t = TermsOf(l);
  const bool zh = l == Lang::kZh;
  const std::vector<AnnualRecord> records = AnnualRecords(*in.months);
  std::map<std::string, const AnnualRecord*> before;
  std::vector<AnnualRecord> last_year;
  if (in.previous_year) last_year = AnnualRecords(*in.previous_year);
  for (const AnnualRecord& r : last_year) before[r.platform_id] = &r;
  bool all_final = !in.months->empty();
  for (const MonthEvaluation& m : *in.months) all_final &= m.final;

  const std::string y = std::to_string(in.year);
  std::string s =
      zh ? "# " + y + "年度合规情况公告\n\n" : "# Annual compliance announcement: " + y + "\n\n";
  s += (zh ? "状态：" : "Status: ") +
       std::string(all_final ? t.final_word
                             : (zh ? "初步（尚有月份未到终版）"
                                   : "provisional: not every month is final yet")) +
       (zh ? "。规则集 " : ". Rule set ") + in.rules->id + " " + in.rules->version +
       (zh ? "。月份：" : ". Months: ");
  for (size_t i = 0; i < in.months->size(); ++i)
    s += (i ? (zh ? "、" : ", ") : "") + FormatPeriod((*in.months)[i].period);
  s += zh ? "。\n\n" : ".\n\n";

  struct ListSpec {
    const char* name;
    const char* en;
    const char* zh;
  };
  static constexpr ListSpec kLists[] = {
      {"commendation",
       "Ranked in every month it reported and green in each: candidates for the "
       "subsidies, tax incentives and rewards of the early-warning mechanism.",
       "报告的每个月均纳入排名且均为绿色等级，可作为补贴、税收优惠和奖励的候选对象。"},
      {"watch", "Not on the violation list; yellow or orange in at least one ranked month.",
       "未列入违规企业名单，且至少有一个纳入排名的月份为黄色或橙色等级。"},
      {"violation", "Red in at least one ranked month.", "至少有一个纳入排名的月份为红色等级。"},
  };
  for (const ListSpec& list : kLists) {
    std::string title = ListWords(list.name, l);
    if (!zh) title[0] = static_cast<char>(title[0] - 'a' + 'A');
    s += "## " + title + "\n\n" + (zh ? list.zh : list.en) + "\n\n";
    std::string names;
    for (const AnnualRecord& r : records)
      if (r.list == list.name) names += "- " + r.platform_id + "\n";
    s += names.empty() ? (zh ? "无。\n\n" : "None.\n\n") : names + "\n";
  }

  s += zh ? "## 与上年比较\n\n| 平台企业 | 本年最高等级 | 本年名单 | 上年最高等级 | 上年名单 "
            "|\n|---|---|---|---|---|\n"
          : "## Compared with last year\n\n| Platform | Worst level | List | Worst level last year "
            "| List last year |\n|---|---|---|---|---|\n";
  auto worst = [&](const AnnualRecord* r) {
    return r && r->any_ranked ? std::string(t.levels[static_cast<int>(r->worst)])
                              : std::string(zh ? "未纳入排名" : "not ranked");
  };
  for (const AnnualRecord& r : records) {
    auto it = before.find(r.platform_id);
    const AnnualRecord* b = it == before.end() ? nullptr : it->second;
    s += "| " + r.platform_id + " | " + worst(&r) + " | " + ListWords(r.list, l) + " | " +
         (b ? worst(b) : std::string(zh ? "无数据" : "no data")) + " | " +
         (b ? ListWords(b->list, l) : (zh ? "无数据" : "no data")) + " |\n";
  }
  s += "\n";

  s += zh ? "## "
            "各月等级\n\n图例：绿、黄、橙、红为等级；括号表示该月未纳入排名；—表示该月无数据。\n\n"
          : "## Month by month\n\nLegend: G green, Y yellow, O orange, R red; in brackets: not "
            "ranked that "
            "month; -: no data that month.\n\n";
  for (int d = -1; d < kDimensionCount; ++d) {
    s += "### " + std::string(d < 0 ? (zh ? "综合等级" : "Overall level") : t.dimensions[d]) +
         "\n\n| " + (zh ? "平台企业" : "Platform");
    for (const MonthEvaluation& m : *in.months)
      s += " | " +
           (zh ? std::to_string(PeriodMonth(m.period)) + "月" : FormatPeriod(m.period).substr(5));
    s += " |\n|---";
    for (size_t i = 0; i < in.months->size(); ++i) s += "|---";
    s += "|\n";
    for (const AnnualRecord& r : records) {
      s += "| " + r.platform_id;
      for (const MonthEvaluation& m : *in.months) {
        const PlatformScore* ps = nullptr;
        for (const auto& [month, score] : r.months)
          if (month == &m) ps = score;
        s += " | " + Cell(ps, d, l);
      }
      s += " |\n";
    }
    s += "\n";
  }
  s += zh ? "## 核查方法\n\n" : "## Methodology\n\n";
  s += Methodology(*in.rules,
                   in.months->empty() ? MakePeriod(in.year, 12) : in.months->back().period, l);
  return s;
}

std::string AnnualCsv(const AnnualInputs& in, Lang l) {
  const bool zh = l == Lang::kZh;
  const Terms& t = TermsOf(l);
  std::string s = zh ? "\xEF\xBB\xBF年度,平台企业,名单,期间,是否终版,是否纳入排名,维度,等级\r\n"
                     : "year,platform_id,list,period,final,ranked,dimension,level\r\n";
  auto yes = [&](bool b) { return std::string(zh ? (b ? "是" : "否") : (b ? "true" : "false")); };
  auto level = [&](Level v) {
    return zh ? std::string(t.levels[static_cast<int>(v)]) : std::string(NameOf(v));
  };
  for (const AnnualRecord& r : AnnualRecords(*in.months))
    for (const auto& [m, ps] : r.months)
      for (int d = -1; d < kDimensionCount; ++d)
        s += std::to_string(in.year) + "," + r.platform_id + "," +
             (zh ? (r.list.empty() ? "" : ListWords(r.list, l)) : r.list) + "," +
             FormatPeriod(m->period) + "," + yes(m->final) + "," + yes(ps->ranked) + "," +
             (d < 0 ? std::string(zh ? "综合" : "overall")
              : zh  ? std::string(t.dimensions[d])
                    : std::string(kDimensionNames[d])) +
             "," + level(d < 0 ? ps->level : ps->dimensions[d].level) + "\r\n";
  return s;
}

}  // namespace flexwatch
