// Alerts across a crash between the outbox write and the delivery, on the embedded broker in
// process: what the outbox held is delivered after the restart with the ids it was written with,
// and entries the broker had acknowledged before a crash made the outbox forget them are found on
// the alerts topic, read back, and not sent a second time.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "flexwatch/alerts/alerts.h"
#include "flexwatch/gen/generator.h"
#include "flexwatch/ingest/kafka.h"
#include "flexwatch/settings/config.h"
#include "kafka_helpers.h"
#include "support.h"

namespace flexwatch::testing {
namespace {

namespace fs = std::filesystem;

class AlertOutboxTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto cfg = ShippedConfig();
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    rules_ = *cfg->rules;
    auto broker = EmbeddedBroker::Start({"events", "dead", "alerts"}, 2);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
  }

  // Consumes the (empty) events topic until idle: what the monitor does on a restart with
  // nothing new to read, evaluating and delivering as `run` does. Returns the alerts it wrote.
  size_t RunMonitor(const fs::path& state, const std::string& group) {
    auto store = Store::Open(state.string(), StoreOptions{});
    EXPECT_TRUE(store.ok());
    if (!store.ok()) return 0;
    KafkaOptions kafka;
    kafka.brokers = broker_->bootstrap();
    kafka.topics = {"events"};
    kafka.dead_letter_topic = "dead";
    kafka.alerts_topic = "alerts";
    kafka.group = group;
    kafka.client = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    ConsumeControl control;
    control.idle_exit_seconds = 2;
    control.periodic_interval_ms = 200;
    size_t written = 0;
    control.periodic = [&](double) -> Status {
      auto a = EvaluateAndAlert(**store, rules_, {}, AlertOptions{.topic = "alerts"});
      if (!a.ok()) return a.status();
      written += a->size();
      return Status::OK();
    };
    auto counts = ConsumeKafka(**store, kafka, ReplayOptions{}, control);
    EXPECT_TRUE(counts.ok()) << counts.status().ToString();
    size_t left = 0;
    EXPECT_TRUE(
        (*store)->ForEachOutbox(0, 100000, [&](uint64_t, const OutboxMessage&) { ++left; }).ok());
    EXPECT_EQ(left, 0u) << "the outbox keeps what was delivered";
    return written;
  }

  RuleSet rules_;
  std::unique_ptr<EmbeddedBroker> broker_;
};

std::string IdOf(const Received& r) {
  return r.headers.count("flexwatch.alert_id") ? r.headers.at("flexwatch.alert_id") : "";
}

TEST_F(AlertOutboxTest, ACrashBetweenOutboxAndDeliveryLosesNoAlertAndKeepsItsId) {
  // A month of a generated feed in the state, and its levels evaluated: the alerts are in the
  // outbox, in the batch that remembers the levels, and the process dies before delivering.
  GenOptions gen;
  gen.workers = 150;
  gen.months = 1;
  gen.seed = 31;
  gen.rules = &rules_;
  {
    std::ofstream feed(dir_ / "feed.ndjson");
    ASSERT_TRUE(Generate(gen, feed, nullptr).ok());
  }
  std::map<std::string, std::string> written;  // alert_id -> payload
  {
    auto store = Store::Open((dir_ / "state").string(), StoreOptions{});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(ReplayFiles(**store, {(dir_ / "feed.ndjson").string()}, ReplayOptions{}).ok());
    auto alerts = EvaluateAndAlert(**store, rules_, {}, AlertOptions{.topic = "alerts"});
    ASSERT_TRUE(alerts.ok()) << alerts.status().ToString();
    for (const Alert& a : *alerts) written[a.alert_id] = a.json;
    ASSERT_FALSE(written.empty());
    ASSERT_EQ(written.size(), alerts->size());
  }
  // The state as it stands at the crash, kept to replay a crash after delivery.
  fs::copy(dir_ / "state", dir_ / "state-at-crash", fs::copy_options::recursive);

  // The restart delivers the outbox; re-evaluating finds the levels remembered: no new alert.
  EXPECT_EQ(RunMonitor(dir_ / "state", "g-restart"), 0u);
  std::vector<Received> topic = ReadTopic(broker_->bootstrap(), "alerts", 2);
  std::map<std::string, std::string> delivered;
  for (const Received& r : topic) delivered[IdOf(r)] = r.payload;
  EXPECT_EQ(topic.size(), written.size());
  EXPECT_EQ(delivered, written);

  // A crash after the broker acknowledged the alerts but before the outbox forgot them: the
  // next run reads the alerts topic back before it delivers what an earlier run left in the
  // outbox, finds them there with their ids, and does not send them again.
  EXPECT_EQ(RunMonitor(dir_ / "state-at-crash", "g-again"), 0u);
  topic = ReadTopic(broker_->bootstrap(), "alerts", 2);
  EXPECT_EQ(topic.size(), written.size());
  std::map<std::string, int> copies;
  for (const Received& r : topic) {
    ++copies[IdOf(r)];
    ASSERT_TRUE(written.count(IdOf(r))) << r.payload;
    EXPECT_EQ(r.payload, written.at(IdOf(r)));
  }
  for (const auto& [id, n] : copies) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(copies.size(), written.size());
  // And the outbox is empty: nothing is left to send again.
  auto store = Store::Open((dir_ / "state-at-crash").string(), StoreOptions{});
  ASSERT_TRUE(store.ok());
  int left = 0;
  ASSERT_TRUE(
      (*store)->ForEachOutbox(0, 1000, [&](uint64_t, const OutboxMessage&) { ++left; }).ok());
  EXPECT_EQ(left, 0);
}

// An alert left in the outbox by a crash, for a platform that another instance judged while
// this one was down: the other's alerts are read back first and this state goes on from the
// levels they said. Its own alert of the cell is not sent (it would say a change from a level
// the topic has moved past, a second time), and its next round alerts what its verdict still
// changes, from there; its other alerts are delivered.
TEST_F(AlertOutboxTest, AnAlertLeftInTheOutboxIsNotSentWhereAnotherInstanceHasAlertedSince) {
  auto feed = [&](uint64_t seed, const fs::path& path) {
    GenOptions gen;
    gen.workers = 150;
    gen.months = 1;
    gen.seed = seed;
    gen.rules = &rules_;
    std::ofstream out(path);
    ASSERT_TRUE(Generate(gen, out, nullptr).ok());
  };
  feed(31, dir_ / "mine.ndjson");
  feed(32, dir_ / "theirs.ndjson");           // the same platforms and month, other counts
  std::map<std::string, std::string> queued;  // alert_id -> payload, never delivered
  {
    auto store = Store::Open((dir_ / "mine").string(), StoreOptions{});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(ReplayFiles(**store, {(dir_ / "mine.ndjson").string()}, ReplayOptions{}).ok());
    auto alerts = EvaluateAndAlert(**store, rules_, {}, AlertOptions{.topic = "alerts"});
    ASSERT_TRUE(alerts.ok()) << alerts.status().ToString();
    for (const Alert& a : *alerts) queued[a.alert_id] = a.json;
  }
  {  // the other instance: its state judged the month on other events, and alerted it
    auto store = Store::Open((dir_ / "theirs").string(), StoreOptions{});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(ReplayFiles(**store, {(dir_ / "theirs.ndjson").string()}, ReplayOptions{}).ok());
  }
  EXPECT_GT(RunMonitor(dir_ / "theirs", "g-theirs"), 0u);
  const std::vector<Received> theirs = ReadTopic(broker_->bootstrap(), "alerts", 2);
  std::set<std::string> cells;  // platform, dimension, month they alerted
  for (const Received& r : theirs)
    cells.insert(AlertField(r.payload, "platform_id") + " " + AlertField(r.payload, "dimension"));
  size_t overtaken = 0;
  for (const auto& [id, payload] : queued) {
    if (AlertField(payload, "kind") != "level_change") continue;
    overtaken +=
        cells.count(AlertField(payload, "platform_id") + " " + AlertField(payload, "dimension"));
  }
  ASSERT_GT(overtaken, 0u) << "no cell alerted by both: the feeds do not test this";
  ASSERT_LT(overtaken, queued.size()) << "no alert of this state's own to deliver";

  RunMonitor(dir_ / "mine", "g-mine");
  const std::vector<Received> topic = ReadTopic(broker_->bootstrap(), "alerts", 2);
  for (const std::string& unchained : UnchainedLevelChanges(topic)) ADD_FAILURE() << unchained;
  std::set<std::string> sent;
  for (const Received& r : topic) sent.insert(IdOf(r));
  size_t delivered = 0;
  for (const auto& [id, payload] : queued) {
    const std::string cell =
        AlertField(payload, "platform_id") + " " + AlertField(payload, "dimension");
    const bool mine_only = !cells.count(cell);
    EXPECT_EQ(sent.count(id), mine_only ? 1u : 0u) << payload;
    delivered += sent.count(id);
  }
  EXPECT_EQ(delivered, queued.size() - overtaken);
  // And this state ends at the levels of its own verdict, said on the topic last.
  std::map<std::string, std::string> last;
  for (const Received& r : topic)
    if (AlertField(r.payload, "kind") == "level_change")
      last[AlertField(r.payload, "platform_id") + " " + AlertField(r.payload, "dimension")] =
          AlertField(r.payload, "level");
  for (const auto& [id, payload] : queued) {
    if (AlertField(payload, "kind") != "level_change") continue;
    EXPECT_EQ(last[AlertField(payload, "platform_id") + " " + AlertField(payload, "dimension")],
              AlertField(payload, "level"))
        << payload;
  }
}

// The share of its group an instance judged, as its state keeps it for `announce --out`: read
// back, it owns the same platforms (its own topic's, and those its shared partitions hash to).
TEST(OwnershipTest, KeptInTheStateItJudgesTheSamePlatforms) {
  Ownership own;
  own.settled = true;
  own.shared = {"flexwatch.events"};
  own.partitions["flexwatch.events"] = 4;
  own.own_topics = {"flexwatch.events.p-a", "flexwatch.events.p-b"};
  own.assigned = {{"flexwatch.events", 1}, {"flexwatch.events", 3}, {"flexwatch.events.p-b", 0}};
  const std::optional<Ownership> back = Ownership::Decode(own.Encode());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->Encode(), own.Encode());
  int owned = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string platform = "p-" + std::to_string(i);
    EXPECT_EQ(back->Owns(platform), own.Owns(platform)) << platform;
    owned += own.Owns(platform);
  }
  EXPECT_GT(owned, 0);
  EXPECT_LT(owned, 40);
  EXPECT_FALSE(back->Owns("p-a"));  // its own topic, assigned elsewhere
  EXPECT_TRUE(back->Owns("p-b"));
  EXPECT_FALSE(Ownership::Decode("assigned flexwatch.events x\n"));
  EXPECT_FALSE(Ownership::Decode("shared flexwatch.events 4"));  // cut short
}

}  // namespace
}  // namespace flexwatch::testing
