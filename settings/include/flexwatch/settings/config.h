// flexwatch.yaml: the one place where configuration is read and validated. Each module owns the
// options it reads (ingest, state, rules, detectors, announce, alerts, server); this library
// reads the YAML into them. Every key is checked; an error names the file, the key and the
// problem.
#pragma once

#include <optional>
#include <string>

#include "flexwatch/alerts/options.h"
#include "flexwatch/announce/options.h"
#include "flexwatch/core/registry.h"
#include "flexwatch/core/status.h"
#include "flexwatch/detectors/options.h"
#include "flexwatch/ingest/kafka.h"
#include "flexwatch/ingest/replay.h"
#include "flexwatch/monitor/monitor.h"
#include "flexwatch/rules/rule_set.h"
#include "flexwatch/selfcheck/selfcheck.h"
#include "flexwatch/server/options.h"
#include "flexwatch/server/selfcheck_api.h"
#include "flexwatch/state/store.h"

namespace flexwatch {

struct Config {
  std::string path;  // where it was read from
  ReplayOptions ingest;
  StoreOptions store;
  KafkaOptions kafka;
  std::optional<RuleSet> rules;  // absent when the file has no `rules` section
  EvidenceOptions evidence;
  DetectorConfig detectors;  // present == false: no early warnings
  PublishOptions publish;
  MetricsOptions metrics;
  AlertmanagerOptions alertmanager;
  SelfcheckApiOptions selfcheck_api;
  PlatformRegistry platforms;  // `platforms`: the enterprises' registered names and codes
  Issuer issuer;               // `issuer`: who issues the announcements
  // The rules, or an error naming the file when it has none.
  Result<const RuleSet*> Rules() const;
};

Result<Config> LoadConfig(const std::string& path);
// The copy of config/flexwatch.yaml compiled into the binary.
Result<Config> ShippedConfig();
// Parses YAML text; `name` is used in error messages.
Result<Config> ParseConfig(const std::string& text, const std::string& name);

// What `selfcheck` judges with, and what the self-check service serves with; an error naming the
// file when it has no rules.
Result<SelfcheckSetup> SelfcheckSetupOf(const Config& config);
Result<SelfcheckService> SelfcheckServiceOf(const Config& config);
// What the monitor runs with (`run` and the demo), before their flags; `version` is the build's.
MonitorOptions MonitorOptionsOf(const Config& config, const std::string& version);

}  // namespace flexwatch
