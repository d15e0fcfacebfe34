// librdkafka settings shared by the consumer and the producers. Internal to ingest/.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <string>

#include "flexwatch/core/status.h"

namespace flexwatch::kafka_detail {

// Sets each of `settings` on `conf`; fails naming the first refused (a secret's value hidden).
Status SetAll(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& settings);
// Whether a `kafka.client` setting is for consumers only (left out of producers' configuration).
bool ConsumerOnly(const std::string& key);

}  // namespace flexwatch::kafka_detail
