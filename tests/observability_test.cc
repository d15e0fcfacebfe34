// Observability against the real servers from Debian: flexwatch `run` (on the embedded broker,
// `flexwatch broker`) scraped by a real Prometheus that evaluates the shipped alerting rules and
// sends to a real Alertmanager, which flexwatch posts its own alerts to as well. Every PromQL
// expression of the shipped dashboards and rules is sent to Prometheus's query API and must
// return data; promtool checks the live scrape and the rule files.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <functional>
#include <regex>
#include <set>
#include <thread>

#include "cli_helpers.h"
#include "flexwatch/alerts/alertmanager.h"

namespace flexwatch::testing {
namespace {

using namespace simdjson;

// A port free on loopback now (the kernel's choice; released for the server to take).
int FreePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

const fs::path kDashboards = fs::path(FLEXWATCH_SOURCE_DIR) / "dashboards";
constexpr int kPlatforms = 7, kCap = 4;

class ObservabilityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = std::make_unique<TempDir>("observability");
    dir_ = tmp_->path();
    fs::create_directories(dir_);
    // 7 months of 7 platforms with planted violations (some red) and a drift (early warnings).
    const int rc = Wait(
        Spawn({"gen", "--workers", "900", "--platforms", std::to_string(kPlatforms), "--months",
               "7", "--seed", "4", "--drift", "agency:1:2024-12", "--drift", "capping:3:2024-12"},
              dir_, "/dev/null", "gen-"));
    ASSERT_EQ(rc, 0) << ReadFile(dir_ / "gen-stderr");
    // All but the last 3,000 lines replayed; those through Kafka, with 200 lines again
    // (duplicates) and two malformed ones (rejections).
    std::vector<std::string> lines;
    {
      std::istringstream in(ReadFile(dir_ / "gen-stdout"));
      for (std::string l; std::getline(in, l);) lines.push_back(l);
    }
    std::string head, tail;
    const size_t split = lines.size() - 3000;
    for (size_t i = 0; i < lines.size(); ++i) (i < split ? head : tail) += lines[i] + "\n";
    for (size_t i = split - 200; i < split; ++i) tail += lines[i] + "\n";
    tail += "{\"type\": \"order\"\n[1, 2]\n";
    WriteFile(dir_ / "head.ndjson", head);
    WriteFile(dir_ / "tail.ndjson", tail);
    fs::remove(dir_ / "gen-stdout");
    CommandResult r = Flexwatch(
        {"replay", "--state", (dir_ / "state").string(), (dir_ / "head.ndjson").string()}, dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;

    flexwatch_port_ = FreePort();
    prometheus_port_ = FreePort();
    alertmanager_port_ = FreePort();
    const std::string cfg = WriteConfig(
        dir_ / "flexwatch.yaml",
        {{"kafka.client", kShortSessions},
         {"kafka.evaluate_interval_ms", "1000"},
         // A partition the tail left empty is let go at once, so that the months final in
         // event time are sealed (the dashboards' months' trend) within the test.
         {"kafka.partition_idle_seconds", "1"},
         {"metrics.max_platforms", std::to_string(kCap)},
         {"alertmanager.url", "\"http://127.0.0.1:" + std::to_string(alertmanager_port_) + "\""},
         {"alertmanager.resend_seconds", "2"}});

    // Alertmanager, routing everything to a receiver that keeps it (its API lists the alerts).
    WriteFile(dir_ / "alertmanager.yml",
              "route:\n  receiver: keep\n  group_by: [alertname, platform]\n"
              "receivers:\n  - name: keep\n");
    alertmanager_ =
        SpawnProgram("/usr/bin/prometheus-alertmanager",
                     {"--config.file=" + (dir_ / "alertmanager.yml").string(),
                      "--storage.path=" + (dir_ / "am").string(),
                      "--web.listen-address=127.0.0.1:" + std::to_string(alertmanager_port_),
                      "--cluster.listen-address="},
                     (dir_ / "am-stdout").string(), (dir_ / "am-stderr").string());
    // Prometheus with the shipped configuration, its targets and intervals made the test's.
    std::string prom = ReadFile(kDashboards / "prometheus" / "prometheus.yml");
    auto prom_edit = [&prom](const std::string& from, const std::string& to) {
      for (size_t at; (at = prom.find(from)) != std::string::npos;)
        prom.replace(at, from.size(), to);
    };
    prom_edit("15s", "1s");
    prom_edit("127.0.0.1:9464", "127.0.0.1:" + std::to_string(flexwatch_port_));
    prom_edit("127.0.0.1:9093", "127.0.0.1:" + std::to_string(alertmanager_port_));
    prom_edit("- alerts.yml", "- " + (kDashboards / "prometheus" / "alerts.yml").string());
    WriteFile(dir_ / "prometheus.yml", prom);
    prometheus_ =
        SpawnProgram("/usr/bin/prometheus",
                     {"--config.file=" + (dir_ / "prometheus.yml").string(),
                      "--storage.tsdb.path=" + (dir_ / "prom").string(),
                      "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port_)},
                     (dir_ / "prom-stdout").string(), (dir_ / "prom-stderr").string());

    broker_ = Spawn({"--config", cfg, "broker"}, dir_, "/dev/null", "broker-");
    std::string bootstrap;
    ASSERT_TRUE(WaitFor(std::chrono::seconds(10), [&]() {
      const std::string out = ReadFile(dir_ / "broker-stdout");
      if (out.find('\n') != std::string::npos) bootstrap = out.substr(0, out.find('\n'));
      return !bootstrap.empty();
    })) << ReadFile(dir_ / "broker-stderr");
    r = Flexwatch(
        {"--config", cfg, "produce", "--brokers", bootstrap, (dir_ / "tail.ndjson").string()},
        dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    monitor_ =
        Spawn({"--config", cfg, "run", "--brokers", bootstrap, "--state", (dir_ / "state").string(),
               "--group", "observability-" + std::to_string(::getpid()), "--metrics-listen",
               "127.0.0.1:" + std::to_string(flexwatch_port_)},
              dir_, "/dev/null", "run-");
    // Everything through, judged, and scraped a few times since (rates need two samples).
    ASSERT_TRUE(WaitFor(std::chrono::seconds(90), [&]() {
      const std::string m = Get(flexwatch_port_, "/metrics");
      return m.find("outcome=\"rejected\"") != std::string::npos &&
             m.find("flexwatch_platform_level{") != std::string::npos &&
             m.find("flexwatch_alertmanager_posts_total{outcome=\"ok\"} 0") == std::string::npos;
    })) << ReadFile(dir_ / "run-stderr");
    ASSERT_TRUE(WaitFor(std::chrono::seconds(60), [&]() {
      return !Query("count_over_time(flexwatch_platform_level{dimension=\"composite\"}[1m]) > 5")
                  .empty() &&
             !Query("flexwatch_sealed_platform_level").empty() &&
             !Query("ALERTS{alertname=\"FlexwatchPlatformRed\",alertstate=\"firing\"}").empty();
    })) << ReadFile(dir_ / "prom-stderr");
  }
  static void TearDownTestSuite() {
    for (pid_t* p : {&monitor_, &prometheus_, &alertmanager_, &broker_})
      if (*p > 0) {
        kill(*p, SIGTERM);
        WaitAtMost(*p, 20);
        *p = 0;
      }
    if (keep_) tmp_->keep();
    tmp_.reset();
  }
  static inline std::unique_ptr<TempDir> tmp_;
  void TearDown() override {
    if (HasFailure()) keep_ = true;  // the logs stay for the reader
  }

  static std::string Get(int port, const std::string& path) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10, 0);
    auto res = c.Get(path.c_str());
    return res && res->status == 200 ? res->body : "";
  }
  // The result of an instant query (an array, empty when no data); a query Prometheus refuses
  // fails the test.
  static std::vector<std::string> Query(const std::string& promql, std::string* error = nullptr) {
    httplib::Client c("127.0.0.1", prometheus_port_);
    c.set_read_timeout(10, 0);
    auto res = c.Post("/api/v1/query", httplib::Params{{"query", promql}});
    std::vector<std::string> out;
    if (!res) {
      if (error) *error = "no answer";
      return out;
    }
    dom::parser parser;
    dom::element doc;
    if (parser.parse(res->body).get(doc) || std::string_view(doc["status"]) != "success") {
      if (error) *error = res->body;
      return out;
    }
    dom::element data = doc["data"];
    if (std::string_view(data["resultType"]) == "scalar") {
      out.push_back(simdjson::minify(data["result"]));
      return out;
    }
    for (dom::element e : data["result"].get_array()) out.push_back(simdjson::minify(e));
    return out;
  }

  static inline fs::path dir_;
  static inline int flexwatch_port_ = 0, prometheus_port_ = 0, alertmanager_port_ = 0;
  static inline pid_t monitor_ = 0, prometheus_ = 0, alertmanager_ = 0, broker_ = 0;
  static inline bool keep_ = false;
};

TEST_F(ObservabilityTest, TheLiveScrapePassesPromtoolCheckMetrics) {
  const std::string scrape = Get(flexwatch_port_, "/metrics");
  ASSERT_FALSE(scrape.empty());
  WriteFile(dir_ / "scrape.prom", scrape);
  const pid_t p =
      SpawnProgram("/usr/bin/promtool", {"check", "metrics"}, (dir_ / "check-stdout").string(),
                   (dir_ / "check-stderr").string(), (dir_ / "scrape.prom").string());
  EXPECT_EQ(WaitAtMost(p, 60), 0) << ReadFile(dir_ / "check-stderr");
  EXPECT_EQ(ReadFile(dir_ / "check-stdout") + ReadFile(dir_ / "check-stderr"), "");
  // Conventions: a prefix, base units, _total counters, the build and rule set stamped.
  EXPECT_NE(scrape.find("flexwatch_build_info{rule_set=\"beijing\""), std::string::npos);
  EXPECT_NE(scrape.find("# TYPE flexwatch_events_total counter"), std::string::npos);
  EXPECT_NE(scrape.find("# TYPE flexwatch_commit_duration_seconds histogram"), std::string::npos);
  EXPECT_EQ(Get(flexwatch_port_, "/healthz"), "ok\n");
  EXPECT_EQ(Get(flexwatch_port_, "/readyz"), "ready\n");
}

// Every expression of every panel of every dashboard, with Grafana's variables given values,
// must parse and return data: one that returns nothing is a broken panel.
TEST_F(ObservabilityTest, EveryDashboardExpressionReturnsData) {
  const std::vector<std::string> platforms =
      Query("group by (platform) (flexwatch_platform_level)");
  ASSERT_FALSE(platforms.empty());
  const std::regex platform_re("\"platform\":\"([^\"]+)\"");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(platforms[0], m, platform_re)) << platforms[0];
  const std::string platform = m[1];
  int checked = 0;
  for (const char* name : {"compliance-overview", "platform", "operations"}) {
    const fs::path file = kDashboards / "grafana" / "dashboards" / (std::string(name) + ".json");
    dom::parser parser;
    dom::element doc;
    ASSERT_EQ(parser.load(file.string()).get(doc), SUCCESS) << file;
    EXPECT_EQ(std::string_view(doc["uid"]).substr(0, 10), "flexwatch-");
    for (dom::element panel : doc["panels"].get_array()) {
      const std::string title{std::string_view(panel["title"])};
      EXPECT_EQ(std::string_view(panel["datasource"]["uid"]), "flexwatch-prometheus") << title;
      for (dom::element target : panel["targets"].get_array()) {
        std::string expr{std::string_view(target["expr"])};
        for (auto [var, value] : {std::pair<std::string, std::string>{"$platform", platform},
                                  {"$__rate_interval", "20s"}})
          for (size_t at; (at = expr.find(var)) != std::string::npos;)
            expr.replace(at, var.size(), value);
        std::string error;
        const std::vector<std::string> result = Query(expr, &error);
        EXPECT_TRUE(error.empty()) << name << " / " << title << ": " << expr << ": " << error;
        EXPECT_FALSE(result.empty()) << name << " / " << title << ": no data for " << expr;
        ++checked;
      }
    }
    // The platform variable lists the platforms with series.
    for (dom::element v : doc["templating"]["list"].get_array())
      EXPECT_EQ(std::string_view(v["definition"]),
                "label_values(flexwatch_platform_level, platform)");
  }
  EXPECT_GE(checked, 30);
}

// Each alerting rule parses, Prometheus evaluates it without error, and the series it compares
// with its threshold return data; the compliance rule fires on the red platforms.
TEST_F(ObservabilityTest, EveryAlertingRuleEvaluatesAndItsSeriesReturnData) {
  YAML::Node rules = YAML::LoadFile((kDashboards / "prometheus" / "alerts.yml").string());
  const std::regex threshold(R"(\s*(==|!=|>=|<=|>|<)\s*[-+]?[0-9.]+\s*$)");
  int checked = 0;
  for (const YAML::Node& group : rules["groups"])
    for (const YAML::Node& rule : group["rules"]) {
      const std::string name = rule["alert"].as<std::string>();
      const std::string expr = rule["expr"].as<std::string>();
      std::string error;
      Query(expr, &error);
      EXPECT_TRUE(error.empty()) << name << ": " << error;
      ASSERT_TRUE(std::regex_search(expr, threshold)) << name << ": not one comparison: " << expr;
      const std::string series = std::regex_replace(expr, threshold, "");
      EXPECT_FALSE(Query(series).empty()) << name << ": no data for " << series;
      ++checked;
    }
  EXPECT_GE(checked, 8);
  // Prometheus itself evaluated every rule without error.
  const std::string api = Get(prometheus_port_, "/api/v1/rules?type=alert");
  EXPECT_EQ(api.find("\"health\":\"err\""), std::string::npos) << api;
  EXPECT_NE(api.find("\"name\":\"FlexwatchPlatformRed\""), std::string::npos);
  // It fires once per red platform-dimension that has series.
  const auto red = Query("flexwatch_platform_level{dimension!=\"composite\"} == 3");
  EXPECT_EQ(Query("ALERTS{alertname=\"FlexwatchPlatformRed\",alertstate=\"firing\"}").size(),
            red.size());
  EXPECT_FALSE(red.empty());
}

TEST_F(ObservabilityTest, PromtoolChecksAndTestsTheShippedRulesAndConfig) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"check", "rules", "alerts.yml"},
        {"test", "rules", "alerts_test.yml"},
        {"check", "config", "prometheus.yml"}}) {
    // promtool reads the files named relative to the folder it runs in.
    const std::string out = (dir_ / "promtool-out").string();
    const pid_t p = fork();
    if (p == 0) {
      if (chdir((kDashboards / "prometheus").c_str()) != 0) _exit(126);
      std::vector<char*> argv = {const_cast<char*>("/usr/bin/promtool")};
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execv(argv[0], argv.data());
      _exit(127);
    }
    EXPECT_EQ(WaitAtMost(p, 120), 0) << args[0] << " " << args[1] << ": " << ReadFile(out);
  }
}

// flexwatch's own alerts reach Alertmanager with their labels: every red platform of the latest
// month (all of them, whatever the cap on metric series), and its early warnings.
TEST_F(ObservabilityTest, AlertmanagerListsFlexwatchAlertsWithTheirLabels) {
  std::set<std::string> red_platforms;
  std::string body;
  ASSERT_TRUE(WaitFor(std::chrono::seconds(30), [&]() {
    body =
        Get(alertmanager_port_, "/api/v2/alerts?filter=alertname%3D%22FlexwatchComplianceLevel%22");
    return body.size() > 2;
  }));
  dom::parser parser;
  dom::element doc = parser.parse(body);
  std::string latest;
  for (dom::element a : doc.get_array()) {
    dom::element labels = a["labels"];
    for (const char* key : {"platform", "dimension", "level", "period", "final", "severity"})
      EXPECT_EQ(labels[key].error(), SUCCESS) << key << " missing in " << simdjson::minify(a);
    dom::element annotations = a["annotations"];
    EXPECT_NE(std::string_view(annotations["summary"]).find("worker-months in scope affected"),
              std::string_view::npos);
    EXPECT_NE(std::string_view(annotations["evidence"]).find("findings by kind"),
              std::string_view::npos);
    const std::string period{std::string_view(labels["period"])};
    latest = std::max(latest, period);
  }
  for (dom::element a : doc.get_array()) {
    dom::element labels = a["labels"];
    if (std::string_view(labels["period"]) == latest && std::string_view(labels["level"]) == "red")
      red_platforms.insert(std::string(std::string_view(labels["platform"])));
  }
  // As many as the metrics count at red in the latest month, every platform counted.
  const auto count =
      Query("sum(flexwatch_platforms{month=\"current\",dimension=\"composite\",level=\"red\"})");
  ASSERT_EQ(count.size(), 1u);
  EXPECT_NE(count[0].find("\"" + std::to_string(red_platforms.size()) + "\"]"), std::string::npos)
      << count[0] << " against " << red_platforms.size();
  EXPECT_FALSE(red_platforms.empty());
  // The early warnings too, and Prometheus's own compliance alerts beside them.
  EXPECT_GT(Get(alertmanager_port_, "/api/v2/alerts?filter=alertname%3D%22FlexwatchEarlyWarning%22")
                .size(),
            2u);
  EXPECT_GT(Get(alertmanager_port_, "/api/v2/alerts?filter=alertname%3D%22FlexwatchPlatformRed%22")
                .size(),
            2u);
}

// Issue 24: the dashboards count platforms per level as the announcement does. For the latest
// month, the ranked platforms at each level (what the overview's panels sum, as Prometheus has
// them) are those `announce` lists on the monitor's state, read while it runs.
TEST_F(ObservabilityTest, TheDashboardsCountPlatformsPerLevelAsTheAnnouncementDoes) {
  const std::string state = (dir_ / "state").string();
  CommandResult i = Flexwatch({"inspect", "--state", state}, dir_);
  ASSERT_EQ(i.exit_code, 0) << i.err;
  dom::parser parser;
  dom::element summary;
  ASSERT_FALSE(parser.parse(i.out).get(summary));
  std::string latest;
  for (dom::element p : summary["periods"].get_array()) latest = std::string(std::string_view(p));
  ASSERT_FALSE(latest.empty());
  CommandResult a = Flexwatch({"announce", "--state", state, "--month", latest}, dir_);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  dom::parser announcement_parser;
  dom::element announcement;
  ASSERT_FALSE(announcement_parser.parse(a.out).get(announcement));
  std::map<std::string, int> ranked;
  int unranked = 0;
  for (dom::element p : announcement["platforms"].get_array()) {
    if (bool(p["ranked"]))
      ++ranked[std::string(std::string_view(p["level"]))];
    else
      ++unranked;
  }
  for (const char* level : {"green", "yellow", "orange", "red"}) {
    const auto n = Query(
        "sum(flexwatch_platforms{month=\"current\",dimension=\"composite\",ranked=\"true\","
        "level=\"" +
        std::string(level) + "\"})");
    ASSERT_EQ(n.size(), 1u) << level;
    EXPECT_NE(n[0].find(",\"" + std::to_string(ranked[level]) + "\"]"), std::string::npos)
        << level << ": " << n[0] << " against the announcement's " << ranked[level];
  }
  const auto all =
      Query("sum(flexwatch_platforms{month=\"current\",dimension=\"composite\",ranked=\"false\"})");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_NE(all[0].find(",\"" + std::to_string(unranked) + "\"]"), std::string::npos) << all[0];
  // The months' trend (the overview's and the drill-down's sealed-month panels): each platform
  // with series, in each sealed month, at the level that month's announcement gives it.
  constexpr const char* kLevelNames[] = {"green", "yellow", "orange", "red"};
  int compared = 0;
  for (dom::element period : summary["periods"].get_array()) {
    const std::string month{std::string_view(period)};
    const auto sealed =
        Query("flexwatch_sealed_platform_level{dimension=\"composite\",period=\"" + month + "\"}");
    if (sealed.empty()) continue;
    CommandResult m = Flexwatch({"announce", "--state", state, "--month", month}, dir_);
    ASSERT_EQ(m.exit_code, 0) << m.err;
    dom::parser month_parser;
    dom::element said;
    ASSERT_FALSE(month_parser.parse(m.out).get(said));
    EXPECT_TRUE(bool(said["final"])) << month;
    std::map<std::string, std::string> level;
    for (dom::element p : said["platforms"].get_array())
      level[std::string(std::string_view(p["platform_id"]))] =
          std::string(std::string_view(p["level"]));
    dom::parser series_parser;
    for (const std::string& series : sealed) {
      dom::element e;
      ASSERT_FALSE(series_parser.parse(series).get(e));
      const std::string platform{std::string_view(e["metric"]["platform"])};
      const int value = std::stoi(std::string(std::string_view(e["value"].at(1))));
      ASSERT_TRUE(value >= 0 && value < 4) << series;
      EXPECT_EQ(kLevelNames[value], level[platform]) << month << " " << series;
      ++compared;
    }
  }
  EXPECT_GE(compared, kCap * 2) << "fewer sealed months than the feed holds";
  // The panels name platforms as the announcement does: the registry's names, joined on
  // `platform` from flexwatch_platform_info (the shipped registry names gen's platforms).
  int named = 0;
  for (dom::element p : announcement["platforms"].get_array()) {
    const std::string id{std::string_view(p["platform_id"])};
    const auto info = Query("flexwatch_platform_info{platform=\"" + id + "\"}");
    if (info.empty()) continue;  // beyond the cap on series
    dom::parser info_parser;
    dom::element e;
    ASSERT_FALSE(info_parser.parse(info[0]).get(e));
    EXPECT_EQ(std::string_view(e["metric"]["name_zh"]), std::string_view(p["name_zh"])) << id;
    EXPECT_EQ(std::string_view(e["metric"]["credit_code"]), std::string_view(p["credit_code"]));
    ++named;
  }
  EXPECT_EQ(named, kCap);
}

// Platform ids come from the data: beyond metrics.max_platforms they get no series, and the
// number left out is counted.
TEST_F(ObservabilityTest, PerPlatformSeriesStayWithinTheCap) {
  const std::string scrape = Get(flexwatch_port_, "/metrics");
  std::set<std::string> platforms;
  const std::regex platform_re("platform=\"([^\"]+)\"");
  for (std::sregex_iterator it(scrape.begin(), scrape.end(), platform_re), end; it != end; ++it)
    platforms.insert((*it)[1]);
  EXPECT_EQ(platforms.size(), static_cast<size_t>(kCap)) << scrape;
  EXPECT_NE(scrape.find("flexwatch_metrics_platforms_dropped " + std::to_string(kPlatforms - kCap) +
                        "\n"),
            std::string::npos);
  // Every platform is still counted per level.
  EXPECT_EQ(Query("sum(flexwatch_platforms{month=\"current\",dimension=\"composite\"}) == " +
                  std::to_string(kPlatforms))
                .size(),
            1u);
  // flexwatch_platform_level: one series per platform with series, dimension (the three and
  // composite) and month (current, last_final), whatever the data.
  EXPECT_EQ(Query("count(flexwatch_platform_level) <= " + std::to_string(kCap * 4 * 2)).size(), 1u);
  EXPECT_EQ(
      Query("count(count by (platform) (flexwatch_platform_level)) == " + std::to_string(kCap))
          .size(),
      1u);
}

// The sink on its own against a real Alertmanager: an alert that stops holding (its level went
// back to green) is sent as resolved and leaves Alertmanager's list of active alerts; one that
// still holds stays.
TEST(AlertmanagerSinkTest, AnAlertThatStopsHoldingIsResolved) {
  TempDir tmp("am-sink");
  const fs::path& dir = tmp.path();
  const int port = FreePort();
  WriteFile(dir / "alertmanager.yml", "route:\n  receiver: keep\nreceivers:\n  - name: keep\n");
  const pid_t am = SpawnProgram(
      "/usr/bin/prometheus-alertmanager",
      {"--config.file=" + (dir / "alertmanager.yml").string(),
       "--storage.path=" + (dir / "am").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(port), "--cluster.listen-address="},
      (dir / "am-stdout").string(), (dir / "am-stderr").string());
  auto active = [port](const std::string& platform) {
    httplib::Client c("127.0.0.1", port);
    auto res =
        c.Get(("/api/v2/alerts?active=true&filter=platform%3D%22" + platform + "%22").c_str());
    std::string body = res && res->status == 200 ? res->body : std::string("unanswered");
    while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) body.pop_back();
    return body;
  };
  ASSERT_TRUE(WaitFor(std::chrono::seconds(30), [&]() { return active("p-1") == "[]"; }))
      << ReadFile(dir / "am-stderr");
  auto score = [](const std::string& id, Level level) {
    PlatformScore ps;
    ps.platform_id = id;
    ps.level = level;
    ps.dimensions[0].level = level;
    ps.dimensions[0].in_scope = 100;
    ps.dimensions[0].affected = level == Level::kRed ? 30 : 0;
    return ps;
  };
  RuleSet rules;
  rules.id = "beijing";
  rules.version = "1";
  AlertRound round;
  round.months.push_back(
      {MakePeriod(2025, 3), false, {score("p-1", Level::kRed), score("p-2", Level::kRed)}, {}});
  {
    std::atomic<int> posts{0};
    AlertmanagerOptions options;
    options.url = "http://127.0.0.1:" + std::to_string(port);
    // Long: an alert left alone would stay active for 4 minutes, so that only the resolution
    // sent on the change can end it within the test.
    options.resend_seconds = 60;
    AlertmanagerSink sink(options, [&posts](bool ok, const std::string&) { posts += ok; });
    sink.Update(round, rules);
    EXPECT_TRUE(WaitFor(std::chrono::seconds(20), [&]() {
      return active("p-1").find("\"level\":\"red\"") != std::string::npos &&
             active("p-2").find("\"period\":\"2025-03\"") != std::string::npos;
    })) << active("p-1");
    round.months[0].platforms[0] = score("p-1", Level::kGreen);
    sink.Update(round, rules);
    EXPECT_TRUE(WaitFor(std::chrono::seconds(10), [&]() { return active("p-1") == "[]"; }))
        << active("p-1");
    EXPECT_NE(active("p-2").find("\"level\":\"red\""), std::string::npos);
    // The sink counts a post once its answer is read, which may be after Alertmanager already
    // shows what it said.
    EXPECT_TRUE(WaitFor(std::chrono::seconds(10), [&]() { return posts.load() >= 2; }))
        << posts.load();
  }
  kill(am, SIGTERM);
  WaitAtMost(am, 20);
  if (::testing::Test::HasFailure()) tmp.keep();
}

}  // namespace
}  // namespace flexwatch::testing
