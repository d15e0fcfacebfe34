#include "flexwatch/server/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

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
                                                            const MonitorMetrics* metrics,
                                                            const Readiness* readiness) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size())
    return Status::InvalidArgument("metrics listen address '" + listen +
                                   "': expected host:port, e.g. 127.0.0.1:9464");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || port < 0 || port > 65535) throw std::out_of_range("");
  } catch (const std::exception&) {
    return Status::InvalidArgument("metrics listen address '" + listen + "': bad port");
  }
  std::unique_ptr<MonitorServer> s(new MonitorServer());
  s->impl_ = std::make_unique<Impl>();
  httplib::Server& server = s->impl_->server;
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  server.set_payload_max_length(64 * 1024);
  // SO_REUSEADDR only: httplib's default SO_REUSEPORT would let a second monitor bind the same
  // port and take half of the scrapes.
  server.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server.Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics->Scrape(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  server.Get("/readyz", [readiness](const httplib::Request&, httplib::Response& res) {
    const std::string why = readiness->Why();
    if (why.empty()) {
      res.set_content("ready\n", "text/plain; charset=utf-8");
    } else {
      res.status = 503;
      res.set_content("not ready: " + why + "\n", "text/plain; charset=utf-8");
    }
  });
  if (port == 0) {
    port = server.bind_to_any_port(host);
    if (port < 0) return Status::IOError("metrics: cannot listen on " + listen);
  } else if (!server.bind_to_port(host, port)) {
    return Status::IOError("metrics: cannot listen on " + listen +
                           " (address in use, or not this machine's)");
  }
  s->address_ =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  s->impl_->thread = std::thread([&server]() { server.listen_after_bind(); });
  // A stop() before the loop runs would be missed: the loop must be running first.
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return s;
}

MonitorServer::~MonitorServer() = default;

}  // namespace flexwatch
