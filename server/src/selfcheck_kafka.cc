// Test feeds over Kafka: see SelfcheckKafka in selfcheck_api.h.
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "flexwatch/core/json.h"
#include "flexwatch/ingest/decoder.h"
#include "flexwatch/server/selfcheck_api.h"

namespace flexwatch {
namespace {

using Clock = std::chrono::steady_clock;

// A regular expression matching the topic names that start with `prefix` (librdkafka subscribes
// to names starting with '^' as patterns).
std::string PrefixPattern(const std::string& prefix) {
  std::string p = "^";
  for (char c : prefix) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) p += '\\';
    p += c;
  }
  return p + ".+";
}

}  // namespace

struct SelfcheckKafka::Impl {
  const SelfcheckService& config;
  std::function<void(const std::string&)> log;
  rd_kafka_t* consumer = nullptr;
  rd_kafka_t* producer = nullptr;
  std::atomic<bool> stop{false};
  std::thread thread;
  struct Feed {
    std::string lines;
    Clock::time_point last;
    std::map<int32_t, int64_t> next;  // per partition, the offset after the feed's last message
    bool too_large = false;
  };
  std::map<std::string, Feed> feeds;  // by test topic

  explicit Impl(const SelfcheckService& c) : config(c) {}
  ~Impl() {
    stop = true;
    if (thread.joinable()) thread.join();
    if (consumer) {
      rd_kafka_consumer_close(consumer);
      rd_kafka_destroy(consumer);
    }
    if (producer) {
      rd_kafka_flush(producer, 5000);
      rd_kafka_destroy(producer);
    }
  }

  void Say(const std::string& line) {
    if (log) log(line);
  }

  // Judges a finished feed, produces its report to the platform's results topic, and commits the
  // feed's offsets once the report is acknowledged (a crash before that judges it again).
  void Finish(const std::string& topic, Feed& feed) {
    const SelfcheckApiOptions& o = config.api;
    const std::string platform = topic.substr(o.test_topic_prefix.size());
    const std::string results = o.results_topic_prefix + platform;
    std::string payload, id, passed = "false";
    if (feed.too_large) {
      payload = ErrorJson("payload_too_large",
                          "the feed on " + topic + " is larger than selfcheck_api.max_body_mb");
    } else {
      auto kept = CheckAndKeep(config, platform, feed.lines);
      if (!kept.ok()) {
        Say("kafka " + topic + ": " + kept.status().message());
        payload = ErrorJson("internal_error", kept.status().message());
      } else {
        payload = kept->report.json;
        id = kept->id;
        passed = kept->report.passed ? "true" : "false";
      }
    }
    rd_kafka_headers_t* headers = rd_kafka_headers_new(2);
    rd_kafka_header_add(headers, "flexwatch.report_id", -1, id.data(),
                        static_cast<ssize_t>(id.size()));
    rd_kafka_header_add(headers, "flexwatch.passed", -1, passed.data(),
                        static_cast<ssize_t>(passed.size()));
    rd_kafka_resp_err_t e = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(results.c_str()),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                              RD_KAFKA_V_KEY(platform.data(), platform.size()),
                                              RD_KAFKA_V_VALUE(payload.data(), payload.size()),
                                              RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (e) rd_kafka_headers_destroy(headers);
    if (e || rd_kafka_flush(producer, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Say("kafka " + results + ": the report was not delivered; the feed will be judged again");
      return;  // offsets not committed
    }
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(feed.next.size()));
    for (const auto& [partition, next] : feed.next)
      rd_kafka_topic_partition_list_add(list, topic.c_str(), partition)->offset = next;
    rd_kafka_commit(consumer, list, /*async=*/0);
    rd_kafka_topic_partition_list_destroy(list);
    Say("kafka " + topic + " -> " + results + ": platform=" + platform +
        " bytes=" + std::to_string(feed.lines.size()) + " passed=" + passed +
        (id.empty() ? "" : " report=" + id));
  }

  void Loop() {
    const SelfcheckApiOptions& o = config.api;
    while (!stop) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 200);
      const auto now = Clock::now();
      if (m) {
        if (!m->err && m->rkt) {
          const std::string topic = rd_kafka_topic_name(m->rkt);
          const std::string platform = topic.substr(o.test_topic_prefix.size());
          if (IsValidId(platform, 64)) {
            Feed& feed = feeds[topic];
            feed.last = now;
            feed.next[m->partition] = m->offset + 1;
            rd_kafka_headers_t* headers = nullptr;
            const void* value = nullptr;
            size_t size = 0;
            const bool end = rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
                             rd_kafka_header_get_last(headers, "flexwatch.selfcheck", &value,
                                                      &size) == RD_KAFKA_RESP_ERR_NO_ERROR &&
                             std::string_view(static_cast<const char*>(value), size) == "end";
            if (!end) {
              if (feed.lines.size() + m->len + 1 > o.max_body_bytes) feed.too_large = true;
              if (!feed.too_large)
                feed.lines.append(static_cast<const char*>(m->payload), m->len).push_back('\n');
            } else {
              Finish(topic, feed);
              feeds.erase(topic);
            }
          } else {
            Say("kafka " + topic + ": '" + platform + "' is not a platform id; ignored");
          }
        }
        rd_kafka_message_destroy(m);
      }
      for (auto it = feeds.begin(); it != feeds.end();) {
        if (now - it->second.last < std::chrono::seconds(o.test_idle_seconds)) {
          ++it;
          continue;
        }
        Finish(it->first, it->second);
        it = feeds.erase(it);
      }
    }
  }
};

Result<std::unique_ptr<SelfcheckKafka>> SelfcheckKafka::Start(
    const SelfcheckService& config, const std::string& brokers,
    std::function<void(const std::string&)> log) {
  std::unique_ptr<SelfcheckKafka> k(new SelfcheckKafka());
  k->impl_ = std::make_unique<Impl>(config);
  Impl* impl = k->impl_.get();
  impl->log = std::move(log);
  char err[512];
  auto make = [&](rd_kafka_type_t type, std::map<std::string, std::string> settings,
                  rd_kafka_t** out) -> Status {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (const auto& [key, value] : config.kafka_client) settings.try_emplace(key, value);
    for (const auto& [key, value] : settings)
      if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) !=
          RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return Status::InvalidArgument("kafka setting " + key + ": " + err);
      }
    *out = rd_kafka_new(type, conf, err, sizeof err);
    if (!*out) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument(std::string("kafka: ") + err);
    }
    return Status::OK();
  };
  if (Status s = make(RD_KAFKA_CONSUMER,
                      {{"bootstrap.servers", brokers},
                       {"group.id", "flexwatch-selfcheck"},
                       {"enable.auto.commit", "false"},
                       {"auto.offset.reset", "earliest"},
                       {"topic.metadata.refresh.interval.ms", "2000"},
                       {"client.id", "flexwatch-selfcheck"}},
                      &impl->consumer);
      !s.ok())
    return s;
  if (Status s = make(RD_KAFKA_PRODUCER,
                      {{"bootstrap.servers", brokers},
                       {"enable.idempotence", "true"},
                       {"client.id", "flexwatch-selfcheck-results"}},
                      &impl->producer);
      !s.ok())
    return s;
  rd_kafka_poll_set_consumer(impl->consumer);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  const std::string pattern = PrefixPattern(config.api.test_topic_prefix);
  rd_kafka_topic_partition_list_add(topics, pattern.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(impl->consumer, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (e) return Status::IOError(std::string("kafka subscribe: ") + rd_kafka_err2str(e));
  impl->thread = std::thread([impl]() { impl->Loop(); });
  return k;
}

SelfcheckKafka::~SelfcheckKafka() = default;

}  // namespace flexwatch
