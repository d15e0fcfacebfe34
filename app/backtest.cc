// `flexwatch backtest`: what another configuration would have changed.

#include "flexwatch/backtest/backtest.h"

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

namespace flexwatch::cli {

int RunBacktest(const fw::Config& cfg, const BacktestArgs& a) {
  auto alt = fw::LoadConfig(a.with);
  if (!alt.ok()) return Fail("backtest: --with: " + alt.status().message());
  auto rules = cfg.Rules();
  if (!rules.ok()) return Fail("backtest: " + rules.status().message());
  if (a.format != "text" && a.format != "json")
    return Fail("backtest: --format " + a.format + ": expected text or json");
  // A section the new file leaves out is the current configuration's.
  const fw::BacktestSide before{*rules, &cfg.detectors};
  const fw::BacktestSide after{alt->rules ? &*alt->rules : *rules,
                               alt->detectors.present ? &alt->detectors : &cfg.detectors};
  int open_rc = 0;
  auto store = OpenExistingState(cfg, a.state, "backtest", open_rc);
  if (!store) return open_rc;
  fw::BacktestOptions bo;
  bo.platform = a.platform;
  bo.close = a.close;
  std::optional<fw::Period> from, to;
  for (auto [text, out, flag] : {std::tuple{&a.from, &from, "--from"}, {&a.to, &to, "--to"}}) {
    if (text->empty()) continue;
    auto p = fw::ParsePeriod(*text);
    if (!p.ok())
      return Fail("backtest: " + std::string(flag) + " " + *text + ": " + p.status().message());
    *out = *p;
  }
  for (fw::Period p : store->Periods())
    if ((!from || p >= *from) && (!to || p <= *to)) bo.periods.push_back(p);
  if (bo.periods.empty()) return Fail("backtest: the state holds no month in that range");
  auto report = fw::Backtest(*store, before, after, bo);
  if (!report.ok()) return Fail("backtest: " + report.status().message());
  if (int rc; ReadFailed(*store, "backtest", rc)) return rc;
  const std::string out = a.format == "json" ? fw::BacktestJson(*report, before, after, bo)
                                             : fw::BacktestText(*report, before, after, bo);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace flexwatch::cli
