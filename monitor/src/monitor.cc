#include "flexwatch/monitor/monitor.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "flexwatch/alerts/alertmanager.h"
#include "flexwatch/announce/publish.h"
#include "flexwatch/server/http_server.h"
#include "flexwatch/state/meta_keys.h"

namespace flexwatch {

namespace {

void Say(const std::function<void(const std::string&)>& to, const std::string& line) {
  if (to) to(line);
}

// The operator's line for an alert sent: "alert: p-ride-2 contract_avoidance 2024-09 orange (was
// green), provisional", "alert: revision 1 of 2024-07: ...", "alert: early warning: ...".
std::string AlertLine(const Alert& a) {
  const std::string where = a.platform_id + " " + FormatPeriod(a.period);
  if (a.kind == "early_warning")
    return "alert: early warning: " + where + " " + a.detector + " (" + a.series + ")";
  const std::string change = a.platform_id + " " + a.dimension + " " + FormatPeriod(a.period) +
                             " " + a.level + " (was " + a.previous + ")";
  if (a.kind == "revision")
    return "alert: revision " + std::to_string(a.revision) + " of " + FormatPeriod(a.period) +
           ": " + change;
  return "alert: " + change + (a.final ? ", final" : ", provisional");
}

}  // namespace

std::vector<std::string> MonitorTopics(const KafkaOptions& kafka, const PublishOptions& publish) {
  std::vector<std::string> all = kafka.topics;
  all.push_back(kafka.dead_letter_topic);
  all.push_back(kafka.alerts_topic);
  all.push_back(publish.topic);
  if (!kafka.seals_topic.empty()) all.push_back(kafka.seals_topic);
  return all;
}

// The operator's view of the consumer's progress on stderr ("committed: ..." lines).
struct Progress {
  using SteadyClock = std::chrono::steady_clock;
  IngestCounts counts;  // the last commit's totals
  SteadyClock::time_point said_at{};
  int64_t said_total = 0;
  bool behind = true;  // not caught up since the last assignment or the start

  void Report(const ConsumerReport& r, const std::function<void(const std::string&)>& to) {
    auto say = [&to](const std::string& line) { Say(to, line); };
    int64_t lag = 0;
    const ConsumerReport::Lag* slowest = nullptr;
    int64_t furthest = INT64_MIN;
    for (const ConsumerReport::Lag& l : r.lags) {
      lag += l.messages;
      if (l.messages > 0 && (!slowest || l.messages > slowest->messages)) slowest = &l;
      furthest = std::max(furthest, l.event_time);
    }
    const int64_t total = counts.accepted + counts.duplicates + counts.rejected;
    const auto now = SteadyClock::now();
    const bool first = said_at == SteadyClock::time_point{};
    const bool caught_up = !r.lags.empty() && lag == 0;
    if (r.messages > 0 && (first || now - said_at >= std::chrono::seconds(5))) {
      std::string line = "committed: accepted " + std::to_string(counts.accepted) +
                         ", duplicates " + std::to_string(counts.duplicates) + ", rejected " +
                         std::to_string(counts.rejected) + " so far";
      if (!first) {
        const double seconds = std::chrono::duration<double>(now - said_at).count();
        line += "; " + std::to_string(static_cast<int64_t>((total - said_total) / seconds)) +
                " messages/s";
      }
      if (slowest) {
        line += "; behind by " + std::to_string(lag) + " messages, most on " + slowest->topic +
                "/" + std::to_string(slowest->partition) + " (" +
                std::to_string(slowest->messages) + ")";
        if (slowest->event_time != INT64_MIN) {
          line += ", read to event time " + FormatBeijing(slowest->event_time);
          const double days = static_cast<double>(furthest - slowest->event_time) / 86400000.0;
          if (days >= 0.01) {
            const std::string d = std::to_string(days);
            line += ", " + d.substr(0, d.find('.') + 3) + " days behind the furthest partition";
          }
        }
      } else if (caught_up) {
        line += "; caught up";
      }
      say(line);
      said_at = now;
      said_total = total;
    }
    if (caught_up && behind) {
      say("caught up: every partition read to its end (" + std::to_string(r.lags.size()) +
          "); accepted " + std::to_string(counts.accepted) + ", duplicates " +
          std::to_string(counts.duplicates) + ", rejected " + std::to_string(counts.rejected) +
          " so far");
      behind = false;
    } else if (lag > 0) {
      behind = true;
    }
  }
};

struct Monitor::Impl {
  MonitorHooks hooks;
  std::unique_ptr<EmbeddedBroker> embedded;
  MonitorMetrics metrics;
  Readiness readiness;
  std::unique_ptr<MonitorServer> server;
  std::unique_ptr<AlertmanagerSink> alertmanager;
  std::atomic<bool> alertmanager_failing{false};
  std::unique_ptr<Store> store;
  std::unique_ptr<Pseudonymizer> pseudonyms;  // null: publications carry no evidence
  // Between rounds: the series of the months already final (the detectors' history, which no
  // longer changes), and the months already said to be not judged.
  SeriesCache history;
  std::set<Period> said_not_judged;
  // The platforms this instance judges, and whether it publishes (the consumer keeps it).
  Ownership ownership;
  Progress progress;
  std::string owned_said;          // the ownership last said on stderr
  std::string judging_kept;        // and last kept in the state (meta_keys::kJudging)
  bool sealed_last_round = false;  // whether the last round was one of the instance that seals
  // The share judged when sealed months' revisions were last looked over for changes no
  // instance alerted (AlertOptions::takeover; none: not yet in this run).
  std::optional<std::string> revisions_owned;

  explicit Impl(int max_platforms) : metrics(max_platforms) {}

  // The months' trend for the dashboards: the latest revision of each of the last 12 sealed
  // months, read again when a month is sealed or revised (or a platform gets series).
  static constexpr size_t kTrendMonths = 12;
  std::string sealed_exported;
  Status ExportSealed() {
    std::vector<Period> sealed;
    std::string said = std::to_string(metrics.platforms_with_series());
    for (Period p : store->Periods())
      if (const size_t n = store->MetaKeys(meta_keys::RevisionPrefix(p)).size(); n > 0) {
        sealed.push_back(p);
        said += " " + FormatPeriod(p) + "/" + std::to_string(n);
      }
    if (said == sealed_exported) return Status::OK();
    if (sealed.size() > kTrendMonths)
      sealed.erase(sealed.begin(), sealed.end() - static_cast<ptrdiff_t>(kTrendMonths));
    std::map<Period, SealedVerdict> months;
    for (Period p : sealed) {
      auto revisions = ReadRevisions(*store, p);
      if (!revisions.ok()) return revisions.status();
      if (!revisions->empty()) months[p] = revisions->back().verdict;
    }
    metrics.SetSealed(months);
    sealed_exported = said;
    return Status::OK();
  }

  // The periodic work of a round: the open months re-evaluated, a level change or a new early
  // warning an alert in the outbox; once the topics have been quiet for
  // kafka.quiet_close_seconds, the months whose grace has passed in wall-clock time closed; the
  // months that became final published.
  Status Round(const MonitorOptions& o, double quiet_seconds, int64_t& alerts_written) {
    // Until the group has assigned partitions and what the other instances sent before is read
    // back, no platform is this instance's to judge: a round would seal months and revisions
    // whose alerts no one sends.
    if (!ownership.settled) return Status::OK();
    const auto start = std::chrono::steady_clock::now();
    std::optional<TimestampMs> quiet_now;
    if (quiet_seconds >= o.kafka.quiet_close_seconds)
      quiet_now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    MonitorRound done;
    AlertOptions alerting;
    alerting.topic = o.kafka.alerts_topic;
    alerting.quiet_now = quiet_now;
    alerting.history = &history;
    // Every sealed revision's documents are kept in the state (announce --revision N), published
    // or not.
    alerting.mark_publication = true;
    alerting.owns = [this](std::string_view platform) { return ownership.Owns(platform); };
    // One seal for the city: the instance that publishes seals and sends its seals on the seals
    // topic; the others adopt them (without that topic, each seals on its own).
    alerting.seal_topic = o.kafka.seals_topic;
    alerting.group = o.kafka.group;
    alerting.seals = o.kafka.seals_topic.empty() || ownership.publisher();
    alerting.recheck = alerting.seals && !sealed_last_round;
    if (!o.kafka.seals_topic.empty()) alerting.seal_until = ownership.read_to.value_or(INT64_MIN);
    const std::vector<std::string> assigned = ownership.Assigned();
    std::string said = std::to_string(assigned.size()) + " partition(s) (";
    for (size_t i = 0; i < assigned.size() && i < 8; ++i) said += (i ? ", " : "") + assigned[i];
    said += assigned.size() > 8 ? ", ...)" : ")";
    if (ownership.publisher()) said += "; it publishes the city's announcements";
    const std::string judging = ownership.Encode();
    if (judging != judging_kept) {
      Batch batch;
      batch.Put(meta_keys::kJudging, judging);
      if (Status s = store->Write(batch); !s.ok()) return s;
      judging_kept = judging;
    }
    alerting.takeover = revisions_owned != judging;
    if (said != owned_said) {
      owned_said = said;
      Say(hooks.progress, "judging the platforms of " + said + " (state " +
                              store->GetMeta(meta_keys::kStateId).value_or("?") +
                              ", the flexwatch.sender of its alerts)");
    }
    auto written = EvaluateAndAlert(*store, *o.rules, o.detectors, alerting, &done.round);
    if (!written.ok()) return written.status();
    sealed_last_round = alerting.seals;
    if (done.round.takeover_pending)
      revisions_owned.reset();
    else
      revisions_owned = judging;
    for (const SealMade& s : done.round.sealed)
      Say(hooks.progress, s.revision == 0
                              ? "sealed " + FormatPeriod(s.period) + " (revision 0)"
                              : "revised " + FormatPeriod(s.period) + ": revision " +
                                    std::to_string(s.revision) + ", " + std::to_string(s.changes) +
                                    " platform-dimension(s) changed");
    for (const Alert& a : *written) Say(hooks.progress, AlertLine(a));
    for (const auto& [period, why] : done.round.not_judged)
      if (said_not_judged.insert(period).second)
        Say(hooks.notice, "month " + FormatPeriod(period) + " not judged: " + why);
    PublishOptions publish = o.publish;
    publish.another_publishes = !ownership.publisher();
    publish.platforms = &o.platforms;
    publish.issuer = &o.issuer;
    auto published = PublishDue(*store, *o.rules, o.detectors, publish, pseudonyms.get());
    if (!published.ok()) return published.status();
    for (const std::string& path : *published) Say(hooks.notice, "published " + path);
    done.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    done.alerts = std::move(*written);
    done.published = std::move(*published);
    alerts_written += static_cast<int64_t>(done.alerts.size());
    metrics.OnRound(done.seconds, done.round, done.alerts);
    if (Status s = ExportSealed(); !s.ok()) return s;
    metrics.OnPublished(done.published);
    if (alertmanager) alertmanager->Update(done.round, *o.rules);
    if (hooks.on_round) hooks.on_round(done);
    return Status::OK();
  }
};

Result<std::unique_ptr<Monitor>> Monitor::Start(MonitorOptions options, MonitorHooks hooks) {
  std::unique_ptr<Monitor> m(new Monitor());
  m->impl_ = std::make_unique<Impl>(options.metrics.max_platforms);
  Impl& impl = *m->impl_;
  impl.hooks = std::move(hooks);
  if (!options.pseudonym_key.empty() && options.pseudonym_key.size() < 16)
    return Status::InvalidArgument("the pseudonym key is shorter than 16 bytes");
  if (!options.pseudonym_key.empty())
    impl.pseudonyms = std::make_unique<Pseudonymizer>(options.pseudonym_key);
  impl.metrics.SetBuildInfo(options.version, options.rules ? &*options.rules : nullptr);
  impl.metrics.ExportZeros(options.kafka.topics);
  if (options.kafka.brokers.empty()) {
    auto b = EmbeddedBroker::Start(MonitorTopics(options.kafka, options.publish),
                                   options.kafka.embedded_partitions);
    if (!b.ok()) return b.status();
    impl.embedded = std::move(*b);
    options.kafka.brokers = impl.embedded->bootstrap();
    impl.readiness.embedded_broker = options.kafka.brokers;
    Say(impl.hooks.notice,
        "no brokers configured (kafka.brokers, --brokers): running on the EMBEDDED broker at " +
            options.kafka.brokers +
            ", inside this process, for demos and tests only; it receives only what is produced "
            "to that address and keeps ~5 MB per partition");
  }
  if (!options.metrics.listen.empty()) {
    auto s = MonitorServer::Start(
        options.metrics.listen, [metrics = &impl.metrics] { return metrics->Scrape(); },
        &impl.readiness);
    if (!s.ok()) return s.status();
    impl.server = std::move(*s);
    Say(impl.hooks.notice, "metrics at http://" + impl.server->address() +
                               "/metrics (health /healthz, readiness /readyz)");
  }
  if (!options.alertmanager.url.empty()) {
    Impl* self = &impl;
    impl.alertmanager = std::make_unique<AlertmanagerSink>(
        options.alertmanager, [self](bool ok, const std::string& error) {
          self->metrics.OnAlertmanagerPost(ok);
          // Said once when posting starts failing, and once when it works again.
          if (ok == !self->alertmanager_failing.exchange(!ok)) return;
          Say(self->hooks.notice,
              ok ? "alertmanager: posting again"
                 : "alertmanager: " + error + " (alerts are kept and sent again)");
        });
    Say(impl.hooks.notice, "alerts posted to Alertmanager at " + options.alertmanager.url + " too");
  }
  auto store = Store::Open(options.state_dir, options.store);
  if (!store.ok()) return store.status();
  impl.store = std::move(*store);
  m->options_ = std::move(options);
  impl.metrics.SetRegistry(&m->options_.platforms);  // the names of flexwatch_platform_info
  return m;
}

Monitor::~Monitor() = default;

bool Monitor::embedded_broker() const { return impl_->embedded != nullptr; }

std::string Monitor::metrics_address() const {
  return impl_->server ? impl_->server->address() : std::string();
}

MonitorMetrics& Monitor::metrics() { return impl_->metrics; }

Store& Monitor::store() { return *impl_->store; }

Result<IngestCounts> Monitor::Run(const std::atomic<bool>* stop) {
  Impl& impl = *impl_;
  const MonitorOptions& o = options_;
  ConsumeControl control;
  control.idle_exit_seconds = o.idle_exit_seconds;
  control.ownership = &impl.ownership;
  control.announcements_topic = o.publish.topic;
  control.stop = stop;
  // Progress for operators (each commit is followed by a report with the lags): the first
  // commit, then a line at most every 5 seconds while there is work, and one when caught up.
  control.on_commit = [&impl](const IngestCounts& c) {
    impl.progress.counts = c;
    if (impl.hooks.on_commit) impl.hooks.on_commit(c);
  };
  control.on_ready = [&impl](bool ready, const std::string& why) {
    impl.readiness.brokers_answer = ready;
    impl.metrics.SetReady(impl.readiness.Why().empty());
    Say(impl.hooks.progress,
        ready ? "ready again: the brokers answer"
              : "not ready: " + why + "; waiting for the brokers (nothing is lost)");
  };
  control.on_revoke = [&impl, &o](int partitions) {
    Say(impl.hooks.progress, "group " + o.kafka.group +
                                 " rebalances: " + std::to_string(partitions) +
                                 " partition(s) handed back; nothing is judged here until it "
                                 "assigns them again");
  };
  control.on_join_wait = [&impl, &o](double seconds, bool rebalancing, int mock_session_ms) {
    const std::string why =
        mock_session_ms > 0
            ? "The embedded broker (librdkafka's mock cluster) keeps no static members: a "
              "member that stopped without leaving the group (kill -9, a crash), named or not, "
              "holds its partitions until its session expires (" +
                  std::to_string(mock_session_ms / 1000) +
                  " s here; kafka.client session.timeout.ms)"
            : "A member that stopped without leaving the group (kill -9, a crash) holds its "
              "partitions until its session expires (kafka.client session.timeout.ms; "
              "librdkafka's default 45 s); an instance restarted under its name (run --instance) "
              "takes its own back at once";
    Say(impl.hooks.notice,
        std::string(rebalancing ? "waiting for group " + o.kafka.group + " to rebalance"
                                : "waiting to join group " + o.kafka.group) +
            ": no partition assigned after " + std::to_string(static_cast<int>(seconds)) + " s. " +
            why);
  };
  control.on_kafka_log = [&impl](int level, const std::string& line) {
    static constexpr const char* kLevels[] = {"error",   "error",  "error", "error",
                                              "warning", "notice", "info",  "debug"};
    Say(impl.hooks.notice, std::string("kafka: ") + kLevels[std::clamp(level, 0, 7)] + ": " + line);
  };
  control.on_fenced = [&impl, &o](const std::string& why) {
    Say(impl.hooks.notice, "fenced in group " + o.kafka.group + " as instance " +
                               o.kafka.instance_id + " (" + why +
                               "); joining again under the same name (a group coordinator lost "
                               "with its broker fences its static members; fenced three times "
                               "within five minutes, another running instance has this name)");
  };
  control.on_catch_up = [&impl](bool caught, int partitions, double seconds) {
    const std::string n = std::to_string(partitions), took = std::to_string(seconds);
    Say(caught ? impl.hooks.progress : impl.hooks.notice,
        caught ? "caught up with the group's committed offsets of " + n +
                     " partition(s) taken over in " + took.substr(0, took.find('.') + 2) +
                     " s; judging their platforms"
               : "warning: " + n + " partition(s) taken over not read up to the group's " +
                     "committed offsets within " + std::to_string(ConsumeControl::kCatchUpSeconds) +
                     " s; judging their platforms on what this state holds (a level its previous "
                     "owner alerted may be alerted back and forth)");
  };
  control.on_start_gap = [&impl](const std::string& topic, int32_t partition, int64_t first,
                                 bool held) {
    const std::string n = std::to_string(first), where = topic + "/" + std::to_string(partition);
    Say(impl.hooks.notice,
        "warning: " + where + " starts at offset " + n + ": the " + n +
            " messages before it are no longer on the broker (retention, or the embedded "
            "broker's ~5 MB per partition) and this state never read them" +
            (held ? "; " + where +
                        " is not read: its platforms would be judged on part of their history. "
                        "Restore a state that read it, or set kafka.accept_trimmed_history to "
                        "judge them from offset " +
                        n + " on"
                  : "; read from offset " + n + " on (kafka.accept_trimmed_history)"));
  };
  control.on_assign = [&impl](const std::vector<std::pair<std::string, int32_t>>& parts,
                              const std::vector<int64_t>& from) {
    impl.readiness.assigned = !parts.empty();
    impl.metrics.SetReady(impl.readiness.Why().empty());
    std::string list;
    for (size_t i = 0; i < parts.size(); ++i)
      list += (i ? ", " : "") + parts[i].first + "/" + std::to_string(parts[i].second) + "@" +
              (from[i] < 0 ? std::string("start") : std::to_string(from[i]));
    Say(impl.hooks.progress, "assigned " + list + " (offsets from the state)");
  };
  control.on_report = [&impl](const ConsumerReport& r) {
    impl.progress.Report(r, impl.hooks.progress);
    impl.metrics.OnConsumerReport(r);
    if (r.messages == 0) impl.metrics.SetStateBytes(impl.store->ApproximateBytes());
  };
  if (o.rules && !o.kafka.seals_topic.empty()) {
    control.awaiting_seal = [&impl] {
      if (impl.ownership.publisher()) return false;
      for (Period p : impl.store->Periods())
        if (impl.store->GetMeta(meta_keys::AlertedFinal(p)) &&
            impl.store->MetaKeys(meta_keys::RevisionPrefix(p)).empty())
          return true;
      return false;
    };
    control.on_seal_wait = [&impl](bool adopted, double seconds) {
      Say(impl.hooks.notice,
          adopted ? "adopted the seal of the instance that publishes after " +
                        std::to_string(static_cast<int>(seconds + 0.5)) + " s"
                  : "warning: stopping with a month final here that the instance that publishes "
                    "has not sealed within " +
                        std::to_string(ConsumeControl::kSealWaitSeconds) +
                        " s; this state adopts the seal when it runs again");
    };
  }
  if (o.rules) {
    control.periodic_interval_ms = o.kafka.evaluate_interval_ms;
    control.periodic = [this, &impl, &o](double quiet_seconds) {
      return impl.Round(o, quiet_seconds, alerts_written_);
    };
  }
  impl.readiness.state_open = true;
  auto counts = ConsumeKafka(*impl.store, o.kafka, o.ingest, control);
  if (!counts.ok()) {
    impl.readiness.failed = true;
    return counts.status();
  }
  if (Status s = WriteDeadLetterFile(
          *impl.store, (std::filesystem::path(o.state_dir) / kDeadLetterFileName).string());
      !s.ok())
    return s;
  return counts;
}

}  // namespace flexwatch
