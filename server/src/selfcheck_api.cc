#include "flexwatch/server/selfcheck_api.h"

#include <httplib.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "flexwatch/announce/evidence.h"
#include "flexwatch/announce/selfcheck.h"
#include "flexwatch/core/json.h"
#include "flexwatch/server/tokens.h"
#include "listen.h"
#include "selfcheck_openapi.h"

namespace flexwatch {
namespace fs = std::filesystem;

std::string_view SelfcheckOpenApi() { return kSelfcheckOpenApi; }

namespace {

using Clock = std::chrono::steady_clock;

void Error(httplib::Response& res, int status, const std::string& code,
           const std::string& message) {
  res.status = status;
  res.set_header("X-Flexwatch-Error", code);
  res.set_content(
      "{\"code\": " + JsonString(code) + ", \"message\": " + JsonString(message) + "}\n",
      "application/json");
}

// The stable code of a status httplib answers by itself.
std::string CodeOf(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 408:
      return "request_timeout";
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    default:
      return status >= 500 ? "internal_error" : "error";
  }
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// Per-token token bucket: `per_minute` requests a minute, bursts of as many.
class RateLimiter {
 public:
  explicit RateLimiter(int per_minute) : per_minute_(per_minute) {}
  // 0 when allowed; else the seconds to wait.
  int Take(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = Clock::now();
    auto [it, fresh] = buckets_.try_emplace(key, Bucket{static_cast<double>(per_minute_), now});
    Bucket& b = it->second;
    b.tokens =
        std::min<double>(per_minute_, b.tokens + std::chrono::duration<double>(now - b.at).count() *
                                                     per_minute_ / 60);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) * 60 / per_minute_)));
  }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point at;
  };
  const int per_minute_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

thread_local Clock::time_point t_started;
thread_local std::string t_platform;

}  // namespace

Result<KeptReport> CheckAndKeep(const Config& config, const std::string& platform,
                                const std::string& feed) {
  // The feed spooled to a private temporary file, judged as the platform's.
  std::error_code ec;
  const fs::path spool = fs::temp_directory_path() / ("flexwatch-upload-" + RandomHex(16));
  fs::create_directories(spool, ec);
  fs::permissions(spool, fs::perms::owner_all, ec);
  const fs::path file = spool / "upload.ndjson";
  Status written = WriteFileAtomically(file.string(), feed);
  Result<SelfcheckReport> report = Status::OK();
  if (written.ok()) {
    SelfcheckOptions o;
    o.platform = platform;
    o.names = {"upload"};
    o.temp_parent = spool.string();
    report = RunSelfcheck(config, {file.string()}, o);
  }
  fs::remove_all(spool, ec);
  if (!written.ok()) return Status::IOError("the self-check could not run: " + written.message());
  if (!report.ok())
    return Status::IOError("the self-check could not run: " + report.status().message());
  KeptReport kept{RandomHex(16), std::move(*report)};
  const fs::path dir = fs::path(config.selfcheck_api.reports_dir) / platform;
  fs::create_directories(dir, ec);
  if (Status s = WriteFileAtomically((dir / (kept.id + ".json")).string(), kept.report.json);
      !s.ok())
    return Status::IOError("the report could not be kept: " + s.message());
  return kept;
}

struct SelfcheckApi::Impl {
  const Config& config;
  const SelfcheckApiOptions& options;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  std::mutex tokens_mu;
  TokenStore tokens;
  struct timespec tokens_mtime {};
  off_t tokens_size = -1;
  RateLimiter limiter;
  std::atomic<int> running{0};

  Impl(const Config& c)
      : config(c), options(c.selfcheck_api), limiter(c.selfcheck_api.requests_per_minute) {}
  ~Impl() {
    if (server) server->stop();
    if (thread.joinable()) thread.join();
  }

  // The platform of the request's bearer token (the file is read again when it changes, so a
  // revocation takes effect at the next request), else a 401.
  std::optional<std::string> Authenticate(const httplib::Request& req, httplib::Response& res,
                                          std::string& token_key) {
    const std::string auth = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() <= kBearer.size() || auth.compare(0, kBearer.size(), kBearer) != 0) {
      res.set_header("WWW-Authenticate", "Bearer");
      Error(res, 401, "unauthorized", "an Authorization: Bearer <token> header is required");
      return std::nullopt;
    }
    const std::string token = auth.substr(kBearer.size());
    std::optional<std::string> platform;
    {
      std::lock_guard<std::mutex> lock(tokens_mu);
      struct stat st {};
      const bool exists = stat(options.tokens_file.c_str(), &st) == 0;
      const off_t size = exists ? st.st_size : -1;
      if (size != tokens_size || st.st_mtim.tv_sec != tokens_mtime.tv_sec ||
          st.st_mtim.tv_nsec != tokens_mtime.tv_nsec) {
        auto loaded = TokenStore::Load(options.tokens_file);
        tokens = loaded.ok() ? std::move(*loaded) : TokenStore();  // unreadable: nobody gets in
        tokens_size = size;
        tokens_mtime = st.st_mtim;
      }
      platform = tokens.Verify(token);
    }
    if (!platform) {
      res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      Error(res, 401, "unauthorized", "the token is not valid (unknown or revoked)");
      return std::nullopt;
    }
    token_key = token;
    t_platform = *platform;
    return platform;
  }
  bool Limited(const std::string& token_key, httplib::Response& res) {
    if (int wait = limiter.Take(token_key); wait > 0) {
      res.set_header("Retry-After", std::to_string(wait));
      Error(res, 429, "rate_limited",
            "more than " + std::to_string(options.requests_per_minute) +
                " requests a minute with this token; retry after " + std::to_string(wait) + " s");
      return true;
    }
    return false;
  }

  void Post(const httplib::Request& req, httplib::Response& res) {
    std::string key;
    auto platform = Authenticate(req, res, key);
    if (!platform || Limited(key, res)) return;
    if (req.body.empty()) {
      Error(res, 400, "empty_feed", "the body must be the feed: NDJSON, one event per line");
      return;
    }
    if (running.fetch_add(1) >= options.max_concurrent) {
      running.fetch_sub(1);
      res.set_header("Retry-After", "5");
      Error(res, 503, "busy",
            std::to_string(options.max_concurrent) + " self-checks are running; retry later");
      return;
    }
    struct Release {
      std::atomic<int>& n;
      ~Release() { n.fetch_sub(1); }
    } release{running};
    auto kept = CheckAndKeep(config, *platform, req.body);
    if (!kept.ok()) {
      Error(res, 500, "internal_error", kept.status().message());
      return;
    }
    const std::string& id = kept->id;
    const SelfcheckReport* report = &kept->report;
    res.set_header("Location", "/api/v1/selfcheck/" + id);
    res.set_header("X-Flexwatch-Report-Id", id);
    res.set_header("X-Flexwatch-Passed", report->passed ? "true" : "false");
    res.set_content(report->json, "application/json");
  }

  void Get(const httplib::Request& req, httplib::Response& res) {
    std::string key;
    auto platform = Authenticate(req, res, key);
    if (!platform || Limited(key, res)) return;
    const std::string id = req.matches[1];
    const std::string path = (fs::path(options.reports_dir) / *platform / (id + ".json")).string();
    std::ifstream in(path, std::ios::binary);
    if (id.size() != 32 || !in) {  // another platform's id is as unknown as a made-up one
      Error(res, 404, "not_found", "no report " + id + " of platform " + *platform);
      return;
    }
    std::string body((std::istreambuf_iterator<char>(in)), {});
    res.set_content(body, "application/json");
  }
};

Result<std::unique_ptr<SelfcheckApi>> SelfcheckApi::Start(
    const Config& config, std::function<void(const std::string&)> log) {
  const SelfcheckApiOptions& o = config.selfcheck_api;
  if (!config.rules) return Status::InvalidArgument(config.path + ": has no `rules` section");
  std::unique_ptr<SelfcheckApi> api(new SelfcheckApi());
  api->impl_ = std::make_unique<Impl>(config);
  Impl* impl = api->impl_.get();
  if (!o.tls_cert_file.empty()) {
    auto tls =
        std::make_unique<httplib::SSLServer>(o.tls_cert_file.c_str(), o.tls_key_file.c_str());
    if (!tls->is_valid())
      return Status::InvalidArgument("selfcheck_api: cannot use the TLS certificate " +
                                     o.tls_cert_file + " and key " + o.tls_key_file);
    impl->server = std::move(tls);
    api->tls_ = true;
  } else {
    impl->server = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *impl->server;
  server.set_payload_max_length(o.max_body_bytes);
  server.set_read_timeout(o.read_timeout_seconds, 0);
  server.set_write_timeout(o.read_timeout_seconds, 0);
  server.set_keep_alive_timeout(5);
  server.new_task_queue = [&o] {
    return new httplib::ThreadPool(static_cast<size_t>(std::max(8, o.max_concurrent * 2)));
  };
  server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    t_started = Clock::now();
    t_platform.clear();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.Post("/api/v1/selfcheck", [impl](const httplib::Request& req, httplib::Response& res) {
    impl->Post(req, res);
  });
  server.Get(R"(/api/v1/selfcheck/([0-9a-f]{1,64}))",
             [impl](const httplib::Request& req, httplib::Response& res) { impl->Get(req, res); });
  server.Get("/api/v1/openapi.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(kSelfcheckOpenApi), "application/json");
  });
  server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    // httplib parses a form-encoded body itself, and refuses one over 8 KB before any handler.
    if (res.status == 413 &&
        req.get_header_value("Content-Type").starts_with("application/x-www-form-urlencoded")) {
      Error(res, 415, "unsupported_media_type",
            "send the feed as Content-Type: application/x-ndjson (curl: -H 'Content-Type: "
            "application/x-ndjson' --data-binary @feed.ndjson)");
      return;
    }
    if (res.body.empty())
      Error(res, res.status, CodeOf(res.status),
            res.status == 413   ? "the feed is larger than selfcheck_api.max_body_mb"
            : res.status == 404 ? "no such resource; the API is described at /api/v1/openapi.json"
            : res.status == 400
                ? "the request could not be read: malformed, or a header line over 8 KB"
                : "HTTP " + std::to_string(res.status));
  });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        Error(res, 500, "internal_error", "unexpected error");
      });
  if (log)
    server.set_logger([log](const httplib::Request& req, const httplib::Response& res) {
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t_started).count();
      char line[512];
      std::snprintf(
          line, sizeof line, "%s %s platform=%s bytes=%zu status=%d code=%s duration_ms=%.1f",
          req.method.c_str(), req.path.substr(0, 100).c_str(),
          t_platform.empty() ? "-" : t_platform.c_str(), req.body.size(), res.status,
          res.has_header("X-Flexwatch-Error") ? res.get_header_value("X-Flexwatch-Error").c_str()
                                              : "-",
          ms);
      log(line);
    });
  auto address = ServeOn(server, o.listen, "selfcheck_api.listen", impl->thread);
  if (!address.ok()) return address.status();
  api->address_ = *address;
  return api;
}

SelfcheckApi::~SelfcheckApi() = default;

}  // namespace flexwatch
