#include "flexwatch/rules/explain.h"

#include <map>
#include <vector>

#include "figures.h"
#include "flexwatch/core/json.h"
#include "flexwatch/rules/words.h"
#include "flexwatch/state/records.h"

namespace flexwatch {
namespace {

// The Chinese words of the codes an explanation names (announce/glossary.md).
constexpr std::array<const char*, kContractFormCount> kFormsZh = {
    "劳动合同", "劳务派遣", "劳务外包", "书面协议", "个体工商户协议", "自由职业者协议"};
constexpr std::array<const char*, kSchemeCount> kSchemesZh = {
    "基本养老保险", "基本医疗保险", "失业保险", "工伤保险", "职业伤害保障费", "住房公积金"};
constexpr std::array<const char*, kSectorCount> kSectorsZh = {
    "外卖配送", "网约车", "即时配送", "货运", "快递", "家政服务", "网络直播", "其他行业"};

std::string WhyZh(std::string_view why) {
  if (why == "no_policy") return "无适用险种的保单";
  if (why == "not_valid_on_day") return "当日无有效保单";
  if (why == "sum_below_minimum") return "当日有效保单保额均低于下限";
  return std::string(why);
}

std::string Join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : separator) + p;
  return out;
}

std::string ExplainEn(const RuleSet& rules, const MonthRow& row, const Verdict& v, Dimension d) {
  const std::string hours = KeepOneDecimal(row.wm.wm.duration / 60, 3);
  std::string tier = std::string(NameOf(v.tier)) + " (" + hours + " h)";
  std::vector<std::string> parts;
  switch (d) {
    case Dimension::kContractAvoidance: {
      const std::string need =
          "labor_contract with " + row.wm.platform_id + " or labor_dispatch" +
          (v.tier == Tier::kManaged ? std::string(" or written_agreement") : std::string());
      if (!v.form)
        parts.push_back(tier + ": no contract in force at the last order (" +
                        FormatBeijing(row.wm.wm.last_order) + "); needs " + need);
      else if (!v.form_satisfies)
        parts.push_back(tier + ": the form in force at the last order is " +
                        std::string(NameOf(v.form->form)) + " with " + v.form->counterparty_id +
                        " (signed " + FormatBeijing(v.form->ts) + "); needs " + need);
      else if (v.dispatched)
        parts.push_back(tier + ": dispatched through " + v.form->counterparty_id +
                        " (counts against the platform's dispatch cap of " +
                        Percent(rules.dispatch_cap) + "%)");
      break;
    }
    case Dimension::kUnderpayment:
      for (const SchemeCheck& c : v.schemes) {
        const std::string name(NameOf(c.scheme));
        if (c.missing && c.paid_late)
          parts.push_back(name + ": no employer contribution for " + FormatPeriod(row.wm.period) +
                          " by the end of its grace (" +
                          FormatDate(rules.GraceEnd(row.wm.period) - 1) + "); " +
                          Yuan(c.late_amount) + " paid from " + FormatDate(c.late_paid_on) +
                          " is late and does not count");
        else if (c.missing)
          parts.push_back(name + ": no employer contribution for " + FormatPeriod(row.wm.period));
        if (c.pending)
          parts.push_back(name + ": no employer contribution yet (pending until the grace of " +
                          std::to_string(rules.grace_days) + " days passes)");
        if (c.underdeclared)
          parts.push_back(name + ": declared base " + Yuan(c.declared_base) +
                          " below the required " + Yuan(v.required_base) + " (earnings " +
                          Yuan(row.wm.wm.earnings) + " within limits " + Yuan(v.limits->lower) +
                          "-" + Yuan(v.limits->upper) + ", tolerance " + Percent(rules.tolerance) +
                          "%)");
        if (c.short_payment)
          parts.push_back(name + ": paid " + Yuan(c.amount) + ", expected " +
                          Yuan(c.expected_amount) + " (" + Percent(c.rate) +
                          "% of the declared base " + Yuan(c.declared_base) + ")");
        if (c.paid_late && !c.missing)
          parts.push_back(name + ": a further " + Yuan(c.late_amount) + " paid from " +
                          FormatDate(c.late_paid_on) + ", after the grace, does not count");
      }
      break;
    case Dimension::kCoverageMismatch:
      if (v.PilotUncovered())
        parts.push_back(std::to_string(v.pilot_orders) + " pilot-sector orders, " +
                        std::to_string(v.orders_covered) +
                        " covered by occupational_injury premiums paid in time (" +
                        std::to_string(v.pilot_orders - v.orders_covered) + " uncovered)" +
                        (v.orders_covered_late > 0
                             ? "; premiums for " + std::to_string(v.orders_covered_late) +
                                   " more orders were paid after the grace and do not count"
                             : std::string()));
      for (const HighRiskCheck& h : v.high_risk) {
        if (h.uncovered.empty()) continue;
        std::string days;
        for (size_t i = 0; i < h.uncovered.size() && i < 5; ++i)
          days += (i ? ", " : "") + FormatDate(h.uncovered[i].day) + " " +
                  std::string(h.uncovered[i].why);
        if (h.uncovered.size() > 5) days += ", ...";
        parts.push_back(std::string(NameOf(h.sector)) + " orders on " +
                        std::to_string(h.uncovered.size()) + " of " + std::to_string(h.order_days) +
                        " days without an accident or occupational-injury policy of at least " +
                        Yuan(h.min_sum) + " valid that day (" + days + ")");
      }
      if (v.work_injury_paid_late && parts.size())
        parts.back() +=
            " (statutory work_injury for the month was paid after the grace: no exemption)";
      if (v.exemption_pending && parts.size())
        parts.back() += " (pending: statutory work_injury for the month is not yet due)";
      break;
  }
  return Join(parts, "; ");
}

// The same facts in Chinese, amounts in 元 and hours in 小时.
std::string ExplainZh(const RuleSet& rules, const MonthRow& row, const Verdict& v, Dimension d) {
  const std::string hours = KeepOneDecimal(row.wm.wm.duration / 60, 3);
  const std::string tier =
      std::string(words::kTiersZh[static_cast<int>(v.tier)]) + "（月工时" + hours + "小时）";
  auto form = [](ContractForm f) { return std::string(kFormsZh[static_cast<int>(f)]); };
  auto yuan = [](Fen f) { return Yuan(f) + "元"; };
  const std::string month = FormatPeriod(row.wm.period);
  std::vector<std::string> parts;
  switch (d) {
    case Dimension::kContractAvoidance: {
      const std::string need = "应与" + row.wm.platform_id + "签订劳动合同，或订立劳务派遣" +
                               (v.tier == Tier::kManaged ? "，或签订书面协议" : "");
      if (!v.form)
        parts.push_back(tier + "：最后一单时（" + FormatBeijing(row.wm.wm.last_order) +
                        "）无有效合同或协议；" + need);
      else if (!v.form_satisfies)
        parts.push_back(tier + "：最后一单时有效的是与" + v.form->counterparty_id + "订立的" +
                        form(v.form->form) + "（签订于" + FormatBeijing(v.form->ts) + "），" +
                        "合同形式与用工实际不符；" + need);
      else if (v.dispatched)
        parts.push_back(tier + "：经" + v.form->counterparty_id +
                        "劳务派遣用工（计入平台劳务派遣用工" + Percent(rules.dispatch_cap) +
                        "%的比例上限）");
      break;
    }
    case Dimension::kUnderpayment:
      for (const SchemeCheck& c : v.schemes) {
        const std::string name = kSchemesZh[static_cast<int>(c.scheme)];
        if (c.missing && c.paid_late)
          parts.push_back(name + "：" + month + "的单位缴费在宽限期届满（" +
                          FormatDate(rules.GraceEnd(row.wm.period) - 1) + "）前未缴纳；" +
                          FormatDate(c.late_paid_on) + "起缴纳的" + yuan(c.late_amount) +
                          "属宽限期满后缴费，不予认可");
        else if (c.missing)
          parts.push_back(name + "：" + month + "无单位缴费（险种漏缴）");
        if (c.pending)
          parts.push_back(name + "：尚无单位缴费（" + std::to_string(rules.grace_days) +
                          "日缴费宽限期未满，待定）");
        if (c.underdeclared)
          parts.push_back(name + "：申报缴费基数" + yuan(c.declared_base) + "，低于应缴基数" +
                          yuan(v.required_base) + "（收入" + yuan(row.wm.wm.earnings) +
                          "，缴费基数上下限" + Yuan(v.limits->lower) + "—" + yuan(v.limits->upper) +
                          "，允许误差" + Percent(rules.tolerance) + "%）");
        if (c.short_payment)
          parts.push_back(name + "：实缴" + yuan(c.amount) + "，应缴" + yuan(c.expected_amount) +
                          "（申报基数" + yuan(c.declared_base) + "的" + Percent(c.rate) + "%）");
        if (c.paid_late && !c.missing)
          parts.push_back(name + "：另有" + yuan(c.late_amount) + "于" +
                          FormatDate(c.late_paid_on) + "起在宽限期满后缴纳，不予认可");
      }
      break;
    case Dimension::kCoverageMismatch:
      if (v.PilotUncovered())
        parts.push_back("试点行业订单" + std::to_string(v.pilot_orders) + "单，其中" +
                        std::to_string(v.orders_covered) + "单按时缴纳了职业伤害保障费（" +
                        std::to_string(v.pilot_orders - v.orders_covered) + "单未覆盖）" +
                        (v.orders_covered_late > 0
                             ? "；另有" + std::to_string(v.orders_covered_late) +
                                   "单的保障费在宽限期满后缴纳，不予认可"
                             : std::string()));
      for (const HighRiskCheck& h : v.high_risk) {
        if (h.uncovered.empty()) continue;
        std::string days;
        for (size_t i = 0; i < h.uncovered.size() && i < 5; ++i)
          days +=
              (i ? "，" : "") + FormatDate(h.uncovered[i].day) + " " + WhyZh(h.uncovered[i].why);
        if (h.uncovered.size() > 5) days += "，……";
        parts.push_back(std::string(kSectorsZh[static_cast<int>(h.sector)]) + "订单：有订单的" +
                        std::to_string(h.order_days) + "天中，" +
                        std::to_string(h.uncovered.size()) + "天没有当日有效、保额不低于" +
                        yuan(h.min_sum) + "的意外险或职业伤害保险（" + days + "）");
      }
      if (v.work_injury_paid_late && parts.size())
        parts.back() += "（当月法定工伤保险在宽限期满后缴纳，不予豁免）";
      if (v.exemption_pending && parts.size())
        parts.back() += "（待定：当月法定工伤保险尚未到缴费期限）";
      break;
  }
  return Join(parts, "；");
}

// What a dispatched worker-month beyond the platform's cap adds to its explanation.
std::string OverCapText(Lang lang) {
  return lang == Lang::kZh ? "；超出平台当月劳务派遣用工比例上限（最后签订的劳务派遣计为超出部分）"
                           : "; beyond the platform's dispatch cap for the month (the dispatch "
                             "contracts signed last are the ones over the cap)";
}

std::string TierRule(const RuleSet& rules, Tier tier, Lang lang) {
  auto hours = [](MilliMinutes m) { return KeepOneDecimal(m / 60, 3); };
  const std::string above = hours(rules.labor_relation_above), from = hours(rules.managed_from);
  if (lang == Lang::kZh)
    return tier == Tier::kLaborRelation ? "月工时超过" + above + "小时"
           : tier == Tier::kManaged     ? "月工时" + from + "小时至" + above + "小时"
                                        : "月工时不足" + from + "小时";
  return tier == Tier::kLaborRelation ? "more than " + above + " h"
         : tier == Tier::kManaged     ? "from " + from + " h up to " + above + " h"
                                      : "fewer than " + from + " h";
}

}  // namespace

std::string ExplainText(const RuleSet& rules, const MonthRow& row, const Verdict& v, Dimension d,
                        Lang lang) {
  return lang == Lang::kZh ? ExplainZh(rules, row, v, d) : ExplainEn(rules, row, v, d);
}

Result<std::string> ExplainWorkerMonth(Store& store, const RuleSet& rules, Period p,
                                       const std::string& platform, const std::string& worker,
                                       bool close, Lang lang) {
  auto wm = store.GetWorkerMonth(p, platform, worker);
  if (!wm.ok()) return wm.status();
  if (!wm->has_value()) return std::string("null");
  MonthRow row;
  row.wm = WorkerMonthRecord{p, platform, worker, **wm};
  row.contracts = store.Contracts(platform, worker);
  row.contributions = store.Contributions(p, platform, worker);
  row.policies = store.Policies(platform, worker);
  MonthEvaluation finality;
  DecideFinality(store, rules, p, close, finality);
  auto verdict = Judge(rules, row, finality.final);
  if (!verdict.ok()) return verdict.status();
  const Verdict& v = *verdict;
  std::string over_cap;  // FindingJson of the contract dimension when beyond the dispatch cap
  if (v.dispatched) {
    EvaluateOptions eo;
    eo.close = close;
    eo.platform = platform;
    eo.on_finding = [&](const Finding& f) {
      if (f.worker_id == worker && f.dimension == Dimension::kContractAvoidance)
        over_cap = f.details_json;
    };
    if (auto m = EvaluateMonth(store, rules, p, eo); !m.ok()) return m.status();
  }
  JsonWriter w;
  w.BeginObject().Key("rules").Raw(RulesStampJson(rules)).Key("final").Bool(finality.final);
  w.Key("tier").String(NameOf(v.tier));
  w.Key("hours").Raw(KeepOneDecimal(row.wm.wm.duration / 60, 3));
  w.Key("tier_rule").String(TierRule(rules, v.tier, lang));
  w.Key("dimensions").BeginObject();
  for (int d = 0; d < kDimensionCount; ++d) {
    const Dimension dim = static_cast<Dimension>(d);
    const std::string facts = d == 0 && !over_cap.empty() ? over_cap : FindingJson(v, dim);
    std::string text = ExplainText(rules, row, v, dim, lang);
    if (d == 0 && !over_cap.empty()) text += OverCapText(lang);
    w.Key(kDimensionNames[d]).BeginObject().Members(facts).Key("explanation").String(text);
    w.EndObject();
  }
  return w.EndObject().EndObject().Take();
}

Result<std::string> AffectedWorkerMonthsJson(
    Store& store, const RuleSet& rules, Period p, const std::string& platform, Dimension d,
    bool close, Lang lang, const std::function<std::string(std::string_view)>& pseudonym) {
  struct Row {
    std::string worker_id, facts;
  };
  std::vector<Row> rows;
  std::map<std::string, std::string> reasons;  // by worker: the explanation of its verdict
  EvaluateOptions eo;
  eo.close = close;
  eo.platform = platform;
  eo.on_finding = [&](const Finding& f) {
    if (f.dimension == d) rows.push_back({f.worker_id, f.details_json});
  };
  eo.on_verdict = [&](const MonthRow& row, const Verdict& v) {
    if (v.outcome[static_cast<int>(d)] == Outcome::kAffected ||
        (d == Dimension::kContractAvoidance && v.dispatched))
      reasons[row.wm.worker_id] = ExplainText(rules, row, v, d, lang);
  };
  auto m = EvaluateMonth(store, rules, p, eo);
  if (!m.ok()) return m.status();
  if (m->platforms.empty() || m->platforms.front().platform_id != platform)
    return Status::NotFound("platform " + platform + " has no worker-month in " + FormatPeriod(p));
  const PlatformScore& ps = m->platforms.front();
  const DimensionScore& ds = ps.dimensions[static_cast<int>(d)];
  std::sort(rows.begin(), rows.end(),
            [](const Row& a, const Row& b) { return a.worker_id < b.worker_id; });
  constexpr auto kBlock = JsonWriter::kBlock;
  JsonWriter w;
  w.BeginObject(kBlock).Key("platform_id").String(platform).Key("period").String(FormatPeriod(p));
  w.Key("dimension").String(kDimensionNames[static_cast<int>(d)]);
  w.Key("final").Bool(m->final).Key("rules").Raw(RulesStampJson(rules));
  w.Key("ranked").Bool(ps.ranked).Key("level").String(NameOf(ds.level));
  w.Key("in_scope").Int(ds.in_scope).Key("affected").Int(ds.affected);
  w.Key("pending").Int(ds.pending).Key("rate").Raw(RateText(ds.affected, ds.in_scope));
  w.Key("findings").BeginObject();
  for (const auto& [name, n] : ds.findings) w.Key(name).Int(n);
  w.EndObject().Key("worker_months").BeginArray(kBlock);
  for (const Row& r : rows) {
    w.BeginObject().Key("worker_id").String(r.worker_id);
    if (pseudonym) w.Key("pseudonym").String(pseudonym(r.worker_id));
    std::string reason = reasons[r.worker_id];
    if (r.facts.find("\"dispatch_cap\"") != std::string::npos) reason += OverCapText(lang);
    w.Members(r.facts).Key("reason").String(reason).EndObject();
  }
  return w.EndArray().EndObject().Take() + "\n";
}

}  // namespace flexwatch
