#include "flexwatch/announce/announcement.h"

#include <map>

#include "flexwatch/core/json.h"

namespace flexwatch {
namespace {

std::string Q(std::string_view s) { return JsonString(s); }
std::string N(int64_t v) { return std::to_string(v); }

std::string DimensionJson(const PlatformScore& ps, int d) {
  const DimensionScore& ds = ps.dimensions[d];
  std::string s = "{\"in_scope\": " + N(ds.in_scope) + ", \"affected\": " + N(ds.affected) +
                  ", \"rate\": " + RateText(ds.affected, ds.in_scope) +
                  ", \"level\": " + Q(NameOf(ds.level)) + ", \"pending\": " + N(ds.pending) +
                  ", \"findings\": {";
  bool first = true;
  for (const auto& [name, n] : ds.findings) {
    s += (first ? "" : ", ") + Q(name) + ": " + N(n);
    first = false;
  }
  s += "}";
  if (static_cast<Dimension>(d) == Dimension::kContractAvoidance)
    s += ", \"dispatch\": {\"dispatched\": " + N(ps.dispatched) +
         ", \"cap\": " + N(ps.dispatch_cap) + "}";
  return s + "}";
}

const char* kCriteria =
    "  \"criteria\": {\n"
    "    \"commendation\": \"ranked in every month with worker-months in the year and green in "
    "each\",\n"
    "    \"watch\": \"not on the violation list; yellow or orange in at least one ranked "
    "month\",\n"
    "    \"violation\": \"red in at least one ranked month\"\n"
    "  },\n";

}  // namespace

std::string MonthlyJson(const MonthEvaluation& m, const RuleSet& rules,
                        const std::vector<EarlyWarning>& warnings) {
  std::map<std::string_view, std::vector<const EarlyWarning*>> by_platform;
  for (const EarlyWarning& w : warnings) by_platform[w.platform_id].push_back(&w);
  std::string s = "{\n  \"kind\": \"monthly\",\n  \"period\": " + Q(FormatPeriod(m.period)) +
                  ",\n  \"final\": " + (m.final ? "true" : "false") +
                  ",\n  \"finality\": {\"status\": " + Q(m.finality) +
                  ", \"watermark\": " + (m.watermark ? Q(FormatBeijing(*m.watermark)) : "null") +
                  ", \"final_at\": " + Q(FormatBeijing(m.final_at)) +
                  (m.closed_at ? ", \"closed_at\": " + Q(FormatBeijing(*m.closed_at)) : "") +
                  "},\n  \"rules\": " + RulesStampJson(rules) + ",\n  \"platforms\": [";
  for (size_t i = 0; i < m.platforms.size(); ++i) {
    const PlatformScore& ps = m.platforms[i];
    s += std::string(i ? "," : "") + "\n    {\n      \"platform_id\": " + Q(ps.platform_id) +
         ",\n      \"ranked\": " + (ps.ranked ? "true" : "false") +
         ",\n      \"worker_months\": " + N(ps.worker_months) +
         ",\n      \"in_scope_workers\": " + N(ps.in_scope_workers) +
         ",\n      \"tiers\": {\"labor_relation\": " + N(ps.tiers[2]) +
         ", \"managed\": " + N(ps.tiers[1]) + ", \"independent\": " + N(ps.tiers[0]) +
         "},\n      \"level\": " + Q(NameOf(ps.level)) + ",\n      \"dimensions\": {";
    for (int d = 0; d < kDimensionCount; ++d)
      s += std::string(d ? "," : "") + "\n        " + Q(kDimensionNames[d]) + ": " +
           DimensionJson(ps, d);
    s += "\n      },\n      \"early_warnings\": [";
    if (auto it = by_platform.find(ps.platform_id); it != by_platform.end())
      for (size_t w = 0; w < it->second.size(); ++w)
        s += std::string(w ? "," : "") + "\n        " + EarlyWarningJson(*it->second[w]);
    s += by_platform.count(ps.platform_id) ? "\n      ]\n    }" : "]\n    }";
  }
  s += m.platforms.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return s;
}

std::vector<AnnualRecord> AnnualRecords(const std::vector<MonthEvaluation>& months) {
  std::map<std::string, AnnualRecord> platforms;
  for (const MonthEvaluation& m : months)
    for (const PlatformScore& ps : m.platforms) {
      AnnualRecord& r = platforms[ps.platform_id];
      r.platform_id = ps.platform_id;
      r.months.emplace_back(&m, &ps);
    }
  std::vector<AnnualRecord> out;
  for (auto& [id, r] : platforms) {
    bool all_ranked = true, any_red = false, any_warn = false, all_green = true;
    for (const auto& [m, ps] : r.months) {
      all_ranked &= ps->ranked;
      r.any_ranked |= ps->ranked;
      all_green &= ps->level == Level::kGreen;
      if (!ps->ranked) continue;
      any_red |= ps->level == Level::kRed;
      any_warn |= ps->level == Level::kYellow || ps->level == Level::kOrange;
      r.worst = std::max(r.worst, ps->level);
    }
    r.list = any_red                   ? "violation"
             : any_warn                ? "watch"
             : all_ranked && all_green ? "commendation"
                                       : "";
    out.push_back(std::move(r));
  }
  return out;
}

std::string AnnualJson(int year, const std::vector<MonthEvaluation>& months, const RuleSet& rules) {
  bool all_final = !months.empty();
  for (const MonthEvaluation& m : months) all_final &= m.final;
  std::vector<std::string> commendation, watch, violation;
  std::string s = "{\n  \"kind\": \"annual\",\n  \"period\": " + Q(std::to_string(year)) +
                  ",\n  \"final\": " + (all_final ? "true" : "false") +
                  ",\n  \"rules\": " + RulesStampJson(rules) + ",\n  \"months\": [";
  for (size_t i = 0; i < months.size(); ++i)
    s += (i ? ", " : "") + Q(FormatPeriod(months[i].period));
  s += "],\n  \"platforms\": [";
  bool first = true;
  for (const AnnualRecord& rec : AnnualRecords(months)) {
    std::string rows;
    for (size_t i = 0; i < rec.months.size(); ++i) {
      const auto& [m, ps] = rec.months[i];
      rows += std::string(i ? "," : "") + "\n        {\"period\": " + Q(FormatPeriod(m->period)) +
              ", \"final\": " + (m->final ? "true" : "false") +
              ", \"ranked\": " + (ps->ranked ? "true" : "false") +
              ", \"level\": " + Q(NameOf(ps->level)) + ", \"dimensions\": {";
      for (int d = 0; d < kDimensionCount; ++d)
        rows += std::string(d ? ", " : "") + Q(kDimensionNames[d]) + ": " +
                Q(NameOf(ps->dimensions[d].level));
      rows += "}}";
    }
    if (rec.list == "violation") violation.push_back(rec.platform_id);
    if (rec.list == "watch") watch.push_back(rec.platform_id);
    if (rec.list == "commendation") commendation.push_back(rec.platform_id);
    s += std::string(first ? "" : ",") + "\n    {\n      \"platform_id\": " + Q(rec.platform_id) +
         ",\n      \"months_reported\": " + N(static_cast<int64_t>(rec.months.size())) +
         ",\n      \"worst_ranked_level\": " + (rec.any_ranked ? Q(NameOf(rec.worst)) : "null") +
         ",\n      \"list\": " + (rec.list.empty() ? "null" : Q(rec.list)) +
         ",\n      \"months\": [" + rows + "\n      ]\n    }";
    first = false;
  }
  s += first ? "],\n" : "\n  ],\n";
  s += kCriteria;
  auto list_json = [](const std::vector<std::string>& ids) {
    std::string out = "[";
    for (size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : "") + Q(ids[i]);
    return out + "]";
  };
  s += "  \"commendation\": " + list_json(commendation) + ",\n  \"watch\": " + list_json(watch) +
       ",\n  \"violation\": " + list_json(violation) + "\n}\n";
  return s;
}

}  // namespace flexwatch
