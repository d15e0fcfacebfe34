// How well the early-warning detectors find planted drifts, and how often they cry wolf.
//
//   detector_eval [--seeds N] [--workers N] [--platforms N] [--months N] [--drifts N]
//                 [--seasons] [--start YYYY-MM] [--config FILE] [--dir DIR] [--markdown FILE]
//
// --seasons: the feeds have the shapes of real workforces (GenOptions::seasons: sizes and levels
// of their own, churn, a Spring Festival trough, a fast-growing platform, summer part-timers, a
// seasonal sector mix), where honest platforms change month to month.
//
// For each seed: `flexwatch gen --honest --drifts N` writes a feed where every platform is
// honest but for its planted drifts (a move to agencies, a falling contribution ratio, a falling
// premium per order, hours capped at 101-103 h, a complaint surge), and its truth; the feed is
// replayed into a fresh state; every month is then judged as the regulator publishes it (closed,
// with the months before it as the state has them) and its warnings are compared with the truth.
//
// Per detector:
//   recall      drifts of the kinds it is meant for on which it warns in the drift's first month
//               or the one after;
//   first       months from the drift's start to its first warning (0: in the first month);
//   precision   warnings on a drifting platform from the drift's start on, over all its warnings;
//   false/100   honest platform-months with a warning of it, per 100 honest platform-months
//               (every platform-month of an honest platform, and the months before a drift's
//               start, from the month the detectors may first speak);
//   before red  gradual drifts that the rules take to red: those warned before the month they do.
//
// Besides the pooled figures, the spread across seeds: each seed's recall and false warnings per
// 100 honest platform-months, as min / median / max, and the seeds above 3 false warnings per 100.
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "flexwatch/detectors/detectors.h"
#include "flexwatch/gen/generator.h"
#include "flexwatch/ingest/replay.h"
#include "flexwatch/settings/config.h"

namespace fs = std::filesystem;
namespace fw = flexwatch;

namespace {

struct Args {
  int seeds = 4, workers = 4000, platforms = 40, months = 12, drifts = 20;
  std::string config, dir = "detector-eval", markdown, start;
  bool verbose = false, seasons = false;
};

// Which detectors each drift is meant for.
const std::map<std::string, std::vector<std::string>> kMeantFor = {
    {"own_history", {"agency", "contribution", "premium"}},
    {"sector_peers", {"agency", "contribution", "premium"}},
    {"hours_bunching", {"capping"}},
    {"complaint_spike", {"complaints"}},
};
const std::vector<std::string> kDetectors = {"own_history", "sector_peers", "hours_bunching",
                                             "complaint_spike", "any"};

struct DriftTruth {
  std::string platform, kind;
  fw::Period start = 0;
};

struct Tally {
  int meant = 0, caught = 0;            // drifts meant for it, caught within a month
  std::vector<int> first;               // months to the first warning, per caught-at-all drift
  int warnings_true = 0, warnings = 0;  // for precision
  int honest_months = 0, honest_warned = 0;
  int reach_red = 0, before_red = 0;
  // Per seed: recall (caught / meant, when it had drifts meant for it) and false warnings per 100
  // honest platform-months.
  std::vector<double> seed_recall, seed_false;
};

// "min / median / max" of `v`, with `decimals`.
std::string Spread(std::vector<double> v, int decimals) {
  if (v.empty()) return "-";
  std::sort(v.begin(), v.end());
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.*f / %.*f / %.*f", decimals, v.front(), decimals,
                v[v.size() / 2], decimals, v.back());
  return buf;
}

int Usage(const char* msg) {
  std::fprintf(stderr, "detector_eval: %s\n", msg);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (k == "--seeds")
      a.seeds = std::stoi(next());
    else if (k == "--workers")
      a.workers = std::stoi(next());
    else if (k == "--platforms")
      a.platforms = std::stoi(next());
    else if (k == "--months")
      a.months = std::stoi(next());
    else if (k == "--drifts")
      a.drifts = std::stoi(next());
    else if (k == "--config")
      a.config = next();
    else if (k == "--dir")
      a.dir = next();
    else if (k == "--markdown")
      a.markdown = next();
    else if (k == "--verbose")
      a.verbose = true;
    else if (k == "--seasons")
      a.seasons = true;
    else if (k == "--start")
      a.start = next();
    else
      return Usage(("unknown argument " + k).c_str());
  }
  auto cfg = a.config.empty() ? fw::ShippedConfig() : fw::LoadConfig(a.config);
  if (!cfg.ok()) return Usage(cfg.status().message().c_str());
  if (!cfg->rules || !cfg->detectors.present) return Usage("the config needs rules and detectors");
  const fw::RuleSet& rules = *cfg->rules;
  const fw::DetectorConfig& detectors = cfg->detectors;
  const int speak_from = std::max(detectors.own_history.min_history_months,
                                  detectors.complaint_spike.min_history_months);

  std::map<std::string, Tally> tally;
  int drift_count = 0;
  for (int seed = 1; seed <= a.seeds; ++seed) {
    const fs::path dir = fs::path(a.dir) / ("seed-" + std::to_string(seed));
    fs::remove_all(dir);
    fs::create_directories(dir);
    fw::GenOptions g;
    g.workers = a.workers;
    g.platforms = a.platforms;
    g.months = a.months;
    g.seed = static_cast<uint64_t>(seed);
    g.static_violations = false;
    g.auto_drifts = a.drifts;
    g.rules = &rules;
    g.seasons = a.seasons;
    g.ids = a.seasons ? fw::IdShape::kUuid : fw::IdShape::kSequential;
    if (!a.start.empty()) {
      auto start = fw::ParsePeriod(a.start);
      if (!start.ok()) return Usage("--start: not a month YYYY-MM");
      g.start = *start;
    }
    // This seed's counts, to take its own figures from at the end.
    std::map<std::string, Tally> before = tally;
    {
      std::ofstream feed(dir / "feed.ndjson", std::ios::binary), truth(dir / "truth.json");
      if (auto s = fw::Generate(g, feed, &truth); !s.ok()) return Usage(s.message().c_str());
    }
    auto store = fw::Store::Open((dir / "state").string(), cfg->store);
    if (!store.ok()) return Usage(store.status().message().c_str());
    if (auto r = fw::ReplayFiles(**store, {(dir / "feed.ndjson").string()}, cfg->ingest); !r.ok())
      return Usage(r.status().message().c_str());
    fs::remove(dir / "feed.ndjson");

    // The truth: the drifts, and which platforms are honest.
    simdjson::ondemand::parser parser;
    auto json = simdjson::padded_string::load((dir / "truth.json").string());
    simdjson::ondemand::document doc = parser.iterate(json.value());
    std::vector<DriftTruth> drifts;
    for (auto d : doc["drifts"].get_array()) {
      DriftTruth t;
      t.platform = std::string(std::string_view(d["platform_id"]));
      t.kind = std::string(std::string_view(d["kind"]));
      t.start = *fw::ParsePeriod(std::string_view(d["start"]));
      drifts.push_back(t);
    }
    std::map<std::string, const DriftTruth*> drift_of;
    for (const DriftTruth& d : drifts) drift_of[d.platform] = &d;
    drift_count += static_cast<int>(drifts.size());

    // Every month judged as published: closed, its history as the state holds it.
    fw::SeriesCache cache;
    std::map<std::string, std::map<fw::Period, std::set<std::string>>> warned;  // platform
    std::map<std::string, std::map<fw::Period, fw::Level>> level;
    std::vector<fw::Period> periods = (*store)->Periods();
    for (fw::Period p : periods) {
      auto w = fw::DetectWarnings(**store, rules, detectors, p, true, cache);
      if (!w.ok()) return Usage(w.status().message().c_str());
      for (const fw::EarlyWarning& x : *w) {
        warned[x.platform_id][p].insert(x.detector);
        warned[x.platform_id][p].insert("any");
        auto& t = tally[x.detector];
        ++t.warnings;
        auto it = drift_of.find(x.platform_id);
        const bool drifting = it != drift_of.end() && p >= it->second->start;
        if (drifting) ++t.warnings_true;
        if (a.verbose && !drifting)
          std::fprintf(stderr, "  false: %s %s %s %s observed %g expected %g score %g\n",
                       x.platform_id.c_str(), fw::FormatPeriod(p).c_str(), x.detector.c_str(),
                       x.series.c_str(), x.observed, x.expected, x.score);
      }
      auto month = cache.Get(**store, rules, p, true);
      if (!month.ok()) return Usage(month.status().message().c_str());
      for (const fw::PlatformScore& ps : (*month)->evaluation.platforms)
        if (ps.ranked) level[ps.platform_id][p] = ps.level;
      for (const fw::PlatformMonth& pm : (*month)->platforms) {
        if (p < periods.front() + speak_from) continue;
        auto it = drift_of.find(pm.platform_id);
        if (it != drift_of.end() && p >= it->second->start) continue;
        for (const std::string& d : kDetectors) {
          ++tally[d].honest_months;
          if (warned[pm.platform_id][p].count(d)) ++tally[d].honest_warned;
        }
      }
    }
    for (const DriftTruth& d : drifts) {
      fw::Period red_at = 0;
      for (const auto& [p, l] : level[d.platform])
        if (p >= d.start && l == fw::Level::kRed) {
          red_at = p;
          break;
        }
      if (a.verbose) {
        std::string line = d.platform + " " + d.kind + " from " + fw::FormatPeriod(d.start) +
                           (red_at ? " red " + fw::FormatPeriod(red_at) : "") + ":";
        for (const auto& [p, set] : warned[d.platform])
          for (const std::string& det : set)
            if (det != "any") line += " " + fw::FormatPeriod(p) + "/" + det;
        std::fprintf(stderr, "%s\n", line.c_str());
      }
      for (const std::string& det : kDetectors) {
        const bool meant = det == "any" || std::count(kMeantFor.at(det).begin(),
                                                      kMeantFor.at(det).end(), d.kind) > 0;
        if (!meant) continue;
        Tally& t = tally[det];
        ++t.meant;
        std::optional<fw::Period> first;
        for (const auto& [p, set] : warned[d.platform])
          if (p >= d.start && set.count(det)) {
            first = p;
            break;
          }
        if (first) t.first.push_back(*first - d.start);
        if (first && *first <= d.start + 1) ++t.caught;
        if (red_at) {
          ++t.reach_red;
          if (first && *first < red_at) ++t.before_red;
        }
      }
    }
    // "any": precision over every warning.
    for (const auto& [platform, months] : warned)
      for (const auto& [p, set] : months)
        if (set.count("any")) {
          ++tally["any"].warnings;
          auto it = drift_of.find(platform);
          if (it != drift_of.end() && p >= it->second->start) ++tally["any"].warnings_true;
        }
    for (const std::string& det : kDetectors) {
      Tally& t = tally[det];
      const Tally& b = before[det];
      const int meant = t.meant - b.meant, caught = t.caught - b.caught;
      const int months = t.honest_months - b.honest_months,
                warned_honest = t.honest_warned - b.honest_warned;
      if (meant > 0) t.seed_recall.push_back(1.0 * caught / meant);
      if (months > 0) t.seed_false.push_back(100.0 * warned_honest / months);
    }
    std::fprintf(stderr,
                 "seed %d: %zu drifts, %zu months judged; any: %d/%d caught, %.2f false "
                 "per 100\n",
                 seed, drifts.size(), periods.size(), tally["any"].caught - before["any"].caught,
                 tally["any"].meant - before["any"].meant,
                 tally["any"].seed_false.empty() ? 0.0 : tally["any"].seed_false.back());
  }

  std::string md;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%d seeds x (%d workers, %d platforms, %d months, %d drifts%s): %d drifts; "
                "detectors may speak from month %d\n\n",
                a.seeds, a.workers, a.platforms, a.months, a.drifts,
                a.seasons ? ", real workforces' shapes" : "", drift_count, speak_from + 1);
  md += buf;
  md +=
      "| detector | meant for | recall (first month or next) | months to first warning "
      "(median / max) | precision | false warnings per 100 honest platform-months | warned "
      "before red |\n|---|---|---|---|---|---|---|\n";
  for (const std::string& det : kDetectors) {
    Tally& t = tally[det];
    std::string meant = det == "any" ? "every drift" : "";
    if (det != "any")
      for (const std::string& k : kMeantFor.at(det)) meant += (meant.empty() ? "" : ", ") + k;
    std::sort(t.first.begin(), t.first.end());
    std::string first = t.first.empty() ? "-"
                                        : std::to_string(t.first[t.first.size() / 2]) + " / " +
                                              std::to_string(t.first.back());
    std::snprintf(
        buf, sizeof buf, "| %s | %s | %.2f (%d/%d) | %s | %.2f (%d/%d) | %.2f (%d/%d) | %d/%d |\n",
        det.c_str(), meant.c_str(), t.meant ? 1.0 * t.caught / t.meant : 0.0, t.caught, t.meant,
        first.c_str(), t.warnings ? 1.0 * t.warnings_true / t.warnings : 0.0, t.warnings_true,
        t.warnings, t.honest_months ? 100.0 * t.honest_warned / t.honest_months : 0.0,
        t.honest_warned, t.honest_months, t.before_red, t.reach_red);
    md += buf;
  }
  md +=
      "\nAcross seeds (min / median / max of each seed's figure):\n\n| detector | recall | false "
      "warnings per 100 honest platform-months | seeds above 3 per 100 |\n|---|---|---|---|\n";
  for (const std::string& det : kDetectors) {
    const Tally& t = tally[det];
    const auto above =
        std::count_if(t.seed_false.begin(), t.seed_false.end(), [](double f) { return f > 3.0; });
    std::snprintf(buf, sizeof buf, "| %s | %s | %s | %d/%zu |\n", det.c_str(),
                  Spread(t.seed_recall, 2).c_str(), Spread(t.seed_false, 2).c_str(),
                  static_cast<int>(above), t.seed_false.size());
    md += buf;
  }
  std::fputs(md.c_str(), stdout);
  if (!a.markdown.empty()) std::ofstream(a.markdown) << md;
  return 0;
}
