#include "flexwatch/settings/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "fields.h"
#include "flexwatch/core/digest.h"
#include "flexwatch/core/ids.h"
#include "shipped_config.h"

namespace flexwatch {
namespace {

using namespace settings;

// The folder of a config file (empty for text not read from a file), for the paths it names.
std::string ConfigDirOf(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return "";
  return std::filesystem::absolute(path, ec).parent_path().string();
}

// A kafka.client value: a scalar, or a secret kept out of the YAML, `{file: PATH}` (the file's
// content less a trailing newline; a relative path is taken from the config's folder) or
// `{env: NAME}` (an environment variable).
Result<std::string> ClientValue(const YAML::Node& n, const std::string& where,
                                const std::string& config_dir) {
  if (n.IsScalar()) return n.Scalar();
  if (!n.IsMap() || n.size() != 1 || !(n["file"] || n["env"]))
    return Status::InvalidArgument(where + ": expected a value, {file: PATH} or {env: NAME}");
  if (YAML::Node f = n["file"]) {
    std::filesystem::path path = f.as<std::string>("");
    if (path.is_relative() && !config_dir.empty()) path = config_dir / path;
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) return Status::InvalidArgument(where + ": cannot read " + path.string());
    std::string v = ss.str();
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    if (v.empty()) return Status::InvalidArgument(where + ": " + path.string() + " is empty");
    return v;
  }
  const std::string var = n["env"].as<std::string>("");
  const char* v = var.empty() ? nullptr : std::getenv(var.c_str());
  if (!v || !*v)
    return Status::InvalidArgument(where + ": environment variable " + var + " is not set");
  return std::string(v);
}

// Each element of a YAML map, as (key node, value node, "NAME.key").
Status EachEntry(
    const YAML::Node& n, const std::string& name,
    const std::function<Status(const YAML::Node&, const YAML::Node&, const std::string&)>& fn) {
  for (const auto& kv : n)
    if (Status s = fn(kv.first, kv.second, name + "." + kv.first.Scalar()); !s.ok()) return s;
  return Status::OK();
}

// --- rules (domain/rules.md): every figure required; a rule set with a silently defaulted
// figure is not the one the regulator wrote down ---

Reader NonEmptyText(std::string& out) {
  return Required([&out](const YAML::Node& n, const std::string& name) {
    if (!n.IsScalar() || n.Scalar().empty())
      return Status::InvalidArgument(name + ": expected a non-empty string");
    out = n.Scalar();
    return Status::OK();
  });
}

void Tiers(Fields& f, RuleSet& r, int64_t& above, int64_t& from) {
  f.Add("labor_relation_above_hours", Required(Decimal(3, 0, 744000, above, "hours")))
      .Add("managed_from_hours", Required(Decimal(3, 0, 744000, from, "hours")))
      .Then([&] {
        if (from > above)
          return Status::InvalidArgument(
              "rules.tiers.managed_from_hours: must not exceed labor_relation_above_hours");
        r.labor_relation_above = above * 60;  // thousandths of an hour -> milli-minutes
        r.managed_from = from * 60;
        return Status::OK();
      });
}

Status BaseLimitsRow(RuleSet& r, const YAML::Node& n, const std::string& name) {
  BaseLimits b;
  Fields f(name);
  f.Add("from", Required(Month(b.from)))
      .Add("to", Required(Checked(Month(b.to),
                                  [&](const std::string& to) {
                                    return b.to < b.from
                                               ? Status::InvalidArgument(to + ": before from")
                                               : Status::OK();
                                  })))
      .Add("lower_cny", Required(Decimal(2, 1, 100000000, b.lower, "CNY")))
      .Add("upper_cny",
           Required(Checked(Decimal(2, 1, 100000000, b.upper, "CNY"),
                            [&](const std::string& upper) {
                              return b.upper < b.lower
                                         ? Status::InvalidArgument(upper + ": below lower_cny")
                                         : Status::OK();
                            })))
      .Then([&] {
        if (!r.base_limits.empty() && b.from <= r.base_limits.back().to)
          return Status::InvalidArgument(
              name + ".from: rows must be in order and must not overlap (" + FormatPeriod(b.from) +
              " is not after " + FormatPeriod(r.base_limits.back().to) + ")");
        r.base_limits.push_back(b);
        return Status::OK();
      });
  return f.Read(n);
}

Status KnownClass(const RuleSet& r, int cls, const std::string& name) {
  return r.work_injury_class_rate.count(cls)
             ? Status::OK()
             : Status::InvalidArgument(name + ": class " + std::to_string(cls) +
                                       " has no rate in class_rates_percent");
}

void WorkInjury(Fields& f, RuleSet& r) {
  f.Add("class_rates_percent", Required([&r](const YAML::Node& n, const std::string& name) {
          if (!n.IsMap() || n.size() == 0)
            return Status::InvalidArgument(name + ": expected a map of class: percent");
          return EachEntry(n, name,
                           [&](const YAML::Node& k, const YAML::Node& v, const std::string& entry) {
                             int cls = 0;
                             Ppm rate = 0;
                             for (Status s : {WholeNumber(cls)(k, entry), Percent(rate)(v, entry)})
                               if (!s.ok()) return s;
                             r.work_injury_class_rate[cls] = rate;
                             return Status::OK();
                           });
        }))
      .Add("default_class", Required(Checked(WholeNumber(r.work_injury_default_class),
                                             [&r](const std::string& n) {
                                               return KnownClass(r, r.work_injury_default_class, n);
                                             })))
      .Add("platform_class", Optional([&r](const YAML::Node& n, const std::string& name) {
             if (!n.IsMap())
               return Status::InvalidArgument(name + ": expected a map of platform_id: class");
             return EachEntry(
                 n, name, [&](const YAML::Node& k, const YAML::Node& v, const std::string& entry) {
                   int cls = 0;
                   if (Status s = WholeNumber(cls)(v, entry); !s.ok()) return s;
                   if (Status s = KnownClass(r, cls, entry); !s.ok()) return s;
                   r.platform_work_injury_class[k.Scalar()] = cls;
                   return Status::OK();
                 });
           }));
}

void Contributions(Fields& f, RuleSet& r, int64_t& grace, int64_t& lateness) {
  f.Add("base_limits", Required(List("a list of {from, to, lower, upper}", true,
                                     [&r](const YAML::Node& n, const std::string& name) {
                                       return BaseLimitsRow(r, n, name);
                                     })))
      .Add("employer_rates_percent", Required(Mapping([&r](Fields& rates) {
             rates.Add("pension", Required(Percent(r.employer_rate[0])))
                 .Add("medical", Required(Percent(r.employer_rate[1])))
                 .Add("unemployment", Required(Percent(r.employer_rate[2])));
           })))
      .Add("work_injury", Required(Mapping([&r](Fields& wi) { WorkInjury(wi, r); })))
      .Add("tolerance_percent", Required(Percent(r.tolerance)))
      .Add("grace_days", Required(Decimal(0, 0, 3660, grace, "days")))
      .Add("allowed_lateness_hours", Required(Decimal(3, 0, 8784000, lateness, "hours")))
      .Then([&] {
        r.grace_days = static_cast<int>(grace);
        r.allowed_lateness_ms = lateness * 3600;  // thousandths of an hour -> ms
        return Status::OK();
      });
}

void Coverage(Fields& f, RuleSet& r) {
  f.Add("pilot_sectors", Required(List("a list of sectors", false,
                                       [&r](const YAML::Node& n, const std::string& name) {
                                         Sector sec{};
                                         if (Status s = Enum(kSectorNames, sec)(n, name); !s.ok())
                                           return s;
                                         r.pilot_sectors |= 1u << static_cast<int>(sec);
                                         return Status::OK();
                                       })))
      .Add("high_risk_min_sum_insured_cny",
           Required([&r](const YAML::Node& n, const std::string& name) {
             if (!n.IsMap())
               return Status::InvalidArgument(name + ": expected a map of sector: CNY");
             return EachEntry(
                 n, name, [&](const YAML::Node& k, const YAML::Node& v, const std::string& entry) {
                   Sector sec{};
                   if (Status s = Enum(kSectorNames, sec)(k, entry); !s.ok()) return s;
                   if (r.IsPilot(sec))
                     return Status::InvalidArgument(
                         entry + ": a sector is either a pilot or a high-risk one");
                   return Decimal(2, 1, 100000000000000, r.high_risk_min_sum[static_cast<int>(sec)],
                                  "CNY")(v, entry);
                 });
           }))
      .Add("adequate_products",
           Required(
               List("a list of products", true, [&r](const YAML::Node& n, const std::string& name) {
                 Product prod{};
                 if (Status s = Enum(kProductNames, prod)(n, name); !s.ok()) return s;
                 r.adequate_products |= 1u << static_cast<int>(prod);
                 return Status::OK();
               })));
}

void Levels(Fields& f, RuleSet& r) {
  f.Add("yellow_percent", Required(Percent(r.yellow)))
      .Add("orange_percent", Required(Percent(r.orange)))
      .Add("red_percent",
           Required(Checked(
               Percent(r.red),
               [&r](const std::string&) {
                 return 0 < r.yellow && r.yellow <= r.orange && r.orange <= r.red
                            ? Status::OK()
                            : Status::InvalidArgument(
                                  "rules.levels: need 0 < yellow_percent <= orange_percent <= "
                                  "red_percent");
               })))
      .Add("min_ranked_workers",
           Required(Decimal(0, 0, 1000000000, r.min_ranked_workers, "workers")));
}

Status ReadRules(const YAML::Node& n, const std::string& name, RuleSet& r) {
  int64_t above = 0, from = 0, grace = 0, lateness = 0;
  Fields f(name);
  f.Add("id", NonEmptyText(r.id))
      .Add("version", NonEmptyText(r.version))
      .Add("tiers", Required(Mapping([&](Fields& t) { Tiers(t, r, above, from); })))
      .Add("contract", Required(Mapping([&](Fields& c) {
             c.Add("dispatch_cap_percent", Required(Percent(r.dispatch_cap)));
           })))
      .Add("contributions",
           Required(Mapping([&](Fields& c) { Contributions(c, r, grace, lateness); })))
      .Add("coverage", Required(Mapping([&](Fields& c) { Coverage(c, r); })))
      .Add("levels", Required(Mapping([&](Fields& l) { Levels(l, r); })))
      .Then([&] {
        r.fingerprint = Sha256Hex(r.Canonical()).substr(0, 16);
        return Status::OK();
      });
  return f.Read(n);
}

// --- detectors (domain/rules.md section 6): every figure required while the section is
// there; a warning stamped with a version must have been made with the figures under it ---

template <typename T>
Reader Need(T& out, T lo, T hi) {
  return Required(Number<T>(out, lo, hi));
}

void Common(Fields& f, DetectorBase& b) {
  f.Add("enabled", Need(b.enabled, false, true))
      .Add("version", Required([&b](const YAML::Node& v, const std::string& name) {
             if (!v.IsScalar() || !IsValidId(v.Scalar(), 32))
               return Status::InvalidArgument(name + ": expected a short version string");
             b.version = v.Scalar();
             return Status::OK();
           }));
}

Reader Series(std::vector<SeriesId>& out) {
  return Required([&out](const YAML::Node& n, const std::string& name) {
    if (!n.IsSequence()) return Status::InvalidArgument(name + ": expected a list of series names");
    out.clear();
    for (size_t i = 0; i < n.size(); ++i) {
      int found = -1;
      for (int k = 0; k < static_cast<int>(SeriesId::kCount); ++k)
        if (n[i].IsScalar() && n[i].Scalar() == kSeriesNames[k]) found = k;
      if (found < 0) {
        std::string names;
        for (const char* s : kSeriesNames) names += (names.empty() ? "" : ", ") + std::string(s);
        return Status::InvalidArgument(name + "[" + std::to_string(i) + "]: '" +
                                       n[i].as<std::string>("?") + "' is not one of " + names);
      }
      out.push_back(static_cast<SeriesId>(found));
    }
    return Status::OK();
  });
}

// A detector's own history must leave at least one month to judge within history_months.
Reader MinHistory(int& out, int lo, const DetectorConfig& d) {
  return Required(Checked(Number(out, lo, 119), [&out, &d](const std::string& name) {
    if (out < d.history_months) return Status::OK();
    return Status::InvalidArgument(name + ": " + std::to_string(out) +
                                   " leaves no month to judge within detectors.history_months");
  }));
}

Status ReadDetectors(const YAML::Node& n, const std::string& name, DetectorConfig& d) {
  d.present = true;
  OwnHistoryConfig& o = d.own_history;
  SectorPeersConfig& p = d.sector_peers;
  HoursBunchingConfig& h = d.hours_bunching;
  ComplaintSpikeConfig& c = d.complaint_spike;
  Fields f(name);
  f.Add("history_months", Need(d.history_months, 3, 120))
      .Add("own_history", Required(Mapping([&](Fields& s) {
             Common(s, o);
             s.Add("min_history_months", MinHistory(o.min_history_months, 3, d))
                 .Add("slack_sigmas", Need(o.slack_sigmas, 0.0, 10.0))
                 .Add("threshold_sigmas", Need(o.threshold_sigmas, 0.1, 100.0))
                 .Add("min_relative_sigma", Need(o.min_relative_sigma, 0.0, 1.0))
                 .Add("min_share_sigma", Need(o.min_share_sigma, 0.0, 1.0))
                 .Add("seasonal", Need(o.seasonal, false, true))
                 .Add("series", Series(o.series));
           })))
      .Add("sector_peers", Required(Mapping([&](Fields& s) {
             Common(s, p);
             s.Add("min_peers", Need(p.min_peers, 2, 1000))
                 .Add("min_workers", Need(p.min_workers, 1, 1000000))
                 .Add("threshold_z", Need(p.threshold_z, 0.1, 100.0))
                 .Add("min_relative_sigma", Need(p.min_relative_sigma, 0.0, 1.0))
                 .Add("min_share_sigma", Need(p.min_share_sigma, 0.0, 1.0))
                 .Add("series", Series(p.series));
           })))
      .Add("hours_bunching", Required(Mapping([&](Fields& s) {
             Common(s, h);
             s.Add("below_hours", Need(h.below_hours, 1, 30))
                 .Add("above_hours", Need(h.above_hours, 0, 30))
                 .Add("window_hours", Need(h.window_hours, 2, 60))
                 .Add("p_value", Need(h.p_value, 1e-12, 0.5))
                 .Add("min_excess_ratio", Need(h.min_excess_ratio, 0.0, 100.0))
                 .Add("min_worker_months", Need(h.min_worker_months, 1, 1000000));
           })))
      .Add("complaint_spike", Required(Mapping([&](Fields& s) {
             Common(s, c);
             s.Add("min_history_months", MinHistory(c.min_history_months, 1, d))
                 .Add("p_value", Need(c.p_value, 1e-12, 0.5))
                 .Add("min_complaints", Need(c.min_complaints, 1, 1000000))
                 .Add("prior_complaints", Need(c.prior_complaints, 0.0, 1000.0));
           })));
  return f.Read(n);
}

// --- the application's sections: every key optional, its default in the option struct ---

// A topic name (Kafka's own rule: at most 249 characters of the id alphabet).
Status CheckTopic(const std::string& topic, const std::string& name) {
  return IsValidId(topic, 249) ? Status::OK()
                               : Status::InvalidArgument(name + ": not a valid topic name");
}

void KafkaSection(Fields& f, KafkaOptions& k, const std::string& config_name) {
  f.Add("brokers", Text(k.brokers))
      .Add("group", Checked(Text(k.group),
                            [&k](const std::string& name) {
                              return k.group.empty()
                                         ? Status::InvalidArgument(name + ": must not be empty")
                                         : Status::OK();
                            }))
      .Add("dead_letter_topic", Text(k.dead_letter_topic))
      .Add("alerts_topic", Text(k.alerts_topic))
      .Add("seals_topic", Text(k.seals_topic))
      .Add("topics", Optional([&k](const YAML::Node& n, const std::string& name) {
             k.topics.clear();
             return List("a list of topic names", true,
                         [&k](const YAML::Node& t, const std::string& element) {
                           if (!t.IsScalar()) return CheckTopic("", element);
                           if (Status s = CheckTopic(t.Scalar(), element); !s.ok()) return s;
                           k.topics.push_back(t.Scalar());
                           return Status::OK();
                         })(n, name);
           }))
      .Add("client", Optional([&k, config_name](const YAML::Node& n, const std::string& name) {
             if (!n.IsMap())
               return Status::InvalidArgument(
                   name + ": expected a map of librdkafka settings (name: value)");
             return EachEntry(
                 n, name,
                 [&](const YAML::Node& key_node, const YAML::Node& v, const std::string& where) {
                   const std::string key = key_node.Scalar();
                   // The exactly-once design rests on these: offsets only from the state, never
                   // committed or reset by the client, idempotent outbox delivery.
                   static const std::set<std::string> kOwned = {"bootstrap.servers",
                                                                "metadata.broker.list",
                                                                "group.id",
                                                                "group.instance.id",
                                                                "enable.auto.commit",
                                                                "enable.auto.offset.store",
                                                                "auto.offset.reset",
                                                                "enable.partition.eof",
                                                                "isolation.level",
                                                                "enable.idempotence",
                                                                "acks",
                                                                "request.required.acks",
                                                                "transactional.id",
                                                                "group.protocol"};
                   if (kOwned.count(key))
                     return Status::InvalidArgument(
                         where + ": may not be overridden (flexwatch sets it: " +
                         (key == "bootstrap.servers" || key == "metadata.broker.list"
                              ? "use kafka.brokers"
                          : key == "group.id" ? "use kafka.group"
                          : key == "group.instance.id"
                              ? "use kafka.instance_id or run --instance"
                              : "exactly-once ingest and delivery depend on it") +
                         ")");
                   auto value = ClientValue(v, where, ConfigDirOf(config_name));
                   if (!value.ok()) return value.status();
                   k.client[key] = *value;
                   return Status::OK();
                 });
           }))
      .Add("instance_id", Text(k.instance_id))
      .Add("embedded_partitions", Number(k.embedded_partitions, 1, 64))
      .Add("commit_interval_ms", Number(k.commit_interval_ms, 1, 600000))
      .Add("evaluate_interval_ms", Number(k.evaluate_interval_ms, 100, 86400000))
      .Add("quiet_close_seconds", Number(k.quiet_close_seconds, 1, 31 * 86400))
      .Add("partition_idle_seconds", Number(k.partition_idle_seconds, 1, 31 * 86400))
      .Add("accept_trimmed_history", Number(k.accept_trimmed_history, false, true));
}

// A list of names from `allowed` (the default kept when absent or null).
Reader Names(const std::set<std::string>& allowed, std::vector<std::string>& out) {
  return Optional([allowed, &out](const YAML::Node& n, const std::string& name) {
    out.clear();
    return List("a list", true, [&](const YAML::Node& e, const std::string& element) {
      if (!e.IsScalar() || !allowed.count(e.Scalar())) {
        std::string names;
        for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
        return Status::InvalidArgument(element + ": '" + e.as<std::string>("?") +
                                       "' is not one of " + names);
      }
      out.push_back(e.Scalar());
      return Status::OK();
    })(n, name);
  });
}

void PublishSection(Fields& f, PublishOptions& p) {
  f.Add("dir", Text(p.dir))
      .Add("topic", Text(p.topic))
      .Add("formats", Names({"json", "md", "html", "csv"}, p.formats))
      .Add("langs", Names({"en", "zh"}, p.langs))
      .Then([&p] { return CheckTopic(p.topic, "publish.topic"); });
}

void AlertmanagerSection(Fields& f, AlertmanagerOptions& a) {
  f.Add("url", Text(a.url))
      .Add("resend_seconds", Number(a.resend_seconds, 1, 3600))
      .Add("timeout_ms", Number(a.timeout_ms, 100, 60000))
      .Then([&a] {
        const std::string& url = a.url;
        if (!url.empty() && !url.starts_with("http://") && !url.starts_with("https://"))
          return Status::InvalidArgument("alertmanager.url: '" + url +
                                         "' is not an http:// or https:// address");
        return Status::OK();
      });
}

void SelfcheckApiSection(Fields& f, SelfcheckApiOptions& o, uint64_t& body_mb) {
  f.Add("listen", Text(o.listen))
      .Add("tokens_file", Text(o.tokens_file))
      .Add("reports_dir", Text(o.reports_dir))
      .Add("tls_cert_file", Text(o.tls_cert_file))
      .Add("tls_key_file", Text(o.tls_key_file))
      .Add("max_body_mb", Number<uint64_t>(body_mb, 1, 4096))
      .Add("read_timeout_seconds", Number(o.read_timeout_seconds, 1, 3600))
      .Add("request_timeout_seconds", Number(o.request_timeout_seconds, 1, 86400))
      .Add("max_connections", Number(o.max_connections, 1, 100000))
      .Add("max_connections_per_client", Number(o.max_connections_per_client, 1, 100000))
      .Add("max_concurrent", Number(o.max_concurrent, 1, 256))
      .Add("requests_per_minute", Number(o.requests_per_minute, 1, 100000))
      .Add("test_topic_prefix", Text(o.test_topic_prefix))
      .Add("results_topic_prefix", Text(o.results_topic_prefix))
      .Add("test_idle_seconds", Number(o.test_idle_seconds, 1, 3600))
      .Then([&o, &body_mb] {
        o.max_body_bytes = body_mb << 20;
        if (o.test_topic_prefix.empty() || o.results_topic_prefix.empty() ||
            o.results_topic_prefix.starts_with(o.test_topic_prefix))
          return Status::InvalidArgument(
              "selfcheck_api.results_topic_prefix: must not be empty nor start with "
              "test_topic_prefix (results would be read as test feeds)");
        if (o.tls_cert_file.empty() != o.tls_key_file.empty())
          return Status::InvalidArgument(
              "selfcheck_api.tls_cert_file and tls_key_file: give both, or neither");
        return Status::OK();
      });
}

// Plausible values (docs/events.md): money limits in whole yuan, the largest keeping 10,000 of
// them per worker-month far from the range of a 64-bit sum in fen.
struct LimitsInUnits {
  int64_t earnings, base, amount, sum, orders, duration;
};

void LimitsSection(Fields& f, ValueLimits& l, LimitsInUnits& u) {
  constexpr int64_t kMaxYuan = 100'000'000'000LL;
  u = {l.earnings / 100,    l.contribution_base / 100, l.contribution_amount / 100,
       l.sum_insured / 100, l.orders_covered,          l.duration / 1000};
  f.Add("earnings_cny", Number<int64_t>(u.earnings, 1, kMaxYuan))
      .Add("base_cny", Number<int64_t>(u.base, 1, kMaxYuan))
      .Add("amount_cny", Number<int64_t>(u.amount, 1, kMaxYuan))
      .Add("sum_insured_cny", Number<int64_t>(u.sum, 1, kMaxYuan))
      .Add("orders_covered", Number<int64_t>(u.orders, 1, 1'000'000'000LL))
      .Add("duration_min", Number<int64_t>(u.duration, 1, 1440))
      .Then([&l, &u] {
        l.earnings = u.earnings * 100;
        l.contribution_base = u.base * 100;
        l.contribution_amount = u.amount * 100;
        l.sum_insured = u.sum * 100;
        l.orders_covered = u.orders;
        l.duration = u.duration * 1000;
        return Status::OK();
      });
}

struct IngestUnits {
  uint64_t max_line, every, max_mb;
  LimitsInUnits limits;
};

void IngestSection(Fields& f, ReplayOptions& in, IngestUnits& u) {
  DecoderOptions& dec = in.decoder;
  u.max_line = dec.max_line_bytes;
  u.every = in.commit_every;
  u.max_mb = in.commit_max_bytes >> 20;
  f.Add("commit_max_mb", Number<uint64_t>(u.max_mb, 1, 4096))
      .Add("max_line_bytes", Number<uint64_t>(u.max_line, 256, 64u << 20))
      .Add("commit_every", Number<uint64_t>(u.every, 1, 1u << 26))
      .Add("max_future_seconds", Number<int64_t>(dec.max_future_seconds, 0, 366LL * 86400))
      .Add("now", Optional([&dec](const YAML::Node& n, const std::string& name) {
             auto t = n.IsScalar() ? ParseRfc3339(n.Scalar())
                                   : Result<TimestampMs>(Status::InvalidArgument("not a string"));
             if (!t.ok())
               return Status::InvalidArgument(name +
                                              ": expected an RFC 3339 date-time with offset (" +
                                              t.status().message() + ")");
             dec.now = *t;
             return Status::OK();
           }))
      .Add("limits",
           Optional(Mapping([&dec, &u](Fields& l) { LimitsSection(l, dec.limits, u.limits); })))
      .Then([&in, &dec, &u] {
        in.commit_max_bytes = u.max_mb << 20;
        dec.max_line_bytes = u.max_line;
        in.commit_every = u.every;
        return Status::OK();
      });
}

struct StoreUnits {
  uint64_t cache, total, one, seen;
};

void StateSection(Fields& f, StoreOptions& st, StoreUnits& u) {
  u = {st.block_cache_bytes >> 20, st.write_buffer_total_bytes >> 20, st.write_buffer_bytes >> 20,
       st.seen_cache_bytes >> 20};
  f.Add("block_cache_mb", Number<uint64_t>(u.cache, 1, 1u << 16))
      .Add("write_buffer_total_mb", Number<uint64_t>(u.total, 1, 1u << 16))
      .Add("write_buffer_mb", Number<uint64_t>(u.one, 1, 1u << 16))
      .Add("seen_cache_mb", Number<uint64_t>(u.seen, 1, 1u << 16))
      .Add("background_jobs", Number(st.background_jobs, 1, 64))
      .Add("sync_commits", Number(st.sync_commits, false, true))
      .Then([&st, &u] {
        if (u.one > u.total)
          return Status::InvalidArgument("state.write_buffer_mb: " + std::to_string(u.one) +
                                         " exceeds state.write_buffer_total_mb " +
                                         std::to_string(u.total));
        st.block_cache_bytes = u.cache << 20;
        st.write_buffer_total_bytes = u.total << 20;
        st.write_buffer_bytes = u.one << 20;
        st.seen_cache_bytes = u.seen << 20;
        return Status::OK();
      });
}

}  // namespace

Result<const RuleSet*> Config::Rules() const {
  if (!rules) return Status::InvalidArgument(path + ": has no `rules` section");
  return &*rules;
}

// `platforms`: one entry per platform enterprise, each id and credit code once.
Status PlatformEntry(PlatformRegistry& registry, std::set<std::string>& codes, const YAML::Node& n,
                     const std::string& name) {
  PlatformInfo info;
  Fields f(name);
  f.Add("id", Required(Checked(Text(info.id),
                               [&info](const std::string& key) {
                                 return IsValidId(info.id, 64)
                                            ? Status::OK()
                                            : Status::InvalidArgument(
                                                  key + ": '" + info.id +
                                                  "' is not a platform id (letters, digits, "
                                                  "'-', '_', '.', at most 64)");
                               })))
      .Add("name_zh", Required(NonEmpty(info.name_zh)))
      .Add("name_en", Required(NonEmpty(info.name_en)))
      .Add("credit_code",
           Required(Checked(Text(info.credit_code),
                            [&info](const std::string& key) {
                              return IsCreditCode(info.credit_code)
                                         ? Status::OK()
                                         : Status::InvalidArgument(
                                               key + ": '" + info.credit_code +
                                               "' is not a unified social credit code (18 "
                                               "characters, GB 32100-2015, its check character "
                                               "included)");
                            })))
      .Add("sector", Required(Enum(kSectorNames, info.sector)));
  if (Status s = f.Read(n); !s.ok()) return s;
  if (registry.Find(info.id))
    return Status::InvalidArgument(name + ".id: '" + info.id + "' is in the registry twice");
  if (!codes.insert(info.credit_code).second)
    return Status::InvalidArgument(name + ".credit_code: '" + info.credit_code +
                                   "' is given to two platforms");
  registry.platforms.emplace(info.id, std::move(info));
  return Status::OK();
}

void IssuerSection(Fields& f, Issuer& i) {
  f.Add("authority_zh", Required(NonEmpty(i.authority_zh)))
      .Add("authority_en", Required(NonEmpty(i.authority_en)))
      .Add("document_number",
           Required(Checked(NonEmpty(i.document_number),
                            [&i](const std::string& key) {
                              return i.document_number.find("{seq}") != std::string::npos
                                         ? Status::OK()
                                         : Status::InvalidArgument(
                                               key + ": '" + i.document_number +
                                               "' has no {seq}: every publication needs a number "
                                               "of its own");
                            })))
      .Add("legal_basis_zh", Required(NonEmpty(i.legal_basis_zh)))
      .Add("legal_basis_en", Required(NonEmpty(i.legal_basis_en)))
      .Add("contact_zh", Optional(Text(i.contact_zh)))
      .Add("contact_en", Optional(Text(i.contact_en)));
}

Result<Config> ParseConfig(const std::string& text, const std::string& name) {
  Config cfg;
  cfg.path = name;
  uint64_t body_mb = cfg.selfcheck_api.max_body_bytes >> 20;
  IngestUnits ingest{};
  StoreUnits store{};
  std::set<std::string> codes;  // the registry's credit codes, each given once
  // The file's sections, in the order they are read.
  Fields root("");
  root.Add("detectors", Optional([&cfg](const YAML::Node& n, const std::string& where) {
             return ReadDetectors(n, where, cfg.detectors);
           }))
      .Add("rules", IfPresent([&cfg](const YAML::Node& n, const std::string& where) {
             cfg.rules.emplace();
             return ReadRules(n, where, *cfg.rules);
           }))
      .Add("kafka", IfPresent(Mapping([&](Fields& f) { KafkaSection(f, cfg.kafka, name); })))
      .Add("publish", Optional(Mapping([&](Fields& f) { PublishSection(f, cfg.publish); })))
      .Add("metrics", Optional(Mapping([&](Fields& f) {
             f.Add("listen", Text(cfg.metrics.listen))
                 .Add("max_platforms", Number(cfg.metrics.max_platforms, 0, 1000000));
           })))
      .Add("alertmanager",
           Optional(Mapping([&](Fields& f) { AlertmanagerSection(f, cfg.alertmanager); })))
      .Add(
          "selfcheck_api",
          Optional(Mapping([&](Fields& f) { SelfcheckApiSection(f, cfg.selfcheck_api, body_mb); })))
      .Add("evidence", IfPresent(Mapping([&](Fields& f) {
             f.Add("pseudonym_key_file",
                   Optional([&cfg](const YAML::Node& n, const std::string& key) {
                     if (!n.IsScalar()) return Status::InvalidArgument(key + ": expected a path");
                     cfg.evidence.pseudonym_key_file = n.Scalar();
                     return Status::OK();
                   }));
           })))
      .Add("platforms", Optional([&cfg, &codes](const YAML::Node& n, const std::string& where) {
             return List("a list of {id, name_zh, name_en, credit_code, sector}", false,
                         [&](const YAML::Node& e, const std::string& entry) {
                           return PlatformEntry(cfg.platforms, codes, e, entry);
                         })(n, where);
           }))
      .Add("issuer", IfPresent(Mapping([&](Fields& f) { IssuerSection(f, cfg.issuer); })))
      .Add("ingest", IfPresent(Mapping([&](Fields& f) { IngestSection(f, cfg.ingest, ingest); })))
      .Add("state", IfPresent(Mapping([&](Fields& f) { StateSection(f, cfg.store, store); })));
  try {
    YAML::Node node = YAML::Load(text);
    if (node.IsNull()) return cfg;
    if (Status s = root.Read(node); !s.ok())
      return Status::InvalidArgument(name + ": " + s.message());
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(name + ": not valid YAML: " + e.what());
  }
  return cfg;
}

Result<SelfcheckSetup> SelfcheckSetupOf(const Config& config) {
  auto rules = config.Rules();
  if (!rules.ok()) return rules.status();
  return SelfcheckSetup{**rules, config.ingest, config.store};
}

Result<SelfcheckService> SelfcheckServiceOf(const Config& config) {
  auto judging = SelfcheckSetupOf(config);
  if (!judging.ok()) return judging.status();
  return SelfcheckService{config.selfcheck_api, std::move(*judging), config.kafka.client};
}

MonitorOptions MonitorOptionsOf(const Config& config, const std::string& version) {
  MonitorOptions o;
  o.kafka = config.kafka;
  o.ingest = config.ingest;
  o.store = config.store;
  o.rules = config.rules;
  o.detectors = config.detectors;
  o.publish = config.publish;
  o.platforms = config.platforms;
  o.issuer = config.issuer;
  o.metrics = config.metrics;
  o.alertmanager = config.alertmanager;
  o.version = version;
  return o;
}

Result<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read config " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto cfg = ParseConfig(ss.str(), path);
  if (!cfg.ok()) return cfg;
  // Every path the file names is taken from the file's folder, wherever the command starts (the
  // compiled-in copy, which has no folder, leaves them to the working directory).
  std::error_code ec;
  const std::filesystem::path base = std::filesystem::absolute(path, ec).parent_path();
  for (std::string* p : {&cfg->publish.dir, &cfg->selfcheck_api.tokens_file,
                         &cfg->selfcheck_api.reports_dir, &cfg->selfcheck_api.tls_cert_file,
                         &cfg->selfcheck_api.tls_key_file, &cfg->evidence.pseudonym_key_file})
    if (!p->empty() && std::filesystem::path(*p).is_relative())
      *p = (base / *p).lexically_normal().string();
  return cfg;
}

Result<Config> ShippedConfig() {
  return ParseConfig(kShippedConfig, "shipped config/flexwatch.yaml");
}

}  // namespace flexwatch
