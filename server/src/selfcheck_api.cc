#include "flexwatch/server/selfcheck_api.h"

#include <openssl/rand.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <zlib.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

#include "flexwatch/core/file.h"
#include "flexwatch/core/ids.h"
#include "flexwatch/core/json.h"
#include "flexwatch/selfcheck/selfcheck.h"
#include "flexwatch/server/tokens.h"
#include "selfcheck_openapi.h"

// The HTTP server is Boost.Beast on Boost.Asio, asynchronous, one coroutine per connection: a
// slow or idle client holds a socket and a small buffer, never a thread, so it cannot starve
// the others (cpp-httplib 0.11, used before, gave each connection a thread of a pool of 8 and
// timed out each read on its own, so a client sending a header line every few seconds held a
// thread for good). What Beast gives and the API uses: a header read alone (the token is
// checked before any byte of the body is read), parser limits on the header and the body,
// deadlines on the stream that span a whole request, and TLS on the same code.

namespace flexwatch {
namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string_view SelfcheckOpenApi() { return kSelfcheckOpenApi; }

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
// A header of more than this many bytes is refused: 414 when its request line alone is longer
// than kMaxTarget, else 400.
constexpr size_t kHeaderLimit = 16 * 1024;
constexpr size_t kMaxTarget = 8 * 1024;
// A kept-alive connection with no new request is closed after this long.
constexpr auto kKeepAliveIdle = std::chrono::seconds(5);

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

// The request line and headers, escaped for a log line: bytes outside printable ASCII as \xNN,
// so that no client can forge or break a line of the log.
std::string Printable(std::string_view v, size_t max) {
  std::string out;
  for (unsigned char c : v.substr(0, max)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
    }
  }
  if (v.size() > max) out += "...";
  return out;
}

// A body in a Content-Encoding zlib reads (gzip or deflate), inflated into at most `limit`
// bytes. Returns false with `why` set when it is larger, or not valid.
bool Inflate(const std::string& in, size_t limit, std::string& out, std::string& why) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) {  // 32: a gzip or a zlib header, told apart
    why = "cannot start decompressing";
    return false;
  }
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  out.clear();
  char chunk[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      why = "the compressed body is not valid";
      return false;
    }
    const size_t produced = sizeof chunk - z.avail_out;
    if (out.size() + produced > limit) {
      inflateEnd(&z);
      why = "larger than the limit once decompressed";
      return false;
    }
    out.append(chunk, produced);
    if (rc == Z_OK && produced == 0 && z.avail_in == 0) {
      inflateEnd(&z);
      why = "the compressed body is cut short";
      return false;
    }
  }
  inflateEnd(&z);
  return true;
}

// One request as it is answered and logged.
struct Exchange {
  Clock::time_point started = Clock::now();
  std::string method = "-", target = "-", platform;
  size_t body_bytes = 0;
  http::response<http::string_body> res;
  std::string code;  // the error code of an error response
  bool close = false;
  bool unread_body = false;  // answered before its body was read

  void Reply(http::status status, std::string body, std::string_view type) {
    res.result(status);
    res.set(http::field::content_type, type);
    res.body() = std::move(body);
  }
  void Error(http::status status, std::string error_code, const std::string& message) {
    code = std::move(error_code);
    res.set("X-Flexwatch-Error", code);
    Reply(status, ErrorJson(code, message) + "\n", "application/json");
  }
};

// The value of `name` in a URL query ("a=1&lang=zh"), as written (the values read here need no
// decoding); nullopt when the query does not have it.
std::optional<std::string_view> QueryValue(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

Result<KeptReport> CheckAndKeep(const SelfcheckService& config, const std::string& platform,
                                const std::string& feed, Lang lang) {
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
    o.lang = lang;
    o.temp_parent = spool.string();
    report = RunSelfcheck(config.judging, {file.string()}, o);
  }
  fs::remove_all(spool, ec);
  if (!written.ok()) return Status::IOError("the self-check could not run: " + written.message());
  if (!report.ok())
    return Status::IOError("the self-check could not run: " + report.status().message());
  KeptReport kept{RandomHex(16), std::move(*report)};
  const fs::path dir = fs::path(config.api.reports_dir) / FileStem(platform);
  fs::create_directories(dir, ec);
  if (Status s = WriteFileAtomically((dir / (kept.id + ".json")).string(), kept.report.json);
      !s.ok())
    return Status::IOError("the report could not be kept: " + s.message());
  return kept;
}

struct SelfcheckApi::Impl {
  const SelfcheckService& config;
  const SelfcheckApiOptions& options;
  std::function<void(const std::string&)> log;
  RateLimiter limiter;
  std::atomic<int> running{0};

  std::mutex tokens_mu;
  TokenStore tokens;
  struct timespec tokens_mtime {};
  off_t tokens_size = -1;

  // Connections now, in total and per client address.
  std::mutex connections_mu;
  int connections = 0;
  std::map<asio::ip::address, int> per_client;

  // Declared last, destroyed first: the coroutines they hold end before the state above.
  std::optional<ssl::context> tls;
  asio::thread_pool judges;  // self-checks run here, never on a thread serving connections
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;

  explicit Impl(const SelfcheckService& c, std::function<void(const std::string&)> l)
      : config(c),
        options(c.api),
        log(std::move(l)),
        limiter(c.api.requests_per_minute),
        judges(static_cast<size_t>(c.api.max_concurrent)) {}
  ~Impl() {
    asio::post(io, [this] {
      boost::system::error_code ignored;
      acceptor.close(ignored);
    });
    io.stop();
    for (std::thread& t : threads) t.join();
    judges.join();
  }

  void Log(const std::string& line) {
    if (log) log(line);
  }

  // The platform of the request's bearer token (the file is read again when it changes, so that
  // a revocation takes effect at the next request), else a 401 in `x`.
  std::optional<std::string> Authenticate(const http::fields& h, Exchange& x, std::string& key) {
    const std::string_view auth(h[http::field::authorization]);
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() <= kBearer.size() || !auth.starts_with(kBearer)) {
      x.res.set(http::field::www_authenticate, "Bearer");
      x.Error(http::status::unauthorized, "unauthorized",
              "an Authorization: Bearer <token> header is required");
      return std::nullopt;
    }
    const std::string token(auth.substr(kBearer.size()));
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
        if (!loaded.ok()) Log("tokens: " + loaded.status().message());
        for (const std::string& problem : tokens.problems()) Log("tokens: " + problem);
        tokens_size = size;
        tokens_mtime = st.st_mtim;
      }
      platform = tokens.Verify(token);
    }
    if (!platform) {
      x.res.set(http::field::www_authenticate, "Bearer error=\"invalid_token\"");
      x.Error(http::status::unauthorized, "unauthorized",
              "the token is not valid (unknown or revoked)");
      return std::nullopt;
    }
    key = token;
    x.platform = *platform;
    return platform;
  }
  bool Limited(const std::string& key, Exchange& x) {
    if (int wait = limiter.Take(key); wait > 0) {
      x.res.set(http::field::retry_after, std::to_string(wait));
      x.Error(http::status::too_many_requests, "rate_limited",
              "more than " + std::to_string(options.requests_per_minute) +
                  " requests a minute with this token; retry after " + std::to_string(wait) + " s");
      return true;
    }
    return false;
  }

  void GetReport(const http::fields& h, std::string_view id, Exchange& x) {
    std::string key;
    auto platform = Authenticate(h, x, key);
    if (!platform || Limited(key, x)) return;
    bool hex = id.size() == 32;
    for (char c : id) hex &= (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    std::ifstream in;
    if (hex)
      in.open(fs::path(options.reports_dir) / FileStem(*platform) / (std::string(id) + ".json"),
              std::ios::binary);
    if (!hex || !in) {  // another platform's id is as unknown as a made-up one
      x.Error(http::status::not_found, "not_found",
              "no report " + Printable(id, 64) + " of platform " + *platform);
      return;
    }
    x.Reply(http::status::ok, std::string((std::istreambuf_iterator<char>(in)), {}),
            "application/json");
  }

  // One connection: requests read and answered in turn until the client closes, a deadline
  // passes or an answer closes it.
  template <typename Stream>
  asio::awaitable<void> Serve(Stream& stream) {
    auto& socket = beast::get_lowest_layer(stream);
    beast::flat_buffer buffer;
    for (bool first = true;; first = false) {
      // Waiting for a request: the first within read_timeout_seconds, a next one on a kept-alive
      // connection within a few seconds; its header must be whole by then.
      socket.expires_after(first ? std::chrono::seconds(options.read_timeout_seconds)
                                 : kKeepAliveIdle);
      http::request_parser<http::empty_body> head;
      head.header_limit(kHeaderLimit);
      // The body's size is judged after the token (Post), not by the header's parser.
      head.body_limit(boost::none);
      auto [ec, n] = co_await http::async_read_header(stream, buffer, head, kUse);
      if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
          ec == asio::error::connection_reset || ec == asio::error::eof ||
          ec == ssl::error::stream_truncated || (ec && buffer.size() == 0))
        co_return;  // gone, or idle: nothing to answer
      Exchange x;
      if (ec) {
        // The request line alone past the limit (the parser never got to its end: no target)
        // is a URI too long; anything else malformed.
        if (ec == http::error::header_limit && head.get().target().empty())
          x.Error(http::status::uri_too_long, "uri_too_long",
                  "the request line is longer than " + std::to_string(kMaxTarget) + " bytes");
        else
          x.Error(
              http::status::bad_request, "bad_request",
              ec == http::error::header_limit
                  ? "the request's header is larger than " + std::to_string(kHeaderLimit) + " bytes"
                  : "the request could not be read: " + ec.message());
        x.close = true;
        co_await Answer(stream, x);
        co_return;
      }
      co_await Handle(stream, buffer, head, x);
      co_await Answer(stream, x);
      if (x.unread_body) co_await Linger(stream);
      if (x.close) co_return;
    }
  }

  template <typename Stream>
  asio::awaitable<void> Handle(Stream& stream, beast::flat_buffer& buffer,
                               http::request_parser<http::empty_body>& head, Exchange& x) {
    const auto& req = head.get();
    x.method = std::string(req.method_string());
    x.target = std::string(req.target());
    x.res.version(req.version());
    // A body this handler does not read would be taken for the next request: such a
    // connection is closed after the answer.
    x.unread_body = !head.is_done();
    x.close = !req.keep_alive() || x.unread_body;
    if (req.target().size() > kMaxTarget) {
      x.Error(http::status::uri_too_long, "uri_too_long",
              "the request line is longer than " + std::to_string(kMaxTarget) + " bytes");
      co_return;
    }
    // The resource, and its query (only the upload reads one: lang).
    const std::string_view target = req.target().substr(0, req.target().find('?'));
    const std::string_view query =
        req.target().size() > target.size() ? req.target().substr(target.size() + 1) : "";
    constexpr std::string_view kReports = "/api/v1/selfcheck/";
    if (target == "/api/v1/openapi.json" && req.method() == http::verb::get) {
      x.Reply(http::status::ok, std::string(kSelfcheckOpenApi), "application/json");
    } else if (target.starts_with(kReports) && req.method() == http::verb::get) {
      GetReport(req, target.substr(kReports.size()), x);
    } else if (target == "/api/v1/selfcheck" && req.method() == http::verb::post) {
      co_await Post(stream, buffer, head, x, query);
    } else if (target == "/api/v1/selfcheck" || target == "/api/v1/openapi.json" ||
               target.starts_with(kReports)) {
      x.res.set(http::field::allow, target == "/api/v1/selfcheck" ? "POST" : "GET");  // RFC 9110
      x.Error(http::status::method_not_allowed, "method_not_allowed",
              std::string(req.method_string()) + " is not served here");
    } else {
      x.Error(http::status::not_found, "not_found",
              "no such resource; the API is described at /api/v1/openapi.json");
    }
  }

  template <typename Stream>
  asio::awaitable<void> Post(Stream& stream, beast::flat_buffer& buffer,
                             http::request_parser<http::empty_body>& head, Exchange& x,
                             std::string_view query) {
    const auto& req = head.get();
    Lang lang = Lang::kEn;
    if (std::optional<std::string_view> asked = QueryValue(query, "lang")) {
      const std::optional<Lang> l = LangFromName(*asked);
      if (!l) {
        x.Error(http::status::bad_request, "bad_request",
                "lang=" + std::string(asked->substr(0, 16)) + ": give en or zh");
        co_return;
      }
      lang = *l;
    }
    // Everything that can refuse the request is decided from the header, before any byte of
    // the body is read: a client without a valid token never gets the body read or inflated.
    std::string key;
    auto platform = Authenticate(req, x, key);
    if (!platform || Limited(key, x)) co_return;
    const std::string_view type(req[http::field::content_type]);
    if (type.starts_with("application/x-www-form-urlencoded") ||
        type.starts_with("multipart/form-data")) {
      x.Error(http::status::unsupported_media_type, "unsupported_media_type",
              "send the feed as Content-Type: application/x-ndjson (curl: -H 'Content-Type: "
              "application/x-ndjson' --data-binary @feed.ndjson)");
      co_return;
    }
    std::string encoding(req[http::field::content_encoding]);
    for (char& c : encoding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool compressed = encoding == "gzip" || encoding == "x-gzip" || encoding == "deflate";
    if (!compressed && !encoding.empty() && encoding != "identity") {
      x.Error(http::status::unsupported_media_type, "unsupported_media_type",
              "Content-Encoding " + Printable(encoding, 32) +
                  " is not accepted (gzip, deflate or none)");
      co_return;
    }
    if (head.content_length() && *head.content_length() > options.max_body_bytes) {
      x.Error(http::status::payload_too_large, "payload_too_large",
              "the feed is larger than selfcheck_api.max_body_mb");
      co_return;
    }
    if (head.is_done()) {
      x.Error(http::status::bad_request, "empty_feed",
              "the body must be the feed: NDJSON, one event per line");
      co_return;
    }
    if (running.fetch_add(1) >= options.max_concurrent) {
      running.fetch_sub(1);
      x.res.set(http::field::retry_after, "5");
      x.Error(http::status::service_unavailable, "busy",
              std::to_string(options.max_concurrent) + " self-checks are running; retry later");
      co_return;
    }
    struct Release {
      std::atomic<int>& n;
      ~Release() { n.fetch_sub(1); }
    } release{running};
    auto& socket = beast::get_lowest_layer(stream);
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      http::response<http::empty_body> go_on{http::status::continue_, req.version()};
      socket.expires_after(std::chrono::seconds(options.read_timeout_seconds));
      if (auto [ec, n] = co_await http::async_write(stream, go_on, kUse); ec) {
        x.close = true;
        co_return;
      }
    }
    // The body, whole, within the request's deadline; never more than the limit on the wire
    // nor, once decompressed, in memory.
    x.unread_body = false;
    http::request_parser<http::string_body> body(std::move(head));
    body.body_limit(options.max_body_bytes);
    // Read in pieces: each within read_timeout_seconds (a client that stalls is cut off), all
    // of them within request_timeout_seconds of the request's start (so is one that trickles).
    const auto deadline = x.started + std::chrono::seconds(options.request_timeout_seconds);
    boost::system::error_code ec;
    while (!ec && !body.is_done()) {
      const auto left = deadline - Clock::now();
      if (left <= Clock::duration::zero()) {
        ec = beast::error::timeout;
        break;
      }
      socket.expires_after(
          std::min<Clock::duration>(left, std::chrono::seconds(options.read_timeout_seconds)));
      std::tie(ec, std::ignore) = co_await http::async_read_some(stream, buffer, body, kUse);
    }
    x.body_bytes = body.get().body().size();
    if (ec) {
      x.close = true;
      if (ec == http::error::body_limit)
        x.Error(http::status::payload_too_large, "payload_too_large",
                "the feed is larger than selfcheck_api.max_body_mb");
      else if (ec == beast::error::timeout)
        x.Error(http::status::request_timeout, "request_timeout",
                "the request was not whole within selfcheck_api.request_timeout_seconds (" +
                    std::to_string(options.request_timeout_seconds) + " s)");
      else
        x.Error(http::status::bad_request, "bad_request",
                "the body could not be read: " + ec.message());
      co_return;
    }
    x.close = !body.get().keep_alive();
    std::string feed = std::move(body.get().body());
    if (compressed) {
      std::string plain, why;
      if (!Inflate(feed, options.max_body_bytes, plain, why)) {
        const bool big = why.starts_with("larger");
        x.Error(big ? http::status::payload_too_large : http::status::bad_request,
                big ? "payload_too_large" : "bad_request",
                big ? "the feed is larger than selfcheck_api.max_body_mb once decompressed"
                    : "Content-Encoding " + encoding + ": " + why);
        co_return;
      }
      feed = std::move(plain);
    }
    if (feed.empty()) {
      x.Error(http::status::bad_request, "empty_feed",
              "the body must be the feed: NDJSON, one event per line");
      co_return;
    }
    // Judged on a thread of its own pool: the connections go on being served meanwhile. (A
    // coroutine of its own, its arguments copied into its frame: a coroutine lambda's captures
    // were freed twice by g++ 12 when moved into one inside the co_await.)
    auto task = Judge(*platform, std::move(feed), lang);
    std::optional<Result<KeptReport>> judged =
        co_await asio::co_spawn(judges, std::move(task), asio::use_awaitable);
    Result<KeptReport>& kept = *judged;
    if (!kept.ok()) {
      x.Error(http::status::internal_server_error, "internal_error", kept.status().message());
      co_return;
    }
    x.res.set(http::field::location, "/api/v1/selfcheck/" + kept->id);
    x.res.set("X-Flexwatch-Report-Id", kept->id);
    x.res.set("X-Flexwatch-Passed", kept->report.passed ? "true" : "false");
    x.Reply(http::status::ok, std::move(kept->report.json), "application/json");
  }

  // After an answer sent before the request's body was read (a 401, a 413...): what the client
  // goes on sending is read and dropped for a few seconds, so that it gets to read the answer
  // instead of a reset connection (as web servers' "lingering close" does). Bounded in time;
  // nothing of it is kept.
  template <typename Stream>
  asio::awaitable<void> Linger(Stream& stream) {
    auto& socket = beast::get_lowest_layer(stream);
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      boost::system::error_code ignored;
      socket.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    const auto until = Clock::now() + std::chrono::seconds(10);
    std::array<char, 16384> sink;
    while (Clock::now() < until) {
      socket.expires_after(
          std::min<Clock::duration>(std::chrono::seconds(2), until - Clock::now()));
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kUse);
      if (ec) co_return;
    }
  }

  // CheckAndKeep as a coroutine (an optional: what co_spawn hands back needs a default value).
  asio::awaitable<std::optional<Result<KeptReport>>> Judge(std::string platform, std::string feed,
                                                           Lang lang) {
    co_return CheckAndKeep(config, platform, feed, lang);
  }

  // Writes the answer (within the read timeout) and logs the exchange.
  template <typename Stream>
  asio::awaitable<void> Answer(Stream& stream, Exchange& x) {
    x.res.keep_alive(!x.close);
    x.res.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(
        std::chrono::seconds(options.read_timeout_seconds));
    auto [ec, n] = co_await http::async_write(stream, x.res, kUse);
    if (ec) x.close = true;
    char line[512];
    std::snprintf(line, sizeof line,
                  "%s %s platform=%s bytes=%zu status=%u code=%s duration_ms=%.1f",
                  Printable(x.method, 16).c_str(), Printable(x.target, 100).c_str(),
                  x.platform.empty() ? "-" : x.platform.c_str(), x.body_bytes, x.res.result_int(),
                  x.code.empty() ? "-" : x.code.c_str(),
                  std::chrono::duration<double, std::milli>(Clock::now() - x.started).count());
    Log(line);
  }

  asio::awaitable<void> Connection(tcp::socket socket, asio::ip::address client) {
    struct Count {
      Impl& impl;
      asio::ip::address client;
      ~Count() {
        std::lock_guard<std::mutex> lock(impl.connections_mu);
        --impl.connections;
        if (--impl.per_client[client] == 0) impl.per_client.erase(client);
      }
    } count{*this, client};
    beast::tcp_stream plain(std::move(socket));
    if (!tls) {
      co_await Serve(plain);
      boost::system::error_code ignored;
      plain.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> secure(std::move(plain), *tls);
    beast::get_lowest_layer(secure).expires_after(
        std::chrono::seconds(options.read_timeout_seconds));
    if (auto [ec] = co_await secure.async_handshake(ssl::stream_base::server, kUse); ec) co_return;
    co_await Serve(secure);
    beast::get_lowest_layer(secure).expires_after(std::chrono::seconds(2));
    co_await secure.async_shutdown(kUse);
  }

  // Accepts connections while the total and each client address are under their limits; one
  // over a limit gets a short 503 and is closed at once, without a read.
  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(io), kUse);
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) continue;  // a client gone before it was accepted, or out of descriptors
      boost::system::error_code ignored;
      const asio::ip::address client = socket.remote_endpoint(ignored).address();
      bool over = false;
      {
        std::lock_guard<std::mutex> lock(connections_mu);
        over = connections >= options.max_connections ||
               per_client[client] >= options.max_connections_per_client;
        if (!over) {
          ++connections;
          ++per_client[client];
        } else if (per_client[client] == 0) {
          per_client.erase(client);
        }
      }
      if (over) {
        static const std::string kBusy = [] {
          const std::string body = ErrorJson("busy", "too many connections; retry later") + "\n";
          return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                 "X-Flexwatch-Error: busy\r\nRetry-After: 5\r\nConnection: close\r\n"
                 "Content-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body;
        }();
        ::send(socket.native_handle(), kBusy.data(), kBusy.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        socket.close(ignored);
        Log("connection from " + client.to_string() +
            " refused: too many connections (selfcheck_api.max_connections, "
            "max_connections_per_client)");
        continue;
      }
      auto executor = socket.get_executor();
      asio::co_spawn(executor, Connection(std::move(socket), client), asio::detached);
    }
  }
};

Result<std::unique_ptr<SelfcheckApi>> SelfcheckApi::Start(
    const SelfcheckService& config, std::function<void(const std::string&)> log) {
  const SelfcheckApiOptions& o = config.api;
  std::unique_ptr<SelfcheckApi> api(new SelfcheckApi());
  api->impl_ = std::make_unique<Impl>(config, std::move(log));
  Impl* impl = api->impl_.get();
  if (!o.tls_cert_file.empty()) {
    impl->tls.emplace(ssl::context::tls_server);
    boost::system::error_code ec;
    impl->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                               ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                               ssl::context::no_tlsv1_1,
                           ec);
    if (!ec) impl->tls->use_certificate_chain_file(o.tls_cert_file, ec);
    if (!ec) impl->tls->use_private_key_file(o.tls_key_file, ssl::context::pem, ec);
    if (ec)
      return Status::InvalidArgument("selfcheck_api: cannot use the TLS certificate " +
                                     o.tls_cert_file + " and key " + o.tls_key_file + ": " +
                                     ec.message());
    api->tls_ = true;
  }
  // host:port, [v6]:port; port 0 picks a free one.
  const size_t colon = o.listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == o.listen.size())
    return Status::InvalidArgument("selfcheck_api.listen '" + o.listen + "': expected host:port");
  std::string host = o.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port_text = o.listen.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port_text) > 65535)
    return Status::InvalidArgument("selfcheck_api.listen '" + o.listen + "': bad port");
  boost::system::error_code ec;
  tcp::resolver resolver(impl->io);
  auto endpoints = resolver.resolve(host, port_text, tcp::resolver::passive, ec);
  if (ec || endpoints.empty())
    return Status::InvalidArgument("selfcheck_api.listen '" + o.listen + "': " + ec.message());
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  // SO_REUSEADDR only: SO_REUSEPORT would let a second process take half of the requests.
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status::IOError("selfcheck_api.listen: cannot listen on " + o.listen + " (" +
                           ec.message() + ")");
  const tcp::endpoint bound = impl->acceptor.local_endpoint(ec);
  const std::string shown = bound.address().to_string();
  api->address_ =
      (bound.address().is_v6() ? "[" + shown + "]" : shown) + ":" + std::to_string(bound.port());
  asio::co_spawn(impl->io, impl->Accept(), asio::detached);
  for (int i = 0; i < 2; ++i) impl->threads.emplace_back([impl] { impl->io.run(); });
  return api;
}

SelfcheckApi::~SelfcheckApi() = default;

std::string ErrorJson(std::string_view code, std::string_view message) {
  JsonWriter w;
  return w.BeginObject().Key("code").String(code).Key("message").String(message).EndObject().Take();
}

}  // namespace flexwatch
