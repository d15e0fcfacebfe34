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

// The monitor's Prometheus metrics, /healthz and /readyz (`run --metrics-listen` overrides
// `listen`).
struct MetricsOptions {
  std::string listen;  // host:port; empty: not served
  // Platforms given per-platform series (label `platform`). Platform ids come from the data, so
  // their number is capped: the rest are left out and counted
  // (flexwatch_metrics_platforms_dropped). 1,000 platforms x 3 dimensions x 9 gauges is 27,000
  // series, comfortable for one Prometheus.
  int max_platforms = 1000;
};

// Alerts posted to Alertmanager's v2 API too (routing, grouping, silences and inhibition are
// Alertmanager's): every platform-dimension level other than green of the open months and the
// last final one, and their early warnings, re-sent while they hold and resolved when they stop.
struct AlertmanagerOptions {
  std::string url;  // e.g. http://127.0.0.1:9093; empty: not used
  // Active alerts are re-sent this often; each says it ends after 4 of these unless re-sent, so
  // that alerts of a monitor that died resolve (as Prometheus does).
  int resend_seconds = 60;
  int timeout_ms = 5000;  // per request; a slow Alertmanager never holds up the consumer
};

// The platforms' self-check service (`flexwatch selfcheck-api`): its own listen address, apart
// from the monitor's; it never opens the regulator's state.
struct SelfcheckApiOptions {
  std::string listen = "127.0.0.1:9480";
  // Token hashes (`flexwatch token add|revoke`) and the reports kept for GET, relative to the
  // directory `selfcheck-api` starts in unless absolute.
  std::string tokens_file = "selfcheck-tokens.tsv";
  std::string reports_dir = "selfcheck-reports";
  // A larger feed is refused (413) before it is read, or once decompressed past it.
  size_t max_body_bytes = 64u << 20;
  // A request's header must have arrived whole this long after the connection (or the answer
  // before it) was ready for it, and answers are written within it.
  int read_timeout_seconds = 30;
  // The whole request, header and body, must have arrived this long after it started: a slow
  // client never holds a self-check slot longer (408).
  int request_timeout_seconds = 300;
  // Connections served at once, in total and from one client address; one more is answered 503
  // and closed unread. Connections cost a socket and a small buffer, never a thread.
  int max_connections = 256;
  int max_connections_per_client = 16;
  int max_concurrent = 4;        // self-checks at once; beyond: 503 with Retry-After
  int requests_per_minute = 30;  // per token; beyond: 429 with Retry-After
  // TLS served directly when both are set (PEM files); else plain HTTP, for a reverse proxy.
  std::string tls_cert_file, tls_key_file;
  // Test feeds over Kafka (when `selfcheck-api` has brokers): a platform produces its feed to
  // `<test_topic_prefix><platform>`; the feed ends with a message whose header
  // `flexwatch.selfcheck` is `end`, or after `test_idle_seconds` without a message; its report
  // goes to `<results_topic_prefix><platform>` and is kept for GET like an uploaded one.
  std::string test_topic_prefix = "flexwatch.test.";
  std::string results_topic_prefix = "flexwatch.test-results.";
  int test_idle_seconds = 10;
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
  MetricsOptions metrics;
  AlertmanagerOptions alertmanager;
  SelfcheckApiOptions selfcheck_api;
  // The rules, or an error naming the file when it has none.
  Result<const RuleSet*> Rules() const;
};

Result<Config> LoadConfig(const std::string& path);
// The copy of config/flexwatch.yaml compiled into the binary.
Result<Config> ShippedConfig();
// Parses YAML text; `name` is used in error messages.
Result<Config> ParseConfig(const std::string& text, const std::string& name);

}  // namespace flexwatch
