// The monitor's Prometheus metrics (prometheus-cpp): ingest by topic, type and outcome, consumer
// lag, commits, state size, evaluation, each platform's levels and rates, alerts, early warnings
// and publications. Names follow Prometheus's conventions (flexwatch_ prefix, base units, _total
// counters). Platform label values come from the data, so at most `max_platforms` platforms get
// series; the others are counted in flexwatch_metrics_platforms_dropped.
//
// Thread-safety: the On*/Set* methods are called from one thread (the consumer's); Scrape() from
// any thread at the same time.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "flexwatch/alerts/alerts.h"
#include "flexwatch/core/registry.h"
#include "flexwatch/ingest/kafka.h"
#include "flexwatch/rules/revisions.h"

namespace flexwatch {

class MonitorMetrics {
 public:
  explicit MonitorMetrics(int max_platforms);

  // flexwatch_build_info: the program's version and the rule set's id, version and fingerprint.
  void SetBuildInfo(const std::string& version, const RuleSet* rules);
  // Every series of the counters whose label values are known in advance, at 0 from the start,
  // so that a panel shows 0 rather than no data: alerts by dimension, level and finality, early
  // warnings by detector, and, for each of `topics` (named, not patterns), events by type and
  // outcome and rejections by reason.
  void ExportZeros(const std::vector<std::string>& topics);
  void OnConsumerReport(const ConsumerReport& report);
  void SetStateBytes(uint64_t bytes);
  void SetReady(bool ready);
  // One round of evaluation: how long it took, what it judged and the alerts it wrote.
  void OnRound(double seconds, const AlertRound& round, const std::vector<Alert>& alerts);
  // Files written by a publication (monthly-YYYY-MM.*, annual-YYYY.*).
  void OnPublished(const std::vector<std::string>& paths);
  void OnAlertmanagerPost(bool ok);
  // The months' trend: each sealed month's verdict (its latest revision) of the platforms with
  // series, by month (flexwatch_sealed_platform_level and _rate_ratio, label `period`). A month
  // or platform no longer given loses its series.
  void SetSealed(const std::map<Period, SealedVerdict>& months);
  // The registry the platforms' names come from (flexwatch_platform_info; not owned).
  void SetRegistry(const PlatformRegistry* platforms) { names_ = platforms; }
  // How many platforms have series (they only ever grow in number).
  size_t platforms_with_series() const { return exported_.size(); }

  // The text exposition format (version 0.0.4).
  std::string Scrape() const;

 private:
  using Labels = std::map<std::string, std::string>;
  void SetMonth(const RoundMonth& month, const std::string& which);

  std::shared_ptr<prometheus::Registry> registry_;
  const size_t max_platforms_;
  prometheus::Family<prometheus::Gauge>& build_info_;
  prometheus::Family<prometheus::Counter>& events_;
  prometheus::Family<prometheus::Gauge>& lag_;
  prometheus::Histogram& commit_batch_;
  prometheus::Histogram& commit_seconds_;
  prometheus::Gauge& last_commit_;
  prometheus::Gauge& state_bytes_;
  prometheus::Gauge& ready_;
  prometheus::Histogram& evaluation_seconds_;
  prometheus::Gauge& last_evaluation_;
  prometheus::Family<prometheus::Gauge>& period_;
  prometheus::Family<prometheus::Gauge>& level_;
  std::array<prometheus::Family<prometheus::Gauge>*, 4> level_is_;  // by Level
  prometheus::Family<prometheus::Gauge>& rate_;
  prometheus::Family<prometheus::Gauge>& in_scope_;
  prometheus::Family<prometheus::Gauge>& affected_;
  prometheus::Family<prometheus::Gauge>& warnings_now_;
  prometheus::Family<prometheus::Gauge>& rewritten_;
  prometheus::Family<prometheus::Gauge>& platforms_;
  prometheus::Gauge& dropped_;
  prometheus::Gauge& not_judged_;
  prometheus::Family<prometheus::Counter>& alerts_;
  prometheus::Family<prometheus::Counter>& early_warnings_;
  prometheus::Family<prometheus::Counter>& published_;
  prometheus::Family<prometheus::Counter>& alertmanager_posts_;
  prometheus::Family<prometheus::Gauge>& info_;
  prometheus::Family<prometheus::Gauge>& sealed_level_;
  prometheus::Family<prometheus::Gauge>& sealed_rate_;

  std::map<std::vector<std::string>, double> events_seen_;  // cumulative counts reported
  std::set<std::pair<std::string, int32_t>> lag_partitions_;
  std::set<std::string> exported_;  // platforms given series, for as long as the process runs
  const PlatformRegistry* names_ = nullptr;
  // Each exported platform's gauges per month label ("current", "last_final"), and those set in
  // this round (the others are removed).
  using Key = std::pair<std::string, std::string>;
  std::map<Key, std::vector<std::pair<prometheus::Family<prometheus::Gauge>*, prometheus::Gauge*>>>
      series_;
  std::set<Key> touched_;
  // The sealed months' gauges, by platform, dimension and month.
  std::map<std::vector<std::string>, std::pair<prometheus::Gauge*, prometheus::Gauge*>> sealed_;
};

}  // namespace flexwatch
