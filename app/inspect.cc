// `flexwatch inspect` and `flexwatch series`: what the state holds.

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "cli.h"
#include "flexwatch/detectors/series.h"
#include "flexwatch/rules/evaluate.h"

namespace flexwatch::cli {

int RunInspect(const fw::Config& cfg, const std::string& state, fw::InspectQuery q,
               const std::string& month, bool dump, bool close) {
  if (!month.empty()) {
    auto p = fw::ParsePeriod(month);
    if (!p.ok()) return Fail("inspect: --month " + month + ": " + p.status().message());
    q.month = *p;
  }
  int open_rc = 0;
  auto store = OpenExistingState(cfg, state, "inspect", open_rc);
  if (!store) return open_rc;
  if (dump) {
    auto s = store->Dump([](std::string_view line) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    });
    if (int rc; ReadFailed(*store, "inspect", rc)) return rc;
    return s.ok() ? kExitOk : Fail("inspect: " + s.message());
  }
  if (cfg.rules) {
    fw::Store* st = store.get();
    const fw::RuleSet* rules = &*cfg.rules;
    q.explain = [st, rules, close](fw::Period p, const std::string& platform,
                                   const std::string& worker) {
      return fw::ExplainWorkerMonth(*st, *rules, p, platform, worker, close);
    };
  }
  auto json = fw::InspectJson(*store, q);
  if (!json.ok()) return Fail("inspect: " + json.status().message());
  if (int rc; ReadFailed(*store, "inspect", rc)) return rc;
  std::fwrite(json->data(), 1, json->size(), stdout);
  return kExitOk;
}

int RunSeries(const fw::Config& cfg, const std::string& state, const std::string& platform,
              const std::string& month) {
  auto rules = cfg.Rules();
  if (!rules.ok()) return Fail("series: " + rules.status().message());
  int open_rc = 0;
  auto store = OpenExistingState(cfg, state, "series", open_rc);
  if (!store) return open_rc;
  std::vector<fw::Period> periods = store->Periods();
  if (!month.empty()) {
    auto p = fw::ParsePeriod(month);
    if (!p.ok()) return Fail("series: --month " + month + ": " + p.status().message());
    periods = {*p};
  }
  for (fw::Period p : periods) {
    auto m = fw::ComputeSeries(*store, **rules, p, false);
    if (!m.ok()) return Fail("series: " + m.status().message());
    for (const fw::PlatformMonth& pm : m->platforms)
      if (platform.empty() || pm.platform_id == platform)
        std::printf("%s\n", fw::SeriesJson(pm).c_str());
  }
  if (int rc; ReadFailed(*store, "series", rc)) return rc;
  return kExitOk;
}

}  // namespace flexwatch::cli
