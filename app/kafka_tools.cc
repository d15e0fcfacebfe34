// `flexwatch broker` and `flexwatch produce`: Kafka for demos and tests.

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "cli.h"
#include "flexwatch/ingest/kafka.h"
#include "flexwatch/monitor/monitor.h"

namespace flexwatch::cli {

int RunBroker(const fw::Config& cfg, std::vector<std::string> topics, int partitions) {
  if (topics.empty()) topics = fw::MonitorTopics(cfg.kafka, cfg.publish);
  auto b = fw::EmbeddedBroker::Start(topics,
                                     partitions > 0 ? partitions : cfg.kafka.embedded_partitions);
  if (!b.ok()) return Fail("broker: " + b.status().message());
  InstallStopHandlers();
  std::printf("%s\n", (*b)->bootstrap().c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "broker: embedded broker (librdkafka mock cluster) at %s; keeps only the newest "
               "~5 MB of each partition; stop with SIGTERM or Ctrl-C\n",
               (*b)->bootstrap().c_str());
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return kExitOk;
}

int RunProduce(const fw::Config& cfg, const std::string& brokers, const std::string& topic,
               const std::vector<std::string>& inputs) {
  std::vector<std::string> lines;
  for (const std::string& in : inputs) {
    std::ifstream f(in == "-" ? "/dev/stdin" : in, std::ios::binary);
    if (!f) return Fail("produce: cannot read " + in);
    for (std::string l; std::getline(f, l);)
      if (!l.empty()) lines.push_back(std::move(l));
  }
  const std::string b = brokers.empty() ? cfg.kafka.brokers : brokers;
  if (b.empty()) return Fail("produce: give --brokers (or kafka.brokers in the config)");
  if (auto s = fw::ProduceLines(b, cfg.kafka.client,
                                topic.empty() ? cfg.kafka.topics.front() : topic, lines);
      !s.ok())
    return Fail("produce: " + s.message());
  std::fprintf(stderr, "produce: %zu messages acknowledged\n", lines.size());
  return kExitOk;
}

}  // namespace flexwatch::cli
