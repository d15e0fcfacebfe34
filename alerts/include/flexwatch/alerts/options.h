// What the alerting path reads from flexwatch.yaml (section `alertmanager`).
#pragma once

#include <string>

namespace flexwatch {

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

}  // namespace flexwatch
