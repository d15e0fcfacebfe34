// `flexwatch run`: the long-running monitor (monitor/).

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
#include "flexwatch/announce/evidence.h"
#include "flexwatch/monitor/monitor.h"

namespace flexwatch::cli {

int RunMonitor(const fw::Config& cfg, const RunArgs& a) {
  fw::MonitorOptions o = fw::MonitorOptionsOf(cfg, kFlexwatchVersion);
  if (!a.brokers.empty()) o.kafka.brokers = a.brokers;
  if (!a.topics.empty()) o.kafka.topics = a.topics;
  if (!a.group.empty()) o.kafka.group = a.group;
  if (!a.instance.empty()) o.kafka.instance_id = a.instance;
  if (!a.metrics_listen.empty()) o.metrics.listen = a.metrics_listen;
  o.state_dir = a.state;
  o.idle_exit_seconds = a.idle_exit;
  if (!o.publish.dir.empty()) {
    // The evidence goes with each publication when there is a key; a key asked for and not
    // usable is an error, none at all a note.
    const char* env = std::getenv("FLEXWATCH_PSEUDONYM_KEY");
    auto key = fw::LoadPseudonymKey(cfg.evidence.pseudonym_key_file, ConfigDir(cfg));
    if (key.ok())
      o.pseudonym_key = *key;
    else if ((env && *env) || !cfg.evidence.pseudonym_key_file.empty())
      return Fail("run: " + key.status().message());
    else
      std::fprintf(stderr, "run: publications in %s carry no evidence: %s\n", o.publish.dir.c_str(),
                   key.status().message().c_str());
  }
  fw::MonitorHooks hooks;
  hooks.progress = hooks.notice = [](const std::string& line) {
    std::fprintf(stderr, "run: %s\n", line.c_str());
  };
  auto monitor = fw::Monitor::Start(std::move(o), hooks);
  if (!monitor.ok()) return Fail("run: " + monitor.status().message());
  InstallStopHandlers();
  const fw::KafkaOptions& kafka = (*monitor)->options().kafka;
  std::string topics;
  for (const std::string& t : kafka.topics) topics += (topics.empty() ? "" : ",") + t;
  std::fprintf(stderr, "run: consuming %s from %s as group %s%s into %s\n", topics.c_str(),
               kafka.brokers.c_str(), kafka.group.c_str(),
               kafka.instance_id.empty() ? "" : (", instance " + kafka.instance_id).c_str(),
               a.state.c_str());
  auto counts = (*monitor)->Run(&g_stop);
  if (!counts.ok()) return Fail("run: " + counts.status().message());
  std::fprintf(stderr,
               "run: stopped: accepted %lld, duplicates %lld (%lld with other content), rejected "
               "%lld; %lld alerts\n",
               static_cast<long long>(counts->accepted), static_cast<long long>(counts->duplicates),
               static_cast<long long>(counts->rewritten), static_cast<long long>(counts->rejected),
               static_cast<long long>((*monitor)->alerts_written()));
  return kExitOk;
}

}  // namespace flexwatch::cli
