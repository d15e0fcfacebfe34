// The embedded broker: librdkafka's mock cluster in this process, for demos and tests.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "flexwatch/ingest/kafka.h"

namespace flexwatch {

struct EmbeddedBroker::Impl {
  rd_kafka_t* rk = nullptr;  // owns the mock cluster's thread
  rd_kafka_mock_cluster_t* cluster = nullptr;
  ~Impl() {
    if (cluster) rd_kafka_mock_cluster_destroy(cluster);
    if (rk) rd_kafka_destroy(rk);
  }
};

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::Start(
    const std::vector<std::string>& topics, int partitions, int brokers) {
  auto b = std::unique_ptr<EmbeddedBroker>(new EmbeddedBroker());
  b->impl_ = std::make_unique<Impl>();
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "client.id", "flexwatch-embedded-broker", err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "4", err, sizeof err);  // no notice about bootstrap servers
  b->impl_->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!b->impl_->rk) {
    rd_kafka_conf_destroy(conf);
    return Status::IOError(std::string("embedded broker: ") + err);
  }
  b->impl_->cluster = rd_kafka_mock_cluster_new(b->impl_->rk, brokers);
  if (!b->impl_->cluster) return Status::IOError("embedded broker: cannot start the mock cluster");
  for (const std::string& t : topics)
    if (rd_kafka_resp_err_t e =
            rd_kafka_mock_topic_create(b->impl_->cluster, t.c_str(), partitions, 1))
      return Status::IOError("embedded broker: topic " + t + ": " + rd_kafka_err2str(e));
  b->bootstrap_ = rd_kafka_mock_cluster_bootstraps(b->impl_->cluster);
  return b;
}

EmbeddedBroker::~EmbeddedBroker() = default;

Status EmbeddedBroker::SetDown(int id, bool down) {
  rd_kafka_resp_err_t e = down ? rd_kafka_mock_broker_set_down(impl_->cluster, id)
                               : rd_kafka_mock_broker_set_up(impl_->cluster, id);
  return e ? Status::IOError(rd_kafka_err2str(e)) : Status::OK();
}

}  // namespace flexwatch
