// Helpers for tests that read what flexwatch produced to Kafka topics.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace flexwatch::testing {

// librdkafka settings beyond the bootstrap servers (a cluster's SASL login, say).
using ClientSettings = std::vector<std::pair<std::string, std::string>>;

inline void Apply(rd_kafka_conf_t* conf, const ClientSettings& settings) {
  char err[512];
  for (const auto& [key, value] : settings)
    rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err);
}

struct Received {
  std::string payload;
  std::map<std::string, std::string> headers;
};

// Every message of `topic` (all partitions, from the beginning), read without a group (partitions
// assigned, nothing committed) until none arrives for two seconds: an independent reader of what
// flexwatch produced.
inline std::vector<Received> ReadTopic(const std::string& brokers, const std::string& topic,
                                       int partitions, const ClientSettings& settings = {}) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "test-reader", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  Apply(conf, settings);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  std::vector<Received> out;
  auto last = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - last < std::chrono::seconds(2)) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (!m->err) {
      Received r;
      r.payload.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* h = nullptr;
      if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t i = 0; !rd_kafka_header_get_all(h, i, &name, &value, &size); ++i)
          r.headers[name] = std::string(static_cast<const char*>(value), size);
      }
      out.push_back(std::move(r));
      last = std::chrono::steady_clock::now();
    }
    rd_kafka_message_destroy(m);
  }
  // Not closed as a group member: it never joined one (a secured cluster may not even let it).
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return out;
}

// A string field of an alert's JSON ("" when absent): enough to follow its level changes.
inline std::string AlertField(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\": \"";
  const size_t at = json.find(key);
  if (at == std::string::npos) return "";
  const size_t from = at + key.size();
  return json.substr(from, json.find('"', from) - from);
}

// The level changes of an alerts topic (as ReadTopic gives it: a platform's alerts in the order
// they were sent) that do not start from the level the alert before them for the same platform,
// dimension and month ended at (green before the first), each with what the one before said.
inline std::vector<std::string> UnchainedLevelChanges(const std::vector<Received>& alerts) {
  std::map<std::string, std::string> level;  // platform, dimension, month -> the last alerted
  std::vector<std::string> out;
  for (const Received& r : alerts) {
    if (AlertField(r.payload, "kind") != "level_change") continue;
    const std::string cell = AlertField(r.payload, "platform_id") + " " +
                             AlertField(r.payload, "dimension") + " " +
                             AlertField(r.payload, "period");
    auto last = level.emplace(cell, "green").first;
    if (AlertField(r.payload, "previous_level") != last->second)
      out.push_back(cell + " alerted from another level than its last alert (" + last->second +
                    ") said: " + r.payload);
    last->second = AlertField(r.payload, "level");
  }
  return out;
}

// The platform_id of a compact NDJSON line (as gen writes them), or empty.
inline std::string PlatformOf(const std::string& line) {
  const size_t at = line.find("\"platform_id\":\"");
  if (at == std::string::npos) return "";
  return line.substr(at + 15, line.find('"', at + 15) - at - 15);
}

// The partition of a shared topic of `partitions` that `platform`'s events belong on: murmur2 of
// the platform id, as the Java client and librdkafka's murmur2 partitioners place keys.
inline int PlatformPartition(const std::string& platform, int partitions) {
  return rd_kafka_msg_partitioner_murmur2(nullptr, platform.data(), platform.size(), partitions,
                                          nullptr, nullptr);
}

// Produces each (partition, line) to that partition of `topic`, in order, and waits until every
// one is acknowledged: a producer that places its messages itself. Returns the first error the
// brokers gave (RD_KAFKA_RESP_ERR_NO_ERROR: every message was written).
inline rd_kafka_resp_err_t ProduceToPartitionsError(
    const std::string& brokers, const std::string& topic,
    const std::vector<std::pair<int, std::string>>& messages, const ClientSettings& settings = {}) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err);
  Apply(conf, settings);
  static thread_local rd_kafka_resp_err_t first_error;
  first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    if (m->err && !first_error) first_error = m->err;
  });
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) return RD_KAFKA_RESP_ERR__INVALID_ARG;
  bool ok = true;
  for (const auto& [partition, line] : messages) {
    for (;;) {
      const rd_kafka_resp_err_t e = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(const_cast<char*>(line.data()), line.size()), RD_KAFKA_V_END);
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        ok = ok && e == RD_KAFKA_RESP_ERR_NO_ERROR;
        break;
      }
      rd_kafka_poll(rk, 100);
    }
  }
  const rd_kafka_resp_err_t flushed = rd_kafka_flush(rk, 60000);
  rd_kafka_destroy(rk);
  if (first_error) return first_error;
  if (flushed) return flushed;
  return ok ? RD_KAFKA_RESP_ERR_NO_ERROR : RD_KAFKA_RESP_ERR__FAIL;
}
inline bool ProduceToPartitions(const std::string& brokers, const std::string& topic,
                                const std::vector<std::pair<int, std::string>>& messages,
                                const ClientSettings& settings = {}) {
  return ProduceToPartitionsError(brokers, topic, messages, settings) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

}  // namespace flexwatch::testing
