#include "flexwatch/server/http_server.h"

#include <httplib.h>

#include <thread>

#include "listen.h"

namespace flexwatch {

std::string Readiness::Why() const {
  std::string why;
  auto add = [&why](const char* s) { why += (why.empty() ? "" : "; ") + std::string(s); };
  if (!state_open.load()) add("the state is not open");
  if (!assigned.load()) add("no partition is assigned to the consumer");
  if (!brokers_answer.load()) add("the brokers do not answer");
  if (failed.load()) add("the monitor has failed and is stopping");
  return why;
}

struct MonitorServer::Impl {
  httplib::Server server;
  std::thread thread;
  ~Impl() {
    server.stop();
    if (thread.joinable()) thread.join();
  }
};

Result<std::unique_ptr<MonitorServer>> MonitorServer::Start(const std::string& listen,
                                                            std::function<std::string()> scrape,
                                                            const Readiness* readiness) {
  std::unique_ptr<MonitorServer> s(new MonitorServer());
  s->impl_ = std::make_unique<Impl>();
  httplib::Server& server = s->impl_->server;
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  server.set_payload_max_length(64 * 1024);
  server.Get("/metrics", [scrape](const httplib::Request&, httplib::Response& res) {
    res.set_content(scrape(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  server.Get("/readyz", [readiness](const httplib::Request&, httplib::Response& res) {
    const std::string why = readiness->Why();
    const std::string embedded =
        readiness->embedded_broker.empty()
            ? ""
            : " (on the EMBEDDED broker at " + readiness->embedded_broker +
                  ", inside this process: it receives only what is produced to that address; "
                  "set kafka.brokers or --brokers for a real cluster)";
    if (why.empty()) {
      res.set_content("ready" + embedded + "\n", "text/plain; charset=utf-8");
    } else {
      res.status = 503;
      res.set_content("not ready: " + why + embedded + "\n", "text/plain; charset=utf-8");
    }
  });
  auto address = ServeOn(server, listen, "metrics listen address", s->impl_->thread);
  if (!address.ok()) return address.status();
  s->address_ = *address;
  return s;
}

MonitorServer::~MonitorServer() = default;

}  // namespace flexwatch
