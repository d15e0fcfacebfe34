// The early-warning detectors of domain/rules.md section 6 over the platforms' monthly series:
// own history (a self-starting CUSUM), sector peers (a robust z-score), hours bunching below the
// tier thresholds, and complaint spikes (a Poisson tail). Each warning names its detector and
// version, the series, the window of months it judged, the expected and observed values, and a
// score. Deterministic: the same state and configuration give the same warnings, in the same
// order (platform, detector, series).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "flexwatch/detectors/series.h"

namespace flexwatch {

// The detectors, by the id their warnings carry (EarlyWarning::detector).
inline constexpr const char* kDetectorIds[] = {"own_history", "sector_peers", "hours_bunching",
                                               "complaint_spike"};

struct EarlyWarning {
  std::string platform_id;
  Period period = 0;
  std::string detector;  // own_history, sector_peers, hours_bunching, complaint_spike
  std::string version;
  std::string series;  // a series name, "complaints/<category>" or "hours_below_<T>h"
  Period window_from = 0, window_to = 0;
  double expected = 0, observed = 0;
  std::string unit;
  std::string direction;  // "down" or "up": the way the observed value left the expected one
  double score = 0;       // own_history: CUSUM in sigmas; sector_peers and hours_bunching: z;
                          // complaint_spike: -log10 of the tail probability
  std::string basis;      // what `expected` is: the platform's past, the sector's median...
  // How sure it is: "high" when the evidence is far past the detector's threshold (a CUSUM at
  // twice its decision interval, a z one and a half times its threshold, a tail a hundred times
  // smaller than its p-value), else "medium", just past it.
  std::string confidence = "medium";
};

// The warning as a JSON object (without platform and period, which its context gives).
std::string EarlyWarningJson(const EarlyWarning& w);
// A number as the warnings print it: fixed, at most `decimals` decimals, no trailing zeros.
std::string WarningNumber(double v, int decimals = 4);

// Series of the months already computed, so that judging several months reads each once.
class SeriesCache {
 public:
  // Month `p`'s series; `close` as for EvaluateMonth (months other than the one judged are taken
  // as the state says, final or not). A month computed before is brought up to date: when its
  // finality is as it was, only the platforms the store's writer changed since are judged again
  // (Store::ChangedSince), so that a round of a long-running monitor costs what changed, not
  // what the state holds; when its finality changed, the whole month is judged again.
  Result<const MonthSeries*> Get(Store& store, const RuleSet& rules, Period p, bool close);
  // Forgets every month for which `keep` is false.
  void Retain(const std::function<bool(Period)>& keep);
  // Months judged whole, and platform-months judged again, since the cache was made.
  int64_t months_computed() const { return months_computed_; }
  int64_t platforms_recomputed() const { return platforms_recomputed_; }

 private:
  struct Entry {
    MonthSeries series;
    uint64_t change_sequence = 0;  // the store's, when the series was last brought up to date
  };
  std::map<std::pair<Period, bool>, Entry> months_;
  int64_t months_computed_ = 0, platforms_recomputed_ = 0;
};

// The warnings of month `p` for every platform with worker-months in it, judged against the
// months before it (at most `config.history_months`, those in the state and that the rule set
// can judge). No warnings when the configuration has no detectors.
Result<std::vector<EarlyWarning>> DetectWarnings(Store& store, const RuleSet& rules,
                                                 const DetectorConfig& config, Period p, bool close,
                                                 SeriesCache& cache);

// The same, from series already computed: `history[i]` is month p - (history.size() - 1) + i
// (nullptr where the state has none), the last one month `p` itself.
std::vector<EarlyWarning> DetectWarningsIn(const RuleSet& rules, const DetectorConfig& config,
                                           const std::vector<const MonthSeries*>& history);

// Warnings grouped by platform id.
std::map<std::string, std::vector<EarlyWarning>> ByPlatform(std::vector<EarlyWarning> warnings);

}  // namespace flexwatch
