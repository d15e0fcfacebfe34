#include "flexwatch/announce/announcement.h"

#include <map>

#include "flexwatch/core/json.h"

namespace flexwatch {
namespace {

constexpr auto kBlock = JsonWriter::kBlock;

void DimensionJson(JsonWriter& w, const PlatformScore& ps, int d) {
  const DimensionScore& ds = ps.dimensions[d];
  w.BeginObject().Key("in_scope").Int(ds.in_scope).Key("affected").Int(ds.affected);
  w.Key("rate").Raw(RateText(ds.affected, ds.in_scope)).Key("level").String(NameOf(ds.level));
  w.Key("pending").Int(ds.pending).Key("findings").BeginObject();
  for (const auto& [name, n] : ds.findings) w.Key(name).Int(n);
  w.EndObject();
  if (static_cast<Dimension>(d) == Dimension::kContractAvoidance) {
    w.Key("dispatch").BeginObject().Key("dispatched").Int(ps.dispatched);
    w.Key("cap").Int(ps.dispatch_cap).EndObject();
  }
  w.EndObject();
}

// The platform's registered names and code, when the registry has it.
void RegisteredJson(JsonWriter& w, const PlatformRegistry* platforms, const std::string& id) {
  const PlatformInfo* info = platforms ? platforms->Find(id) : nullptr;
  if (!info) return;
  w.Key("name_zh").String(info->name_zh).Key("name_en").String(info->name_en);
  w.Key("credit_code").String(info->credit_code);
}

void ListJson(JsonWriter& w, const std::vector<std::string>& ids) {
  w.BeginArray();
  for (const std::string& id : ids) w.String(id);
  w.EndArray();
}

}  // namespace

std::string MonthlyJson(const MonthEvaluation& m, const RuleSet& rules,
                        const std::vector<EarlyWarning>& warnings, const MonthSealing* sealing,
                        const PlatformRegistry* platforms) {
  const bool sealed = sealing && m.final && !sealing->revisions.empty();
  std::map<std::string_view, std::vector<const EarlyWarning*>> by_platform;
  for (const EarlyWarning& w : warnings) by_platform[w.platform_id].push_back(&w);
  JsonWriter w;
  w.BeginObject(kBlock).Key("kind").String("monthly").Key("period").String(FormatPeriod(m.period));
  w.Key("final").Bool(m.final).Key("finality").BeginObject().Key("status").String(m.finality);
  w.Key("watermark");
  if (m.watermark)
    w.String(FormatBeijing(*m.watermark));
  else
    w.Null();
  w.Key("final_at").String(FormatBeijing(m.final_at));
  if (m.closed_at) w.Key("closed_at").String(FormatBeijing(*m.closed_at));
  w.EndObject().Key("rules").Raw(RulesStampJson(rules));
  if (sealed) {
    w.Key("revision").Int(sealing->revisions.back().number).Key("revisions").BeginArray(kBlock);
    for (const Revision& r : sealing->revisions) w.Raw(RevisionJson(r));
    w.EndArray();
    // A revised month's documents name the original announcement, which stays as published.
    if (sealing->revisions.back().number > 0)
      w.Key("original").String("monthly-" + FormatPeriod(m.period) + ".json");
  }
  w.Key("platforms").BeginArray(kBlock);
  for (const PlatformScore& ps : m.platforms) {
    w.BeginObject(kBlock).Key("platform_id").String(ps.platform_id);
    RegisteredJson(w, platforms, ps.platform_id);
    w.Key("ranked").Bool(ps.ranked);
    w.Key("worker_months").Int(ps.worker_months).Key("in_scope_workers").Int(ps.in_scope_workers);
    w.Key("rewritten_events").Int(ps.rewritten);
    if (sealed) {
      const auto n = sealing->arrived_after_seal.find(ps.platform_id);
      w.Key("arrived_after_seal").Int(n == sealing->arrived_after_seal.end() ? 0 : n->second);
    }
    w.Key("tiers").BeginObject().Key("labor_relation").Int(ps.tiers[2]);
    w.Key("managed").Int(ps.tiers[1]).Key("independent").Int(ps.tiers[0]).EndObject();
    w.Key("level").String(NameOf(ps.level)).Key("dimensions").BeginObject(kBlock);
    for (int d = 0; d < kDimensionCount; ++d) DimensionJson(w.Key(kDimensionNames[d]), ps, d);
    w.EndObject().Key("early_warnings").BeginArray(kBlock);
    if (auto it = by_platform.find(ps.platform_id); it != by_platform.end())
      for (const EarlyWarning* warning : it->second) w.Raw(EarlyWarningJson(*warning));
    w.EndArray().EndObject();
  }
  w.EndArray();
  if (platforms && !platforms->empty()) {
    std::vector<std::string> unregistered;
    for (const PlatformScore& ps : m.platforms)
      if (!platforms->Find(ps.platform_id)) unregistered.push_back(ps.platform_id);
    ListJson(w.Key("unregistered"), unregistered);
  }
  w.EndObject();
  return w.Take() + "\n";
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

std::string AnnualJson(int year, const std::vector<MonthEvaluation>& months, const RuleSet& rules,
                       const PlatformRegistry* platforms) {
  bool all_final = !months.empty();
  for (const MonthEvaluation& m : months) all_final &= m.final;
  std::vector<std::string> commendation, watch, violation;
  JsonWriter w;
  w.BeginObject(kBlock).Key("kind").String("annual").Key("period").String(std::to_string(year));
  w.Key("final").Bool(all_final).Key("rules").Raw(RulesStampJson(rules)).Key("months");
  w.BeginArray();
  for (const MonthEvaluation& m : months) w.String(FormatPeriod(m.period));
  w.EndArray().Key("platforms").BeginArray(kBlock);
  for (const AnnualRecord& rec : AnnualRecords(months)) {
    if (rec.list == "violation") violation.push_back(rec.platform_id);
    if (rec.list == "watch") watch.push_back(rec.platform_id);
    if (rec.list == "commendation") commendation.push_back(rec.platform_id);
    w.BeginObject(kBlock).Key("platform_id").String(rec.platform_id);
    RegisteredJson(w, platforms, rec.platform_id);
    w.Key("months_reported").Int(static_cast<int64_t>(rec.months.size()));
    w.Key("worst_ranked_level");
    if (rec.any_ranked)
      w.String(NameOf(rec.worst));
    else
      w.Null();
    w.Key("list");
    if (rec.list.empty())
      w.Null();
    else
      w.String(rec.list);
    w.Key("months").BeginArray(kBlock);
    for (const auto& [m, ps] : rec.months) {
      w.BeginObject().Key("period").String(FormatPeriod(m->period)).Key("final").Bool(m->final);
      w.Key("ranked").Bool(ps->ranked).Key("level").String(NameOf(ps->level));
      w.Key("dimensions").BeginObject();
      for (int d = 0; d < kDimensionCount; ++d)
        w.Key(kDimensionNames[d]).String(NameOf(ps->dimensions[d].level));
      w.EndObject().EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray().Key("criteria").BeginObject(kBlock);
  w.Key("commendation")
      .String("ranked in every month with worker-months in the year and green in each");
  w.Key("watch").String("not on the violation list; yellow or orange in at least one ranked month");
  w.Key("violation").String("red in at least one ranked month");
  w.EndObject();
  ListJson(w.Key("commendation"), commendation);
  ListJson(w.Key("watch"), watch);
  ListJson(w.Key("violation"), violation);
  w.EndObject();
  return w.Take() + "\n";
}

}  // namespace flexwatch
