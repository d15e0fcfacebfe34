#include "listen.h"

#include <sys/socket.h>

#include <chrono>

namespace flexwatch {

Result<std::string> ServeOn(httplib::Server& server, const std::string& listen,
                            const std::string& what, std::thread& thread) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size())
    return Status::InvalidArgument(what + " '" + listen + "': expected host:port");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || port < 0 || port > 65535) throw std::out_of_range("");
  } catch (const std::exception&) {
    return Status::InvalidArgument(what + " '" + listen + "': bad port");
  }
  server.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  if (port == 0) {
    port = server.bind_to_any_port(host);
    if (port < 0) return Status::IOError(what + ": cannot listen on " + listen);
  } else if (!server.bind_to_port(host, port)) {
    return Status::IOError(what + ": cannot listen on " + listen +
                           " (address in use, or not this machine's)");
  }
  thread = std::thread([&server]() { server.listen_after_bind(); });
  // A stop() before the loop runs would be missed: the loop must be running first.
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

}  // namespace flexwatch
