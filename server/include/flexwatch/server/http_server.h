// The monitor's HTTP endpoint (cpp-httplib, on its own threads): /metrics (Prometheus text
// format), /healthz (the process answers) and /readyz (the state is open, partitions are
// assigned, the brokers answer and nothing has failed; 503 with the reason otherwise).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "flexwatch/core/status.h"

namespace flexwatch {

// What /readyz reports; set by the monitor from any thread.
struct Readiness {
  std::atomic<bool> state_open{false};
  std::atomic<bool> assigned{false};
  std::atomic<bool> brokers_answer{true};
  std::atomic<bool> failed{false};
  // The embedded broker's address when the monitor runs on it (set before serving): /readyz
  // says so, since nothing produced to a real cluster reaches it.
  std::string embedded_broker;
  // Empty when ready, else why not.
  std::string Why() const;
};

class MonitorServer {
 public:
  // Serves on `listen` ("host:port"; port 0 picks a free one): /metrics answers `scrape()`
  // (Prometheus' text format), /readyz what `readiness` says. `readiness` must outlive the
  // server; `scrape` is called on the server's thread.
  static Result<std::unique_ptr<MonitorServer>> Start(const std::string& listen,
                                                      std::function<std::string()> scrape,
                                                      const Readiness* readiness);
  ~MonitorServer();  // stops serving
  // The address served, "host:port", with the port actually bound.
  const std::string& address() const { return address_; }

 private:
  MonitorServer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string address_;
};

}  // namespace flexwatch
