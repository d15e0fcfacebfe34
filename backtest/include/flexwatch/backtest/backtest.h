// `flexwatch backtest`: what a different rule set or detector configuration would have done to
// the months already in the state, platform by platform, before a regulator adopts it. Reads the
// state only: nothing is written, alerted or published.
#pragma once

#include <string>
#include <vector>

#include "flexwatch/detectors/detectors.h"
#include "flexwatch/rules/rule_set.h"

namespace flexwatch {

struct BacktestSide {
  const RuleSet* rules = nullptr;
  const DetectorConfig* detectors = nullptr;
};

struct BacktestOptions {
  std::vector<Period> periods;  // ascending
  std::string platform;         // empty: every platform
  bool close = false;           // judge each month as closed (announce --final)
};

struct BacktestChange {
  Period period = 0;
  std::string platform_id;
  bool present_before = false, present_after = false;
  Level level_before = Level::kGreen, level_after = Level::kGreen;
  bool ranked_before = false, ranked_after = false;
  struct Dim {
    Level before = Level::kGreen, after = Level::kGreen;
    int64_t affected_before = 0, in_scope_before = 0, affected_after = 0, in_scope_after = 0;
  };
  std::array<Dim, kDimensionCount> dimensions{};
  std::vector<EarlyWarning> warnings_added, warnings_removed;
};

struct BacktestReport {
  int64_t platform_months = 0;  // compared
  int64_t level_up = 0, level_down = 0, rank_changed = 0;
  int64_t warnings_before = 0, warnings_after = 0, warnings_added = 0, warnings_removed = 0;
  std::vector<BacktestChange> changes;  // only platform-months where something differs
};

Result<BacktestReport> Backtest(Store& store, const BacktestSide& before, const BacktestSide& after,
                                const BacktestOptions& options);

std::string BacktestText(const BacktestReport& r, const BacktestSide& before,
                         const BacktestSide& after, const BacktestOptions& options);
std::string BacktestJson(const BacktestReport& r, const BacktestSide& before,
                         const BacktestSide& after, const BacktestOptions& options);

}  // namespace flexwatch
