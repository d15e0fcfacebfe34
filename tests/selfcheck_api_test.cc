// The self-check API through the real binary (`flexwatch selfcheck-api`) and a real HTTP client:
// each status it promises, isolation between platforms, and the regulator's state untouched.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <simdjson.h>
#include <zlib.h>

#include <chrono>
#include <future>
#include <thread>

#include "cli_helpers.h"
#include "kafka_helpers.h"

namespace flexwatch::testing {
namespace {

using namespace simdjson;

// A TCP connection to the server on loopback from `source` (127.0.0.0/8 is all this machine's),
// with a receive timeout: raw bytes, for what an HTTP client library would not send.
int Connect(int port, const char* source = "127.0.0.1", int recv_timeout_ms = 5000) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source, &from.sin_addr);
  if (bind(s, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
    close(s);
    return -1;
  }
  timeval tv{recv_timeout_ms / 1000, (recv_timeout_ms % 1000) * 1000};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    close(s);
    return -1;
  }
  return s;
}
bool SendAll(int s, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(s, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}
// What the server sends until it closes (or the receive timeout passes).
std::string ReceiveAll(int s) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = recv(s, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  return out;
}
// The peak resident memory of a process, in KiB (VmHWM).
long PeakRssKb(pid_t pid) {
  std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}
std::string Gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

class SelfcheckApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A client writing a body the server refused before reading gets EPIPE, as curl does.
    signal(SIGPIPE, SIG_IGN);
    tmp_ = std::make_unique<TempDir>("selfcheck-api");
    dir_ = tmp_->path();
    fs::create_directories(dir_);
    CommandResult g = Flexwatch(
        {"gen", "--workers", "60", "--platforms", "2", "--months", "1", "--seed", "8"}, dir_);
    ASSERT_EQ(g.exit_code, 0) << g.err;
    std::istringstream in(g.out);
    for (std::string l; std::getline(in, l);)
      (l.find("\"p-meal-1\"") != std::string::npos ? meal_ : ride_) += l + "\n";
    WriteFile(dir_ / "feed.ndjson", g.out);
    // The regulator's state, made from the same feed: self-checks must never touch it.
    ASSERT_EQ(
        Flexwatch({"replay", "--state", (dir_ / "state").string(), (dir_ / "feed.ndjson").string()},
                  dir_)
            .exit_code,
        0);
    meal_token_ = Token("p-meal-1");
    ride_token_ = Token("p-ride-2");
    port_ = Serve("api", 1000, 2, 4);
  }
  static void TearDownTestSuite() {
    for (pid_t p : servers_) {
      kill(p, SIGTERM);
      WaitAtMost(p, 20);
    }
    if (keep_) tmp_->keep();
    tmp_.reset();
  }
  static inline std::unique_ptr<TempDir> tmp_;
  void TearDown() override {
    if (HasFailure()) keep_ = true;
  }

  static std::string Token(const std::string& platform) {
    CommandResult r =
        Flexwatch({"token", "add", platform, "--file", (dir_ / "tokens.tsv").string()}, dir_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  // Starts a server with these limits; returns its port.
  static int Serve(const std::string& name, int per_minute, int body_mb, int concurrent,
                   const fs::path& tls = {}, const std::string& brokers = "") {
    auto quoted = [](const fs::path& p) { return "\"" + p.string() + "\""; };
    Overlay overlay = {{"selfcheck_api.listen", "127.0.0.1:0"},
                       {"selfcheck_api.tokens_file", quoted(dir_ / "tokens.tsv")},
                       {"selfcheck_api.reports_dir", quoted(dir_ / "reports")},
                       {"selfcheck_api.max_body_mb", std::to_string(body_mb)},
                       {"selfcheck_api.read_timeout_seconds", "2"},
                       {"selfcheck_api.max_concurrent", std::to_string(concurrent)},
                       {"selfcheck_api.requests_per_minute", std::to_string(per_minute)},
                       {"selfcheck_api.test_idle_seconds", "2"}};
    if (!tls.empty())
      overlay.insert(overlay.end(), {{"selfcheck_api.tls_cert_file", quoted(tls / "cert.pem")},
                                     {"selfcheck_api.tls_key_file", quoted(tls / "key.pem")}});
    WriteConfig(dir_ / (name + ".yaml"), overlay);
    std::vector<std::string> args = {"--config", (dir_ / (name + ".yaml")).string(),
                                     "selfcheck-api"};
    if (!brokers.empty()) args.insert(args.end(), {"--brokers", brokers});
    const pid_t p = Spawn(args, dir_, "/dev/null", name + "-");
    servers_.push_back(p);
    const std::string address = WaitForFirstLine(dir_ / (name + "-stdout"), 5);
    const std::string scheme = tls.empty() ? "http://127.0.0.1:" : "https://127.0.0.1:";
    EXPECT_EQ(address.substr(0, scheme.size()), scheme) << ReadFile(dir_ / (name + "-stderr"));
    return address.size() > scheme.size() ? std::stoi(address.substr(scheme.size())) : 0;
  }
  static httplib::Result Post(int port, const std::string& token, const std::string& body,
                              const std::string& path = "/api/v1/selfcheck") {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    return c.Post(path, h, body, "application/x-ndjson");
  }
  static httplib::Result Get(int port, const std::string& token, const std::string& path) {
    httplib::Client c("127.0.0.1", port);
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    return c.Get(path.c_str(), h);
  }
  // What `flexwatch selfcheck --platform p-meal-1 --format json EXTRA...` prints for `feed`, the
  // feed named "upload" as the API names an uploaded body.
  static std::string CliReportOfUpload(const std::string& feed,
                                       const std::vector<std::string>& extra = {}) {
    WriteFile(dir_ / "upload", feed);
    std::vector<std::string> args = {"selfcheck", "--platform", "p-meal-1", "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back((dir_ / "upload").string());
    std::string expected = Flexwatch(args, dir_).out;
    const std::string path = "\"" + (dir_ / "upload").string() + "\"";
    for (size_t at; (at = expected.find(path)) != std::string::npos;)
      expected.replace(at, path.size(), "\"upload\"");
    return expected;
  }
  static std::string Code(const httplib::Result& r) {
    dom::parser parser;
    dom::element doc;
    if (!r || parser.parse(r->body).get(doc)) return "";
    std::string_view code;
    return doc["code"].get(code) ? "" : std::string(code);
  }

  static inline fs::path dir_;
  static inline std::string meal_, ride_, meal_token_, ride_token_;
  static inline int port_ = 0;
  static inline std::vector<pid_t> servers_;
  static inline bool keep_ = false;
};

TEST_F(SelfcheckApiTest, AFeedGivesTheReportOfTheCommandLine) {
  auto r = Post(port_, meal_token_, meal_);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  const std::string id = r->get_header_value("X-Flexwatch-Report-Id");
  EXPECT_EQ(r->get_header_value("Location"), "/api/v1/selfcheck/" + id);
  // The same report as `flexwatch selfcheck --format json` on the same lines, the feed named
  // "upload" instead of its path.
  EXPECT_EQ(r->body, CliReportOfUpload(meal_));
  // Kept: the platform reads it back by id.
  auto again = Get(port_, meal_token_, "/api/v1/selfcheck/" + id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(again->body, r->body);
}

// ?lang=zh: the report of `selfcheck --lang zh --format json` (the explanations in Chinese).
TEST_F(SelfcheckApiTest, TheReportsExplanationsInChinese) {
  // A rider of 120 hours without any contract: a finding, explained.
  std::string feed = meal_;
  for (int d = 1; d <= 8; ++d)
    feed += "{\"type\":\"order\",\"event_id\":\"zh-" + std::to_string(d) + "\",\"ts\":\"2024-07-1" +
            std::to_string(d) +
            "T09:00:00+08:00\",\"platform_id\":\"p-meal-1\",\"worker_id\":\"rider-zh\","
            "\"sector\":\"live_streaming\",\"duration_min\":900,\"earnings_cny\":10}\n";
  auto r = Post(port_, meal_token_, feed, "/api/v1/selfcheck?lang=zh");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body, CliReportOfUpload(feed, {"--lang", "zh"}));
  EXPECT_NE(r->body.find("\"explanation\": \"符合确立劳动关系情形"), std::string::npos) << r->body;
  auto fr = Post(port_, meal_token_, feed, "/api/v1/selfcheck?lang=fr");
  ASSERT_TRUE(fr);
  EXPECT_EQ(fr->status, 400);
  EXPECT_EQ(Code(fr), "bad_request");
}

TEST_F(SelfcheckApiTest, WithoutAValidTokenNothingIsServed) {
  for (const std::string& token : {std::string(), std::string("fwst_nope"), ride_token_ + "x"}) {
    auto r = Post(port_, token, meal_);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(Code(r), "unauthorized");
    EXPECT_NE(r->get_header_value("WWW-Authenticate").find("Bearer"), std::string::npos);
  }
  // A revoked token stops working at the next request.
  const std::string token = Token("p-meal-1");
  EXPECT_EQ(Get(port_, token, "/api/v1/selfcheck/" + std::string(32, 'a'))->status, 404);
  const std::string id =
      Flexwatch({"token", "list", "--file", (dir_ / "tokens.tsv").string()}, dir_).out;
  ASSERT_EQ(
      Flexwatch({"token", "revoke", "p-nobody", "--file", (dir_ / "tokens.tsv").string()}, dir_)
          .exit_code,
      2);  // no such token
  std::string token_id;
  {
    std::istringstream lines(id);
    for (std::string l; std::getline(lines, l);) token_id = l.substr(l.find('\t') + 1);
  }
  ASSERT_EQ(Flexwatch({"token", "revoke", token_id, "--file", (dir_ / "tokens.tsv").string()}, dir_)
                .exit_code,
            0);
  EXPECT_EQ(Get(port_, token, "/api/v1/selfcheck/" + std::string(32, 'a'))->status, 401);
  EXPECT_EQ(Get(port_, meal_token_, "/api/v1/selfcheck/" + std::string(32, 'a'))->status, 404);
}

TEST_F(SelfcheckApiTest, AnotherPlatformsLinesAndReportsAreRefused) {
  // p-ride-2's token with p-meal-1's lines: every line refused, line by line.
  auto r = Post(port_, ride_token_, meal_ + ride_);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("X-Flexwatch-Passed"), "false");
  const size_t meal_lines = static_cast<size_t>(std::count(meal_.begin(), meal_.end(), '\n'));
  size_t refused = 0;
  for (size_t at = 0; (at = r->body.find("foreign_platform", at)) != std::string::npos; ++at)
    ++refused;
  EXPECT_GE(refused, meal_lines - 5) << r->body.substr(0, 2000);  // malformed ones fail earlier
  EXPECT_NE(r->body.find("\"source\": \"upload\", \"line\": 1,"), std::string::npos);
  // A report id of p-meal-1 is unknown to p-ride-2.
  auto mine = Post(port_, meal_token_, meal_.substr(0, meal_.find('\n') + 1));
  const std::string id = mine->get_header_value("X-Flexwatch-Report-Id");
  EXPECT_EQ(Get(port_, meal_token_, "/api/v1/selfcheck/" + id)->status, 200);
  auto theirs = Get(port_, ride_token_, "/api/v1/selfcheck/" + id);
  EXPECT_EQ(theirs->status, 404);
  EXPECT_EQ(Code(theirs), "not_found");
}

TEST_F(SelfcheckApiTest, TwoPlatformsAtOnceSeeOnlyTheirOwn) {
  auto meal = std::async(std::launch::async, [] { return Post(port_, meal_token_, meal_); });
  auto ride = std::async(std::launch::async, [] { return Post(port_, ride_token_, ride_); });
  auto m = meal.get();
  auto r = ride.get();
  ASSERT_TRUE(m && r);
  ASSERT_EQ(m->status, 200);
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(m->body.find("\"platform\": \"p-meal-1\""), std::string::npos);
  EXPECT_EQ(m->body.find("p-ride-2"), std::string::npos);
  EXPECT_NE(r->body.find("\"platform\": \"p-ride-2\""), std::string::npos);
  EXPECT_EQ(r->body.find("p-meal-1"), std::string::npos);
}

TEST_F(SelfcheckApiTest, LimitsAnswerWithTheirStatusAndCode) {
  // Too large (the limit is 2 MB here).
  std::string big;
  while (big.size() < (2u << 20) + 1) big += meal_;
  auto r = Post(port_, meal_token_, big);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(Code(r), "payload_too_large");
  // Empty, and malformed lines (reported with their line numbers).
  EXPECT_EQ(Code(Post(port_, meal_token_, "")), "empty_feed");
  auto bad = Post(port_, meal_token_, "{\"type\": \"order\"\n[1]\n");
  ASSERT_EQ(bad->status, 200);
  EXPECT_NE(bad->body.find("\"line\": 1, \"reason_code\": \"not_json\""), std::string::npos)
      << bad->body;
  EXPECT_NE(bad->body.find("\"line\": 2, \"reason_code\": \"not_object\""), std::string::npos);
  // Unknown paths and a form-encoded body.
  EXPECT_EQ(Code(Get(port_, meal_token_, "/api/v1/nothing")), "not_found");
  httplib::Client c("127.0.0.1", port_);
  auto form = c.Post("/api/v1/selfcheck", {{"Authorization", "Bearer " + meal_token_}},
                     std::string(10000, 'a'), "application/x-www-form-urlencoded");
  EXPECT_EQ(form->status, 415);
  EXPECT_EQ(Code(form), "unsupported_media_type");
  // Too slow: headers and a part of the body, then nothing; cut off after the read timeout (2 s).
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port_));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const std::string head =
      "POST /api/v1/selfcheck HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + meal_token_ +
      "\r\nContent-Type: application/x-ndjson\r\nContent-Length: 100000\r\n\r\n{";
  ASSERT_EQ(send(s, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
  const auto start = std::chrono::steady_clock::now();
  char buf[512];
  ssize_t n = 0;
  while ((n = recv(s, buf, sizeof buf, 0)) > 0) {
  }
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  close(s);
  EXPECT_GE(waited, 1.5);
  EXPECT_LT(waited, 15);
  // Too long a URI, and too many headers' bytes: refused before any handler.
  auto long_uri = Get(port_, meal_token_, "/api/v1/selfcheck/" + std::string(20000, 'a'));
  ASSERT_TRUE(long_uri);
  EXPECT_EQ(long_uri->status, 414);
  EXPECT_EQ(Code(long_uri), "uri_too_long");
  httplib::Client client("127.0.0.1", port_);
  auto long_header = client.Get("/api/v1/openapi.json", {{"X-Padding", std::string(20000, 'a')}});
  ASSERT_TRUE(long_header);
  EXPECT_EQ(long_header->status, 400);
  EXPECT_EQ(Code(long_header), "bad_request");
}

TEST_F(SelfcheckApiTest, TooManyRequestsAndTooManyAtOnce) {
  // A server of its own allowing 5 requests a minute and one self-check at a time.
  const int port = Serve("limited", 5, 2, 1);
  const std::string token = Token("p-ride-2");
  int limited = 0;
  std::string retry;
  for (int i = 0; i < 8; ++i) {
    auto r = Get(port, token, "/api/v1/selfcheck/" + std::string(32, 'b'));
    ASSERT_TRUE(r);
    if (r->status == 429) {
      ++limited;
      retry = r->get_header_value("Retry-After");
      EXPECT_EQ(Code(r), "rate_limited");
    } else {
      EXPECT_EQ(r->status, 404);
    }
  }
  EXPECT_EQ(limited, 3);
  EXPECT_GE(std::stoi(retry), 1);
  // Another token is not held back by this one's rate; several self-checks at once are, beyond
  // the one allowed.
  std::vector<std::string> tokens;
  for (int i = 0; i < 6; ++i) tokens.push_back(Token("p-ride-2"));
  std::string feed;
  while (feed.size() < (3u << 19)) feed += ride_;
  feed.resize(feed.rfind('\n', 3u << 19) + 1);  // 1.5 MiB of whole lines, under the 2 MB limit
  std::vector<std::future<httplib::Result>> posts;
  for (const std::string& t : tokens)
    posts.push_back(std::async(std::launch::async, [&, t] { return Post(port, t, feed); }));
  int ok = 0, busy = 0;
  for (auto& p : posts) {
    auto r = p.get();
    ASSERT_TRUE(r);
    if (r->status == 200) ++ok;
    if (r->status == 503) {
      ++busy;
      EXPECT_EQ(Code(r), "busy");
      EXPECT_EQ(r->get_header_value("Retry-After"), "5");
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1);
  EXPECT_EQ(ok + busy, 6);
}

TEST_F(SelfcheckApiTest, TheStateIsUnchangedByAHundredSelfChecks) {
  auto snapshot = [] {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(dir_ / "state"))
      if (e.is_regular_file()) files[e.path().string()] = ReadFile(e.path());
    return files;
  };
  const auto before = snapshot();
  const std::string small = meal_.substr(0, 20000);
  const std::string feed = small.substr(0, small.rfind('\n') + 1);
  for (int i = 0; i < 100; ++i) {
    auto r = Post(port_, i % 2 ? ride_token_ : meal_token_, feed);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << i;
  }
  EXPECT_TRUE(before == snapshot());
  // Every request logged with platform, size, outcome and duration, never the body.
  const std::string log = ReadFile(dir_ / "api-stderr");
  EXPECT_NE(log.find("POST /api/v1/selfcheck platform=p-meal-1 bytes=" +
                     std::to_string(feed.size()) + " status=200"),
            std::string::npos);
  EXPECT_EQ(log.find(feed.substr(0, 60)), std::string::npos);
}

// Served directly over TLS with the configured certificate: a client that trusts it gets the
// report; plain HTTP to the same port gets nothing.
TEST_F(SelfcheckApiTest, ServedOverTls) {
  const fs::path tls = dir_ / "tls";
  fs::create_directories(tls);
  const pid_t gen =
      SpawnProgram("/usr/bin/openssl",
                   {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                    (tls / "key.pem").string(), "-out", (tls / "cert.pem").string()},
                   (tls / "openssl-out").string(), (tls / "openssl-err").string());
  ASSERT_EQ(WaitAtMost(gen, 60), 0) << ReadFile(tls / "openssl-err");
  const int port = Serve("tls", 100, 2, 2, tls);
  httplib::SSLClient client("127.0.0.1", port);
  client.set_ca_cert_path((tls / "cert.pem").c_str());
  client.enable_server_certificate_verification(true);
  auto r = client.Post("/api/v1/selfcheck", {{"Authorization", "Bearer " + meal_token_}}, meal_,
                       "application/x-ndjson");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("\"platform\": \"p-meal-1\""), std::string::npos);
  httplib::Client plain("127.0.0.1", port);
  plain.set_read_timeout(5, 0);
  auto p = plain.Get("/api/v1/openapi.json");
  EXPECT_TRUE(!p || p->status != 200);
}

// Test feeds over Kafka: a platform produces to its test topic; once it is quiet, the report
// (the same as over HTTP, another platform's lines refused) comes on its results topic and can be
// read back by id with its token.
TEST_F(SelfcheckApiTest, ATestTopicGetsItsReportOnTheResultsTopic) {
  const pid_t broker = Spawn({"broker", "--topic", "flexwatch.test.p-meal-1", "--topic",
                              "flexwatch.test-results.p-meal-1", "--partitions", "1"},
                             dir_, "/dev/null", "broker-");
  const std::string bootstrap = WaitForFirstLine(dir_ / "broker-stdout", 5);
  ASSERT_FALSE(bootstrap.empty()) << ReadFile(dir_ / "broker-stderr");
  Serve("kafka", 100, 2, 2, {}, bootstrap);
  const std::string ride_line = ride_.substr(0, ride_.find('\n') + 1);
  WriteFile(dir_ / "test-feed.ndjson", meal_ + ride_line);
  CommandResult p = Flexwatch({"produce", "--brokers", bootstrap, "--topic",
                               "flexwatch.test.p-meal-1", (dir_ / "test-feed.ndjson").string()},
                              dir_);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  std::vector<Received> results;
  for (int i = 0; i < 30 && results.empty(); ++i)
    results = ReadTopic(bootstrap, "flexwatch.test-results.p-meal-1", 1);
  kill(broker, SIGTERM);
  WaitAtMost(broker, 20);
  ASSERT_EQ(results.size(), 1u) << ReadFile(dir_ / "kafka-stderr");
  const Received& r = results[0];
  EXPECT_NE(r.payload.find("\"platform\": \"p-meal-1\""), std::string::npos);
  EXPECT_NE(r.payload.find("foreign_platform"), std::string::npos);  // the p-ride-2 line
  const size_t lines = static_cast<size_t>(std::count(meal_.begin(), meal_.end(), '\n')) + 1;
  EXPECT_NE(r.payload.find("\"lines\": " + std::to_string(lines) + ","), std::string::npos);
  ASSERT_EQ(r.headers.count("flexwatch.report_id"), 1u);
  EXPECT_EQ(r.headers.at("flexwatch.passed"), "false");
  auto again = Get(port_, meal_token_, "/api/v1/selfcheck/" + r.headers.at("flexwatch.report_id"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(again->body, r.payload);
  EXPECT_EQ(
      Get(port_, ride_token_, "/api/v1/selfcheck/" + r.headers.at("flexwatch.report_id"))->status,
      404);
}

TEST_F(SelfcheckApiTest, TheApiDescribesItself) {
  auto r = Get(port_, "", "/api/v1/openapi.json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body, ReadFile(fs::path(FLEXWATCH_SOURCE_DIR) / "server" / "openapi.json"));
  dom::parser parser;
  dom::element doc;
  ASSERT_EQ(parser.parse(r->body).get(doc), SUCCESS);
  EXPECT_EQ(doc["paths"]["/api/v1/selfcheck"]["post"].error(), SUCCESS);
  EXPECT_EQ(doc["paths"]["/api/v1/selfcheck/{id}"]["get"].error(), SUCCESS);
  // A method a resource does not serve: 405, saying which it does (RFC 9110).
  httplib::Client c("127.0.0.1", port_);
  for (const auto& [path, allowed] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/selfcheck", "POST"}, {"/api/v1/openapi.json", "GET"}}) {
    auto del = c.Delete(path);
    ASSERT_TRUE(del) << path;
    EXPECT_EQ(del->status, 405) << path;
    EXPECT_EQ(del->get_header_value("Allow"), allowed) << path;
    EXPECT_EQ(Code(del), "method_not_allowed") << path;
  }
}

// The tools made by others that check the document (scripts/setup-debian.sh installs them).
const fs::path kPyTools = "/opt/flexwatch-deps/pytools/bin";

// Runs a Python tool of kPyTools in `dir` (its caches and reports go there), with the
// schemathesis hooks of tests/tools importable; waits at most five minutes.
CommandResult PyTool(const std::string& tool, const std::vector<std::string>& args,
                     const fs::path& dir) {
  std::vector<std::string> all = {
      "-C", dir.string(), "SCHEMATHESIS_HOOKS=schemathesis_hooks",
      "PYTHONPATH=" + (fs::path(FLEXWATCH_SOURCE_DIR) / "tests" / "tools").string(),
      (kPyTools / tool).string()};
  all.insert(all.end(), args.begin(), args.end());
  CommandResult r;
  r.exit_code = WaitAtMost(SpawnProgram("/usr/bin/env", all, (dir / (tool + "-stdout")).string(),
                                        (dir / (tool + "-stderr")).string()),
                           300);
  r.out = ReadFile(dir / (tool + "-stdout"));
  r.err = ReadFile(dir / (tool + "-stderr"));
  return r;
}

// The OpenAPI document is valid (openapi-spec-validator) and true to the server: schemathesis,
// driven by it against a live server with a valid token, sends its examples (a line with three
// mistakes, a finding), requests made from its schemas and sequences that follow its links, and
// finds no server error and no response (status, content type, headers, body) that breaks it.
// Both tools are shown to catch a document that is wrong.
TEST_F(SelfcheckApiTest, TheOpenApiDocumentIsValidAndTrueToTheServer) {
  ASSERT_TRUE(fs::exists(kPyTools / "schemathesis") &&
              fs::exists(kPyTools / "openapi-spec-validator"))
      << "the test tools are missing: run scripts/setup-debian.sh";
  const fs::path work = dir_ / "openapi";
  fs::create_directories(work);
  const fs::path document = fs::path(FLEXWATCH_SOURCE_DIR) / "server" / "openapi.json";
  CommandResult valid = PyTool("openapi-spec-validator", {document.string()}, work);
  EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  EXPECT_NE(valid.out.find(": OK"), std::string::npos) << valid.out;
  // A document whose operation has no responses is not valid.
  std::string text = ReadFile(document);
  std::string broken = text;
  const std::string responses = "\"responses\": {";
  broken.replace(broken.find(responses), responses.size(), "\"answers\": {");
  WriteFile(work / "invalid.json", broken);
  EXPECT_NE(PyTool("openapi-spec-validator", {(work / "invalid.json").string()}, work).exit_code,
            0);

  // A server of its own, whose rate limit the run stays under.
  const int port = Serve("openapi", 100000, 2, 4);
  const std::string origin = "http://127.0.0.1:" + std::to_string(port);

  // Its instructions run as written: the curl command it gives, with a token, an address and a
  // feed put in, answers with a report (in Chinese, as it asks).
  {
    dom::parser parser;
    dom::element doc;
    ASSERT_EQ(parser.parse(text).get(doc), SUCCESS);
    std::string_view description;
    ASSERT_EQ(doc["info"]["description"].get(description), SUCCESS);
    const size_t from = description.find("`curl ");
    ASSERT_NE(from, std::string_view::npos) << description;
    std::string command(description.substr(from + 1, description.find('`', from + 1) - from - 1));
    for (const auto& [placeholder, value] : std::vector<std::pair<std::string, std::string>>{
             {"TOKEN", meal_token_}, {"HOST:PORT", origin.substr(7)}}) {
      const size_t at = command.find(placeholder);
      ASSERT_NE(at, std::string::npos) << command;
      command.replace(at, placeholder.size(), value);
    }
    WriteFile(work / "feed.ndjson", meal_);
    const fs::path out = work / "curl-stdout";
    const pid_t p = SpawnProgram("/bin/sh", {"-c", "cd '" + work.string() + "' && " + command},
                                 out.string(), (work / "curl-stderr").string());
    ASSERT_EQ(WaitAtMost(p, 60), 0) << command << "\n" << ReadFile(work / "curl-stderr");
    const std::string report = ReadFile(out);
    EXPECT_NE(report.find("\"kind\": \"selfcheck\""), std::string::npos) << report;
    EXPECT_NE(report.find("\"platform\": \"p-meal-1\""), std::string::npos) << report;
  }
  const std::vector<std::string> run = {
      "run", "-H", "Authorization: Bearer " + meal_token_, "--checks", "all",
      // Any body is a feed: a wrong line is told in the 200
      // report, by design, not refused with a 4xx.
      "--exclude-checks", "negative_data_rejection", "--max-examples", "50", "--seed", "25",
      "--workers", "1", "--generation-database", "none", "--no-color"};
  std::vector<std::string> live = run;
  live.push_back(origin + "/api/v1/openapi.json");
  CommandResult st = PyTool("schemathesis", live, work);
  EXPECT_EQ(st.exit_code, 0) << st.out << st.err;
  EXPECT_NE(st.out.find("No issues found"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("Examples"), std::string::npos) << st.out;
  // A document that asks more of an error than the server says: found, on the examples.
  const std::string required = "\"required\": [\n          \"reason_code\",";
  std::string demanding = text;
  ASSERT_NE(demanding.find(required), std::string::npos);
  demanding.insert(demanding.find(required) + required.size(), "\n          \"hint\",");
  WriteFile(work / "demanding.json", demanding);
  std::vector<std::string> wrong = run;
  wrong.insert(wrong.end(),
               {"--phases", "examples", "--url", origin, (work / "demanding.json").string()});
  CommandResult caught = PyTool("schemathesis", wrong, work);
  EXPECT_NE(caught.exit_code, 0) << caught.out;
  EXPECT_NE(caught.out.find("\"hint\" is a required property"), std::string::npos) << caught.out;
}

// Hostile clients (issue: "Hostile and odd input never stops, hangs or poisons the monitor").
// Every connection below goes to loopback only and every loop is bounded in count and time.

TEST_F(SelfcheckApiTest, ABodyIsNeverReadOrInflatedBeforeTheTokenIsChecked) {
  const pid_t server = servers_.front();
  // Warmed by a self-check of its own (a throwaway state opened and judged), then measured: what
  // follows must not add the bodies sent (the peak, before and after, in the same process; a
  // sanitizer's build keeps more of what it frees, so no absolute figure).
  httplib::Client c("127.0.0.1", port_);
  c.set_read_timeout(60, 0);
  auto plain = c.Post("/api/v1/selfcheck", {{"Authorization", "Bearer " + meal_token_}}, meal_,
                      "application/x-ndjson");
  ASSERT_TRUE(plain);
  ASSERT_EQ(plain->status, 200);
  const long warm = PeakRssKb(server);
  // A gzip bomb: 100 MB of one line inflating from ~100 KB, first with a bogus token.
  const std::string bomb = Gzip(std::string(100u << 20, ' '));
  ASSERT_LT(bomb.size(), 1u << 20);
  const std::string head =
      "POST /api/v1/selfcheck HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/x-ndjson\r\nContent-Encoding: gzip\r\nContent-Length: " +
      std::to_string(bomb.size()) + "\r\n";
  const auto start = std::chrono::steady_clock::now();
  int s = Connect(port_);
  ASSERT_GE(s, 0);
  SendAll(s, head + "Authorization: Bearer fwst_bogus\r\n\r\n" + bomb);
  std::string answer = ReceiveAll(s);
  close(s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 401", 0), 0u) << answer.substr(0, 200);
  // With the platform's token: inflated only up to the limit (2 MB here), then refused.
  s = Connect(port_);
  SendAll(s, head + "Authorization: Bearer " + meal_token_ + "\r\n\r\n" + bomb);
  answer = ReceiveAll(s);
  close(s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer.substr(0, 200);
  EXPECT_NE(answer.find("once decompressed"), std::string::npos);
  // 30 MB chunked with a bogus token: answered 401 at once, never buffered.
  s = Connect(port_);
  SendAll(s,
          "POST /api/v1/selfcheck HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer fwst_bogus\r\n"
          "Transfer-Encoding: chunked\r\n\r\n");
  const std::string chunk = "100000\r\n" + std::string(1u << 20, 'x') + "\r\n";
  for (int i = 0; i < 30 && SendAll(s, chunk); ++i) {
  }
  answer = ReceiveAll(s);
  close(s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 401", 0), 0u) << answer.substr(0, 200);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 30);
  // The server never held the bodies: far below the 100 MB and 30 MB sent (at most the 2 MB
  // limit inflated, and buffers).
  EXPECT_LT(PeakRssKb(server) - warm, 40 * 1024) << "KiB more than after one self-check";
  // A compressed feed within the limit is judged as the plain one.
  auto zipped = c.Post("/api/v1/selfcheck",
                       {{"Authorization", "Bearer " + meal_token_}, {"Content-Encoding", "gzip"}},
                       Gzip(meal_), "application/x-ndjson");
  ASSERT_TRUE(zipped);
  EXPECT_EQ(zipped->status, 200);
  auto verdict = [](const std::string& body) { return body.substr(body.find("\"months\"")); };
  EXPECT_EQ(verdict(zipped->body), verdict(plain->body));
}

TEST_F(SelfcheckApiTest, SlowAndIdleClientsNeverStarveOthers) {
  // 50 idle connections and 10 that send a header line every second, from other addresses.
  std::vector<int> idle, slow;
  for (int i = 0; i < 50; ++i) idle.push_back(Connect(port_, "127.0.0.2", 200));
  for (int i = 0; i < 10; ++i) {
    slow.push_back(Connect(port_, "127.0.0.3", 200));
    SendAll(slow.back(), "POST /api/v1/selfcheck HTTP/1.1\r\nHost: x\r\n");
  }
  // The idle ones beyond the per-address limit (16) were refused at once, the rest stay open.
  int refused = 0;
  for (int s : idle) {
    const std::string got = ReceiveAll(s);
    if (got.rfind("HTTP/1.1 503", 0) != 0) continue;
    ++refused;
    // A whole answer: its body as long as its Content-Length says.
    const size_t length = got.find("Content-Length: "), body = got.find("\r\n\r\n");
    ASSERT_NE(length, std::string::npos);
    ASSERT_NE(body, std::string::npos);
    EXPECT_EQ(std::stoul(got.substr(length + 16)), got.size() - body - 4) << got;
  }
  EXPECT_EQ(refused, 50 - 16);
  const auto start = std::chrono::steady_clock::now();
  auto legit = std::async(std::launch::async, [] { return Post(port_, meal_token_, meal_); });
  // Meanwhile the slow ones trickle (bounded: 4 rounds), and the server cuts each off once its
  // header is not whole within read_timeout_seconds (2 s here), trickle or not.
  int cut = 0;
  for (int round = 0; round < 4; ++round) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    for (int& s : slow)
      if (s >= 0 && !SendAll(s, "X-Slow: " + std::to_string(round) + "\r\n")) {
        close(s);
        s = -1;
        ++cut;
      }
  }
  auto r = legit.get();
  const double served =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  for (int s : slow)
    if (s >= 0) {
      // Closed by the server: what it sent, if anything, ends there.
      ReceiveAll(s);
      if (!SendAll(s, "X-More: 1\r\n") || !SendAll(s, "X-More: 2\r\n")) ++cut;
      close(s);
    }
  for (int s : idle) close(s);
  EXPECT_GE(cut, 8);
  // Served while 26 connections hung on: the legitimate one waited for nobody.
  EXPECT_LT(served, 10);
}

TEST_F(SelfcheckApiTest, TheLogCannotBeForgedNorCarryAnotherRequestsPlatform) {
  // One kept-alive connection: a request of p-meal-1's, then one refused before routing.
  // Each request is logged once answered: the next is sent when the log says so.
  auto logged = [this](const std::string& what) {
    return WaitFor(std::chrono::seconds(10),
                   [&] { return ReadFile(dir_ / "api-stderr").find(what) != std::string::npos; });
  };
  int s = Connect(port_);
  ASSERT_GE(s, 0);
  SendAll(s, "GET /api/v1/selfcheck/" + std::string(32, 'c') +
                 " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + meal_token_ + "\r\n\r\n");
  EXPECT_TRUE(logged(std::string(32, 'c')));
  SendAll(s, "GET /api/v1/x%0a%0dselfcheck-api:%20FORGED\xe2\x80\xa8 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(logged("FORGED"));
  SendAll(s, "BROKEN\r\n\r\n");
  ReceiveAll(s);
  close(s);
  // Two Content-Length headers that disagree: refused.
  s = Connect(port_);
  SendAll(s, "POST /api/v1/selfcheck HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + meal_token_ +
                 "\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n{}\n\n\n");
  const std::string dup = ReceiveAll(s);
  close(s);
  EXPECT_EQ(dup.rfind("HTTP/1.1 400", 0), 0u) << dup.substr(0, 200);
  EXPECT_TRUE(logged("status=400 code=bad_request"));  // the broken request, answered
  const std::string log = ReadFile(dir_ / "api-stderr");
  std::istringstream lines(log);
  bool seen_meal = false, seen_broken = false, seen_forgery = false;
  for (std::string line; std::getline(lines, line);) {
    EXPECT_EQ(line.rfind("selfcheck-api: ", 0), 0u) << line;
    EXPECT_EQ(line.find("selfcheck-api: FORGED"), std::string::npos) << line;
    if (line.find(std::string(32, 'c')) != std::string::npos) {
      seen_meal = true;
      EXPECT_NE(line.find("platform=p-meal-1"), std::string::npos) << line;
    }
    if (line.find("%0a%0dselfcheck-api:%20FORGED\\xe2\\x80\\xa8") != std::string::npos) {
      // Kept as sent, a line separator (U+2028) shown as escaped bytes, and nobody's platform.
      seen_forgery = true;
      EXPECT_NE(line.find("platform=- "), std::string::npos) << line;
    }
    if (line.find("status=400 code=bad_request") != std::string::npos &&
        line.find("POST") == std::string::npos) {
      seen_broken = true;
      EXPECT_NE(line.find("platform=- "), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(seen_meal);
  EXPECT_TRUE(seen_forgery) << log;
  EXPECT_TRUE(seen_broken) << log;
}

}  // namespace
}  // namespace flexwatch::testing
