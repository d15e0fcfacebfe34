// The Kafka source in process, on the embedded broker: a broker taken down and up again
// (rd_kafka_mock_broker_set_down / set_up) mid-stream loses nothing and counts nothing twice.
#include "flexwatch/ingest/kafka.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

namespace flexwatch {
namespace {

namespace fs = std::filesystem;

std::string Order(int i) {
  return "{\"type\":\"order\",\"event_id\":\"o-" + std::to_string(i) +
         "\",\"ts\":\"2024-07-03T12:00:00+08:00\",\"platform_id\":\"p\",\"worker_id\":\"w-" +
         std::to_string(i % 97) +
         "\",\"sector\":\"food_delivery\",\"duration_min\":10,\"earnings_cny\":1}";
}

TEST(KafkaSource, ABrokerDownAndUpMidStreamLosesNothing) {
  const fs::path dir = fs::temp_directory_path() / ("flexwatch-kafka-" + std::to_string(getpid()));
  fs::remove_all(dir);
  auto broker = EmbeddedBroker::Start({"events", "dead", "alerts"}, 2);
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  std::vector<std::string> first, second;
  for (int i = 0; i < 3000; ++i) first.push_back(Order(i));
  for (int i = 3000; i < 6000; ++i) second.push_back(Order(i));
  second.push_back(Order(17));  // a duplicate delivery
  second.push_back("{not json");
  ASSERT_TRUE(ProduceLines((*broker)->bootstrap(), {}, "events", first).ok());

  auto store = Store::Open((dir / "state").string(), StoreOptions{});
  ASSERT_TRUE(store.ok());
  KafkaOptions kafka;
  kafka.brokers = (*broker)->bootstrap();
  kafka.topics = {"events"};
  kafka.dead_letter_topic = "dead";
  kafka.alerts_topic = "alerts";
  kafka.group = "g-down-up";
  kafka.commit_interval_ms = 50;
  kafka.client = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
  ConsumeControl control;
  control.idle_exit_seconds = 60;  // a safety net: the test stops it once all is committed
  std::atomic<bool> stop{false};
  control.stop = &stop;
  std::atomic<int64_t> committed{0};
  control.on_commit = [&](const IngestCounts& c) {
    committed.store(c.accepted + c.duplicates + c.rejected);
  };
  std::vector<bool> readiness;  // on the consumer's thread; read after it joins
  control.on_ready = [&](bool ready, const std::string&) { readiness.push_back(ready); };
  Result<IngestCounts> result = IngestCounts{};
  std::thread consumer([&] { result = ConsumeKafka(**store, kafka, ReplayOptions{}, control); });
  for (int i = 0; i < 400 && committed.load() < 3000; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(committed.load(), 3000);
  // The broker goes down; the second half is produced once it is back.
  ASSERT_TRUE((*broker)->SetDown(1, true).ok());
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_TRUE((*broker)->SetDown(1, false).ok());
  ASSERT_TRUE(ProduceLines((*broker)->bootstrap(), {}, "events", second).ok());
  for (int i = 0; i < 1200 && committed.load() < 6002; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop.store(true);
  consumer.join();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(readiness, (std::vector<bool>{false, true}));  // not ready while down, then ready
  EXPECT_EQ(result->accepted, 6000);
  EXPECT_EQ(result->duplicates, 1);
  EXPECT_EQ(result->rejected, 1);
  EXPECT_EQ((*store)->Counter("accepted"), 6000);
  const auto offsets = StoredOffsets(**store);
  int64_t next = 0;
  for (const auto& [tp, offset] : offsets) next += offset;
  EXPECT_EQ(next, 6002);  // every message of both partitions, once
  store->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace flexwatch
