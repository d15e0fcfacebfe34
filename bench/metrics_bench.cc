// The cost of the monitor's metrics at the platform cap: one round's update of the per-platform
// series (OnRound) and one scrape (Scrape), for 1,000 platforms in two months; the scrape's size
// and series count as counters. Baseline in the same process: the same round with 10 platforms.
#include <benchmark/benchmark.h>

#include "flexwatch/monitor/metrics.h"

namespace flexwatch {
namespace {

AlertRound Round(int platforms) {
  AlertRound round;
  for (int m = 0; m < 2; ++m) {
    RoundMonth month;
    month.period = MakePeriod(2025, 1 + m);
    month.final = m == 0;
    for (int i = 0; i < platforms; ++i) {
      PlatformScore ps;
      ps.platform_id = "p-" + std::to_string(100000 + i);
      ps.level = static_cast<Level>(i % 4);
      for (DimensionScore& d : ps.dimensions) {
        d.in_scope = 1000 + i;
        d.affected = i % 300;
        d.level = ps.level;
      }
      month.platforms.push_back(ps);
    }
    round.months.push_back(month);
  }
  return round;
}

void BM_OnRound(benchmark::State& state) {
  MonitorMetrics metrics(1000);
  const AlertRound round = Round(static_cast<int>(state.range(0)));
  for (auto _ : state) metrics.OnRound(0.1, round, {});
}
BENCHMARK(BM_OnRound)->Arg(10)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_Scrape(benchmark::State& state) {
  MonitorMetrics metrics(1000);
  metrics.OnRound(0.1, Round(static_cast<int>(state.range(0))), {});
  size_t bytes = 0, series = 0;
  for (auto _ : state) {
    const std::string text = metrics.Scrape();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  const std::string text = metrics.Scrape();
  for (size_t at = 0; (at = text.find('\n', at)) != std::string::npos; ++at)
    if (at + 1 < text.size() && text[at + 1] != '#') ++series;
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["series"] = static_cast<double>(series);
}
BENCHMARK(BM_Scrape)->Arg(10)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace flexwatch

BENCHMARK_MAIN();
