// What the servers read from flexwatch.yaml (sections `metrics` and `selfcheck_api`).
#pragma once

#include <cstddef>
#include <string>

namespace flexwatch {

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

}  // namespace flexwatch
