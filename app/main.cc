// flexwatch: the command line (spec/cli.md). Each subcommand is a few lines over the libraries.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
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

#include "flexwatch/alerts/alertmanager.h"
#include "flexwatch/alerts/alerts.h"
#include "flexwatch/announce/announcement.h"
#include "flexwatch/announce/backtest.h"
#include "flexwatch/announce/evidence.h"
#include "flexwatch/announce/render.h"
#include "flexwatch/core/decimal.h"
#include "flexwatch/core/file.h"
#include "flexwatch/core/ids.h"
#include "flexwatch/core/json.h"
#include "flexwatch/gen/generator.h"
#include "flexwatch/ingest/kafka.h"
#include "flexwatch/ingest/replay.h"
#include "flexwatch/rules/evaluate.h"
#include "flexwatch/selfcheck/selfcheck.h"
#include "flexwatch/server/http_server.h"
#include "flexwatch/server/metrics.h"
#include "flexwatch/server/selfcheck_api.h"
#include "flexwatch/server/tokens.h"
#include "flexwatch/settings/config.h"
#include "flexwatch/state/inspect.h"
#include "flexwatch/state/store.h"

namespace fw = flexwatch;
namespace fs = std::filesystem;

namespace {

constexpr const char* kFlexwatchVersion = FLEXWATCH_VERSION;
constexpr int kExitOk = 0;
constexpr int kExitFound = 1;
constexpr int kExitUsage = 2;

int Fail(const std::string& msg) {
  std::fprintf(stderr, "flexwatch: %s\n", msg.c_str());
  return kExitUsage;
}

// The state read whole? A read error (a corrupted or unreadable file) met on the way fails the
// command, naming the file, instead of giving a partial answer.
bool ReadFailed(fw::Store& store, const char* command, int& rc) {
  fw::Status s = store.ReadStatus();
  if (s.ok()) return false;
  rc = Fail(std::string(command) + ": " + s.message());
  return true;
}

// --config, else $FLEXWATCH_CONFIG, else config/flexwatch.yaml beside the build directory, else
// the copy of the shipped file compiled into the binary.
fw::Result<fw::Config> ResolveConfig(const std::string& flag) {
  if (!flag.empty()) return fw::LoadConfig(flag);
  if (const char* env = std::getenv("FLEXWATCH_CONFIG"); env && *env) return fw::LoadConfig(env);
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path candidate = exe.parent_path().parent_path() / "config" / "flexwatch.yaml";
    if (fs::exists(candidate, ec)) return fw::LoadConfig(candidate.string());
  }
  return fw::ShippedConfig();
}

void DrawProgress(const fw::ReplayProgress& p) {
  static auto last = std::chrono::steady_clock::time_point();
  auto now = std::chrono::steady_clock::now();
  if (now - last < std::chrono::milliseconds(200) && p.bytes_done != p.bytes_total) return;
  last = now;
  if (p.bytes_total > 0) {
    int pct = static_cast<int>(100.0 * static_cast<double>(p.bytes_done) /
                               static_cast<double>(p.bytes_total));
    int bar = pct / 4;
    std::fprintf(stderr, "\r%s [%.*s%*s] %3d%% %lld lines", p.source.c_str(), bar,
                 "=========================", 25 - bar, "", pct, static_cast<long long>(p.lines));
  } else {
    std::fprintf(stderr, "\r%s %lld lines", p.source.c_str(), static_cast<long long>(p.lines));
  }
  std::fflush(stderr);
}

struct ReplayArgs {
  std::string state, stats_json;
  std::vector<std::string> inputs;
  bool progress = true;
};

int RunReplay(const fw::Config& cfg, const ReplayArgs& a, fw::IngestCounts* out = nullptr) {
  for (const std::string& in : a.inputs) {
    std::error_code ec;
    if (in != "-" && !fs::is_regular_file(in, ec) && !fs::exists(in, ec))
      return Fail("replay: input file not found: " + in);
  }
  auto store = fw::Store::Open(a.state, cfg.store);
  if (!store.ok()) return Fail("replay: " + store.status().message());
  const bool tty = a.progress && ::isatty(2);
  auto counts =
      fw::ReplayFiles(**store, a.inputs, cfg.ingest,
                      tty ? std::function<void(const fw::ReplayProgress&)>(DrawProgress) : nullptr);
  if (tty) std::fputc('\n', stderr);
  if (!counts.ok()) return Fail("replay: " + counts.status().message());
  if (auto s =
          fw::WriteDeadLetterFile(**store, (fs::path(a.state) / fw::kDeadLetterFileName).string());
      !s.ok())
    return Fail("replay: " + s.message());
  const std::string stats = "{\"accepted\": " + std::to_string(counts->accepted) +
                            ", \"duplicates\": " + std::to_string(counts->duplicates) +
                            ", \"rejected\": " + std::to_string(counts->rejected) + "}";
  if (!a.stats_json.empty()) {
    std::ofstream f(a.stats_json, std::ios::trunc);
    f << stats << "\n";
    f.close();
    if (!f) return Fail("replay: cannot write " + a.stats_json + ": " + std::strerror(errno));
  }
  std::fprintf(
      stderr, "replay: accepted %lld, duplicates %lld, rejected %lld%s\n",
      static_cast<long long>(counts->accepted), static_cast<long long>(counts->duplicates),
      static_cast<long long>(counts->rejected),
      counts->rejected
          ? (" (see " + (fs::path(a.state) / fw::kDeadLetterFileName).string() + ")").c_str()
          : "");
  if (out) *out = *counts;
  return kExitOk;
}

int RunInspect(const fw::Config& cfg, const std::string& state, fw::InspectQuery q,
               const std::string& month, bool dump, bool close) {
  if (!month.empty()) {
    auto p = fw::ParsePeriod(month);
    if (!p.ok()) return Fail("inspect: --month " + month + ": " + p.status().message());
    q.month = *p;
  }
  if (!fs::exists(fs::path(state) / "CURRENT"))
    return Fail("inspect: " + state + " holds no flexwatch state");
  fw::StoreOptions options = cfg.store;
  options.read_only = true;  // reads only: also on a full disk, never writing to the state
  auto store = fw::Store::Open(state, options);
  if (!store.ok()) return Fail("inspect: " + store.status().message());
  if (dump) {
    auto s = (*store)->Dump([](std::string_view line) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    });
    if (int rc; ReadFailed(**store, "inspect", rc)) return rc;
    return s.ok() ? kExitOk : Fail("inspect: " + s.message());
  }
  if (cfg.rules) {
    fw::Store* st = store->get();
    const fw::RuleSet* rules = &*cfg.rules;
    q.explain = [st, rules, close](fw::Period p, const std::string& platform,
                                   const std::string& worker) {
      return fw::ExplainWorkerMonth(*st, *rules, p, platform, worker, close);
    };
  }
  auto json = fw::InspectJson(**store, q);
  if (!json.ok()) return Fail("inspect: " + json.status().message());
  if (int rc; ReadFailed(**store, "inspect", rc)) return rc;
  std::fwrite(json->data(), 1, json->size(), stdout);
  return kExitOk;
}

struct AnnounceArgs {
  std::string state, month, format = "json", lang = "en", out;
  int year = 0;
  bool close = false;
};

// The folder of the config file, for paths it names (empty for the compiled-in copy).
std::string ConfigDir(const fw::Config& cfg) {
  std::error_code ec;
  if (!fs::is_regular_file(cfg.path, ec)) return "";
  return fs::absolute(cfg.path, ec).parent_path().string();
}

int RunAnnounce(const fw::Config& cfg, const AnnounceArgs& a) {
  auto rules = cfg.Rules();
  if (!rules.ok()) return Fail("announce: " + rules.status().message());
  const auto lang = fw::LangFromName(a.lang);
  if (!lang) return Fail("announce: --lang " + a.lang + ": expected zh or en");
  const bool monthly = !a.month.empty();
  if (a.format != "json" && a.format != "md" && a.format != "html" && a.format != "csv" &&
      a.format != "all")
    return Fail("announce: --format " + a.format + ": expected json, md, html, csv or all");
  if (a.format == "all" && a.out.empty())
    return Fail("announce: --format all writes several files: give --out DIR");
  if (!fs::exists(fs::path(a.state) / "CURRENT"))
    return Fail("announce: " + a.state + " holds no flexwatch state");
  fw::StoreOptions options = cfg.store;
  options.read_only = true;  // reads only: also on a full disk, never writing to the state
  auto store = fw::Store::Open(a.state, options);
  if (!store.ok()) return Fail("announce: " + store.status().message());

  std::unique_ptr<fw::Pseudonymizer> pseudonyms;
  if (!a.out.empty()) {
    auto key = fw::LoadPseudonymKey(cfg.evidence.pseudonym_key_file, ConfigDir(cfg));
    if (!key.ok()) return Fail("announce: " + key.status().message());
    pseudonyms = std::make_unique<fw::Pseudonymizer>(*key);
  }
  std::vector<fw::Period> periods;
  if (!a.month.empty()) {
    auto p = fw::ParsePeriod(a.month);
    if (!p.ok()) return Fail("announce: --month " + a.month + ": " + p.status().message());
    periods.push_back(*p);
  } else {
    for (fw::Period p : (*store)->Periods())
      if (fw::PeriodYear(p) == a.year) periods.push_back(p);
  }
  std::vector<fw::MonthEvaluation> months;
  std::vector<std::string> written;
  for (fw::Period p : periods) {
    fw::EvidenceCollector evidence(pseudonyms.get());
    fw::EvaluateOptions eo;
    eo.close = a.close;
    if (pseudonyms) eo.on_finding = [&evidence](const fw::Finding& f) { evidence.Add(f); };
    auto m = fw::EvaluateMonth(**store, **rules, p, eo);
    if (!m.ok()) return Fail("announce: " + m.status().message());
    if (pseudonyms) {
      auto files = evidence.Write((fs::path(a.out) / "evidence").string(), *m, **rules);
      if (!files.ok()) return Fail("announce: " + files.status().message());
      written.insert(written.end(), files->begin(), files->end());
    }
    months.push_back(std::move(*m));
  }
  for (const fw::MonthEvaluation& m : months)
    if (m.platforms.empty())
      std::fprintf(stderr, "announce: note: state holds no worker-month of %s\n",
                   fw::FormatPeriod(m.period).c_str());
  if (months.empty()) std::fprintf(stderr, "announce: note: state holds no month of %d\n", a.year);
  // Each publication: its file name and its bytes.
  const std::vector<std::string> formats =
      a.format == "all" ? std::vector<std::string>{"json", "md", "html", "csv"}
                        : std::vector<std::string>{a.format};
  auto rendered = fw::RenderPublications(**store, **rules, cfg.detectors, months,
                                         monthly ? 0 : a.year, a.close, formats, *lang);
  if (!rendered.ok()) return Fail("announce: " + rendered.status().message());
  if (int rc; ReadFailed(**store, "announce", rc)) return rc;
  const fw::Files& outputs = *rendered;
  if (a.out.empty()) {
    std::fwrite(outputs.front().second.data(), 1, outputs.front().second.size(), stdout);
    return kExitOk;
  }
  std::string paths;
  for (const auto& [name, bytes] : outputs) {
    const std::string path = (fs::path(a.out) / name).string();
    if (auto s = fw::WriteFileAtomically(path, bytes); !s.ok())
      return Fail("announce: " + s.message());
    paths += (paths.empty() ? "" : ", ") + path;
  }
  std::fprintf(stderr, "announce: wrote %s and %zu evidence files under %s\n", paths.c_str(),
               written.size(), (fs::path(a.out) / "evidence").string().c_str());
  return kExitOk;
}

// The detectors' monthly series of each platform, one JSON object per platform and month.
int RunSeries(const fw::Config& cfg, const std::string& state, const std::string& platform,
              const std::string& month) {
  auto rules = cfg.Rules();
  if (!rules.ok()) return Fail("series: " + rules.status().message());
  if (!fs::exists(fs::path(state) / "CURRENT"))
    return Fail("series: " + state + " holds no flexwatch state");
  fw::StoreOptions options = cfg.store;
  options.read_only = true;
  auto store = fw::Store::Open(state, options);
  if (!store.ok()) return Fail("series: " + store.status().message());
  std::vector<fw::Period> periods = (*store)->Periods();
  if (!month.empty()) {
    auto p = fw::ParsePeriod(month);
    if (!p.ok()) return Fail("series: --month " + month + ": " + p.status().message());
    periods = {*p};
  }
  for (fw::Period p : periods) {
    auto m = fw::ComputeSeries(**store, **rules, p, false);
    if (!m.ok()) return Fail("series: " + m.status().message());
    for (const fw::PlatformMonth& pm : m->platforms)
      if (platform.empty() || pm.platform_id == platform)
        std::printf("%s\n", fw::SeriesJson(pm).c_str());
  }
  if (int rc; ReadFailed(**store, "series", rc)) return rc;
  return kExitOk;
}

struct BacktestArgs {
  std::string state, with, from, to, platform, format = "text";
  bool close = false;
};

// What another rule set or detector configuration would have done to the months in the state.
int RunBacktest(const fw::Config& cfg, const BacktestArgs& a) {
  auto alt = fw::LoadConfig(a.with);
  if (!alt.ok()) return Fail("backtest: --with: " + alt.status().message());
  auto rules = cfg.Rules();
  if (!rules.ok()) return Fail("backtest: " + rules.status().message());
  if (a.format != "text" && a.format != "json")
    return Fail("backtest: --format " + a.format + ": expected text or json");
  // A section the new file leaves out is the current configuration's.
  const fw::BacktestSide before{*rules, &cfg.detectors};
  const fw::BacktestSide after{alt->rules ? &*alt->rules : *rules,
                               alt->detectors.present ? &alt->detectors : &cfg.detectors};
  if (!fs::exists(fs::path(a.state) / "CURRENT"))
    return Fail("backtest: " + a.state + " holds no flexwatch state");
  fw::StoreOptions options = cfg.store;
  options.read_only = true;  // publishes nothing, and may run beside the monitor
  auto store = fw::Store::Open(a.state, options);
  if (!store.ok()) return Fail("backtest: " + store.status().message());
  fw::BacktestOptions bo;
  bo.platform = a.platform;
  bo.close = a.close;
  std::optional<fw::Period> from, to;
  for (auto [text, out, flag] : {std::tuple{&a.from, &from, "--from"}, {&a.to, &to, "--to"}}) {
    if (text->empty()) continue;
    auto p = fw::ParsePeriod(*text);
    if (!p.ok())
      return Fail("backtest: " + std::string(flag) + " " + *text + ": " + p.status().message());
    *out = *p;
  }
  for (fw::Period p : (*store)->Periods())
    if ((!from || p >= *from) && (!to || p <= *to)) bo.periods.push_back(p);
  if (bo.periods.empty()) return Fail("backtest: the state holds no month in that range");
  auto report = fw::Backtest(**store, before, after, bo);
  if (!report.ok()) return Fail("backtest: " + report.status().message());
  if (int rc; ReadFailed(**store, "backtest", rc)) return rc;
  const std::string out = a.format == "json" ? fw::BacktestJson(*report, before, after, bo)
                                             : fw::BacktestText(*report, before, after, bo);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

std::atomic<bool> g_stop{false};

void OnStopSignal(int) { g_stop.store(true); }

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

int RunSelfcheck(const fw::Config& cfg, const std::vector<std::string>& feeds,
                 const std::string& platform, const std::string& format) {
  if (format != "text" && format != "json")
    return Fail("selfcheck: --format " + format + ": expected json or text");
  if (!platform.empty() && !fw::IsValidId(platform, 64))
    return Fail("selfcheck: --platform " + platform + ": not a valid platform id");
  for (const std::string& in : feeds) {
    std::error_code ec;
    if (in != "-" && !fs::exists(in, ec)) return Fail("selfcheck: feed not found: " + in);
  }
  fw::SelfcheckOptions o;
  o.platform = platform;
  o.stop = &g_stop;  // SIGTERM or SIGINT: stop, and remove the throwaway state on the way out
  InstallStopHandlers();
  auto setup = fw::SelfcheckSetupOf(cfg);
  if (!setup.ok()) return Fail("selfcheck: " + setup.status().message());
  auto report = fw::RunSelfcheck(*setup, feeds, o);
  if (!report.ok()) return Fail("selfcheck: " + report.status().message());
  const std::string& out = format == "json" ? report->json : report->text;
  std::fwrite(out.data(), 1, out.size(), stdout);
  return report->passed ? kExitOk : kExitFound;
}

struct RunArgs {
  std::string brokers, group, state = "flexwatch-state", metrics_listen;
  std::vector<std::string> topics;
  double idle_exit = 0;
};

// The topics the monitor reads and the ones it writes (dead letters, alerts).
std::vector<std::string> EveryTopic(const fw::KafkaOptions& kafka,
                                    const fw::PublishOptions& publish) {
  std::vector<std::string> all = kafka.topics;
  all.push_back(kafka.dead_letter_topic);
  all.push_back(kafka.alerts_topic);
  all.push_back(publish.topic);
  return all;
}

// What a round of the monitor's periodic work did: its duration, what it judged, the alerts it
// wrote and the files it published.
struct RoundDone {
  double seconds = 0;
  fw::AlertRound round;
  std::vector<fw::Alert> alerts;
  std::vector<std::string> published;
};

// The monitor's periodic work: the open months re-evaluated, a level change or a new early
// warning an alert in the outbox (the series of months already final kept in memory between
// rounds); and once the topics have been quiet for kafka.quiet_close_seconds, the months whose
// grace has passed in wall-clock time closed.
std::function<fw::Status(double)> AlertingPeriodic(fw::Store* st, const fw::RuleSet* rules,
                                                   const fw::DetectorConfig* detectors,
                                                   const fw::PublishOptions* publish,
                                                   const fw::KafkaOptions& kafka,
                                                   std::function<void(RoundDone&)> on_round) {
  return [st, rules, detectors, publish, topic = kafka.alerts_topic,
          quiet_close = kafka.quiet_close_seconds, history = std::make_shared<fw::SeriesCache>(),
          said_not_judged = std::make_shared<std::set<fw::Period>>(),
          on_round = std::move(on_round)](double quiet_seconds) -> fw::Status {
    const auto start = std::chrono::steady_clock::now();
    std::optional<fw::TimestampMs> quiet_now;
    if (quiet_seconds >= quiet_close)
      quiet_now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    RoundDone done;
    auto written = fw::EvaluateAndAlert(*st, *rules, *detectors, topic, quiet_now, history.get(),
                                        !publish->dir.empty(), &done.round);
    if (!written.ok()) return written.status();
    for (const auto& [period, why] : done.round.not_judged)
      if (said_not_judged->insert(period).second)
        std::fprintf(stderr, "run: month %s not judged: %s\n", fw::FormatPeriod(period).c_str(),
                     why.c_str());
    auto published = fw::PublishDue(*st, *rules, *detectors, *publish);
    if (!published.ok()) return published.status();
    for (const std::string& path : *published)
      std::fprintf(stderr, "run: published %s\n", path.c_str());
    done.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    done.alerts = std::move(*written);
    done.published = std::move(*published);
    on_round(done);
    return fw::Status::OK();
  };
}

// The monitor's observability: metrics (served on `listen` when given), readiness, and the
// Alertmanager sink when configured. Hooks itself into `control`.
struct Observability {
  fw::MonitorMetrics metrics;
  fw::Readiness readiness;
  std::unique_ptr<fw::MonitorServer> server;
  std::unique_ptr<fw::AlertmanagerSink> alertmanager;
  std::atomic<bool> alertmanager_failing{false};

  explicit Observability(const fw::Config& cfg) : metrics(cfg.metrics.max_platforms) {
    metrics.SetBuildInfo(kFlexwatchVersion, cfg.rules ? &*cfg.rules : nullptr);
  }
  fw::Status Serve(const std::string& listen) {
    if (listen.empty()) return fw::Status::OK();
    auto s = fw::MonitorServer::Start(listen, &metrics, &readiness);
    if (!s.ok()) return s.status();
    server = std::move(*s);
    return fw::Status::OK();
  }
  void StartAlertmanager(const fw::AlertmanagerOptions& options) {
    if (options.url.empty()) return;
    alertmanager =
        std::make_unique<fw::AlertmanagerSink>(options, [this](bool ok, const std::string& error) {
          metrics.OnAlertmanagerPost(ok);
          // Said once when posting starts failing, and once when it works again.
          if (ok == !alertmanager_failing.exchange(!ok)) return;
          if (ok)
            std::fprintf(stderr, "run: alertmanager: posting again\n");
          else
            std::fprintf(stderr, "run: alertmanager: %s (alerts are kept and sent again)\n",
                         error.c_str());
        });
  }
  // Wires metrics and readiness into the consumer's callbacks, keeping the ones already set.
  void Hook(fw::ConsumeControl& control, fw::Store* store) {
    readiness.state_open = true;
    control.on_report = [this, store](const fw::ConsumerReport& r) {
      metrics.OnConsumerReport(r);
      if (r.messages == 0) metrics.SetStateBytes(store->ApproximateBytes());
    };
    auto on_ready = std::move(control.on_ready);
    control.on_ready = [this, on_ready](bool ready, const std::string& why) {
      readiness.brokers_answer = ready;
      metrics.SetReady(readiness.Why().empty());
      if (on_ready) on_ready(ready, why);
    };
    auto on_assign = std::move(control.on_assign);
    control.on_assign = [this, on_assign](const std::vector<std::pair<std::string, int32_t>>& p,
                                          const std::vector<int64_t>& from) {
      readiness.assigned = !p.empty();
      metrics.SetReady(readiness.Why().empty());
      if (on_assign) on_assign(p, from);
    };
  }
  void OnRound(const RoundDone& done, const fw::RuleSet& rules) {
    metrics.OnRound(done.seconds, done.round, done.alerts);
    metrics.OnPublished(done.published);
    if (alertmanager) alertmanager->Update(done.round, rules);
  }
};

// The long-running monitor: consumes the topics into the state until stopped (or idle).
int RunMonitor(const fw::Config& cfg, const RunArgs& a) {
  fw::KafkaOptions kafka = cfg.kafka;
  if (!a.brokers.empty()) kafka.brokers = a.brokers;
  if (!a.topics.empty()) kafka.topics = a.topics;
  if (!a.group.empty()) kafka.group = a.group;
  std::unique_ptr<fw::EmbeddedBroker> embedded;
  if (kafka.brokers.empty()) {
    auto b = fw::EmbeddedBroker::Start(EveryTopic(kafka, cfg.publish), kafka.embedded_partitions);
    if (!b.ok()) return Fail("run: " + b.status().message());
    embedded = std::move(*b);
    kafka.brokers = embedded->bootstrap();
    std::fprintf(stderr,
                 "run: no brokers configured (kafka.brokers, --brokers): running on the EMBEDDED "
                 "broker at %s, inside this process, for demos and tests only; it receives only "
                 "what is produced to that address and keeps ~5 MB per partition\n",
                 kafka.brokers.c_str());
  }
  Observability obs(cfg);
  if (embedded) obs.readiness.embedded_broker = kafka.brokers;
  if (auto s = obs.Serve(a.metrics_listen.empty() ? cfg.metrics.listen : a.metrics_listen); !s.ok())
    return Fail("run: " + s.message());
  if (obs.server)
    std::fprintf(stderr, "run: metrics at http://%s/metrics (health /healthz, readiness /readyz)\n",
                 obs.server->address().c_str());
  obs.StartAlertmanager(cfg.alertmanager);
  if (obs.alertmanager)
    std::fprintf(stderr, "run: alerts posted to Alertmanager at %s too\n",
                 cfg.alertmanager.url.c_str());
  auto store = fw::Store::Open(a.state, cfg.store);
  if (!store.ok()) return Fail("run: " + store.status().message());
  InstallStopHandlers();
  std::string topics;
  for (const std::string& t : kafka.topics) topics += (topics.empty() ? "" : ",") + t;
  std::fprintf(stderr, "run: consuming %s from %s as group %s into %s\n", topics.c_str(),
               kafka.brokers.c_str(), kafka.group.c_str(), a.state.c_str());
  fw::ConsumeControl control;
  control.idle_exit_seconds = a.idle_exit;
  control.stop = &g_stop;
  // Progress for operators: the first commit, then at most one line every 5 seconds.
  auto last_report = std::chrono::steady_clock::time_point();
  control.on_commit = [&last_report](const fw::IngestCounts& c) {
    const auto now = std::chrono::steady_clock::now();
    if (last_report != std::chrono::steady_clock::time_point() &&
        now - last_report < std::chrono::seconds(5))
      return;
    last_report = now;
    std::fprintf(stderr, "run: committed: accepted %lld, duplicates %lld, rejected %lld so far\n",
                 static_cast<long long>(c.accepted), static_cast<long long>(c.duplicates),
                 static_cast<long long>(c.rejected));
  };
  control.on_ready = [](bool ready, const std::string& why) {
    if (ready)
      std::fprintf(stderr, "run: ready again: the brokers answer\n");
    else
      std::fprintf(stderr, "run: not ready: %s; waiting for the brokers (nothing is lost)\n",
                   why.c_str());
  };
  control.on_start_gap = [](const std::string& topic, int32_t partition, int64_t first) {
    std::fprintf(stderr,
                 "run: warning: %s/%d starts at offset %lld: the %lld messages before it are no "
                 "longer on the broker (retention, or the embedded broker's ~5 MB per partition) "
                 "and this state never read them\n",
                 topic.c_str(), partition, static_cast<long long>(first),
                 static_cast<long long>(first));
  };
  control.on_assign = [](const std::vector<std::pair<std::string, int32_t>>& parts,
                         const std::vector<int64_t>& from) {
    std::string list;
    for (size_t i = 0; i < parts.size(); ++i)
      list += (i ? ", " : "") + parts[i].first + "/" + std::to_string(parts[i].second) + "@" +
              (from[i] < 0 ? std::string("start") : std::to_string(from[i]));
    std::fprintf(stderr, "run: assigned %s (offsets from the state)\n", list.c_str());
  };
  int64_t alerts = 0;
  if (cfg.rules) {
    // Open months re-evaluated as data arrives: level changes become alerts.
    fw::Store* st = store->get();
    const fw::RuleSet* rules = &*cfg.rules;
    control.periodic_interval_ms = kafka.evaluate_interval_ms;
    control.periodic = AlertingPeriodic(st, rules, &cfg.detectors, &cfg.publish, kafka,
                                        [&alerts, &obs, rules](RoundDone& done) {
                                          alerts += static_cast<int64_t>(done.alerts.size());
                                          obs.OnRound(done, *rules);
                                        });
  }
  obs.Hook(control, store->get());
  auto counts = fw::ConsumeKafka(**store, kafka, cfg.ingest, control);
  if (!counts.ok()) {
    obs.readiness.failed = true;
    return Fail("run: " + counts.status().message());
  }
  if (auto s =
          fw::WriteDeadLetterFile(**store, (fs::path(a.state) / fw::kDeadLetterFileName).string());
      !s.ok())
    return Fail("run: " + s.message());
  std::fprintf(stderr, "run: stopped: accepted %lld, duplicates %lld, rejected %lld; %lld alerts\n",
               static_cast<long long>(counts->accepted), static_cast<long long>(counts->duplicates),
               static_cast<long long>(counts->rejected), static_cast<long long>(alerts));
  return kExitOk;
}

// The platforms' self-check service, until SIGTERM or SIGINT.
int RunSelfcheckApi(fw::Config cfg, const std::string& listen, const std::string& brokers) {
  if (!listen.empty()) cfg.selfcheck_api.listen = listen;
  auto say = [](const std::string& line) {
    std::fprintf(stderr, "selfcheck-api: %s\n", line.c_str());
  };
  auto service = fw::SelfcheckServiceOf(cfg);
  if (!service.ok()) return Fail("selfcheck-api: " + service.status().message());
  auto api = fw::SelfcheckApi::Start(*service, say);
  if (!api.ok()) return Fail("selfcheck-api: " + api.status().message());
  // Test feeds over Kafka too, when there is a cluster.
  std::unique_ptr<fw::SelfcheckKafka> kafka;
  const std::string cluster = brokers.empty() ? cfg.kafka.brokers : brokers;
  if (!cluster.empty()) {
    auto k = fw::SelfcheckKafka::Start(*service, cluster, say);
    if (!k.ok()) return Fail("selfcheck-api: " + k.status().message());
    kafka = std::move(*k);
    std::fprintf(stderr, "selfcheck-api: test feeds from %s* on %s, reports to %s<platform>\n",
                 cfg.selfcheck_api.test_topic_prefix.c_str(), cluster.c_str(),
                 cfg.selfcheck_api.results_topic_prefix.c_str());
  }
  InstallStopHandlers();
  std::printf("%s://%s\n", (*api)->tls() ? "https" : "http", (*api)->address().c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "selfcheck-api: serving %s://%s/api/v1/selfcheck (tokens %s, reports in %s); "
               "stop with SIGTERM or Ctrl-C\n",
               (*api)->tls() ? "https" : "http", (*api)->address().c_str(),
               cfg.selfcheck_api.tokens_file.c_str(), cfg.selfcheck_api.reports_dir.c_str());
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return kExitOk;
}

// `flexwatch token add|revoke|list`: the self-check API's tokens.
int RunToken(const fw::Config& cfg, const std::string& action, const std::string& what,
             std::string file) {
  if (file.empty()) file = cfg.selfcheck_api.tokens_file;
  auto store = fw::TokenStore::Load(file);
  if (!store.ok()) return Fail("token: " + store.status().message());
  for (const std::string& problem : store->problems())
    std::fprintf(stderr, "token: warning: %s%s\n", problem.c_str(),
                 action == "list" ? "" : " (left out when the file is written now)");
  if (action == "add") {
    auto token = store->Add(what);
    if (!token.ok()) return Fail("token add: " + token.status().message());
    std::printf("%s\n", token->c_str());
    std::fprintf(stderr,
                 "token: added for %s (id %s) in %s; give it to the platform now: only its hash "
                 "is kept\n",
                 what.c_str(), store->entries().back().id.c_str(), file.c_str());
    return kExitOk;
  }
  if (action == "revoke") {
    auto gone = store->Revoke(what);
    if (!gone.ok()) return Fail("token revoke: " + gone.status().message());
    if (*gone == 0) return Fail("token revoke: no token with id or platform " + what);
    std::fprintf(stderr, "token: revoked %d\n", *gone);
    return kExitOk;
  }
  for (const fw::TokenEntry& e : store->entries())
    std::printf("%s\t%s\n", e.platform.c_str(), e.id.c_str());
  return kExitOk;
}

// A standalone embedded broker for other processes to produce into and consume from.
int RunBroker(const fw::Config& cfg, std::vector<std::string> topics, int partitions) {
  if (topics.empty()) topics = EveryTopic(cfg.kafka, cfg.publish);
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

int RunGen(const fw::GenOptions& o, const std::string& truth_path, std::ostream& out) {
  std::ofstream truth;
  if (!truth_path.empty()) {
    truth.open(truth_path, std::ios::trunc);
    if (!truth) return Fail("gen: cannot write " + truth_path);
  }
  auto s = fw::Generate(o, out, truth_path.empty() ? nullptr : &truth);
  return s.ok() ? kExitOk : Fail("gen: " + s.message());
}

// The main job on the embedded default: generate a feed, send it through the embedded Kafka
// broker into the monitor, announce each month and show the verdict.
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
  {
    std::ofstream f(feed, std::ios::trunc);
    std::printf("1. generating a feed: %d workers, %d platforms, %d months -> %s\n", o.workers,
                o.platforms, o.months, feed.c_str());
    if (int rc = RunGen(o, truth, f); rc != kExitOk) return rc;
  }
  // 2. The feed through Kafka: produced into the embedded broker and consumed by the monitor,
  // the producer paced behind the consumer (the embedded broker keeps ~5 MB per partition).
  fw::KafkaOptions kafka = cfg.kafka;
  kafka.topics = {cfg.kafka.topics.front()};
  auto broker =
      fw::EmbeddedBroker::Start(EveryTopic(kafka, cfg.publish), kafka.embedded_partitions);
  if (!broker.ok()) return Fail("demo: " + broker.status().message());
  kafka.brokers = (*broker)->bootstrap();
  kafka.group = "flexwatch-demo";
  kafka.commit_interval_ms = 50;             // the producer waits on the consumer's commits
  kafka.client["fetch.wait.max.ms"] = "10";  // and the consumer on the paced producer
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
  // The monitor's metrics, served while the demo runs (a free port) and kept in a file after.
  Observability obs(cfg);
  if (auto s = obs.Serve("127.0.0.1:0"); !s.ok()) return Fail("demo: " + s.message());
  std::printf(
      "   metrics at http://%s/metrics while it runs (health /healthz, readiness /readyz)\n",
      obs.server->address().c_str());
  fw::IngestCounts counts;
  {
    auto store = fw::Store::Open(state, cfg.store);
    if (!store.ok()) return Fail("demo: " + store.status().message());
    std::atomic<int64_t> consumed{0};
    std::atomic<bool> stop{false};
    fw::ConsumeControl control;
    control.stop = &stop;
    control.on_commit = [&consumed](const fw::IngestCounts& c) {
      consumed.store(c.accepted + c.duplicates + c.rejected);
    };
    fw::Store* st = store->get();
    control.periodic_interval_ms = cfg.kafka.evaluate_interval_ms;
    control.periodic = AlertingPeriodic(
        st, rules, &cfg.detectors, &cfg.publish, kafka, [&alerts, &obs, rules](RoundDone& done) {
          alerts.insert(alerts.end(), done.alerts.begin(), done.alerts.end());
          obs.OnRound(done, *rules);
        });
    obs.Hook(control, st);
    fw::Result<fw::IngestCounts> consumer_result = fw::IngestCounts{};
    std::thread consumer([&]() {
      consumer_result = fw::ConsumeKafka(**store, kafka, cfg.ingest, control);
      stop.store(true);
    });
    constexpr int64_t kInFlight = 8000;  // about 2 MB: far below what a partition keeps
    auto produced =
        fw::ProduceLines(kafka.brokers, kafka.client, kafka.topics.front(), lines, [&](int64_t n) {
          while (n - consumed.load() > kInFlight && !stop.load())
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        });
    while (produced.ok() && !stop.load() && consumed.load() < static_cast<int64_t>(lines.size()))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop.store(true);
    consumer.join();
    if (!produced.ok()) return Fail("demo: " + produced.message());
    if (!consumer_result.ok()) return Fail("demo: " + consumer_result.status().message());
    counts = *consumer_result;
    if (auto s =
            fw::WriteDeadLetterFile(**store, (fs::path(state) / fw::kDeadLetterFileName).string());
        !s.ok())
      return Fail("demo: " + s.message());
    std::printf("   %lld messages through Kafka: accepted %lld, duplicates %lld, rejected %lld\n",
                static_cast<long long>(lines.size()), static_cast<long long>(counts.accepted),
                static_cast<long long>(counts.duplicates), static_cast<long long>(counts.rejected));
    std::printf("   %zu alerts produced to %s as levels changed, the first:\n", alerts.size(),
                kafka.alerts_topic.c_str());
    for (size_t i = 0; i < alerts.size() && i < 3; ++i)
      std::printf("   %s\n", alerts[i].json.c_str());
    obs.metrics.SetStateBytes((*store)->ApproximateBytes());
    const std::string scrape = (fs::path(dir) / "metrics.prom").string();
    if (auto s = fw::WriteFileAtomically(scrape, obs.metrics.Scrape()); !s.ok())
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
  fw::Config demo_cfg = cfg;
  if (!std::getenv("FLEXWATCH_PSEUDONYM_KEY")) demo_cfg.evidence.pseudonym_key_file = key_file;
  const std::string out = (fs::path(dir) / "announcements").string();
  fs::create_directories(out, ec);
  std::vector<fw::Period> periods;
  {
    auto store = fw::Store::Open(state, cfg.store);
    if (!store.ok()) return Fail("demo: " + store.status().message());
    periods = (*store)->Periods();
  }
  std::printf("3. announcing each month into %s\n", out.c_str());
  std::fflush(stdout);
  for (fw::Period p : periods)
    for (const char* lang : {"zh", "en"}) {
      AnnounceArgs a;
      a.state = state;
      a.month = fw::FormatPeriod(p);
      a.out = out;
      a.format = "all";
      a.lang = lang;
      if (int rc = RunAnnounce(demo_cfg, a); rc != kExitOk) return rc;
    }
  auto store = fw::Store::Open(state, cfg.store);
  if (!store.ok()) return Fail("demo: " + store.status().message());
  std::printf("\n4. the verdict (rules %s %s): affected/in scope and level per dimension\n\n",
              rules->id.c_str(), rules->version.c_str());
  std::printf("  %-16s %-7s %-5s %-6s %7s  %-20s %-20s %-20s %s\n", "platform", "month", "final",
              "ranked", "workers", "contract_avoidance", "underpayment", "coverage_mismatch",
              "level");
  for (fw::Period p : periods) {
    auto m = fw::EvaluateMonth(**store, *rules, p, {});
    if (!m.ok()) return Fail("demo: " + m.status().message());
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
      "Why a worker-month got its verdict: build/flexwatch inspect --state %s --platform ID "
      "--worker ID --month YYYY-MM\n"
      "Metrics as they stood at the end: %s/metrics.prom (the monitor serves them with "
      "`run --metrics-listen`; Prometheus, Grafana and Alertmanager: dashboards/README.md)\n",
      feed.c_str(), truth.c_str(), state.c_str(), state.c_str(), fw::kDeadLetterFileName,
      out.c_str(), state.c_str(), dir.c_str());
  if (!periods.empty()) {
    const std::string page =
        (fs::absolute(out) / ("monthly-" + fw::FormatPeriod(periods.back()) + ".zh.html")).string();
    std::printf("\nThe announcement to publish, open it in a browser: %s\n  (English: %s)\n",
                page.c_str(), (page.substr(0, page.size() - 8) + ".en.html").c_str());
  }
  return kExitOk;
}

void AddGenOptions(CLI::App* cmd, fw::GenOptions& o, std::string& start,
                   std::vector<std::string>& drifts) {
  cmd->add_option("--workers", o.workers, "number of workers")->check(CLI::Range(1, 100000000));
  cmd->add_option("--platforms", o.platforms, "number of platforms")->check(CLI::Range(1, 10000));
  cmd->add_option("--months", o.months, "number of months")->check(CLI::Range(1, 120));
  cmd->add_option("--seed", o.seed, "random seed: same seed, same bytes");
  cmd->add_option("--start", start, "first month, YYYY-MM (default 2024-07)");
  cmd->add_option("--drift", drifts,
                  "plant a drift KIND:PLATFORM:YYYY-MM (repeatable; kinds: agency, contribution, "
                  "premium, capping, complaints; PLATFORM the number its id ends in)");
  cmd->add_option("--drifts", o.auto_drifts,
                  "plant this many drifts, kinds in turn, on platforms drawn from the seed")
      ->check(CLI::Range(0, 10000));
  cmd->add_flag_callback(
      "--honest", [&o]() { o.static_violations = false; },
      "no fixed violations: every platform honest but for its drifts");
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"flexwatch: platform-compliance early warning for flexibly employed workers"};
  app.require_subcommand(1);
  std::string config_path;
  app.add_option("--config", config_path, "configuration file (default: the shipped one)");

  ReplayArgs replay;
  auto* replay_cmd = app.add_subcommand("replay", "ingest NDJSON files (- is stdin) into state");
  replay_cmd->add_option("--state", replay.state, "state directory")->required();
  replay_cmd->add_option("--stats-json", replay.stats_json, "write this run's counts as JSON");
  replay_cmd->add_flag("!--no-progress", replay.progress, "no progress bar even on a terminal");
  replay_cmd->add_option("--config", config_path, "configuration file");
  replay_cmd->add_option("inputs", replay.inputs, "NDJSON files")->required();

  std::string inspect_state, inspect_month;
  fw::InspectQuery query;
  bool dump = false;
  auto* inspect_cmd = app.add_subcommand("inspect", "show what state holds");
  inspect_cmd->add_option("--state", inspect_state, "state directory")->required();
  inspect_cmd->add_option("--platform", query.platform, "one platform");
  inspect_cmd->add_option("--worker", query.worker, "one worker");
  inspect_cmd->add_option("--month", inspect_month, "one month, YYYY-MM");
  inspect_cmd->add_flag("--dump", dump, "every record, canonical text (for comparing states)");
  bool inspect_final = false;
  inspect_cmd->add_flag("--final", inspect_final,
                        "judge the month as closed (missing contributions count as unpaid)");
  inspect_cmd->add_option("--config", config_path, "configuration file");

  AnnounceArgs announce;
  auto* announce_cmd =
      app.add_subcommand("announce", "evaluate a month or a year and write the announcement");
  announce_cmd->add_option("--state", announce.state, "state directory")->required();
  auto* month_opt = announce_cmd->add_option("--month", announce.month, "the month, YYYY-MM");
  auto* year_opt = announce_cmd->add_option("--year", announce.year, "the year, YYYY")
                       ->check(CLI::Range(1970, 9999));
  month_opt->excludes(year_opt);
  announce_cmd->add_flag("--final", announce.close,
                         "close the period now: missing contributions count as unpaid");
  announce_cmd->add_option("--format", announce.format,
                           "json (default), md, html, csv, or all of them (with --out)");
  announce_cmd->add_option("--lang", announce.lang, "zh or en (default en)");
  announce_cmd->add_option("--out", announce.out,
                           "write the announcement and the evidence files here, not to stdout");
  announce_cmd->add_option("--config", config_path, "configuration file");

  std::string series_state, series_platform, series_month;
  auto* series_cmd = app.add_subcommand(
      "series", "the early-warning detectors' monthly series per platform (JSON lines)");
  series_cmd->add_option("--state", series_state, "state directory")->required();
  series_cmd->add_option("--platform", series_platform, "one platform");
  series_cmd->add_option("--month", series_month, "one month, YYYY-MM");
  series_cmd->add_option("--config", config_path, "configuration file");

  BacktestArgs backtest;
  auto* backtest_cmd = app.add_subcommand(
      "backtest",
      "show what another rule or detector configuration would have changed in the months in "
      "state (levels and warnings, before and after); publishes nothing");
  backtest_cmd->add_option("--state", backtest.state, "state directory")->required();
  backtest_cmd
      ->add_option("--with", backtest.with,
                   "the configuration to try (a section it lacks is the current one's)")
      ->required();
  backtest_cmd->add_option("--from", backtest.from, "first month, YYYY-MM (default: the first)");
  backtest_cmd->add_option("--to", backtest.to, "last month, YYYY-MM (default: the last)");
  backtest_cmd->add_option("--platform", backtest.platform, "one platform");
  backtest_cmd->add_flag("--final", backtest.close, "judge every month as closed");
  backtest_cmd->add_option("--format", backtest.format, "text (default) or json");
  backtest_cmd->add_option("--config", config_path, "the current configuration");

  std::string selfcheck_platform, selfcheck_format = "text";
  std::vector<std::string> selfcheck_feeds;
  auto* selfcheck_cmd = app.add_subcommand(
      "selfcheck", "check a platform's test feed: every line, and the rules on the feed alone");
  selfcheck_cmd->add_option("--platform", selfcheck_platform,
                            "the platform under check: lines of any other are refused");
  selfcheck_cmd->add_option("--format", selfcheck_format, "text (default) or json");
  selfcheck_cmd->add_option("--config", config_path, "configuration file");
  selfcheck_cmd->add_option("feeds", selfcheck_feeds, "NDJSON files (- is stdin)")->required();

  RunArgs run;
  auto* run_cmd = app.add_subcommand("run", "the long-running monitor: consume Kafka into state");
  run_cmd->add_option("--brokers", run.brokers,
                      "bootstrap servers (default: the config's; none: "
                      "an embedded broker)");
  run_cmd->add_option("--topic", run.topics, "a topic to consume (repeatable)");
  run_cmd->add_option("--group", run.group, "consumer group id");
  run_cmd->add_option("--state", run.state, "state directory (default ./flexwatch-state)");
  run_cmd->add_option("--metrics-listen", run.metrics_listen,
                      "serve Prometheus /metrics, /healthz and /readyz on host:port "
                      "(e.g. 127.0.0.1:9464; overrides metrics.listen)");
  run_cmd->add_option("--idle-exit", run.idle_exit, "stop after S seconds with no new message")
      ->check(CLI::Range(0.0, 1e9));
  run_cmd->add_option("--config", config_path, "configuration file");

  std::vector<std::string> broker_topics;
  int broker_partitions = 0;
  auto* broker_cmd = app.add_subcommand(
      "broker", "run an embedded broker (librdkafka's mock cluster) and print its address");
  broker_cmd->add_option("--topic", broker_topics, "a topic to create (repeatable)");
  broker_cmd->add_option("--partitions", broker_partitions, "partitions per topic")
      ->check(CLI::Range(1, 64));
  broker_cmd->add_option("--config", config_path, "configuration file");

  std::string api_listen, api_brokers;
  auto* api_cmd = app.add_subcommand(
      "selfcheck-api", "serve the platforms' self-check over HTTP (tokens, isolation, limits)");
  api_cmd->add_option("--listen", api_listen, "host:port (overrides selfcheck_api.listen)");
  api_cmd->add_option("--brokers", api_brokers,
                      "Kafka cluster of the platforms' test topics (overrides kafka.brokers)");
  api_cmd->add_option("--config", config_path, "configuration file");

  std::string token_action, token_what, token_file;
  auto* token_cmd = app.add_subcommand("token", "manage the self-check API's platform tokens");
  token_cmd
      ->add_option("action", token_action,
                   "add PLATFORM (prints a new token), revoke ID|PLATFORM, or list")
      ->required()
      ->check(CLI::IsMember({"add", "revoke", "list"}));
  token_cmd->add_option("what", token_what, "the platform (add), or a token id or platform");
  token_cmd->add_option("--file", token_file, "the token file (default selfcheck_api.tokens_file)");
  token_cmd->add_option("--config", config_path, "configuration file");

  std::string produce_brokers, produce_topic;
  std::vector<std::string> produce_inputs;
  auto* produce_cmd = app.add_subcommand(
      "produce", "produce NDJSON lines to a topic, keyed by worker_id (a test producer)");
  produce_cmd->add_option("--brokers", produce_brokers, "bootstrap servers");
  produce_cmd->add_option("--topic", produce_topic, "topic (default: the config's first)");
  produce_cmd->add_option("--config", config_path, "configuration file");
  produce_cmd->add_option("inputs", produce_inputs, "NDJSON files (- is stdin)")->required();

  fw::GenOptions gen;
  std::string truth_path, gen_start;
  auto* gen_cmd = app.add_subcommand("gen", "write a synthetic feed with planted violations");
  std::vector<std::string> gen_drifts, demo_drifts;
  AddGenOptions(gen_cmd, gen, gen_start, gen_drifts);
  gen_cmd->add_option("--truth", truth_path, "write the planted violations' ground truth here");
  gen_cmd->add_option("--config", config_path, "configuration file (its rules)");

  fw::GenOptions demo_gen;
  std::string demo_dir = "flexwatch-demo", demo_start;
  auto* demo_cmd = app.add_subcommand("demo", "generate a feed, replay it and show the state");
  AddGenOptions(demo_cmd, demo_gen, demo_start, demo_drifts);
  demo_cmd->add_option("--dir", demo_dir, "where the demo writes (default ./flexwatch-demo)");
  demo_cmd->add_option("--config", config_path, "configuration file");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    return Fail(msg + " (see --help)");
  }

  auto cfg = ResolveConfig(config_path);
  if (!cfg.ok()) return Fail(cfg.status().message());
  for (auto* o : {&gen, &demo_gen}) {
    const std::string& start = o == &gen ? gen_start : demo_start;
    if (start.empty()) continue;
    auto p = fw::ParsePeriod(start);
    if (!p.ok()) return Fail("--start " + start + ": " + p.status().message());
    o->start = *p;
  }
  for (auto* o : {&gen, &demo_gen})
    for (const std::string& text : o == &gen ? gen_drifts : demo_drifts) {
      auto d = fw::ParseDrift(text);
      if (!d.ok()) return Fail("--drift: " + d.status().message());
      o->drifts.push_back(*d);
    }

  if (*replay_cmd) return RunReplay(*cfg, replay);
  if (*inspect_cmd)
    return RunInspect(*cfg, inspect_state, query, inspect_month, dump, inspect_final);
  if (*announce_cmd) {
    if (announce.month.empty() && announce.year == 0)
      return Fail("announce: give --month YYYY-MM or --year YYYY");
    return RunAnnounce(*cfg, announce);
  }
  if (*run_cmd) return RunMonitor(*cfg, run);
  if (*series_cmd) return RunSeries(*cfg, series_state, series_platform, series_month);
  if (*backtest_cmd) return RunBacktest(*cfg, backtest);
  if (*broker_cmd) return RunBroker(*cfg, broker_topics, broker_partitions);
  if (*api_cmd) return RunSelfcheckApi(*cfg, api_listen, api_brokers);
  if (*token_cmd) {
    if (token_action != "list" && token_what.empty())
      return Fail("token " + token_action + ": give the " +
                  (token_action == "add" ? "platform" : "token id or platform"));
    return RunToken(*cfg, token_action, token_what, token_file);
  }
  if (*produce_cmd) return RunProduce(*cfg, produce_brokers, produce_topic, produce_inputs);
  if (*selfcheck_cmd)
    return RunSelfcheck(*cfg, selfcheck_feeds, selfcheck_platform, selfcheck_format);
  if (*gen_cmd) {
    auto rules = cfg->Rules();
    if (!rules.ok()) return Fail("gen: " + rules.status().message());
    gen.rules = *rules;
    std::ios::sync_with_stdio(false);
    return RunGen(gen, truth_path, std::cout);
  }
  if (*demo_cmd) return RunDemo(*cfg, demo_dir, demo_gen);
  return Fail("no subcommand (see --help)");
}

// Every subcommand's output is checked once written: a full disk or a closed pipe is an error
// (exit 2), never a partial answer with exit 0.
int main(int argc, char** argv) {
  int rc = Main(argc, argv);
  std::cout.flush();
  const bool flushed = std::fflush(stdout) == 0;
  if (!flushed || std::ferror(stdout) || !std::cout) {
    // errno still holds the failed write's reason (nothing succeeding clears it); named when it
    // is one a write gives, else left general rather than naming an older, unrelated failure.
    const int err = errno;
    const bool write_error = err == ENOSPC || err == EPIPE || err == EIO || err == EDQUOT ||
                             err == EFBIG || err == EBADF || err == EROFS;
    std::fprintf(stderr, "flexwatch: writing standard output: %s\n",
                 write_error ? std::strerror(err) : "write error");
    return kExitUsage;
  }
  return rc;
}
