#include "flexwatch/monitor/metrics.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "flexwatch/detectors/detectors.h"
#include "flexwatch/ingest/decoder.h"

namespace flexwatch {
namespace {

template <typename Builder>
auto& Register(Builder builder, const char* name, const char* help,
               prometheus::Registry& registry) {
  return builder.Name(name).Help(help).Register(registry);
}

prometheus::Histogram::BucketBoundaries Exponential(double from, double factor, int n) {
  prometheus::Histogram::BucketBoundaries b;
  for (double v = from; n-- > 0; v *= factor) b.push_back(v);
  return b;
}

// The start of a month, Beijing time, in seconds since the epoch.
double PeriodStartSeconds(Period p) {
  return static_cast<double>(FirstDayOfPeriod(p)) * 86400.0 - 8 * 3600.0;
}

}  // namespace

MonitorMetrics::MonitorMetrics(int max_platforms)
    : registry_(std::make_shared<prometheus::Registry>()),
      max_platforms_(static_cast<size_t>(std::max(0, max_platforms))),
      build_info_(Register(prometheus::BuildGauge(), "flexwatch_build_info",
                           "flexwatch's version and the rule set it judges by (always 1)",
                           *registry_)),
      events_(Register(prometheus::BuildCounter(), "flexwatch_events_total",
                       "Messages consumed, by topic, event type and outcome (applied, duplicate, "
                       "rejected with its reason code)",
                       *registry_)),
      lag_(Register(prometheus::BuildGauge(), "flexwatch_consumer_lag_messages",
                    "Messages of a partition not yet in the state (the broker's high watermark "
                    "less the next offset to read)",
                    *registry_)),
      commit_batch_(Register(prometheus::BuildHistogram(), "flexwatch_commit_batch_messages",
                             "Messages per atomic commit to the state", *registry_)
                        .Add({}, Exponential(1, 10, 7))),
      commit_seconds_(Register(prometheus::BuildHistogram(), "flexwatch_commit_duration_seconds",
                               "Time of one atomic commit (RocksDB write batch)", *registry_)
                          .Add({}, Exponential(0.0005, 2.5, 12))),
      last_commit_(Register(prometheus::BuildGauge(), "flexwatch_last_commit_timestamp_seconds",
                            "When the last commit of messages was made (the start, before one)",
                            *registry_)
                       .Add({})),
      state_bytes_(Register(prometheus::BuildGauge(), "flexwatch_state_size_bytes",
                            "Bytes of the state: live table files and memtables", *registry_)
                       .Add({})),
      ready_(Register(prometheus::BuildGauge(), "flexwatch_ready",
                      "1 when the state is open, partitions are assigned and the brokers answer",
                      *registry_)
                 .Add({})),
      evaluation_seconds_(Register(prometheus::BuildHistogram(),
                                   "flexwatch_evaluation_duration_seconds",
                                   "Time of one round of evaluation: the open months judged, "
                                   "alerts and warnings written",
                                   *registry_)
                              .Add({}, Exponential(0.001, 2.5, 14))),
      last_evaluation_(
          Register(prometheus::BuildGauge(), "flexwatch_last_evaluation_timestamp_seconds",
                   "When the last round of evaluation ended (the start, before one)", *registry_)
              .Add({})),
      period_(Register(prometheus::BuildGauge(), "flexwatch_period_start_timestamp_seconds",
                       "Start (Beijing time) of the month the platform series are of: month "
                       "\"current\" (the latest in the state) or \"last_final\"",
                       *registry_)),
      level_(Register(prometheus::BuildGauge(), "flexwatch_platform_level",
                      "A platform's level per dimension (composite: the worst): 0 green, 1 "
                      "yellow, 2 orange, 3 red",
                      *registry_)),
      level_is_{&Register(prometheus::BuildGauge(), "flexwatch_platform_level_green",
                          "1 when the platform's level in the dimension is green", *registry_),
                &Register(prometheus::BuildGauge(), "flexwatch_platform_level_yellow",
                          "1 when the platform's level in the dimension is yellow", *registry_),
                &Register(prometheus::BuildGauge(), "flexwatch_platform_level_orange",
                          "1 when the platform's level in the dimension is orange", *registry_),
                &Register(prometheus::BuildGauge(), "flexwatch_platform_level_red",
                          "1 when the platform's level in the dimension is red", *registry_)},
      rate_(Register(prometheus::BuildGauge(), "flexwatch_platform_rate_ratio",
                     "Affected over in-scope worker-months of a platform and dimension",
                     *registry_)),
      in_scope_(Register(prometheus::BuildGauge(), "flexwatch_platform_in_scope_workers",
                         "Worker-months in scope of the dimension (composite: of any)",
                         *registry_)),
      affected_(Register(prometheus::BuildGauge(), "flexwatch_platform_affected_workers",
                         "Worker-months affected in the dimension", *registry_)),
      warnings_now_(Register(prometheus::BuildGauge(), "flexwatch_platform_early_warnings",
                             "Early warnings of the platform in the month", *registry_)),
      rewritten_(Register(prometheus::BuildGauge(), "flexwatch_platform_rewritten_events",
                          "Events of the platform for the month delivered again under an "
                          "event_id already applied, with other content (a record rewritten "
                          "after it was delivered; the first arrival is what counts)",
                          *registry_)),
      platforms_(Register(prometheus::BuildGauge(), "flexwatch_platforms",
                          "Platforms of the month at each level per dimension, ranked or not (the "
                          "announcement counts the ranked ones; every platform, whatever the cap "
                          "on per-platform series)",
                          *registry_)),
      dropped_(Register(prometheus::BuildGauge(), "flexwatch_metrics_platforms_dropped",
                        "Platforms left without per-platform series (metrics.max_platforms)",
                        *registry_)
                   .Add({})),
      not_judged_(Register(prometheus::BuildGauge(), "flexwatch_months_not_judged",
                           "Months in the state that the rule set cannot judge (no row of a "
                           "dated table holds them; run says which on stderr)",
                           *registry_)
                      .Add({})),
      alerts_(Register(prometheus::BuildCounter(), "flexwatch_alerts_total",
                       "Level-change alerts written, by dimension, level and finality",
                       *registry_)),
      early_warnings_(Register(prometheus::BuildCounter(), "flexwatch_early_warnings_total",
                               "Early warnings alerted, by detector", *registry_)),
      published_(Register(prometheus::BuildCounter(), "flexwatch_announcements_published_total",
                          "Announcements published, by kind (monthly, annual)", *registry_)),
      alertmanager_posts_(Register(prometheus::BuildCounter(), "flexwatch_alertmanager_posts_total",
                                   "Posts to Alertmanager's API, by outcome (ok, failed)",
                                   *registry_)),
      info_(Register(prometheus::BuildGauge(), "flexwatch_platform_info",
                     "1 for each platform with series, with its registered names and unified "
                     "social credit code (registered=\"false\": not in the registry, named by its "
                     "id), to join on `platform` for names in panels",
                     *registry_)),
      sealed_level_(Register(prometheus::BuildGauge(), "flexwatch_sealed_platform_level",
                             "A platform's level per dimension (composite: the worst) in each "
                             "sealed month (label period, YYYY-MM), as its latest revision says: "
                             "0 green, 1 yellow, 2 orange, 3 red",
                             *registry_)),
      sealed_rate_(Register(prometheus::BuildGauge(), "flexwatch_sealed_platform_rate_ratio",
                            "Affected over in-scope worker-months of a platform and dimension in "
                            "each sealed month, as its latest revision says",
                            *registry_)) {
  // "Since the last commit or evaluation" counts from the start until there is one.
  last_commit_.SetToCurrentTime();
  last_evaluation_.SetToCurrentTime();
  for (const char* kind : {"monthly", "annual"}) published_.Add({{"kind", kind}});
  for (const char* outcome : {"ok", "failed"}) alertmanager_posts_.Add({{"outcome", outcome}});
}

void MonitorMetrics::SetBuildInfo(const std::string& version, const RuleSet* rules) {
  build_info_
      .Add({{"version", version},
            {"rule_set", rules ? rules->id : ""},
            {"rule_set_version", rules ? rules->version : ""},
            {"rule_set_fingerprint", rules ? rules->fingerprint : ""}})
      .Set(1);
}

void MonitorMetrics::ExportZeros(const std::vector<std::string>& topics) {
  for (std::string_view dimension : kDimensionNames)
    for (std::string_view level : kLevelNames)
      for (const char* final : {"false", "true"})
        alerts_.Add({{"dimension", std::string(dimension)},
                     {"level", std::string(level)},
                     {"final", final}});
  for (const char* detector : kDetectorIds) early_warnings_.Add({{"detector", detector}});
  for (const std::string& topic : topics) {
    if (topic.empty() || topic[0] == '^') continue;  // a pattern: its topics are not known yet
    for (std::string_view type : kEventTypeNames)
      for (const char* outcome : {"applied", "duplicate"})
        events_.Add({{"topic", topic}, {"type", std::string(type)}, {"outcome", outcome}});
    for (int c = 0; c < kRejectCodeCount; ++c)
      events_.Add({{"topic", topic},
                   {"type", "unknown"},
                   {"outcome", "rejected"},
                   {"reason", std::string(RejectCodeName(static_cast<RejectCode>(c)))}});
  }
}

void MonitorMetrics::OnConsumerReport(const ConsumerReport& r) {
  if (r.messages > 0) {
    commit_batch_.Observe(static_cast<double>(r.messages));
    commit_seconds_.Observe(r.commit_seconds);
    last_commit_.SetToCurrentTime();
  }
  for (const ConsumerReport::Outcome& o : r.outcomes) {
    double& seen = events_seen_[{o.topic, o.type, o.outcome, o.reason}];
    const double n = static_cast<double>(o.count);
    if (n <= seen) continue;
    Labels labels = {{"topic", o.topic}, {"type", o.type}, {"outcome", o.outcome}};
    if (!o.reason.empty()) labels["reason"] = o.reason;
    events_.Add(labels).Increment(n - seen);
    seen = n;
  }
  std::set<std::pair<std::string, int32_t>> now;
  for (const ConsumerReport::Lag& l : r.lags) {
    lag_.Add({{"topic", l.topic}, {"partition", std::to_string(l.partition)}})
        .Set(static_cast<double>(l.messages));
    now.insert({l.topic, l.partition});
  }
  if (!r.lags.empty() || r.messages == 0) {  // partitions no longer assigned lose their series
    for (const auto& [topic, partition] : lag_partitions_)
      if (!now.count({topic, partition}))
        lag_.Remove(&lag_.Add({{"topic", topic}, {"partition", std::to_string(partition)}}));
    lag_partitions_ = std::move(now);
  }
}

void MonitorMetrics::SetStateBytes(uint64_t bytes) { state_bytes_.Set(static_cast<double>(bytes)); }
void MonitorMetrics::SetReady(bool ready) { ready_.Set(ready ? 1 : 0); }

void MonitorMetrics::SetMonth(const RoundMonth& m, const std::string& which) {
  period_.Add({{"month", which}}).Set(PeriodStartSeconds(m.period));
  std::map<std::string, int> warnings;
  for (const EarlyWarning& w : m.warnings) ++warnings[w.platform_id];
  // Platform counts per dimension and level: every platform, capped or not.
  // Split by ranked (the announcement counts only ranked platforms per level).
  std::array<std::array<std::array<int, 4>, kDimensionCount + 1>, 2> counts{};
  for (const PlatformScore& ps : m.platforms) {
    auto& mine = counts[ps.ranked ? 1 : 0];
    for (int d = 0; d < kDimensionCount; ++d) ++mine[d][static_cast<int>(ps.dimensions[d].level)];
    ++mine[kDimensionCount][static_cast<int>(ps.level)];
    if (!exported_.count(ps.platform_id)) continue;
    // A platform's gauges are made once per month label, in a fixed order, and then only set.
    // Not a structured binding: clang before 16 cannot capture one in the lambda below.
    const auto emplaced = series_.try_emplace({ps.platform_id, which});
    const bool fresh = emplaced.second;
    auto it = emplaced.first;
    std::vector<std::pair<prometheus::Family<prometheus::Gauge>*, prometheus::Gauge*>>& gauges =
        emplaced.first->second;
    size_t next = 0;
    auto set = [&](prometheus::Family<prometheus::Gauge>& family, const std::string& dimension,
                   double value) {
      if (fresh) {
        Labels labels = {{"platform", ps.platform_id}, {"month", which}};
        if (!dimension.empty()) labels["dimension"] = dimension;
        gauges.push_back({&family, &family.Add(labels)});
      }
      gauges[next++].second->Set(value);
    };
    for (int d = 0; d <= kDimensionCount; ++d) {
      const bool composite = d == kDimensionCount;
      const Level level = composite ? ps.level : ps.dimensions[d].level;
      const std::string dim =
          composite ? "composite" : std::string(NameOf(static_cast<Dimension>(d)));
      set(level_, dim, static_cast<double>(level));
      for (int l = 0; l < 4; ++l) set(*level_is_[l], dim, static_cast<int>(level) == l ? 1 : 0);
      if (composite) {
        set(in_scope_, dim, static_cast<double>(ps.in_scope_workers));
        continue;
      }
      const DimensionScore& ds = ps.dimensions[d];
      set(rate_, dim, ds.in_scope ? static_cast<double>(ds.affected) / ds.in_scope : 0.0);
      set(in_scope_, dim, static_cast<double>(ds.in_scope));
      set(affected_, dim, static_cast<double>(ds.affected));
    }
    set(warnings_now_, "", warnings[ps.platform_id]);
    set(rewritten_, "", static_cast<double>(ps.rewritten));
    touched_.insert(it->first);
  }
  for (int ranked = 0; ranked < 2; ++ranked)
    for (int d = 0; d <= kDimensionCount; ++d)
      for (int l = 0; l < 4; ++l)
        platforms_
            .Add({{"month", which},
                  {"dimension", d == kDimensionCount
                                    ? "composite"
                                    : std::string(NameOf(static_cast<Dimension>(d)))},
                  {"level", std::string(NameOf(static_cast<Level>(l)))},
                  {"ranked", ranked ? "true" : "false"}})
            .Set(counts[ranked][d][l]);
}

void MonitorMetrics::OnRound(double seconds, const AlertRound& round,
                             const std::vector<Alert>& alerts) {
  evaluation_seconds_.Observe(seconds);
  last_evaluation_.SetToCurrentTime();
  for (const Alert& a : alerts) {
    if (a.kind == "early_warning")
      early_warnings_.Add({{"detector", a.detector}}).Increment();
    else
      alerts_
          .Add({{"dimension", a.dimension},
                {"level", a.level},
                {"final", a.final ? "true" : "false"}})
          .Increment();
  }
  not_judged_.Set(static_cast<double>(round.not_judged.size()));
  if (round.months.empty()) return;
  const RoundMonth* current = &round.months.back();
  const RoundMonth* last_final = nullptr;
  for (const RoundMonth& m : round.months)
    if (m.final) last_final = &m;
  // New platforms get series, worst first, while the cap allows; those admitted keep them.
  std::map<std::string, Level> seen;
  for (const RoundMonth* m : {current, last_final})
    if (m)
      for (const PlatformScore& ps : m->platforms)
        seen[ps.platform_id] = std::max(seen[ps.platform_id], ps.level);
  std::vector<std::pair<Level, std::string>> fresh;
  for (const auto& [id, level] : seen)
    if (!exported_.count(id)) fresh.push_back({level, id});
  std::sort(fresh.begin(), fresh.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  size_t dropped = 0;
  for (const auto& [level, id] : fresh) {
    if (exported_.size() >= max_platforms_) {
      ++dropped;
      continue;
    }
    exported_.insert(id);
    const PlatformInfo* info = names_ ? names_->Find(id) : nullptr;
    info_
        .Add({{"platform", id},
              {"name_zh", info ? info->name_zh : id},
              {"name_en", info ? info->name_en : id},
              {"credit_code", info ? info->credit_code : ""},
              {"registered", info ? "true" : "false"}})
        .Set(1);
  }
  dropped_.Set(static_cast<double>(dropped));
  touched_.clear();
  SetMonth(*current, "current");
  if (last_final) SetMonth(*last_final, "last_final");
  // A platform gone from a month (or a month gone) loses its series.
  for (auto it = series_.begin(); it != series_.end();) {
    if (touched_.count(it->first)) {
      ++it;
      continue;
    }
    for (auto& [family, gauge] : it->second) family->Remove(gauge);
    it = series_.erase(it);
  }
}

void MonitorMetrics::SetSealed(const std::map<Period, SealedVerdict>& months) {
  std::set<std::vector<std::string>> set;
  for (const auto& [period, verdict] : months) {
    const std::string month = FormatPeriod(period);
    for (const auto& [platform, cells] : verdict) {
      if (!exported_.count(platform)) continue;
      auto put = [&](const std::string& dimension, Level level, std::optional<double> rate) {
        std::vector<std::string> key = {platform, dimension, month};
        auto it = sealed_.find(key);
        if (it == sealed_.end()) {
          const Labels labels = {
              {"platform", platform}, {"dimension", dimension}, {"period", month}};
          it = sealed_
                   .emplace(key, std::make_pair(&sealed_level_.Add(labels),
                                                rate ? &sealed_rate_.Add(labels) : nullptr))
                   .first;
        }
        it->second.first->Set(static_cast<double>(level));
        if (rate && it->second.second) it->second.second->Set(*rate);
        set.insert(std::move(key));
      };
      Level worst = Level::kGreen;
      for (int d = 0; d < kDimensionCount; ++d) {
        const SealedCell& c = cells[d];
        worst = std::max(worst, c.level);
        put(std::string(NameOf(static_cast<Dimension>(d))), c.level,
            c.in_scope ? static_cast<double>(c.affected) / c.in_scope : 0.0);
      }
      put("composite", worst, std::nullopt);
    }
  }
  for (auto it = sealed_.begin(); it != sealed_.end();) {
    if (set.count(it->first)) {
      ++it;
      continue;
    }
    sealed_level_.Remove(it->second.first);
    if (it->second.second) sealed_rate_.Remove(it->second.second);
    it = sealed_.erase(it);
  }
}

void MonitorMetrics::OnPublished(const std::vector<std::string>& paths) {
  // monthly-2025-01, monthly-2025-01.r1 (a correction), annual-2025: one per publication.
  std::set<std::string> publications;
  for (const std::string& path : paths) {
    const std::filesystem::path file(path);
    // Evidence files (evidence/YYYY-MM/...) go out with their month: not publications.
    if (file.parent_path().parent_path().filename() == "evidence") continue;
    const std::string name = file.filename().string();
    size_t end = name.find('.');
    if (name.compare(end, 2, ".r") == 0 && end + 2 < name.size() &&
        std::isdigit(static_cast<unsigned char>(name[end + 2])))
      end = name.find('.', end + 1);
    publications.insert(name.substr(0, end));
  }
  for (const std::string& p : publications)
    published_
        .Add({{"kind", p.starts_with("annual")            ? "annual"
                       : p.find('.') != std::string::npos ? "correction"
                                                          : "monthly"}})
        .Increment();
}

void MonitorMetrics::OnAlertmanagerPost(bool ok) {
  alertmanager_posts_.Add({{"outcome", ok ? "ok" : "failed"}}).Increment();
}

std::string MonitorMetrics::Scrape() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace flexwatch
