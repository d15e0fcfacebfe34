// `flexwatch gen` and `flexwatch demo`: a synthetic feed, and the main job on it.

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
#include "flexwatch/announce/publish.h"
#include "flexwatch/core/file.h"
#include "flexwatch/core/json.h"
#include "flexwatch/ingest/kafka.h"
#include "flexwatch/monitor/monitor.h"
#include "flexwatch/rules/evaluate.h"

namespace flexwatch::cli {

int RunGen(const fw::GenOptions& o, const std::string& truth_path, std::ostream& out) {
  std::ofstream truth;
  if (!truth_path.empty()) {
    truth.open(truth_path, std::ios::trunc);
    if (!truth) return Fail("gen: cannot write " + truth_path);
  }
  auto s = fw::Generate(o, out, truth_path.empty() ? nullptr : &truth);
  return s.ok() ? kExitOk : Fail("gen: " + s.message());
}

int RunDemo(const fw::Config& cfg, const std::string& dir, fw::GenOptions o) {
  if (!cfg.rules) return Fail("demo: " + cfg.path + " has no `rules` section");
  const fw::RuleSet* rules = &*cfg.rules;
  o.rules = rules;
  std::vector<fw::Alert> alerts;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Fail("demo: cannot create " + dir + ": " + ec.message());
  const std::string feed = (fs::path(dir) / "feed.ndjson").string();
  const std::string truth = (fs::path(dir) / "truth.json").string();
  const std::string state = (fs::path(dir) / "state").string();
  fs::remove_all(state, ec);
  fs::remove_all(fs::path(dir) / "announcements", ec);  // none of an earlier run's stays
  {
    std::ofstream f(feed, std::ios::trunc);
    std::printf("1. generating a feed: %d workers, %d platforms, %d months -> %s\n", o.workers,
                o.platforms, o.months, feed.c_str());
    if (int rc = RunGen(o, truth, f); rc != kExitOk) return rc;
  }
  // 2. The feed through Kafka: produced into the embedded broker and consumed by the monitor,
  // the producer paced behind the consumer (the embedded broker keeps ~5 MB per partition).
  fw::MonitorOptions mo = fw::MonitorOptionsOf(cfg, kFlexwatchVersion);
  fw::KafkaOptions& kafka = mo.kafka;
  kafka.topics = {cfg.kafka.topics.front()};
  auto broker =
      fw::EmbeddedBroker::Start(fw::MonitorTopics(kafka, cfg.publish), kafka.embedded_partitions);
  if (!broker.ok()) return Fail("demo: " + broker.status().message());
  kafka.brokers = (*broker)->bootstrap();
  kafka.group = "flexwatch-demo";
  kafka.commit_interval_ms = 50;             // the producer waits on the consumer's commits
  kafka.client["fetch.wait.max.ms"] = "10";  // and the consumer on the paced producer
  // The monitor's metrics, served while the demo runs (a free port) and kept in a file after.
  mo.metrics.listen = "127.0.0.1:0";
  mo.state_dir = state;
  // A batch, as a replay is: once every line is read and the topic has been quiet for a second,
  // the monitor closes what the feed's event time has closed (months whose grace has passed are
  // final) and returns.
  mo.idle_exit_seconds = 1;
  const fw::KafkaOptions produce_to = kafka;  // `mo` goes to the monitor
  std::printf(
      "2. producing it into the embedded broker at %s (topic %s), and consuming it with "
      "the monitor into %s\n",
      kafka.brokers.c_str(), kafka.topics.front().c_str(), state.c_str());
  std::fflush(stdout);
  std::vector<std::string> lines;
  {
    std::ifstream f(feed, std::ios::binary);
    for (std::string l; std::getline(f, l);)
      if (!l.empty()) lines.push_back(std::move(l));
  }
  fw::IngestCounts counts;
  {
    std::atomic<int64_t> consumed{0};
    std::atomic<bool> stop{false};
    fw::MonitorHooks hooks;
    hooks.notice = [](const std::string& line) { std::fprintf(stderr, "run: %s\n", line.c_str()); };
    hooks.on_commit = [&consumed](const fw::IngestCounts& c) {
      consumed.store(c.accepted + c.duplicates + c.rejected);
    };
    hooks.on_round = [&alerts](const fw::MonitorRound& done) {
      alerts.insert(alerts.end(), done.alerts.begin(), done.alerts.end());
    };
    auto monitor = fw::Monitor::Start(std::move(mo), hooks);
    if (!monitor.ok()) return Fail("demo: " + monitor.status().message());
    std::printf(
        "   metrics at http://%s/metrics while it runs (health /healthz, readiness /readyz)\n",
        (*monitor)->metrics_address().c_str());
    fw::Result<fw::IngestCounts> consumer_result = fw::IngestCounts{};
    std::thread consumer([&]() {
      consumer_result = (*monitor)->Run(&stop);
      stop.store(true);
    });
    constexpr int64_t kInFlight = 8000;  // about 2 MB: far below what a partition keeps
    auto produced = fw::ProduceLines(produce_to.brokers, produce_to.client,
                                     produce_to.topics.front(), lines, [&](int64_t n) {
                                       while (n - consumed.load() > kInFlight && !stop.load())
                                         std::this_thread::sleep_for(std::chrono::milliseconds(5));
                                     });
    if (!produced.ok()) stop.store(true);
    consumer.join();
    if (!produced.ok()) return Fail("demo: " + produced.message());
    if (!consumer_result.ok()) return Fail("demo: " + consumer_result.status().message());
    counts = *consumer_result;
    std::printf("   %lld messages through Kafka: accepted %lld, duplicates %lld, rejected %lld\n",
                static_cast<long long>(lines.size()), static_cast<long long>(counts.accepted),
                static_cast<long long>(counts.duplicates), static_cast<long long>(counts.rejected));
    std::printf("   %zu alerts produced to %s as levels changed, the first:\n", alerts.size(),
                cfg.kafka.alerts_topic.c_str());
    for (size_t i = 0; i < alerts.size() && i < 3; ++i)
      std::printf("   %s\n", alerts[i].json.c_str());
    fw::MonitorMetrics& metrics = (*monitor)->metrics();
    metrics.SetStateBytes((*monitor)->store().ApproximateBytes());
    const std::string scrape = (fs::path(dir) / "metrics.prom").string();
    if (auto s = fw::WriteFileAtomically(scrape, metrics.Scrape()); !s.ok())
      return Fail("demo: " + s.message());
    std::printf("   the metrics as they stood at the end: %s\n", scrape.c_str());
  }
  // Evidence pseudonyms need a key: the demo keeps its own beside its output. Absolute, since a
  // relative key path in the config is taken from the config file's folder, not from here.
  const std::string key_file = fs::absolute(fs::path(dir) / "pseudonym.key").string();
  if (!fs::exists(key_file)) {
    std::ifstream random("/dev/urandom", std::ios::binary);
    std::string key(32, '\0');
    random.read(key.data(), static_cast<std::streamsize>(key.size()));
    if (auto s = fw::WriteFileAtomically(key_file, fw::Base64(key) + "\n"); !s.ok())
      return Fail("demo: " + s.message());
  }
  auto key = fw::LoadPseudonymKey(key_file, "");  // $FLEXWATCH_PSEUDONYM_KEY wins
  if (!key.ok()) return Fail("demo: " + key.status().message());
  const fw::Pseudonymizer pseudonyms(*key);
  const std::string out = (fs::path(dir) / "announcements").string();
  int open_rc = 0;
  auto store = OpenExistingState(cfg, state, "demo", open_rc);
  if (!store) return open_rc;
  const std::vector<fw::Period> periods = store->Periods();
  std::printf("3. announcing each month into %s\n", out.c_str());
  std::fflush(stdout);
  for (fw::Period p : periods) {
    fw::PublicationRequest request;
    request.months = {p};
    request.pseudonyms = &pseudonyms;
    request.platforms = &cfg.platforms;
    request.issuer = &cfg.issuer;
    auto publication = fw::MakePublication(*store, *rules, cfg.detectors, request);
    if (!publication.ok()) return Fail("demo: " + publication.status().message());
    if (auto written = fw::WritePublication(out, *publication); !written.ok())
      return Fail("demo: " + written.status().message());
  }
  if (int rc; ReadFailed(*store, "demo", rc)) return rc;
  std::printf("\n4. the verdict (rules %s %s): affected/in scope and level per dimension\n\n",
              rules->id.c_str(), rules->version.c_str());
  std::printf("  %-16s %-7s %-5s %-6s %7s  %-20s %-20s %-20s %s\n", "platform", "month", "final",
              "ranked", "workers", "contract_avoidance", "underpayment", "coverage_mismatch",
              "level");
  std::optional<fw::Period> last_final;  // the announcement a bureau would publish
  for (fw::Period p : periods) {
    auto m = fw::EvaluateMonth(*store, *rules, p, {});
    if (!m.ok()) return Fail("demo: " + m.status().message());
    if (m->final) last_final = p;
    for (const fw::PlatformScore& ps : m->platforms) {
      std::string cells[fw::kDimensionCount];
      for (int d = 0; d < fw::kDimensionCount; ++d) {
        const fw::DimensionScore& ds = ps.dimensions[d];
        cells[d] = std::to_string(ds.affected) + "/" + std::to_string(ds.in_scope) + " " +
                   std::string(fw::NameOf(ds.level));
      }
      std::printf("  %-16s %-7s %-5s %-6s %7lld  %-20s %-20s %-20s %s\n", ps.platform_id.c_str(),
                  fw::FormatPeriod(p).c_str(), m->final ? "yes" : "no", ps.ranked ? "yes" : "no",
                  static_cast<long long>(ps.worker_months), cells[0].c_str(), cells[1].c_str(),
                  cells[2].c_str(), std::string(fw::NameOf(ps.level)).c_str());
    }
  }
  std::printf("\n  events accepted %lld, duplicates ignored %lld, rejected %lld\n",
              static_cast<long long>(counts.accepted), static_cast<long long>(counts.duplicates),
              static_cast<long long>(counts.rejected));
  std::printf(
      "\n  A month is final once its %d-day grace has passed in event time (or when announce "
      "--final closes it);\n  until then missing contributions are pending, not unpaid.\n",
      rules->grace_days);
  std::printf(
      "\nFeed: %s\nGround truth of planted violations: %s\nState: %s\n"
      "Rejected lines: %s/%s\n"
      "Announcements (JSON, Markdown, HTML, CSV; Chinese and English) and evidence for "
      "inspectors: %s\n"
      "The affected worker-months behind a finding: build/flexwatch inspect --state %s --platform "
      "ID --month YYYY-MM --dimension DIMENSION [--lang zh]\n"
      "Metrics as they stood at the end: %s/metrics.prom (the monitor serves them with "
      "`run --metrics-listen`; Prometheus, Grafana and Alertmanager: dashboards/README.md)\n",
      feed.c_str(), truth.c_str(), state.c_str(), state.c_str(), fw::kDeadLetterFileName,
      out.c_str(), state.c_str(), dir.c_str());
  // The latest final month's announcement: a provisional month's may still change.
  if (!periods.empty()) {
    const fw::Period shown = last_final.value_or(periods.back());
    const std::string page =
        (fs::absolute(out) / ("monthly-" + fw::FormatPeriod(shown) + ".zh.html")).string();
    std::printf(last_final ? "\nThe latest final month's announcement, open it in a browser: %s\n"
                             "  (English: %s)\n"
                           : "\nNo month is final yet; the latest, provisional, announcement: %s\n"
                             "  (English: %s)\n",
                page.c_str(), (page.substr(0, page.size() - 8) + ".en.html").c_str());
  }
  return kExitOk;
}

}  // namespace flexwatch::cli
