// Shared by the server's HTTP endpoints: a listen address bound and served.
#pragma once

#include <httplib.h>

#include <string>
#include <thread>

#include "flexwatch/core/status.h"

namespace flexwatch {

// Binds `server` to `listen` ("host:port", "[v6]:port"; port 0 picks a free one) with
// SO_REUSEADDR only (httplib's default SO_REUSEPORT would let a second process bind the same port
// and take half of the requests), starts its loop on `thread` and returns once it runs, with the
// address bound. `what` names the setting in errors.
Result<std::string> ServeOn(httplib::Server& server, const std::string& listen,
                            const std::string& what, std::thread& thread);

}  // namespace flexwatch
