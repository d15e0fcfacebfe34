#include "flexwatch/backtest/backtest.h"

#include <map>
#include <set>
#include <sstream>

#include "flexwatch/core/digest.h"
#include "flexwatch/core/json.h"

namespace flexwatch {
namespace {

std::string WarningKey(const EarlyWarning& w) { return w.detector + "/" + w.series; }

// A detector's parameters in a canonical form (what its version stands for).
std::string Parameters(const DetectorConfig& d, std::string_view id) {
  std::ostringstream s;
  s.precision(17);
  s << "history_months=" << d.history_months;
  auto series = [&](const std::vector<SeriesId>& list) {
    for (SeriesId x : list) s << "," << kSeriesNames[static_cast<int>(x)];
  };
  if (id == "own_history") {
    const OwnHistoryConfig& c = d.own_history;
    s << ";enabled=" << c.enabled << ";min_history=" << c.min_history_months
      << ";k=" << c.slack_sigmas << ";h=" << c.threshold_sigmas
      << ";relative=" << c.min_relative_sigma << ";share=" << c.min_share_sigma
      << ";seasonal=" << c.seasonal << ";series";
    series(c.series);
  } else if (id == "sector_peers") {
    const SectorPeersConfig& c = d.sector_peers;
    s << ";enabled=" << c.enabled << ";peers=" << c.min_peers << ";workers=" << c.min_workers
      << ";z=" << c.threshold_z << ";relative=" << c.min_relative_sigma
      << ";share=" << c.min_share_sigma << ";series";
    series(c.series);
  } else if (id == "hours_bunching") {
    const HoursBunchingConfig& c = d.hours_bunching;
    s << ";enabled=" << c.enabled << ";below=" << c.below_hours << ";above=" << c.above_hours
      << ";window=" << c.window_hours << ";p=" << c.p_value << ";excess=" << c.min_excess_ratio
      << ";min=" << c.min_worker_months;
  } else {
    const ComplaintSpikeConfig& c = d.complaint_spike;
    s << ";enabled=" << c.enabled << ";min_history=" << c.min_history_months << ";p=" << c.p_value
      << ";min=" << c.min_complaints << ";prior=" << c.prior_complaints;
  }
  return s.str();
}

constexpr std::string_view kDetectorIds[] = {"own_history", "sector_peers", "hours_bunching",
                                             "complaint_spike"};

const DetectorBase& BaseOf(const DetectorConfig& d, std::string_view id) {
  if (id == "own_history") return d.own_history;
  if (id == "sector_peers") return d.sector_peers;
  if (id == "hours_bunching") return d.hours_bunching;
  return d.complaint_spike;
}

// What changed under an unchanged version: "rules" (the figures, by their fingerprint) and the
// detectors whose parameters differ. A version must stand for one set of figures.
std::vector<std::string> SameVersionOtherFigures(const BacktestSide& a, const BacktestSide& b) {
  std::vector<std::string> out;
  if (a.rules->version == b.rules->version && a.rules->fingerprint != b.rules->fingerprint)
    out.emplace_back("rules");
  if (!a.detectors->present || !b.detectors->present) return out;
  for (std::string_view id : kDetectorIds)
    if (BaseOf(*a.detectors, id).version == BaseOf(*b.detectors, id).version &&
        Parameters(*a.detectors, id) != Parameters(*b.detectors, id))
      out.emplace_back(id);
  return out;
}

std::string DetectorsStamp(const DetectorConfig& d) {
  if (!d.present) return "none";
  std::string s;
  for (std::string_view id : kDetectorIds) {
    const DetectorBase& b = BaseOf(d, id);
    s += (s.empty() ? "" : ", ") + std::string(id) + " " + b.version + " (" +
         Sha256Hex(Parameters(d, id)).substr(0, 8) + (b.enabled ? "" : ", disabled") + ")";
  }
  return s;
}

std::string DetectorsStampJson(const DetectorConfig& d) {
  if (!d.present) return "null";
  JsonWriter w;
  w.BeginObject();
  for (std::string_view id : kDetectorIds) {
    const DetectorBase& b = BaseOf(d, id);
    w.Key(id).BeginObject().Key("version").String(b.version);
    w.Key("fingerprint").String(Sha256Hex(Parameters(d, id)).substr(0, 16));
    w.Key("enabled").Bool(b.enabled).EndObject();
  }
  return w.EndObject().Take();
}

struct Side {
  std::map<std::string, const PlatformScore*> scores;
  std::map<std::string, std::map<std::string, const EarlyWarning*>> warnings;
};

}  // namespace

Result<BacktestReport> Backtest(Store& store, const BacktestSide& before, const BacktestSide& after,
                                const BacktestOptions& options) {
  BacktestReport r;
  SeriesCache cache_before, cache_after;
  for (Period p : options.periods) {
    std::vector<EarlyWarning> kept[2];
    Side sides[2];
    const BacktestSide* in[2] = {&before, &after};
    SeriesCache* caches[2] = {&cache_before, &cache_after};
    for (int i = 0; i < 2; ++i) {
      auto month = caches[i]->Get(store, *in[i]->rules, p, options.close);
      if (!month.ok())
        return Status::InvalidArgument(std::string(i ? "with the new configuration: " : "") +
                                       month.status().message());
      for (const PlatformScore& ps : (*month)->evaluation.platforms)
        if (options.platform.empty() || ps.platform_id == options.platform)
          sides[i].scores[ps.platform_id] = &ps;
      auto w =
          DetectWarnings(store, *in[i]->rules, *in[i]->detectors, p, options.close, *caches[i]);
      if (!w.ok()) return w.status();
      kept[i] = std::move(*w);
      for (const EarlyWarning& x : kept[i])
        if (options.platform.empty() || x.platform_id == options.platform)
          sides[i].warnings[x.platform_id][WarningKey(x)] = &x;
    }
    std::set<std::string> platforms;
    for (const Side& s : sides)
      for (const auto& [id, _] : s.scores) platforms.insert(id);
    for (const std::string& id : platforms) {
      ++r.platform_months;
      BacktestChange c;
      c.period = p;
      c.platform_id = id;
      const PlatformScore* a = sides[0].scores.count(id) ? sides[0].scores[id] : nullptr;
      const PlatformScore* b = sides[1].scores.count(id) ? sides[1].scores[id] : nullptr;
      c.present_before = a, c.present_after = b;
      bool differs = !a || !b;
      if (a) c.level_before = a->level, c.ranked_before = a->ranked;
      if (b) c.level_after = b->level, c.ranked_after = b->ranked;
      for (int d = 0; d < kDimensionCount; ++d) {
        BacktestChange::Dim& dim = c.dimensions[d];
        if (a)
          dim.before = a->dimensions[d].level, dim.affected_before = a->dimensions[d].affected,
          dim.in_scope_before = a->dimensions[d].in_scope;
        if (b)
          dim.after = b->dimensions[d].level, dim.affected_after = b->dimensions[d].affected,
          dim.in_scope_after = b->dimensions[d].in_scope;
        differs |= dim.before != dim.after || dim.affected_before != dim.affected_after ||
                   dim.in_scope_before != dim.in_scope_after;
      }
      differs |= c.ranked_before != c.ranked_after;
      if (a && b) {
        r.level_up += c.level_after > c.level_before;
        r.level_down += c.level_after < c.level_before;
        r.rank_changed += c.ranked_before != c.ranked_after;
      }
      const auto& wa = sides[0].warnings[id];
      const auto& wb = sides[1].warnings[id];
      r.warnings_before += static_cast<int64_t>(wa.size());
      r.warnings_after += static_cast<int64_t>(wb.size());
      for (const auto& [key, w] : wb)
        if (!wa.count(key)) c.warnings_added.push_back(*w);
      for (const auto& [key, w] : wa)
        if (!wb.count(key)) c.warnings_removed.push_back(*w);
      r.warnings_added += static_cast<int64_t>(c.warnings_added.size());
      r.warnings_removed += static_cast<int64_t>(c.warnings_removed.size());
      differs |= !c.warnings_added.empty() || !c.warnings_removed.empty();
      if (differs) r.changes.push_back(std::move(c));
    }
  }
  return r;
}

std::string BacktestText(const BacktestReport& r, const BacktestSide& before,
                         const BacktestSide& after, const BacktestOptions& options) {
  std::string s = "backtest: " + std::to_string(options.periods.size()) + " month(s)" +
                  (options.platform.empty() ? "" : " of " + options.platform) +
                  (options.close ? ", each closed" : ", as the state stands") + "\n";
  s += "  before: rules " + before.rules->id + " " + before.rules->version + " (" +
       before.rules->fingerprint + "); detectors " + DetectorsStamp(*before.detectors) + "\n";
  s += "  after:  rules " + after.rules->id + " " + after.rules->version + " (" +
       after.rules->fingerprint + "); detectors " + DetectorsStamp(*after.detectors) + "\n";
  for (const std::string& what : SameVersionOtherFigures(before, after))
    s += "  note: " + what +
         ": the figures differ under the same version; give the new ones a version of their own "
         "before adopting them\n";
  s += "\n";
  for (const BacktestChange& c : r.changes) {
    s += FormatPeriod(c.period) + " " + c.platform_id + ":";
    if (!c.present_before || !c.present_after) {
      s += c.present_before ? " only before\n" : " only after\n";
      continue;
    }
    if (c.level_before != c.level_after)
      s += " level " + std::string(NameOf(c.level_before)) + " -> " +
           std::string(NameOf(c.level_after)) + ";";
    if (c.ranked_before != c.ranked_after)
      s += std::string(c.ranked_after ? " now ranked;" : " no longer ranked;");
    for (int d = 0; d < kDimensionCount; ++d) {
      const BacktestChange::Dim& dim = c.dimensions[d];
      if (dim.before == dim.after && dim.affected_before == dim.affected_after &&
          dim.in_scope_before == dim.in_scope_after)
        continue;
      s += " " + std::string(kDimensionNames[d]) + " " + std::string(NameOf(dim.before)) + " " +
           std::to_string(dim.affected_before) + "/" + std::to_string(dim.in_scope_before) +
           " -> " + std::string(NameOf(dim.after)) + " " + std::to_string(dim.affected_after) +
           "/" + std::to_string(dim.in_scope_after) + ";";
    }
    for (const EarlyWarning& w : c.warnings_added)
      s += " + warning " + w.detector + " " + w.version + " " + w.series + " (expected " +
           WarningNumber(w.expected) + ", observed " + WarningNumber(w.observed) + ");";
    for (const EarlyWarning& w : c.warnings_removed)
      s += " - warning " + w.detector + " " + w.version + " " + w.series + ";";
    s.pop_back();
    s += "\n";
  }
  if (r.changes.empty()) s += "no platform-month would change\n";
  s += "\n" + std::to_string(r.platform_months) + " platform-months compared, " +
       std::to_string(r.changes.size()) + " would change: level up " + std::to_string(r.level_up) +
       ", down " + std::to_string(r.level_down) + ", ranking changed " +
       std::to_string(r.rank_changed) + "; warnings " + std::to_string(r.warnings_before) + " -> " +
       std::to_string(r.warnings_after) + " (+" + std::to_string(r.warnings_added) + ", -" +
       std::to_string(r.warnings_removed) + "). Nothing was published.\n";
  return s;
}

std::string BacktestJson(const BacktestReport& r, const BacktestSide& before,
                         const BacktestSide& after, const BacktestOptions& options) {
  JsonWriter w;
  w.BeginObject(JsonWriter::kBlock).Key("kind").String("backtest").Key("months").BeginArray();
  for (Period p : options.periods) w.String(FormatPeriod(p));
  w.EndArray().Key("closed").Bool(options.close);
  for (const auto& [name, side] : {std::pair{"before", &before}, std::pair{"after", &after}}) {
    w.Key(name).BeginObject().Key("rules").Raw(RulesStampJson(*side->rules));
    w.Key("detectors").Raw(DetectorsStampJson(*side->detectors)).EndObject();
  }
  w.Key("same_version_other_figures").BeginArray();
  for (const std::string& what : SameVersionOtherFigures(before, after)) w.String(what);
  w.EndArray().Key("summary").BeginObject().Key("platform_months").Int(r.platform_months);
  w.Key("changed").Int(static_cast<int64_t>(r.changes.size())).Key("level_up").Int(r.level_up);
  w.Key("level_down").Int(r.level_down).Key("ranking_changed").Int(r.rank_changed);
  w.Key("warnings_before").Int(r.warnings_before).Key("warnings_after").Int(r.warnings_after);
  w.Key("warnings_added").Int(r.warnings_added).Key("warnings_removed").Int(r.warnings_removed);
  w.EndObject().Key("changes").BeginArray(JsonWriter::kBlock);
  auto level = [&w](bool present, Level l) {
    if (present)
      w.String(NameOf(l));
    else
      w.Null();
  };
  auto side = [&](const char* name, bool present, Level l, int64_t affected, int64_t in_scope) {
    w.Key(name).BeginObject().Key("level");
    level(present, l);
    w.Key("affected").Int(affected).Key("in_scope").Int(in_scope);
    w.Key("rate").Raw(RateText(affected, in_scope)).EndObject();
  };
  auto warnings = [&w](const char* name, const std::vector<EarlyWarning>& list) {
    w.Key(name).BeginArray();
    for (const EarlyWarning& warning : list) w.Raw(EarlyWarningJson(warning));
    w.EndArray();
  };
  for (const BacktestChange& c : r.changes) {
    w.BeginObject().Key("period").String(FormatPeriod(c.period));
    w.Key("platform_id").String(c.platform_id).Key("level").BeginObject().Key("before");
    level(c.present_before, c.level_before);
    w.Key("after");
    level(c.present_after, c.level_after);
    w.EndObject().Key("ranked").BeginObject().Key("before").Bool(c.ranked_before);
    w.Key("after").Bool(c.ranked_after).EndObject().Key("dimensions").BeginObject();
    for (int d = 0; d < kDimensionCount; ++d) {
      const BacktestChange::Dim& dim = c.dimensions[d];
      w.Key(kDimensionNames[d]).BeginObject();
      side("before", c.present_before, dim.before, dim.affected_before, dim.in_scope_before);
      side("after", c.present_after, dim.after, dim.affected_after, dim.in_scope_after);
      w.EndObject();
    }
    w.EndObject();
    warnings("warnings_added", c.warnings_added);
    warnings("warnings_removed", c.warnings_removed);
    w.EndObject();
  }
  return w.EndArray().EndObject().Take() + "\n";
}

}  // namespace flexwatch
