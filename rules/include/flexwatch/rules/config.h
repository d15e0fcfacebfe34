// flexwatch.yaml: the one place where configuration is read and validated. Every key is checked;
// an error names the file, the key and the problem.
#pragma once

#include <optional>
#include <string>

#include "flexwatch/core/status.h"
#include "flexwatch/ingest/kafka.h"
#include "flexwatch/ingest/replay.h"
#include "flexwatch/rules/detector_config.h"
#include "flexwatch/rules/rule_set.h"
#include "flexwatch/state/store.h"

namespace flexwatch {

struct EvidenceOptions {
  // File holding the key of worker pseudonyms (HMAC-SHA256), relative to the config file's
  // folder unless absolute. The environment variable FLEXWATCH_PSEUDONYM_KEY, when set, wins.
  std::string pseudonym_key_file;
};

// What `run` publishes when a month becomes final (and the annual announcement when December
// does), and where.
struct PublishOptions {
  std::string dir;  // empty: `run` publishes nothing
  std::vector<std::string> formats = {"json", "md", "html", "csv"};
  std::vector<std::string> langs = {"zh", "en"};
  std::string topic = "flexwatch.announcements";  // a notice per publication
};

struct Config {
  std::string path;  // where it was read from
  ReplayOptions ingest;
  StoreOptions store;
  KafkaOptions kafka;
  std::optional<RuleSet> rules;  // absent when the file has no `rules` section
  EvidenceOptions evidence;
  DetectorConfig detectors;  // present == false: no early warnings
  PublishOptions publish;
  // The rules, or an error naming the file when it has none.
  Result<const RuleSet*> Rules() const;
};

Result<Config> LoadConfig(const std::string& path);
// The copy of config/flexwatch.yaml compiled into the binary.
Result<Config> ShippedConfig();
// Parses YAML text; `name` is used in error messages.
Result<Config> ParseConfig(const std::string& text, const std::string& name);

}  // namespace flexwatch
