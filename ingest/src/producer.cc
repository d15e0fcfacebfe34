// Producing lines to a topic (`flexwatch produce`, the demo, tests).

#include <librdkafka/rdkafka.h>
#include <simdjson.h>

#include <atomic>

#include "flexwatch/ingest/kafka.h"
#include "kafka_settings.h"

namespace flexwatch {

using namespace kafka_detail;

namespace {

// A line's platform_id as the consumer will decode it, or empty: a line that is not JSON or names
// none goes unkeyed, and the consumer dead-letters it whatever its partition.
std::string PlatformKey(simdjson::ondemand::parser& parser, const std::string& line) {
  simdjson::padded_string padded(line);
  simdjson::ondemand::document doc;
  std::string_view id;
  if (parser.iterate(padded).get(doc) || doc["platform_id"].get_string().get(id)) return {};
  return std::string(id);
}

}  // namespace

Status ProduceLines(const std::string& brokers, const std::map<std::string, std::string>& client,
                    const std::string& topic, const std::vector<std::string>& lines,
                    const std::function<void(int64_t)>& pace) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> settings = {
      {"bootstrap.servers", brokers}, {"enable.idempotence", "true"}, {"linger.ms", "5"}};
  for (const auto& [k, v] : client)
    if (!ConsumerOnly(k)) settings[k] = v;
  // Keyed by platform_id as the Java client places keys (events.md 1.1, "Transport"): the
  // consumer rejects a message on any other partition of a shared topic as misrouted.
  settings["partitioner"] = "murmur2_random";
  if (Status s = SetAll(conf, settings); !s.ok()) {
    rd_kafka_conf_destroy(conf);
    return s;
  }
  std::atomic<int64_t> failed{0};
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    if (m->err) static_cast<std::atomic<int64_t>*>(opaque)->fetch_add(1);
  });
  rd_kafka_conf_set_opaque(conf, &failed);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(std::string("kafka producer: ") + err);
  }
  Status result = Status::OK();
  int64_t produced = 0;
  simdjson::ondemand::parser parser;
  for (const std::string& line : lines) {
    if (pace) {
      rd_kafka_poll(rk, 0);
      pace(produced);
    }
    ++produced;
    const std::string key = PlatformKey(parser, line);
    for (;;) {
      rd_kafka_resp_err_t e = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(line.data()), line.size()), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk, 50);
        continue;
      }
      if (e) result = Status::IOError(std::string("kafka produce: ") + rd_kafka_err2str(e));
      break;
    }
    if (!result.ok()) break;
    rd_kafka_poll(rk, 0);
  }
  if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR && result.ok())
    result = Status::IOError("kafka produce: not every message was acknowledged within 60 s");
  if (failed.load() > 0 && result.ok())
    result = Status::IOError("kafka produce: " + std::to_string(failed.load()) +
                             " messages were not delivered");
  rd_kafka_destroy(rk);
  return result;
}

}  // namespace flexwatch
