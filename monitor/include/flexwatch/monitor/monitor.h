// The long-running monitor (`flexwatch run`, and the demo): consumes the event topics into the
// state with exactly-once effect, re-judges the open months as data arrives (level changes and
// early warnings become alerts in the outbox, delivered to the alerts topic and Alertmanager),
// closes quiet months in wall-clock time, publishes final months, and serves its metrics and
// readiness. Everything `run` does, as a library that tests drive in-process.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flexwatch/alerts/alerts.h"
#include "flexwatch/alerts/options.h"
#include "flexwatch/announce/options.h"
#include "flexwatch/detectors/options.h"
#include "flexwatch/ingest/kafka.h"
#include "flexwatch/ingest/replay.h"
#include "flexwatch/monitor/metrics.h"
#include "flexwatch/rules/rule_set.h"
#include "flexwatch/server/http_server.h"
#include "flexwatch/server/options.h"
#include "flexwatch/state/store.h"

namespace flexwatch {

struct MonitorOptions {
  std::string state_dir = "flexwatch-state";
  // Brokers empty: an embedded broker (librdkafka's mock cluster) in this process, with every
  // topic the monitor reads and writes; for demos and tests only.
  KafkaOptions kafka;
  ReplayOptions ingest;
  StoreOptions store;
  std::optional<RuleSet> rules;  // none: the monitor consumes and judges nothing
  DetectorConfig detectors;
  PublishOptions publish;
  // The platforms' registered names, for the publications (PublishOptions::platforms points here).
  PlatformRegistry platforms;
  Issuer issuer;  // who issues the publications (PublishOptions::issuer points here)
  // The key of the evidence's worker pseudonyms (announce/evidence.h): with one, each publication
  // carries its evidence, as `announce --out` writes it; empty: the documents only.
  std::string pseudonym_key;
  MetricsOptions metrics;  // metrics.listen empty: not served
  AlertmanagerOptions alertmanager;
  std::string version;           // stamped on flexwatch_build_info
  double idle_exit_seconds = 0;  // > 0: Run returns after this long with no new message
};

// What one round of the monitor's periodic work did.
struct MonitorRound {
  double seconds = 0;
  AlertRound round;
  std::vector<Alert> alerts;
  std::vector<std::string> published;  // files
};

struct MonitorHooks {
  // One line each for operators. `progress`: partitions assigned, commits (the first, then at
  // most one every 5 s), brokers lost and found. `notice`: the embedded broker, where metrics
  // are served, a month not judged (once), a file published, a partition that starts after its
  // beginning was trimmed, Alertmanager failing and back.
  std::function<void(const std::string&)> progress, notice;
  std::function<void(const IngestCounts&)> on_commit;  // after each commit, on the consumer
  std::function<void(const MonitorRound&)> on_round;   // after each round, on the consumer
};

class Monitor {
 public:
  // Starts what must run before consuming: the embedded broker when no brokers are given, the
  // metrics server, the Alertmanager sink, and opens the state (read-write: one monitor per
  // state). An error names what could not start.
  static Result<std::unique_ptr<Monitor>> Start(MonitorOptions options, MonitorHooks hooks);
  ~Monitor();

  // Consumes until `stop` is raised, the topics are idle for idle_exit_seconds, or a failure
  // (a state error, a fatal consumer error); then writes the state's dead-letter file. Call once.
  Result<IngestCounts> Run(const std::atomic<bool>* stop);

  const MonitorOptions& options() const { return options_; }
  const std::string& brokers() const { return options_.kafka.brokers; }
  bool embedded_broker() const;
  std::string metrics_address() const;  // "host:port"; empty when not served
  int64_t alerts_written() const { return alerts_written_; }
  MonitorMetrics& metrics();
  Store& store();

 private:
  Monitor() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  MonitorOptions options_;
  int64_t alerts_written_ = 0;
};

// Every topic the monitor reads and writes: the event topics, dead letters, alerts and
// announcements (what an embedded broker must have).
std::vector<std::string> MonitorTopics(const KafkaOptions& kafka, const PublishOptions& publish);

}  // namespace flexwatch
