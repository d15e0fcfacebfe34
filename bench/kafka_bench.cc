// The Kafka path against a real broker, measured in one run (bench/kafka_bench.sh starts the
// broker):
//
//   kafka_bench --brokers HOST:PORT [--workers W] [--rounds R] [--seconds S] [--probes-per-s P]
//               [--intervals MS,MS|none] [--ids sequential|uuid|hex|snowflake] [--order
//               time|shuffled]
//               [--client KEY=VALUE]... [--dir DIR] [--json FILE]
//
// 1. Throughput. A generated month (W workers, ~190 events each; its event ids and line order
//    as gen --ids and --order make them) is produced to a topic of 4 partitions. Then, R times
//    each, alternating: a bare librdkafka consumer that only reads the topic in the same batches
//    (the floor; its partitions assigned directly), and the monitor (ConsumeKafka, as `run` drives
//    it: decoder, state writer, offsets in the state, commits to Kafka) into a fresh state until
//    every message is in committed state. Both are timed from their first batch of messages, so
//    that neither's start counts: the group join, and the half second librdkafka 2.0 may wait
//    before it asks a partition's first offset when the partition's leader was not joined yet
//    (the monitor joins a group and is assigned at once; it happens in about half the rounds).
//    Events per second of each round and its ratio; the bests, and the median of the ratios.
// 2. Alert delay. The monitor consumes a live topic while a steady load of the same month is
//    produced at half the monitor's median rate, re-evaluating every interval as `run` does. P
//    times a second a probe order is produced that turns one probe platform's contract level
//    from green to red (its worker crosses 40 h with no written agreement). The delay from the
//    probe's production to its provisional alert read from the alerts topic, against the delay
//    from its production to a bare consumer reading the probe itself (Kafka's own delivery, the
//    floor): median, p99 and maximum, for each evaluation interval given.
#include <librdkafka/rdkafka.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "flexwatch/alerts/alerts.h"
#include "flexwatch/gen/generator.h"
#include "flexwatch/ingest/kafka.h"
#include "flexwatch/settings/config.h"

namespace fs = std::filesystem;
namespace fw = flexwatch;

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "kafka_bench: %s\n", what.c_str());
  std::exit(1);
}

rd_kafka_conf_t* Conf(const std::string& brokers,
                      const std::vector<std::pair<std::string, std::string>>& more) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err)) Die(err);
  for (const auto& [k, v] : more)
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err)) Die(err);
  return conf;
}

void CreateTopics(const std::string& brokers, const std::vector<std::string>& names) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, Conf(brokers, {}), err, sizeof err);
  if (!rk) Die(err);
  std::vector<rd_kafka_NewTopic_t*> topics;
  for (const std::string& n : names)
    topics.push_back(rd_kafka_NewTopic_new(n.c_str(), 4, 1, err, sizeof err));
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, topics.data(), topics.size(), nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  if (!ev) Die("CreateTopics: no answer in 30 s");
  size_t n = 0;
  const rd_kafka_topic_result_t** res =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
  for (size_t i = 0; i < n; ++i)
    if (rd_kafka_topic_result_error(res[i]) &&
        rd_kafka_topic_result_error(res[i]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      Die(std::string("CreateTopics: ") + rd_kafka_topic_result_error_string(res[i]));
  rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  for (auto* t : topics) rd_kafka_NewTopic_destroy(t);
  rd_kafka_destroy(rk);
}

// A producer keyed by platform id and placed as the Java client places keys, as platforms produce
// (events.md 1.1, "Transport").
class Producer {
 public:
  explicit Producer(const std::string& brokers) {
    char err[512];
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER,
                       Conf(brokers, {{"linger.ms", "5"},
                                      {"enable.idempotence", "true"},
                                      {"partitioner", "murmur2_random"}}),
                       err, sizeof err);
    if (!rk_) Die(err);
  }
  ~Producer() {
    Flush();
    rd_kafka_destroy(rk_);
  }
  void Send(const std::string& topic, const std::string& line) {
    std::string_view key;
    if (size_t at = line.find("\"platform_id\":\""); at != std::string::npos)
      key = std::string_view(line).substr(at + 15, line.find('"', at + 15) - at - 15);
    for (;;) {
      rd_kafka_resp_err_t e = rd_kafka_producev(
          rk_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(line.data()), line.size()), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk_, 10);
        continue;
      }
      if (e) Die(std::string("produce: ") + rd_kafka_err2str(e));
      break;
    }
    rd_kafka_poll(rk_, 0);
  }
  void Flush() {
    if (rd_kafka_flush(rk_, 120000)) Die("produce: not acknowledged within 120 s");
  }

 private:
  rd_kafka_t* rk_;
};

// A consumer in a group of its own reading `topic` from the beginning; `on_message` sees each
// message until it returns false.
template <typename F>
void Consume(const std::string& brokers, const std::string& topic, const std::string& group,
             const std::atomic<bool>* stop, F on_message) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER,
                                Conf(brokers, {{"group.id", group},
                                               {"auto.offset.reset", "earliest"},
                                               {"enable.auto.commit", "false"},
                                               {"fetch.wait.max.ms", "10"}}),
                                err, sizeof err);
  if (!rk) Die(err);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* t = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(t, topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, t);
  rd_kafka_topic_partition_list_destroy(t);
  bool more = true;
  while (more && !(stop && stop->load())) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 50);
    if (!m) continue;
    if (!m->err) more = on_message(*m);
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}

// Time the calling thread has spent runnable but waiting for a core, in seconds (the second
// field of /proc/thread-self/schedstat, nanoseconds); 0 where the kernel does not say.
double RunnableSeconds() {
  std::ifstream f("/proc/thread-self/schedstat");
  long long on_cpu = 0, waiting = 0;
  if (!(f >> on_cpu >> waiting)) return 0;
  return static_cast<double>(waiting) * 1e-9;
}

// Idle time of all CPUs since boot, in seconds (/proc/stat).
double IdleSeconds() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  long long user, nice, sys, idle, iowait;
  f >> cpu >> user >> nice >> sys >> idle >> iowait;
  return static_cast<double>(idle + iowait) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Options {
  std::string brokers, dir = "kafka-bench", json;
  int workers = 4500, rounds = 3;
  double seconds = 30, probes_per_s = 5;
  std::vector<int> intervals = {5000, 1000};  // none: the throughput rounds only
  fw::IdShape ids = fw::IdShape::kSequential;
  fw::FeedOrder order = fw::FeedOrder::kTime;
  std::map<std::string, std::string> client;  // librdkafka settings for the monitor
};

fw::KafkaOptions MonitorKafka(const fw::Config& cfg, const Options& o, const std::string& topic,
                              const std::string& group) {
  fw::KafkaOptions k = cfg.kafka;
  k.brokers = o.brokers;
  k.topics = {topic};
  k.group = group;
  k.dead_letter_topic = "bench.dead";
  k.alerts_topic = "bench.alerts";
  for (const auto& [key, value] : o.client) k.client[key] = value;
  return k;
}

// Seconds from the consumer's first batch to the commit that holds the last of `n` messages.
double MonitorRound(const fw::Config& cfg, const Options& o, const std::string& topic,
                    const std::string& group, int64_t n, const fs::path& state) {
  fs::remove_all(state);
  auto store = fw::Store::Open(state.string(), cfg.store);
  if (!store.ok()) Die(store.status().ToString());
  std::atomic<bool> stop{false};
  Clock::time_point start{}, done{};
  fw::ConsumeControl control;
  control.stop = &stop;
  control.on_first_batch = [&] {
    if (start == Clock::time_point()) start = Clock::now();
  };
  int commits = 0;
  control.on_commit = [&](const fw::IngestCounts& c) {
    ++commits;
    if (c.accepted + c.duplicates + c.rejected >= n && !stop.load()) {
      done = Clock::now();
      stop.store(true);
    }
  };
  rusage before{}, after{}, pbefore{}, pafter{};
  const double ready0 = RunnableSeconds();
  getrusage(RUSAGE_THREAD, &before);
  getrusage(RUSAGE_SELF, &pbefore);
  const auto idle0 = IdleSeconds();
  const auto w0 = Clock::now();
  auto r = fw::ConsumeKafka(**store, MonitorKafka(cfg, o, topic, group), cfg.ingest, control);
  getrusage(RUSAGE_THREAD, &after);
  const double ready = RunnableSeconds() - ready0;
  getrusage(RUSAGE_SELF, &pafter);
  const double idle = IdleSeconds() - idle0, wall = Seconds(w0, Clock::now());
  if (!r.ok()) Die(r.status().ToString());
  auto cpu = [](const rusage& u) {
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
  };
  std::printf(
      "  monitor: %d commits; CPU s: %.2f its thread (%.2f s more ready to run, waiting for a "
      "core), %.2f the process; machine idle %.2f of %.2f core-s\n",
      commits, cpu(after) - cpu(before), ready, cpu(pafter) - cpu(pbefore), idle,
      wall * static_cast<double>(std::thread::hardware_concurrency()));
  if (!stop.load()) Die("the monitor stopped before reading every message");
  return Seconds(start, done);
}

// Seconds from the assignment of the topic's partitions to the last of `n` messages read by a
// consumer that does nothing else (the same client settings as the monitor's).
double BareRound(const fw::Config& cfg, const Options& o, const std::string& topic,
                 const std::string& group, int64_t n) {
  std::vector<std::pair<std::string, std::string>> settings = {{"group.id", group},
                                                               {"enable.auto.commit", "false"}};
  for (const auto& kv : cfg.kafka.client) settings.push_back(kv);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, Conf(o.brokers, settings), err, sizeof err);
  if (!rk) Die(err);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(4);
  for (int p = 0; p < 4; ++p)
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  Clock::time_point start{};
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  int64_t seen = 0;
  uint64_t bytes = 0;
  // The same batched reads as the monitor's.
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk);
  std::vector<rd_kafka_message_t*> batch(1000);
  while (seen < n) {
    const ssize_t got = rd_kafka_consume_batch_queue(queue, 100, batch.data(), batch.size());
    if (got > 0 && start == Clock::time_point()) start = Clock::now();
    for (ssize_t i = 0; i < got; ++i) {
      if (!batch[i]->err) {
        bytes += batch[i]->len;
        ++seen;
      }
      rd_kafka_message_destroy(batch[i]);
    }
  }
  const auto done = Clock::now();
  if (bytes == 0) Die("nothing read");
  rd_kafka_queue_destroy(queue);
  rd_kafka_destroy(rk);
  return Seconds(start, done);
}

struct Delays {
  std::vector<double> ms;
  double Quantile(double q) const {
    if (ms.empty()) return 0;
    std::vector<double> v = ms;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
  }
};

std::string ProbeOrder(int k, const std::string& id, int minutes, int day) {
  char ts[40];
  std::snprintf(ts, sizeof ts, "2024-07-%02dT12:00:00+08:00", day);
  return "{\"type\":\"order\",\"event_id\":\"" + id + "\",\"ts\":\"" + ts +
         "\",\"platform_id\":\"p-probe-" + std::to_string(k) + "\",\"worker_id\":\"w-probe-" +
         std::to_string(k) + "\",\"sector\":\"other\",\"duration_min\":" + std::to_string(minutes) +
         ",\"earnings_cny\":50}";
}

// A monitor on a live topic as `run` drives it, into a fresh state at `state`; `committed`
// follows its commits. The caller sets `control.periodic` and runs ConsumeKafka.
struct LiveMonitor {
  std::unique_ptr<fw::Store> store;
  fw::KafkaOptions kafka;
  fw::ConsumeControl control;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> committed{0};
  LiveMonitor(const fw::Config& cfg, const Options& o, const std::string& topic,
              const std::string& group, const std::string& alerts_topic, const fs::path& state,
              int interval_ms) {
    fs::remove_all(state);
    auto opened = fw::Store::Open(state.string(), cfg.store);
    if (!opened.ok()) Die(opened.status().ToString());
    store = std::move(*opened);
    kafka = MonitorKafka(cfg, o, topic, group);
    kafka.alerts_topic = alerts_topic;
    kafka.evaluate_interval_ms = interval_ms;
    control.stop = &stop;
    control.on_commit = [this](const fw::IngestCounts& c) {
      committed.store(c.accepted + c.duplicates + c.rejected);
    };
    control.periodic_interval_ms = interval_ms;
  }
};

// The rate the monitor sustains in the alert-delay set-up: the events produced while it runs
// (by this process, as fast as the broker takes them), a bare reader of the same topic beside it,
// evaluation rounds every `interval_ms`. Events per second from the first production (after a
// warm-up that waits for the assignment) to the commit that holds the last. On a machine that
// also runs the broker and the producer, this is lower than the throughput round's rate, which
// drains a topic filled beforehand with nothing else running.
double SustainedRate(const fw::Config& cfg, const Options& o, const std::vector<std::string>& lines,
                     int interval_ms) {
  const std::string tag = std::to_string(getpid()) + "-sustained";
  const std::string topic = "bench.sustained." + tag, alerts_topic = "bench.alerts." + tag;
  CreateTopics(o.brokers, {topic, alerts_topic});
  const fs::path state = fs::path(o.dir) / tag;
  LiveMonitor live(cfg, o, topic, "bench-" + tag, alerts_topic, state, interval_ms);
  auto& [store, kafka, control, stop, committed] = live;
  std::atomic<bool> readers_stop{false};
  fw::SeriesCache history;
  control.periodic = [&](double) -> fw::Status {
    auto a = fw::EvaluateAndAlert(*store, *cfg.rules, cfg.detectors,
                                  fw::AlertOptions{.topic = alerts_topic, .history = &history});
    return a.ok() ? fw::Status::OK() : a.status();
  };
  fw::Result<fw::IngestCounts> consumed = fw::IngestCounts{};
  std::thread monitor([&] { consumed = fw::ConsumeKafka(*store, kafka, cfg.ingest, control); });
  std::thread reader([&] {
    Consume(o.brokers, topic, "bench-reader-" + tag, &readers_stop,
            [](const rd_kafka_message_t&) { return true; });
  });
  const int64_t n = static_cast<int64_t>(lines.size()), warm = std::min<int64_t>(1000, n / 10);
  Producer producer(o.brokers);
  for (int64_t i = 0; i < warm; ++i) producer.Send(topic, lines[static_cast<size_t>(i)]);
  producer.Flush();
  while (committed.load() < warm && consumed.ok())
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto start = Clock::now();
  for (int64_t i = warm; i < n; ++i) producer.Send(topic, lines[static_cast<size_t>(i)]);
  producer.Flush();
  while (committed.load() < n && Seconds(start, Clock::now()) < 600)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double seconds = Seconds(start, Clock::now());
  stop.store(true);
  monitor.join();
  readers_stop.store(true);
  reader.join();
  if (!consumed.ok()) Die(consumed.status().ToString());
  if (committed.load() < n) Die("the sustained-rate round did not finish in 600 s");
  store.reset();
  fs::remove_all(state);
  return static_cast<double>(n - warm) / seconds;
}

struct LatencyResult {
  int interval_ms = 0;
  double rate = 0, seconds = 0;
  int probes = 0, alerts = 0;
  double behind_s = 0;  // the monitor's lag when the load ended, in seconds of load
  Delays transport, alert;
  int64_t rounds = 0;                          // evaluation rounds while the monitor ran
  double round_mean_ms = 0, round_max_ms = 0;  // their duration
  double round_cpu_mean_ms = 0;                // the CPU time they took
};

LatencyResult LatencyRound(const fw::Config& cfg, const Options& o,
                           const std::vector<std::string>& lines, double rate, int interval_ms,
                           int round) {
  const std::string tag = std::to_string(getpid()) + "-" + std::to_string(round);
  const std::string live = "bench.live." + tag, alerts_topic = "bench.alerts." + tag;
  CreateTopics(o.brokers, {live, alerts_topic});
  const int probes = static_cast<int>(o.seconds * o.probes_per_s);
  // Each probe platform's worker: 39 h of orders, independent, green. Its probe order makes it
  // 41 h: managed, with no written agreement: contract avoidance, red.
  Producer producer(o.brokers);
  for (int k = 0; k < probes; ++k)
    for (int j = 0; j < 3; ++j)
      producer.Send(live, ProbeOrder(k, "probe-pre-" + std::to_string(k) + "-" + std::to_string(j),
                                     780, 2 + j));
  // One more platform, turned red in the preload: its alert, read before the load starts, says
  // that the whole path is up (the monitor's idempotent producer has its id from the broker,
  // the alerts' reader its partitions), so that the probes measure the steady state, not the
  // clients' start (about 1.4 s here).
  const int warm = probes;
  for (int j = 0; j < 3; ++j)
    producer.Send(
        live, ProbeOrder(warm, "probe-pre-" + std::to_string(warm) + "-" + std::to_string(j), 780,
                         2 + j));
  producer.Send(live, ProbeOrder(warm, "probe-warm", 120, 20));
  const std::string warm_marker = "\"platform_id\": \"p-probe-" + std::to_string(warm) + "\"";
  producer.Flush();

  const fs::path state = fs::path(o.dir) / ("live-" + tag);
  LiveMonitor monitored(cfg, o, live, "bench-live-" + tag, alerts_topic, state, interval_ms);
  auto& [store, kafka, control, stop, committed] = monitored;
  int64_t early_alerts = 0;
  std::atomic<bool> loading{false};
  // As `run` does: the series kept between rounds, so that a round judges what changed.
  fw::SeriesCache history;
  int64_t rounds = 0;
  double round_seconds = 0, round_max = 0, round_cpu = 0;
  struct RoundLog {
    Clock::time_point start;
    double seconds;
    int64_t committed;
    size_t alerts;
  };
  std::vector<RoundLog> round_log;  // each round, for the verbose output
  control.periodic = [&](double) -> fw::Status {
    const auto start = Clock::now();
    const double c0 = fw::ThreadCpuSeconds();
    auto a = fw::EvaluateAndAlert(*store, *cfg.rules, cfg.detectors,
                                  fw::AlertOptions{.topic = alerts_topic, .history = &history});
    const double took = std::chrono::duration<double>(Clock::now() - start).count();
    round_cpu += fw::ThreadCpuSeconds() - c0;
    round_log.push_back({start, took, committed.load(), a.ok() ? a->size() : 0});
    ++rounds;
    round_seconds += took;
    round_max = std::max(round_max, took);
    if (!a.ok()) return a.status();
    if (!loading.load())
      for (const fw::Alert& alert : *a)
        early_alerts += alert.json.find(warm_marker) == std::string::npos;
    return fw::Status::OK();
  };
  fw::Result<fw::IngestCounts> consumed = fw::IngestCounts{};
  std::thread monitor([&] { consumed = fw::ConsumeKafka(*store, kafka, cfg.ingest, control); });

  std::mutex mu;
  std::vector<Clock::time_point> produced_at(probes), read_at(probes), alert_at(probes);
  std::atomic<bool> warm_alerted{false};
  std::atomic<bool> readers_stop{false};
  auto probe_of = [](std::string_view payload, std::string_view marker) -> int {
    const size_t at = payload.find(marker);
    if (at == std::string_view::npos) return -1;
    return std::atoi(std::string(payload.substr(at + marker.size(), 10)).c_str());
  };
  std::thread transport([&] {
    Consume(o.brokers, live, "bench-transport-" + tag, &readers_stop,
            [&](const rd_kafka_message_t& m) {
              const std::string_view p(static_cast<const char*>(m.payload), m.len);
              if (int k = probe_of(p, "\"event_id\":\"probe-now-"); k >= 0 && k < probes) {
                std::lock_guard<std::mutex> l(mu);
                read_at[k] = Clock::now();
              }
              return true;
            });
  });
  std::thread alerts([&] {
    Consume(o.brokers, alerts_topic, "bench-alerts-" + tag, &readers_stop,
            [&](const rd_kafka_message_t& m) {
              const std::string_view p(static_cast<const char*>(m.payload), m.len);
              if (p.find("\"final\": false") == std::string_view::npos) return true;
              if (p.find(warm_marker) != std::string_view::npos) warm_alerted.store(true);
              if (int k = probe_of(p, "\"platform_id\": \"p-probe-"); k >= 0 && k < probes) {
                std::lock_guard<std::mutex> l(mu);
                if (alert_at[k] == Clock::time_point()) alert_at[k] = Clock::now();
              }
              return true;
            });
  });
  // The preload in committed state and evaluated (green: no alert), before the load starts.
  const auto warm_since = Clock::now();
  while (committed.load() < 3 * probes + 4 || !warm_alerted.load()) {
    if (Seconds(warm_since, Clock::now()) > 120) Die("no alert of the warm-up platform in 120 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms + 500));
  loading.store(true);

  // The steady load, with the probes spread evenly through it.
  const auto start = Clock::now();
  const double gap = 1.0 / o.probes_per_s;
  size_t next_line = 0;
  int next_probe = 0;
  int64_t sent = 0;
  while (true) {
    const double t = Seconds(start, Clock::now());
    if (t >= o.seconds) break;
    const int64_t due = static_cast<int64_t>(t * rate);
    while (sent < due && next_line < lines.size()) {
      producer.Send(live, lines[next_line++]);
      ++sent;
    }
    if (next_probe < probes && t >= next_probe * gap) {
      {
        std::lock_guard<std::mutex> l(mu);
        produced_at[next_probe] = Clock::now();
      }
      producer.Send(live,
                    ProbeOrder(next_probe, "probe-now-" + std::to_string(next_probe), 120, 20));
      ++next_probe;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  const double loaded = Seconds(start, Clock::now());
  // How far behind the monitor was when the load ended (all it has read is committed within
  // commit_interval_ms of reading it).
  const int64_t behind = 3 * probes + 4 + sent + next_probe - committed.load();
  producer.Flush();
  // Every probe alerted, or a generous wait for the last ones.
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (std::none_of(alert_at.begin(), alert_at.end(),
                       [](Clock::time_point t) { return t == Clock::time_point(); }))
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  stop.store(true);
  monitor.join();
  readers_stop.store(true);
  transport.join();
  alerts.join();
  if (!consumed.ok()) Die(consumed.status().ToString());
  if (early_alerts) Die("the probes' preload raised alerts: the probe is not what it says");

  LatencyResult r;
  r.interval_ms = interval_ms;
  r.rate = static_cast<double>(sent) / loaded;
  r.seconds = loaded;
  r.behind_s = static_cast<double>(behind) / std::max(1.0, r.rate);
  r.probes = next_probe;
  r.rounds = rounds;
  r.round_mean_ms = rounds ? round_seconds * 1000 / static_cast<double>(rounds) : 0;
  r.round_max_ms = round_max * 1000;
  r.round_cpu_mean_ms = rounds ? round_cpu * 1000 / static_cast<double>(rounds) : 0;
  for (int k = 0; k < next_probe; ++k) {
    if (read_at[k] != Clock::time_point())
      r.transport.ms.push_back(Seconds(produced_at[k], read_at[k]) * 1000);
    if (alert_at[k] != Clock::time_point()) {
      ++r.alerts;
      r.alert.ms.push_back(Seconds(produced_at[k], alert_at[k]) * 1000);
    }
  }
  if (std::getenv("FLEXWATCH_BENCH_VERBOSE")) {
    for (int k = 0; k < next_probe; ++k)
      std::fprintf(
          stderr, "probe %d: read after %.0f ms, alerted after %.0f ms\n", k,
          read_at[k] == Clock::time_point() ? -1 : Seconds(produced_at[k], read_at[k]) * 1000,
          alert_at[k] == Clock::time_point() ? -1 : Seconds(produced_at[k], alert_at[k]) * 1000);
    for (const RoundLog& l : round_log)
      std::fprintf(stderr,
                   "evaluation round at %+.0f ms of the load: %.0f ms, %zu alerts, %lld events "
                   "committed\n",
                   Seconds(start, l.start) * 1000, l.seconds * 1000, l.alerts,
                   static_cast<long long>(l.committed));
    for (int k = 0; k < next_probe; ++k)
      std::fprintf(stderr, "probe %d produced at %+.0f ms of the load\n", k,
                   Seconds(start, produced_at[k]) * 1000);
  }
  fs::remove_all(state);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--brokers")
      o.brokers = v;
    else if (a == "--workers")
      o.workers = std::stoi(v);
    else if (a == "--rounds")
      o.rounds = std::stoi(v);
    else if (a == "--seconds")
      o.seconds = std::stod(v);
    else if (a == "--probes-per-s")
      o.probes_per_s = std::stod(v);
    else if (a == "--dir")
      o.dir = v;
    else if (a == "--json")
      o.json = v;
    else if (a == "--client" && v.find('=') != std::string::npos)
      o.client[v.substr(0, v.find('='))] = v.substr(v.find('=') + 1);
    else if (a == "--ids" || a == "--order") {
      bool known = false;
      for (size_t k = 0; k < fw::kIdShapeNames.size(); ++k)
        if (a == "--ids" && fw::kIdShapeNames[k] == v)
          o.ids = static_cast<fw::IdShape>(k), known = true;
      for (size_t k = 0; k < fw::kFeedOrderNames.size(); ++k)
        if (a == "--order" && fw::kFeedOrderNames[k] == v)
          o.order = static_cast<fw::FeedOrder>(k), known = true;
      if (!known) Die("unknown " + a + " " + v);
    } else if (a == "--intervals") {  // "none": the throughput rounds only
      o.intervals.clear();
      if (v == "none") continue;
      std::stringstream ss(v);
      for (std::string x; std::getline(ss, x, ',');) o.intervals.push_back(std::stoi(x));
    } else
      Die("unknown option " + a);
  }
  if (o.brokers.empty()) Die("--brokers HOST:PORT is required (bench/kafka_bench.sh starts one)");
  auto cfg = fw::ShippedConfig();
  if (!cfg.ok()) Die(cfg.status().ToString());
  fs::create_directories(o.dir);

  // The feed: one month, honest and faulty platforms as the generator makes them.
  fw::GenOptions g;
  g.workers = o.workers;
  g.months = 1;
  g.seed = 7;
  g.rules = &*cfg->rules;
  g.ids = o.ids;
  g.order = o.order;
  std::ostringstream feed;
  if (!fw::Generate(g, feed, nullptr).ok()) Die("gen failed");
  std::vector<std::string> lines;
  {
    std::istringstream in(feed.str());
    for (std::string l; std::getline(in, l);) lines.push_back(std::move(l));
  }
  const int64_t n = static_cast<int64_t>(lines.size());
  const std::string tag = std::to_string(getpid());
  const std::string topic = "bench.events." + tag;
  CreateTopics(o.brokers, {topic, "bench.dead", "bench.alerts"});
  {
    Producer p(o.brokers);
    for (const std::string& l : lines) p.Send(topic, l);
  }
  const std::string shape = std::string(fw::kIdShapeNames[static_cast<int>(o.ids)]) + " ids, " +
                            std::string(fw::kFeedOrderNames[static_cast<int>(o.order)]) + " order";
  std::printf("feed: %lld events (%d workers, 2024-07, %s) in %s, 4 partitions\n",
              static_cast<long long>(n), o.workers, shape.c_str(), topic.c_str());

  std::vector<double> bares, monitors, ratios;
  for (int r = 0; r < o.rounds; ++r) {
    const double bare = BareRound(*cfg, o, topic, "bench-bare-" + tag + "-" + std::to_string(r), n);
    const double mon =
        MonitorRound(*cfg, o, topic, "bench-monitor-" + tag + "-" + std::to_string(r), n,
                     fs::path(o.dir) / "state");
    std::printf(
        "round %d: bare consumer %.2f s (%.0f events/s), monitor %.2f s (%.0f events/s), "
        "ratio %.3f\n",
        r + 1, bare, static_cast<double>(n) / bare, mon, static_cast<double>(n) / mon, bare / mon);
    std::fflush(stdout);
    bares.push_back(static_cast<double>(n) / bare);
    monitors.push_back(static_cast<double>(n) / mon);
    ratios.push_back(bare / mon);
  }
  fs::remove_all(fs::path(o.dir) / "state");
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double bare_rate = *std::max_element(bares.begin(), bares.end());
  const double monitor_rate = *std::max_element(monitors.begin(), monitors.end());
  const double monitor_median = median(monitors);
  std::printf(
      "throughput over %d rounds: bare best %.0f events/s, monitor best %.0f (median %.0f) "
      "events/s; ratio of the bests %.3f, median of the rounds' ratios %.3f\n",
      o.rounds, bare_rate, monitor_rate, monitor_median, monitor_rate / bare_rate, median(ratios));

  std::vector<LatencyResult> results;
  double sustained = 0;
  auto write_json = [&]() {
    if (o.json.empty()) return;
    std::ofstream j(o.json);
    j << "{\"events\": " << n << ", \"ids\": \"" << fw::kIdShapeNames[static_cast<int>(o.ids)]
      << "\", \"order\": \"" << fw::kFeedOrderNames[static_cast<int>(o.order)]
      << "\", \"bare_events_per_s\": " << static_cast<int64_t>(bare_rate)
      << ", \"monitor_events_per_s\": " << static_cast<int64_t>(monitor_rate)
      << ", \"monitor_median_events_per_s\": " << static_cast<int64_t>(monitor_median)
      << ", \"ratio_of_bests\": " << monitor_rate / bare_rate
      << ", \"median_ratio\": " << median(ratios)
      << ", \"sustained_events_per_s\": " << static_cast<int64_t>(sustained)
      << ", \"alert_delay\": [";
    for (size_t i = 0; i < results.size(); ++i) {
      const LatencyResult& r = results[i];
      j << (i ? ", " : "") << "{\"interval_ms\": " << r.interval_ms
        << ", \"load_events_per_s\": " << static_cast<int64_t>(r.rate)
        << ", \"probes\": " << r.probes << ", \"alerted\": " << r.alerts
        << ", \"transport_ms\": {\"median\": " << r.transport.Quantile(0.5)
        << ", \"p99\": " << r.transport.Quantile(0.99)
        << "}, \"alert_ms\": {\"median\": " << r.alert.Quantile(0.5)
        << ", \"p99\": " << r.alert.Quantile(0.99) << ", \"max\": " << r.alert.Quantile(1.0)
        << "}, \"behind_s\": " << r.behind_s << ", \"rounds\": " << r.rounds
        << ", \"round_mean_ms\": " << r.round_mean_ms << ", \"round_max_ms\": " << r.round_max_ms
        << ", \"round_cpu_mean_ms\": " << r.round_cpu_mean_ms << "}";
    }
    j << "]}\n";
  };
  // The steady load needs a feed of its own large enough for half the rate over the seconds
  // given, so that every message is a new event.
  if (o.intervals.empty()) {
    write_json();
    return 0;
  }
  // Half the maximum sustained rate: the monitor's median above drains a topic filled before,
  // with nothing else running; in the alert-delay set-up the bench's producer and reader and the
  // broker's serving them share the machine. The maximum is measured in that set-up too (on
  // the feed of the throughput rounds), and the lower of the two is taken.
  sustained = SustainedRate(*cfg, o, lines, o.intervals.front());
  std::printf(
      "sustained in the alert-delay set-up (producing while consuming, a reader beside): "
      "%.0f events/s\n",
      sustained);
  const double load_rate = std::min(monitor_median, sustained) / 2;
  g.workers =
      static_cast<int>(load_rate * o.seconds * 1.2 / (static_cast<double>(n) / o.workers)) + 1;
  g.seed = 8;
  std::ostringstream load_feed;
  if (!fw::Generate(g, load_feed, nullptr).ok()) Die("gen failed");
  lines.clear();
  {
    std::istringstream in(load_feed.str());
    for (std::string l; std::getline(in, l);) lines.push_back(std::move(l));
  }
  for (size_t i = 0; i < o.intervals.size(); ++i) {
    LatencyResult r = LatencyRound(*cfg, o, lines, load_rate, o.intervals[i], static_cast<int>(i));
    std::printf(
        "alert delay, evaluate every %d ms, load %.0f events/s for %.0f s: %d/%d probes alerted; "
        "transport median %.1f ms p99 %.1f ms; alert median %.0f ms p99 %.0f ms max %.0f ms; "
        "monitor %.1f s behind at the end; %lld evaluation rounds, mean %.1f ms (%.1f ms CPU), "
        "max %.1f ms\n",
        r.interval_ms, r.rate, r.seconds, r.alerts, r.probes, r.transport.Quantile(0.5),
        r.transport.Quantile(0.99), r.alert.Quantile(0.5), r.alert.Quantile(0.99),
        r.alert.Quantile(1.0), r.behind_s, static_cast<long long>(r.rounds), r.round_mean_ms,
        r.round_cpu_mean_ms, r.round_max_ms);
    std::fflush(stdout);
    results.push_back(r);
  }
  write_json();
  for (const LatencyResult& r : results)
    if (r.alerts != r.probes) return 1;
  return 0;
}
