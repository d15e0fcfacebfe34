#include "kafka_settings.h"

namespace flexwatch::kafka_detail {

Status SetAll(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& settings) {
  char err[512];
  for (const auto& [k, v] : settings)
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      // A secret's value is never printed.
      const bool secret = k.find("password") != std::string::npos ||
                          k.find("secret") != std::string::npos || k.ends_with(".pem");
      return Status::InvalidArgument("kafka setting " + k + "=" + (secret ? "(hidden)" : v) + ": " +
                                     err);
    }
  return Status::OK();
}

bool ConsumerOnly(const std::string& key) {
  return key.starts_with("fetch.") || key.starts_with("group.") || key == "session.timeout.ms" ||
         key == "heartbeat.interval.ms" || key == "max.poll.interval.ms" ||
         key == "auto.offset.reset" || key == "enable.partition.eof" ||
         key == "partition.assignment.strategy" || key == "isolation.level" ||
         key == "max.partition.fetch.bytes";
}

// The dead letter of a rejected message: the file form's fields, with the message's topic,
// partition and offset for its position.
}  // namespace flexwatch::kafka_detail
