// The monitor as a library, driven in-process: it starts its own embedded broker, consumes a
// generated feed (random ids, produced in shuffled order) into its state, judges as data arrives
// and stops when asked. What it leaves equals a replay of the same lines, every alert it wrote
// is on the alerts topic once with its id, and its metrics say what it did.
#include "flexwatch/monitor/monitor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "flexwatch/gen/generator.h"
#include "flexwatch/ingest/replay.h"
#include "flexwatch/settings/config.h"
#include "kafka_helpers.h"
#include "support.h"

namespace flexwatch::testing {
namespace {

namespace fs = std::filesystem;

std::string Dump(const std::string& dir) {
  auto store = Store::Open(dir, StoreOptions{});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return "";
  std::string out;
  EXPECT_TRUE((*store)
                  ->Dump([&](std::string_view line) {
                    // Where a line came from (positions, offsets) and the closing watermark
                    // (a replay closes on every file read to its end, a consumer on its slowest
                    // partition) differ between the two paths; what the lines say does not.
                    if (!line.starts_with("dead\t") && !line.starts_with("default\tpos/") &&
                        !line.starts_with("default\twatermark\t"))
                      out.append(line).push_back('\n');
                  })
                  .ok());
  return out;
}

TEST(MonitorTest, ConsumesJudgesAndStopsInProcessAndEqualsReplay) {
  TempDir tmp("monitor");
  const fs::path& dir = tmp.path();
  auto cfg = ShippedConfig();
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();

  GenOptions gen;
  gen.workers = 120;
  gen.platforms = 4;
  gen.months = 2;
  gen.seed = 11;
  gen.ids = IdShape::kHex;
  gen.rules = &*cfg->rules;
  std::ostringstream feed;
  ASSERT_TRUE(Generate(gen, feed, nullptr).ok());
  std::vector<std::string> lines;
  {
    std::istringstream in(feed.str());
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  std::shuffle(lines.begin(), lines.end(), std::mt19937(5));  // out of order, as producers send

  MonitorOptions o = MonitorOptionsOf(*cfg, "test");
  o.state_dir = (dir / "monitor").string();
  o.kafka.brokers.clear();  // the monitor's own embedded broker
  o.kafka.evaluate_interval_ms = 200;
  o.metrics.listen = "127.0.0.1:0";
  std::atomic<int64_t> consumed{0};
  std::vector<Alert> alerts;
  std::atomic<int> rounds{0};
  std::vector<std::string> notices;
  MonitorHooks hooks;
  hooks.notice = [&notices](const std::string& line) { notices.push_back(line); };
  hooks.on_commit = [&consumed](const IngestCounts& c) {
    consumed = c.accepted + c.duplicates + c.rejected;
  };
  hooks.on_round = [&](const MonitorRound& r) {
    ++rounds;
    alerts.insert(alerts.end(), r.alerts.begin(), r.alerts.end());
  };
  auto monitor = Monitor::Start(o, hooks);
  ASSERT_TRUE(monitor.ok()) << monitor.status().ToString();
  ASSERT_TRUE((*monitor)->embedded_broker());
  ASSERT_FALSE((*monitor)->metrics_address().empty());
  ASSERT_FALSE(notices.empty());
  EXPECT_NE(notices.front().find("EMBEDDED"), std::string::npos) << notices.front();

  std::atomic<bool> stop{false};
  Result<IngestCounts> counts = IngestCounts{};
  std::thread consumer([&] { counts = (*monitor)->Run(&stop); });
  const std::string brokers = (*monitor)->brokers();
  // Paced behind the consumer: the embedded broker keeps ~5 MB of a partition, and a platform's
  // events all go to one.
  ASSERT_TRUE(ProduceLines(brokers, {}, o.kafka.topics.front(), lines, [&](int64_t n) {
                while (n - consumed.load() > 8000)
                  std::this_thread::sleep_for(std::chrono::milliseconds(5));
              }).ok());
  EXPECT_TRUE(WaitFor(std::chrono::seconds(120),
                      [&] { return consumed == static_cast<int64_t>(lines.size()); }));
  // One more round after the last commit, so that the levels are those of the whole feed.
  const int rounds_then = rounds;
  EXPECT_TRUE(WaitFor(std::chrono::seconds(30), [&] { return rounds > rounds_then; }));
  stop = true;
  consumer.join();
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(counts->accepted + counts->duplicates + counts->rejected,
            static_cast<int64_t>(lines.size()));
  EXPECT_GT(counts->rejected, 0);  // the generator's malformed lines
  EXPECT_TRUE(fs::exists(fs::path(o.state_dir) / kDeadLetterFileName));

  // Every alert the rounds wrote is on the topic once, with its id.
  ASSERT_FALSE(alerts.empty());
  EXPECT_EQ((*monitor)->alerts_written(), static_cast<int64_t>(alerts.size()));
  std::vector<Received> topic =
      ReadTopic(brokers, o.kafka.alerts_topic, o.kafka.embedded_partitions);
  std::set<std::string> ids;
  for (const Received& r : topic) ids.insert(r.headers.at("flexwatch.alert_id"));
  EXPECT_EQ(topic.size(), alerts.size());
  for (const Alert& a : alerts) EXPECT_TRUE(ids.count(a.alert_id)) << a.json;
  const std::string scrape = (*monitor)->metrics().Scrape();
  EXPECT_NE(scrape.find("flexwatch_build_info{"), std::string::npos);
  EXPECT_NE(scrape.find("flexwatch_events_total"), std::string::npos) << scrape.substr(0, 2000);
  monitor->reset();  // closes the state

  // The same lines replayed from a file make the same state.
  {
    std::ofstream f(dir / "feed.ndjson");
    for (const std::string& l : lines) f << l << "\n";
  }
  {
    auto store = Store::Open((dir / "replay").string(), StoreOptions{});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(ReplayFiles(**store, {(dir / "feed.ndjson").string()}, cfg->ingest).ok());
  }
  // Compared line by line: a diff of two whole states is too large to print.
  const std::string consumed_state = Dump(o.state_dir), replayed = Dump((dir / "replay").string());
  std::istringstream a(consumed_state), b(replayed);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(a, la));
    const bool more_b = static_cast<bool>(std::getline(b, lb));
    if (!more_a && !more_b) break;
    ASSERT_TRUE(more_a && more_b && la == lb)
        << "line " << line << " of the dumps: " << (more_a ? la : "(end)") << " | "
        << (more_b ? lb : "(end)");
  }
  if (::testing::Test::HasFailure()) tmp.keep();
}

TEST(MonitorTest, WhatCannotStartIsAnErrorNamingIt) {
  auto cfg = ShippedConfig();
  ASSERT_TRUE(cfg.ok());
  MonitorOptions o = MonitorOptionsOf(*cfg, "test");
  o.kafka.brokers = "127.0.0.1:1";
  o.metrics.listen = "256.0.0.1:99999";
  auto m = Monitor::Start(o, {});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("256.0.0.1:99999"), std::string::npos)
      << m.status().ToString();
  o.metrics.listen.clear();
  o.state_dir = "/proc/flexwatch-state-here";
  m = Monitor::Start(o, {});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("/proc/flexwatch-state-here"), std::string::npos)
      << m.status().ToString();
}

}  // namespace
}  // namespace flexwatch::testing
