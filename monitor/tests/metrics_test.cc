#include "flexwatch/monitor/metrics.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <regex>

#include "flexwatch/alerts/alertmanager.h"
#include "flexwatch/server/http_server.h"

namespace flexwatch {
namespace {

PlatformScore Score(const std::string& id, Level level) {
  PlatformScore ps;
  ps.platform_id = id;
  ps.level = level;
  ps.ranked = true;
  ps.in_scope_workers = 100;
  for (DimensionScore& d : ps.dimensions) d.in_scope = 100;
  ps.dimensions[0].level = level;
  ps.dimensions[0].affected = level == Level::kRed ? 40 : 0;
  ps.dimensions[0].findings = {{"no_contract", ps.dimensions[0].affected}};
  return ps;
}

// Series of a metric in a scrape, e.g. Count(text, "flexwatch_platform_level{").
int Count(const std::string& text, const std::string& prefix) {
  int n = 0;
  for (size_t at = 0; (at = text.find("\n" + prefix, at)) != std::string::npos; ++at) ++n;
  return n;
}

AlertRound RoundOf(int platforms) {
  AlertRound round;
  RoundMonth m;
  m.period = MakePeriod(2025, 1);
  for (int i = 0; i < platforms; ++i)
    m.platforms.push_back(Score("p-" + std::to_string(i), i == 3 ? Level::kRed : Level::kGreen));
  round.months.push_back(m);
  return round;
}

// One count per publication: a month (its documents in every format and language), a
// correction of it, a year; the evidence files that go with a month are not publications.
TEST(MonitorMetrics, EachPublicationIsCountedOnceByKind) {
  MonitorMetrics metrics(10);
  metrics.OnPublished({"pub/monthly-2024-07.json", "pub/monthly-2024-07.zh.md",
                       "pub/monthly-2024-07.en.html", "pub/evidence/2024-07/p-1.underpayment.json",
                       "pub/evidence/2024-07/p-2.contract_avoidance.json"});
  metrics.OnPublished({"pub/monthly-2024-07.r1.json", "pub/monthly-2024-07.r1.zh.csv",
                       "pub/monthly-2024-07.r2.en.md", "pub/monthly-2024-12.json",
                       "pub/annual-2024.json", "pub/annual-2024.en.md"});
  const std::string text = metrics.Scrape();
  for (const char* line : {"flexwatch_announcements_published_total{kind=\"monthly\"} 2",
                           "flexwatch_announcements_published_total{kind=\"correction\"} 2",
                           "flexwatch_announcements_published_total{kind=\"annual\"} 1"})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
}

TEST(MonitorMetrics, PlatformSeriesAreCappedWorstFirstAndTheRestCounted) {
  MonitorMetrics metrics(2);
  metrics.OnRound(0.01, RoundOf(5), {});
  const std::string text = metrics.Scrape();
  // 2 platforms x (3 dimensions + composite), month "current" only (nothing final).
  EXPECT_EQ(Count(text, "flexwatch_platform_level{"), 8) << text;
  EXPECT_NE(text.find("flexwatch_metrics_platforms_dropped 3"), std::string::npos) << text;
  // The red one is kept whatever its id; the rest by id.
  EXPECT_NE(text.find("platform=\"p-3\""), std::string::npos);
  EXPECT_NE(text.find("platform=\"p-0\""), std::string::npos);
  EXPECT_EQ(text.find("platform=\"p-1\""), std::string::npos);
  // The counts per level are of every platform.
  EXPECT_NE(text.find("flexwatch_platforms{dimension=\"composite\",level=\"green\",month="
                      "\"current\",ranked=\"true\"} 4"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("flexwatch_platform_level_red{dimension=\"contract_avoidance\",month="
                      "\"current\",platform=\"p-3\"} 1"),
            std::string::npos)
      << text;
  // More platforms later: still 2 with series; those admitted keep theirs.
  metrics.OnRound(0.01, RoundOf(50), {});
  const std::string later = metrics.Scrape();
  EXPECT_EQ(Count(later, "flexwatch_platform_level{"), 8);
  EXPECT_NE(later.find("flexwatch_metrics_platforms_dropped 48"), std::string::npos);
  EXPECT_NE(later.find("platform=\"p-0\""), std::string::npos);
}

TEST(MonitorMetrics, EventsRewrittenAreAPlatformSeries) {
  MonitorMetrics metrics(10);
  AlertRound round = RoundOf(2);
  round.months[0].platforms[1].rewritten = 7;
  metrics.OnRound(0.01, round, {});
  const std::string text = metrics.Scrape();
  EXPECT_NE(text.find("flexwatch_platform_rewritten_events{month=\"current\",platform=\"p-1\"} 7"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("flexwatch_platform_rewritten_events{month=\"current\",platform=\"p-0\"} 0"),
            std::string::npos);
}

TEST(MonitorMetrics, EventsCountTheReportedDifference) {
  MonitorMetrics metrics(10);
  ConsumerReport r;
  r.messages = 3;
  r.commit_seconds = 0.002;
  r.outcomes = {{"t", "order", "applied", "", 2}, {"t", "unknown", "rejected", "not_json", 1}};
  r.lags = {{"t", 0, 7}};
  metrics.OnConsumerReport(r);
  r.outcomes[0].count = 5;  // cumulative: 3 more
  r.lags = {{"t", 1, 0}};   // partition 0 revoked
  metrics.OnConsumerReport(r);
  const std::string text = metrics.Scrape();
  EXPECT_NE(text.find("flexwatch_events_total{outcome=\"applied\",topic=\"t\",type=\"order\"} 5"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("flexwatch_events_total{outcome=\"rejected\",reason=\"not_json\",topic="
                      "\"t\",type=\"unknown\"} 1"),
            std::string::npos);
  EXPECT_EQ(text.find("partition=\"0\""), std::string::npos);
  EXPECT_NE(text.find("flexwatch_consumer_lag_messages{partition=\"1\",topic=\"t\"} 0"),
            std::string::npos);
  EXPECT_NE(text.find("flexwatch_commit_batch_messages_count 2"), std::string::npos);
}

// Prometheus's advice for counters whose label values are known in advance: every series there
// at 0 from the start (a panel then shows 0, not "No data"), and counting on from there.
TEST(MonitorMetrics, CountersOfKnownLabelsStartAtZero) {
  MonitorMetrics metrics(10);
  metrics.ExportZeros({"flexwatch.events", "^flexwatch\\.events\\..+"});
  std::string text = metrics.Scrape();
  EXPECT_EQ(Count(text, "flexwatch_alerts_total{"), 3 * 4 * 2) << text;
  EXPECT_EQ(Count(text, "flexwatch_early_warnings_total{"), 4) << text;
  EXPECT_NE(text.find("flexwatch_early_warnings_total{detector=\"complaint_spike\"} 0"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("flexwatch_alerts_total{dimension=\"coverage_mismatch\",final=\"true\","
                      "level=\"red\"} 0"),
            std::string::npos)
      << text;
  // 5 event types applied or duplicate, and every reject reason; none for the pattern
  EXPECT_EQ(Count(text, "flexwatch_events_total{"), 5 * 2 + 16) << text;
  EXPECT_NE(text.find("flexwatch_events_total{outcome=\"rejected\",reason=\"misrouted\","
                      "topic=\"flexwatch.events\",type=\"unknown\"} 0"),
            std::string::npos)
      << text;
  ConsumerReport r;
  r.outcomes = {{"flexwatch.events", "unknown", "rejected", "misrouted", 2}};
  metrics.OnConsumerReport(r);
  Alert a;
  a.kind = "early_warning";
  a.detector = "complaint_spike";
  metrics.OnRound(0.1, AlertRound{}, {a});
  text = metrics.Scrape();
  EXPECT_NE(text.find("flexwatch_early_warnings_total{detector=\"complaint_spike\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("reason=\"misrouted\",topic=\"flexwatch.events\",type=\"unknown\"} 2"),
            std::string::npos)
      << text;
  EXPECT_EQ(Count(text, "flexwatch_events_total{"), 5 * 2 + 16) << text;
}

TEST(MonitorServer, ServesMetricsHealthAndReadiness) {
  MonitorMetrics metrics(10);
  Readiness readiness;
  auto scrape = [&metrics] { return metrics.Scrape(); };
  auto server = MonitorServer::Start("127.0.0.1:0", scrape, &readiness);
  ASSERT_TRUE(server.ok()) << server.status().message();
  httplib::Client client("http://" + (*server)->address());
  auto m = client.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m->body.find("# TYPE flexwatch_state_size_bytes gauge"), std::string::npos);
  EXPECT_EQ(client.Get("/healthz")->status, 200);
  auto not_ready = client.Get("/readyz");
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_NE(not_ready->body.find("the state is not open"), std::string::npos);
  readiness.state_open = true;
  readiness.assigned = true;
  EXPECT_EQ(client.Get("/readyz")->status, 200);
  readiness.brokers_answer = false;
  EXPECT_NE(client.Get("/readyz")->body.find("the brokers do not answer"), std::string::npos);
  EXPECT_FALSE(MonitorServer::Start("127.0.0.1:x", scrape, &readiness).ok());
  EXPECT_FALSE(MonitorServer::Start((*server)->address(), scrape, &readiness).ok());  // in use
}

TEST(Alertmanager, AlertsCarryTheLabelsAndAnnotations) {
  AlertRound round = RoundOf(5);
  EarlyWarning w;
  w.platform_id = "p-1";
  w.detector = "own_history";
  w.version = "1";
  w.series = "labor_contract_share";
  w.period = round.months[0].period;
  w.direction = "down";
  w.unit = "share";
  w.basis = "the platform's own months before";
  round.months[0].warnings.push_back(w);
  RuleSet rules;
  rules.id = "beijing";
  rules.version = "3";
  auto alerts = AlertmanagerAlerts(round, rules);
  ASSERT_EQ(alerts.size(), 2u);  // p-3 red on contract avoidance, and the warning
  EXPECT_EQ(alerts[0].labels["platform"], "p-3");
  EXPECT_EQ(alerts[0].labels["level"], "red");
  EXPECT_EQ(alerts[0].labels["severity"], "critical");
  EXPECT_EQ(alerts[0].labels["period"], "2025-01");
  EXPECT_EQ(alerts[0].labels["final"], "false");
  EXPECT_NE(alerts[0].annotations["summary"].find("40 of 100"), std::string::npos);
  EXPECT_NE(alerts[0].annotations["evidence"].find("no_contract 40"), std::string::npos);
  EXPECT_EQ(alerts[1].labels["alertname"], "FlexwatchEarlyWarning");
  const std::string body = AlertmanagerBody({{alerts[0], 0, 1500}});
  EXPECT_NE(body.find("\"startsAt\":\"1970-01-01T00:00:00.000Z\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"endsAt\":\"1970-01-01T00:00:01.500Z\""), std::string::npos);
}

TEST(MonitorMetrics, MonthsTheRulesCannotJudgeAreCounted) {
  MonitorMetrics metrics(10);
  AlertRound round;
  round.not_judged = {{MakePeriod(2021, 1), "no contribution base limits in force for 2021-01"},
                      {MakePeriod(2025, 7), "no contribution base limits in force for 2025-07"}};
  metrics.OnRound(0.01, round, {});
  EXPECT_NE(metrics.Scrape().find("flexwatch_months_not_judged 2"), std::string::npos);
  round.not_judged.clear();
  metrics.OnRound(0.01, round, {});
  EXPECT_NE(metrics.Scrape().find("flexwatch_months_not_judged 0"), std::string::npos);
}

}  // namespace
}  // namespace flexwatch
