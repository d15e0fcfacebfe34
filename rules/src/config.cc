#include "flexwatch/rules/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "flexwatch/core/decimal.h"
#include "flexwatch/core/digest.h"
#include "flexwatch/core/ids.h"
#include "shipped_config.h"

namespace flexwatch {
namespace {

// Reads a mapping's keys, refusing any not in `allowed` (a typo must not pass silently).
Status CheckKeys(const YAML::Node& node, const std::string& where,
                 const std::set<std::string>& allowed) {
  if (!node.IsMap()) return Status::InvalidArgument(where + ": expected a mapping");
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return Status::InvalidArgument((where.empty() ? "" : where + ".") + key +
                                     ": unknown key (expected one of: " + list + ")");
    }
  }
  return Status::OK();
}

template <typename T>
Status Read(const YAML::Node& parent, const std::string& where, const char* key, T& out,
            T min_value, T max_value) {
  YAML::Node n = parent[key];
  if (!n) return Status::OK();  // keep the default
  const std::string name = where + "." + key;
  T v;
  try {
    v = n.as<T>();
  } catch (const YAML::Exception&) {
    return Status::InvalidArgument(name + ": '" + n.as<std::string>("?") +
                                   "' is not a valid value of the expected type");
  }
  if (v < min_value || v > max_value) {
    std::ostringstream os;
    os << name << ": " << v << " is out of range [" << min_value << ", " << max_value << "]";
    return Status::InvalidArgument(os.str());
  }
  out = v;
  return Status::OK();
}

// An optional string: `out` keeps its default when the key is absent or null.
Status Text(const YAML::Node& parent, const std::string& where, const char* key, std::string& out) {
  YAML::Node n = parent[key];
  if (!n || n.IsNull()) return Status::OK();
  if (!n.IsScalar()) return Status::InvalidArgument(where + "." + key + ": expected a string");
  out = n.Scalar();
  return Status::OK();
}

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

// Rule figures are all required: a rule set with a silently defaulted figure is not the one the
// regulator wrote down.
class RuleReader {
 public:
  Status Node(const YAML::Node& parent, const std::string& where, const char* key,
              YAML::Node& out) {
    const YAML::Node got = parent[key];  // copied, not assigned: a missing key is an invalid node
    if (!got || got.IsNull()) return Status::InvalidArgument(Name(where, key) + ": missing");
    out.reset(got);
    return Status::OK();
  }
  // A decimal scalar with at most `scale` decimals, as an integer times 10^scale, in [lo, hi].
  Status Decimal(const YAML::Node& parent, const std::string& where, const char* key, int scale,
                 int64_t lo, int64_t hi, int64_t& out, const char* unit) {
    YAML::Node n;
    if (Status s = Node(parent, where, key, n); !s.ok()) return s;
    return DecimalOf(n, Name(where, key), scale, lo, hi, out, unit);
  }
  Status DecimalOf(const YAML::Node& n, const std::string& name, int scale, int64_t lo, int64_t hi,
                   int64_t& out, const char* unit) {
    if (!n.IsScalar()) return Status::InvalidArgument(name + ": expected a number");
    auto v = ParseScaledDecimal(n.Scalar(), scale, ExcessDigits::kReject);
    if (!v.ok())
      return Status::InvalidArgument(name + ": '" + n.Scalar() + "' is not a number with at most " +
                                     std::to_string(scale) + " decimals");
    if (*v < lo || *v > hi)
      return Status::InvalidArgument(name + ": " + n.Scalar() + " is out of range [" +
                                     FormatScaled(lo, scale) + ", " + FormatScaled(hi, scale) +
                                     "] " + unit);
    out = *v;
    return Status::OK();
  }
  Status Percent(const YAML::Node& parent, const std::string& where, const char* key, Ppm& out) {
    return Decimal(parent, where, key, 4, 0, 100 * 10000, out, "percent");
  }
  Status Period(const YAML::Node& n, const std::string& name, flexwatch::Period& out) {
    auto p = n.IsScalar() ? ParsePeriod(n.Scalar()) : Status::InvalidArgument("not a scalar");
    if (!p.ok())
      return Status::InvalidArgument(name + ": expected a month YYYY-MM, got '" +
                                     (n.IsScalar() ? n.Scalar() : std::string("?")) + "'");
    out = *p;
    return Status::OK();
  }
  template <typename E, size_t N>
  Status Enum(const YAML::Node& n, const std::string& name,
              const std::array<std::string_view, N>& names, E& out) {
    std::optional<E> e;
    if (n.IsScalar()) e = EnumFromName<E>(names, n.Scalar());
    if (!e) {
      std::string list;
      for (auto v : names) list += (list.empty() ? "" : ", ") + std::string(v);
      return Status::InvalidArgument(name + ": '" + (n.IsScalar() ? n.Scalar() : "?") +
                                     "' is not one of " + list);
    }
    out = *e;
    return Status::OK();
  }
  static std::string Name(const std::string& where, const std::string& key) {
    return where + "." + key;
  }
};

Status ParseRules(const YAML::Node& root, RuleSet& r) {
  RuleReader rd;
  const std::string w = "rules";
  if (Status s = CheckKeys(
          root, w, {"id", "version", "tiers", "contract", "contributions", "coverage", "levels"});
      !s.ok())
    return s;
  YAML::Node n;
  for (auto [key, out] :
       {std::pair<const char*, std::string*>{"id", &r.id}, {"version", &r.version}}) {
    if (Status s = rd.Node(root, w, key, n); !s.ok()) return s;
    if (!n.IsScalar() || n.Scalar().empty())
      return Status::InvalidArgument(w + "." + key + ": expected a non-empty string");
    *out = n.Scalar();
  }

  YAML::Node tiers;
  if (Status s = rd.Node(root, w, "tiers", tiers); !s.ok()) return s;
  if (Status s =
          CheckKeys(tiers, w + ".tiers", {"labor_relation_above_hours", "managed_from_hours"});
      !s.ok())
    return s;
  int64_t above = 0, from = 0;
  if (Status s = rd.Decimal(tiers, "rules.tiers", "labor_relation_above_hours", 3, 0, 744000, above,
                            "hours");
      !s.ok())
    return s;
  if (Status s =
          rd.Decimal(tiers, "rules.tiers", "managed_from_hours", 3, 0, 744000, from, "hours");
      !s.ok())
    return s;
  if (from > above)
    return Status::InvalidArgument(
        "rules.tiers.managed_from_hours: must not exceed labor_relation_above_hours");
  r.labor_relation_above = above * 60;  // thousandths of an hour -> milli-minutes
  r.managed_from = from * 60;

  YAML::Node contract;
  if (Status s = rd.Node(root, w, "contract", contract); !s.ok()) return s;
  if (Status s = CheckKeys(contract, "rules.contract", {"dispatch_cap_percent"}); !s.ok()) return s;
  if (Status s = rd.Percent(contract, "rules.contract", "dispatch_cap_percent", r.dispatch_cap);
      !s.ok())
    return s;

  YAML::Node c;
  const std::string wc = "rules.contributions";
  if (Status s = rd.Node(root, w, "contributions", c); !s.ok()) return s;
  if (Status s = CheckKeys(c, wc,
                           {"base_limits", "employer_rates_percent", "work_injury",
                            "tolerance_percent", "grace_days", "allowed_lateness_hours"});
      !s.ok())
    return s;
  YAML::Node rows;
  if (Status s = rd.Node(c, wc, "base_limits", rows); !s.ok()) return s;
  if (!rows.IsSequence() || rows.size() == 0)
    return Status::InvalidArgument(wc +
                                   ".base_limits: expected a list of {from, to, lower, upper}");
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string wr = wc + ".base_limits[" + std::to_string(i) + "]";
    if (Status s = CheckKeys(rows[i], wr, {"from", "to", "lower_cny", "upper_cny"}); !s.ok())
      return s;
    BaseLimits b;
    YAML::Node f, t;
    if (Status s = rd.Node(rows[i], wr, "from", f); !s.ok()) return s;
    if (Status s = rd.Period(f, wr + ".from", b.from); !s.ok()) return s;
    if (Status s = rd.Node(rows[i], wr, "to", t); !s.ok()) return s;
    if (Status s = rd.Period(t, wr + ".to", b.to); !s.ok()) return s;
    if (b.to < b.from) return Status::InvalidArgument(wr + ".to: before from");
    if (Status s = rd.Decimal(rows[i], wr, "lower_cny", 2, 1, 100000000, b.lower, "CNY"); !s.ok())
      return s;
    if (Status s = rd.Decimal(rows[i], wr, "upper_cny", 2, 1, 100000000, b.upper, "CNY"); !s.ok())
      return s;
    if (b.upper < b.lower) return Status::InvalidArgument(wr + ".upper_cny: below lower_cny");
    if (!r.base_limits.empty() && b.from <= r.base_limits.back().to)
      return Status::InvalidArgument(wr + ".from: rows must be in order and must not overlap (" +
                                     FormatPeriod(b.from) + " is not after " +
                                     FormatPeriod(r.base_limits.back().to) + ")");
    r.base_limits.push_back(b);
  }
  YAML::Node rates;
  if (Status s = rd.Node(c, wc, "employer_rates_percent", rates); !s.ok()) return s;
  if (Status s =
          CheckKeys(rates, wc + ".employer_rates_percent", {"pension", "medical", "unemployment"});
      !s.ok())
    return s;
  const char* rate_keys[] = {"pension", "medical", "unemployment"};
  for (int i = 0; i < 3; ++i)
    if (Status s =
            rd.Percent(rates, wc + ".employer_rates_percent", rate_keys[i], r.employer_rate[i]);
        !s.ok())
      return s;
  YAML::Node wi;
  const std::string wwi = wc + ".work_injury";
  if (Status s = rd.Node(c, wc, "work_injury", wi); !s.ok()) return s;
  if (Status s = CheckKeys(wi, wwi, {"class_rates_percent", "default_class", "platform_class"});
      !s.ok())
    return s;
  YAML::Node classes;
  if (Status s = rd.Node(wi, wwi, "class_rates_percent", classes); !s.ok()) return s;
  if (!classes.IsMap() || classes.size() == 0)
    return Status::InvalidArgument(wwi + ".class_rates_percent: expected a map of class: percent");
  for (const auto& kv : classes) {
    const std::string name = wwi + ".class_rates_percent." + kv.first.Scalar();
    int cls = 0;
    try {
      cls = kv.first.as<int>();
    } catch (const YAML::Exception&) {
      return Status::InvalidArgument(name + ": a class is a whole number");
    }
    Ppm rate = 0;
    if (Status s = rd.DecimalOf(kv.second, name, 4, 0, 100 * 10000, rate, "percent"); !s.ok())
      return s;
    r.work_injury_class_rate[cls] = rate;
  }
  auto known_class = [&](int cls, const std::string& name) {
    return r.work_injury_class_rate.count(cls)
               ? Status::OK()
               : Status::InvalidArgument(name + ": class " + std::to_string(cls) +
                                         " has no rate in class_rates_percent");
  };
  if (Status s = rd.Node(wi, wwi, "default_class", n); !s.ok()) return s;
  try {
    r.work_injury_default_class = n.as<int>();
  } catch (const YAML::Exception&) {
    return Status::InvalidArgument(wwi + ".default_class: a class is a whole number");
  }
  if (Status s = known_class(r.work_injury_default_class, wwi + ".default_class"); !s.ok())
    return s;
  if (YAML::Node pc = wi["platform_class"]; pc && !pc.IsNull()) {
    if (!pc.IsMap())
      return Status::InvalidArgument(wwi + ".platform_class: expected a map of platform_id: class");
    for (const auto& kv : pc) {
      const std::string name = wwi + ".platform_class." + kv.first.Scalar();
      int cls = 0;
      try {
        cls = kv.second.as<int>();
      } catch (const YAML::Exception&) {
        return Status::InvalidArgument(name + ": a class is a whole number");
      }
      if (Status s = known_class(cls, name); !s.ok()) return s;
      r.platform_work_injury_class[kv.first.Scalar()] = cls;
    }
  }
  if (Status s = rd.Percent(c, wc, "tolerance_percent", r.tolerance); !s.ok()) return s;
  int64_t grace = 0, lateness = 0;
  if (Status s = rd.Decimal(c, wc, "grace_days", 0, 0, 3660, grace, "days"); !s.ok()) return s;
  if (Status s = rd.Decimal(c, wc, "allowed_lateness_hours", 3, 0, 8784000, lateness, "hours");
      !s.ok())
    return s;
  r.grace_days = static_cast<int>(grace);
  r.allowed_lateness_ms = lateness * 3600;  // thousandths of an hour -> ms

  YAML::Node cov;
  const std::string wv = "rules.coverage";
  if (Status s = rd.Node(root, w, "coverage", cov); !s.ok()) return s;
  if (Status s = CheckKeys(cov, wv,
                           {"pilot_sectors", "high_risk_min_sum_insured_cny", "adequate_products"});
      !s.ok())
    return s;
  YAML::Node pilots;
  if (Status s = rd.Node(cov, wv, "pilot_sectors", pilots); !s.ok()) return s;
  if (!pilots.IsSequence())
    return Status::InvalidArgument(wv + ".pilot_sectors: expected a list of sectors");
  for (size_t i = 0; i < pilots.size(); ++i) {
    Sector sec{};
    if (Status s =
            rd.Enum(pilots[i], wv + ".pilot_sectors[" + std::to_string(i) + "]", kSectorNames, sec);
        !s.ok())
      return s;
    r.pilot_sectors |= 1u << static_cast<int>(sec);
  }
  YAML::Node risk;
  if (Status s = rd.Node(cov, wv, "high_risk_min_sum_insured_cny", risk); !s.ok()) return s;
  if (!risk.IsMap())
    return Status::InvalidArgument(wv +
                                   ".high_risk_min_sum_insured_cny: expected a map of sector: CNY");
  for (const auto& kv : risk) {
    const std::string name = wv + ".high_risk_min_sum_insured_cny." + kv.first.Scalar();
    Sector sec{};
    if (Status s = rd.Enum(kv.first, name, kSectorNames, sec); !s.ok()) return s;
    if (r.IsPilot(sec))
      return Status::InvalidArgument(name + ": a sector is either a pilot or a high-risk one");
    Fen min_sum = 0;
    if (Status s = rd.DecimalOf(kv.second, name, 2, 1, 100000000000000, min_sum, "CNY"); !s.ok())
      return s;
    r.high_risk_min_sum[static_cast<int>(sec)] = min_sum;
  }
  YAML::Node products;
  if (Status s = rd.Node(cov, wv, "adequate_products", products); !s.ok()) return s;
  if (!products.IsSequence() || products.size() == 0)
    return Status::InvalidArgument(wv + ".adequate_products: expected a list of products");
  for (size_t i = 0; i < products.size(); ++i) {
    Product prod{};
    if (Status s = rd.Enum(products[i], wv + ".adequate_products[" + std::to_string(i) + "]",
                           kProductNames, prod);
        !s.ok())
      return s;
    r.adequate_products |= 1u << static_cast<int>(prod);
  }

  YAML::Node lv;
  const std::string wl = "rules.levels";
  if (Status s = rd.Node(root, w, "levels", lv); !s.ok()) return s;
  if (Status s = CheckKeys(
          lv, wl, {"yellow_percent", "orange_percent", "red_percent", "min_ranked_workers"});
      !s.ok())
    return s;
  if (Status s = rd.Percent(lv, wl, "yellow_percent", r.yellow); !s.ok()) return s;
  if (Status s = rd.Percent(lv, wl, "orange_percent", r.orange); !s.ok()) return s;
  if (Status s = rd.Percent(lv, wl, "red_percent", r.red); !s.ok()) return s;
  if (!(0 < r.yellow && r.yellow <= r.orange && r.orange <= r.red))
    return Status::InvalidArgument(wl +
                                   ": need 0 < yellow_percent <= orange_percent <= red_percent");
  if (Status s = rd.Decimal(lv, wl, "min_ranked_workers", 0, 0, 1000000000, r.min_ranked_workers,
                            "workers");
      !s.ok())
    return s;
  r.fingerprint = Sha256Hex(r.Canonical()).substr(0, 16);
  return Status::OK();
}

// The detectors' parameters are all required when the section is there: a warning stamped with
// a version must have been made with the figures written under it.
Status ParseDetectors(const YAML::Node& root, DetectorConfig& d) {
  if (Status s = CheckKeys(
          root, "detectors",
          {"history_months", "own_history", "sector_peers", "hours_bunching", "complaint_spike"});
      !s.ok())
    return s;
  d.present = true;
  auto need = [](const YAML::Node& parent, const std::string& where, const char* key,
                 YAML::Node& out) -> Status {
    const YAML::Node got = parent[key];
    if (!got || got.IsNull()) return Status::InvalidArgument(where + "." + key + ": missing");
    out.reset(got);
    return Status::OK();
  };
  auto number = [&](const YAML::Node& parent, const std::string& where, const char* key, auto& out,
                    auto lo, auto hi) -> Status {
    YAML::Node n;
    if (Status s = need(parent, where, key, n); !s.ok()) return s;
    return Read(parent, where, key, out, static_cast<std::decay_t<decltype(out)>>(lo),
                static_cast<std::decay_t<decltype(out)>>(hi));
  };
  auto common = [&](const YAML::Node& n, const std::string& where, DetectorBase& b) -> Status {
    if (Status s = number(n, where, "enabled", b.enabled, false, true); !s.ok()) return s;
    YAML::Node v;
    if (Status s = need(n, where, "version", v); !s.ok()) return s;
    if (!v.IsScalar() || !IsValidId(v.Scalar(), 32))
      return Status::InvalidArgument(where + ".version: expected a short version string");
    b.version = v.Scalar();
    return Status::OK();
  };
  auto series = [&](const YAML::Node& n, const std::string& where,
                    std::vector<SeriesId>& out) -> Status {
    YAML::Node list;
    if (Status s = need(n, where, "series", list); !s.ok()) return s;
    if (!list.IsSequence())
      return Status::InvalidArgument(where + ".series: expected a list of series names");
    out.clear();
    for (size_t i = 0; i < list.size(); ++i) {
      int found = -1;
      for (int k = 0; k < static_cast<int>(SeriesId::kCount); ++k)
        if (list[i].IsScalar() && list[i].Scalar() == kSeriesNames[k]) found = k;
      if (found < 0) {
        std::string names;
        for (const char* name : kSeriesNames)
          names += (names.empty() ? "" : ", ") + std::string(name);
        return Status::InvalidArgument(where + ".series[" + std::to_string(i) + "]: '" +
                                       list[i].as<std::string>("?") + "' is not one of " + names);
      }
      out.push_back(static_cast<SeriesId>(found));
    }
    return Status::OK();
  };
  if (Status s = number(root, "detectors", "history_months", d.history_months, 3, 120); !s.ok())
    return s;
  YAML::Node n;
  // The detector's mapping, into `n`, with no key but `allowed`.
  auto section = [&](const char* key, const std::set<std::string>& allowed) -> Status {
    if (Status s = need(root, "detectors", key, n); !s.ok()) return s;
    return CheckKeys(n, "detectors." + std::string(key), allowed);
  };
  auto leaves_a_month = [&](const std::string& where, int min_history) -> Status {
    if (min_history < d.history_months) return Status::OK();
    return Status::InvalidArgument(where + ".min_history_months: " + std::to_string(min_history) +
                                   " leaves no month to judge within detectors.history_months");
  };
  // The floors on a detector's scale, and the series it watches.
  auto scales = [&](const std::string& where, double& relative, double& share,
                    std::vector<SeriesId>& list) -> Status {
    for (Status s : {number(n, where, "min_relative_sigma", relative, 0, 1),
                     number(n, where, "min_share_sigma", share, 0, 1), series(n, where, list)})
      if (!s.ok()) return s;
    return Status::OK();
  };
  const std::string oh = "detectors.own_history";
  if (Status s = section("own_history",
                         {"enabled", "version", "min_history_months", "slack_sigmas",
                          "threshold_sigmas", "min_relative_sigma", "min_share_sigma", "series"});
      !s.ok())
    return s;
  OwnHistoryConfig& o = d.own_history;
  for (Status s :
       {common(n, oh, o), number(n, oh, "min_history_months", o.min_history_months, 3, 119),
        number(n, oh, "slack_sigmas", o.slack_sigmas, 0, 10),
        number(n, oh, "threshold_sigmas", o.threshold_sigmas, 0.1, 100),
        scales(oh, o.min_relative_sigma, o.min_share_sigma, o.series)})
    if (!s.ok()) return s;
  if (Status s = leaves_a_month(oh, o.min_history_months); !s.ok()) return s;
  const std::string sp = "detectors.sector_peers";
  if (Status s =
          section("sector_peers", {"enabled", "version", "min_peers", "min_workers", "threshold_z",
                                   "min_relative_sigma", "min_share_sigma", "series"});
      !s.ok())
    return s;
  SectorPeersConfig& p = d.sector_peers;
  for (Status s : {common(n, sp, p), number(n, sp, "min_peers", p.min_peers, 2, 1000),
                   number(n, sp, "min_workers", p.min_workers, 1, 1000000),
                   number(n, sp, "threshold_z", p.threshold_z, 0.1, 100),
                   scales(sp, p.min_relative_sigma, p.min_share_sigma, p.series)})
    if (!s.ok()) return s;
  const std::string hb = "detectors.hours_bunching";
  if (Status s = section("hours_bunching",
                         {"enabled", "version", "below_hours", "above_hours", "window_hours",
                          "threshold_z", "min_excess_ratio", "min_worker_months"});
      !s.ok())
    return s;
  HoursBunchingConfig& h = d.hours_bunching;
  for (Status s : {common(n, hb, h), number(n, hb, "below_hours", h.below_hours, 1, 30),
                   number(n, hb, "above_hours", h.above_hours, 0, 30),
                   number(n, hb, "window_hours", h.window_hours, 2, 60),
                   number(n, hb, "threshold_z", h.threshold_z, 0.1, 100),
                   number(n, hb, "min_excess_ratio", h.min_excess_ratio, 0, 100),
                   number(n, hb, "min_worker_months", h.min_worker_months, 1, 1000000)})
    if (!s.ok()) return s;
  const std::string cs = "detectors.complaint_spike";
  if (Status s = section("complaint_spike", {"enabled", "version", "min_history_months", "p_value",
                                             "min_complaints", "prior_complaints"});
      !s.ok())
    return s;
  ComplaintSpikeConfig& c = d.complaint_spike;
  for (Status s :
       {common(n, cs, c), number(n, cs, "min_history_months", c.min_history_months, 1, 119),
        number(n, cs, "p_value", c.p_value, 1e-12, 0.5),
        number(n, cs, "min_complaints", c.min_complaints, 1, 1000000),
        number(n, cs, "prior_complaints", c.prior_complaints, 0, 1000)})
    if (!s.ok()) return s;
  if (Status s = leaves_a_month(cs, c.min_history_months); !s.ok()) return s;
  return Status::OK();
}

}  // namespace

Result<const RuleSet*> Config::Rules() const {
  if (!rules) return Status::InvalidArgument(path + ": has no `rules` section");
  return &*rules;
}

Result<Config> ParseConfig(const std::string& text, const std::string& name) {
  Config cfg;
  cfg.path = name;
  auto fail = [&](const Status& s) { return Status::InvalidArgument(name + ": " + s.message()); };
  try {
    YAML::Node root = YAML::Load(text);
    if (root.IsNull()) return cfg;
    if (Status s = CheckKeys(root, "",
                             {"ingest", "state", "kafka", "rules", "detectors", "publish",
                              "evidence", "metrics", "alertmanager", "selfcheck_api"});
        !s.ok())
      return fail(s);
    if (YAML::Node d = root["detectors"]; d && !d.IsNull())
      if (Status s = ParseDetectors(d, cfg.detectors); !s.ok()) return fail(s);
    if (YAML::Node r = root["rules"]) {
      cfg.rules.emplace();
      if (Status s = ParseRules(r, *cfg.rules); !s.ok()) return fail(s);
    }
    if (YAML::Node k = root["kafka"]) {
      if (Status s = CheckKeys(
              k, "kafka",
              {"brokers", "topics", "group", "client", "embedded_partitions", "commit_interval_ms",
               "dead_letter_topic", "alerts_topic", "evaluate_interval_ms", "quiet_close_seconds"});
          !s.ok())
        return fail(s);
      auto text = [&](const char* key, std::string& out) { return Text(k, "kafka", key, out); };
      if (Status s = text("brokers", cfg.kafka.brokers); !s.ok()) return fail(s);
      if (Status s = text("group", cfg.kafka.group); !s.ok()) return fail(s);
      if (Status s = text("dead_letter_topic", cfg.kafka.dead_letter_topic); !s.ok())
        return fail(s);
      if (Status s = text("alerts_topic", cfg.kafka.alerts_topic); !s.ok()) return fail(s);
      if (cfg.kafka.group.empty())
        return fail(Status::InvalidArgument("kafka.group: must not be empty"));
      if (YAML::Node t = k["topics"]; t && !t.IsNull()) {
        if (!t.IsSequence() || t.size() == 0)
          return fail(Status::InvalidArgument("kafka.topics: expected a list of topic names"));
        cfg.kafka.topics.clear();
        for (size_t i = 0; i < t.size(); ++i) {
          if (!t[i].IsScalar() || !IsValidId(t[i].Scalar(), 249))
            return fail(Status::InvalidArgument("kafka.topics[" + std::to_string(i) +
                                                "]: not a valid topic name"));
          cfg.kafka.topics.push_back(t[i].Scalar());
        }
      }
      if (YAML::Node c = k["client"]; c && !c.IsNull()) {
        if (!c.IsMap())
          return fail(Status::InvalidArgument(
              "kafka.client: expected a map of librdkafka settings (name: value)"));
        for (const auto& kv : c) {
          const std::string key = kv.first.Scalar();
          const std::string where = "kafka.client." + key;
          // The exactly-once design rests on these: offsets only from the state, never
          // committed or reset by the client, idempotent outbox delivery.
          static const std::set<std::string> kOwned = {"bootstrap.servers",
                                                       "metadata.broker.list",
                                                       "group.id",
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
            return fail(Status::InvalidArgument(
                where + ": may not be overridden (flexwatch sets it: " +
                (key == "bootstrap.servers" || key == "metadata.broker.list" ? "use kafka.brokers"
                 : key == "group.id"                                         ? "use kafka.group"
                                     : "exactly-once ingest and delivery depend on it") +
                ")"));
          auto value = ClientValue(kv.second, where, ConfigDirOf(name));
          if (!value.ok()) return fail(value.status());
          cfg.kafka.client[key] = *value;
        }
      }
      if (Status s =
              Read<int>(k, "kafka", "embedded_partitions", cfg.kafka.embedded_partitions, 1, 64);
          !s.ok())
        return fail(s);
      if (Status s =
              Read<int>(k, "kafka", "commit_interval_ms", cfg.kafka.commit_interval_ms, 1, 600000);
          !s.ok())
        return fail(s);
      if (Status s = Read<int>(k, "kafka", "evaluate_interval_ms", cfg.kafka.evaluate_interval_ms,
                               100, 86400000);
          !s.ok())
        return fail(s);
      if (Status s = Read<int>(k, "kafka", "quiet_close_seconds", cfg.kafka.quiet_close_seconds, 1,
                               31 * 86400);
          !s.ok())
        return fail(s);
    }
    if (YAML::Node pub = root["publish"]; pub && !pub.IsNull()) {
      if (Status s = CheckKeys(pub, "publish", {"dir", "formats", "langs", "topic"}); !s.ok())
        return fail(s);
      auto text = [&](const char* key, std::string& out) { return Text(pub, "publish", key, out); };
      auto list = [&](const char* key, const std::set<std::string>& allowed,
                      std::vector<std::string>& out) -> Status {
        YAML::Node n = pub[key];
        if (!n || n.IsNull()) return Status::OK();
        if (!n.IsSequence() || n.size() == 0)
          return Status::InvalidArgument(std::string("publish.") + key + ": expected a list");
        out.clear();
        for (size_t i = 0; i < n.size(); ++i) {
          if (!n[i].IsScalar() || !allowed.count(n[i].Scalar())) {
            std::string names;
            for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
            return Status::InvalidArgument(std::string("publish.") + key + "[" + std::to_string(i) +
                                           "]: '" + n[i].as<std::string>("?") + "' is not one of " +
                                           names);
          }
          out.push_back(n[i].Scalar());
        }
        return Status::OK();
      };
      for (Status s : {text("dir", cfg.publish.dir), text("topic", cfg.publish.topic),
                       list("formats", {"json", "md", "html", "csv"}, cfg.publish.formats),
                       list("langs", {"en", "zh"}, cfg.publish.langs)})
        if (!s.ok()) return fail(s);
      if (!IsValidId(cfg.publish.topic, 249))
        return fail(Status::InvalidArgument("publish.topic: not a valid topic name"));
    }
    if (YAML::Node m = root["metrics"]; m && !m.IsNull()) {
      if (Status s = CheckKeys(m, "metrics", {"listen", "max_platforms"}); !s.ok()) return fail(s);
      for (Status s :
           {Text(m, "metrics", "listen", cfg.metrics.listen),
            Read<int>(m, "metrics", "max_platforms", cfg.metrics.max_platforms, 0, 1000000)})
        if (!s.ok()) return fail(s);
    }
    if (YAML::Node am = root["alertmanager"]; am && !am.IsNull()) {
      if (Status s = CheckKeys(am, "alertmanager", {"url", "resend_seconds", "timeout_ms"});
          !s.ok())
        return fail(s);
      for (Status s :
           {Text(am, "alertmanager", "url", cfg.alertmanager.url),
            Read<int>(am, "alertmanager", "resend_seconds", cfg.alertmanager.resend_seconds, 1,
                      3600),
            Read<int>(am, "alertmanager", "timeout_ms", cfg.alertmanager.timeout_ms, 100, 60000)})
        if (!s.ok()) return fail(s);
      const std::string& url = cfg.alertmanager.url;
      if (!url.empty() && !url.starts_with("http://") && !url.starts_with("https://"))
        return fail(Status::InvalidArgument("alertmanager.url: '" + url +
                                            "' is not an http:// or https:// address"));
    }
    if (YAML::Node sa = root["selfcheck_api"]; sa && !sa.IsNull()) {
      SelfcheckApiOptions& o = cfg.selfcheck_api;
      if (Status s = CheckKeys(
              sa, "selfcheck_api",
              {"listen", "tokens_file", "reports_dir", "max_body_mb", "read_timeout_seconds",
               "request_timeout_seconds", "max_connections", "max_connections_per_client",
               "max_concurrent", "requests_per_minute", "tls_cert_file", "tls_key_file",
               "test_topic_prefix", "results_topic_prefix", "test_idle_seconds"});
          !s.ok())
        return fail(s);
      uint64_t body_mb = o.max_body_bytes >> 20;
      const std::string w = "selfcheck_api";
      for (Status s :
           {Text(sa, w, "listen", o.listen), Text(sa, w, "tokens_file", o.tokens_file),
            Text(sa, w, "reports_dir", o.reports_dir),
            Text(sa, w, "tls_cert_file", o.tls_cert_file),
            Text(sa, w, "tls_key_file", o.tls_key_file),
            Read<uint64_t>(sa, w, "max_body_mb", body_mb, 1, 4096),
            Read<int>(sa, w, "read_timeout_seconds", o.read_timeout_seconds, 1, 3600),
            Read<int>(sa, w, "request_timeout_seconds", o.request_timeout_seconds, 1, 86400),
            Read<int>(sa, w, "max_connections", o.max_connections, 1, 100000),
            Read<int>(sa, w, "max_connections_per_client", o.max_connections_per_client, 1, 100000),
            Read<int>(sa, w, "max_concurrent", o.max_concurrent, 1, 256),
            Read<int>(sa, w, "requests_per_minute", o.requests_per_minute, 1, 100000),
            Text(sa, w, "test_topic_prefix", o.test_topic_prefix),
            Text(sa, w, "results_topic_prefix", o.results_topic_prefix),
            Read<int>(sa, w, "test_idle_seconds", o.test_idle_seconds, 1, 3600)})
        if (!s.ok()) return fail(s);
      o.max_body_bytes = body_mb << 20;
      if (o.test_topic_prefix.empty() || o.results_topic_prefix.empty() ||
          o.results_topic_prefix.starts_with(o.test_topic_prefix))
        return fail(Status::InvalidArgument(
            "selfcheck_api.results_topic_prefix: must not be empty nor start with "
            "test_topic_prefix (results would be read as test feeds)"));
      if (o.tls_cert_file.empty() != o.tls_key_file.empty())
        return fail(Status::InvalidArgument(
            "selfcheck_api.tls_cert_file and tls_key_file: give both, or neither"));
    }
    if (YAML::Node ev = root["evidence"]) {
      if (Status s = CheckKeys(ev, "evidence", {"pseudonym_key_file"}); !s.ok()) return fail(s);
      if (YAML::Node f = ev["pseudonym_key_file"]; f && !f.IsNull()) {
        if (!f.IsScalar())
          return fail(Status::InvalidArgument("evidence.pseudonym_key_file: expected a path"));
        cfg.evidence.pseudonym_key_file = f.Scalar();
      }
    }
    if (YAML::Node in = root["ingest"]) {
      if (Status s = CheckKeys(in, "ingest",
                               {"max_line_bytes", "commit_every", "commit_max_mb",
                                "max_future_seconds", "limits", "now"});
          !s.ok())
        return fail(s);
      uint64_t max_line = cfg.ingest.decoder.max_line_bytes, every = cfg.ingest.commit_every;
      uint64_t max_mb = cfg.ingest.commit_max_bytes >> 20;
      DecoderOptions& dec = cfg.ingest.decoder;
      for (Status s : {Read<uint64_t>(in, "ingest", "commit_max_mb", max_mb, 1, 4096),
                       Read<uint64_t>(in, "ingest", "max_line_bytes", max_line, 256, 64u << 20),
                       Read<uint64_t>(in, "ingest", "commit_every", every, 1, 1u << 26),
                       Read<int64_t>(in, "ingest", "max_future_seconds", dec.max_future_seconds, 0,
                                     366LL * 86400)})
        if (!s.ok()) return fail(s);
      cfg.ingest.commit_max_bytes = max_mb << 20;
      dec.max_line_bytes = max_line;
      cfg.ingest.commit_every = every;
      if (YAML::Node now = in["now"]; now && !now.IsNull()) {
        auto t = now.IsScalar() ? ParseRfc3339(now.Scalar())
                                : Result<TimestampMs>(Status::InvalidArgument("not a string"));
        if (!t.ok())
          return fail(
              Status::InvalidArgument("ingest.now: expected an RFC 3339 date-time with offset (" +
                                      t.status().message() + ")"));
        dec.now = *t;
      }
      if (YAML::Node lim = in["limits"]; lim && !lim.IsNull()) {
        if (Status s = CheckKeys(lim, "ingest.limits",
                                 {"earnings_cny", "base_cny", "amount_cny", "sum_insured_cny",
                                  "orders_covered", "duration_min"});
            !s.ok())
          return fail(s);
        // Money limits in whole yuan; the largest keeps 10,000 of them per worker-month far from
        // the range of a 64-bit sum in fen.
        constexpr int64_t kMaxYuan = 100'000'000'000LL;
        ValueLimits& l = dec.limits;
        int64_t earnings = l.earnings / 100, base = l.contribution_base / 100,
                amount = l.contribution_amount / 100, sum = l.sum_insured / 100,
                duration = l.duration / 1000;
        const std::string w = "ingest.limits";
        for (Status s :
             {Read<int64_t>(lim, w, "earnings_cny", earnings, 1, kMaxYuan),
              Read<int64_t>(lim, w, "base_cny", base, 1, kMaxYuan),
              Read<int64_t>(lim, w, "amount_cny", amount, 1, kMaxYuan),
              Read<int64_t>(lim, w, "sum_insured_cny", sum, 1, kMaxYuan),
              Read<int64_t>(lim, w, "orders_covered", l.orders_covered, 1, 1'000'000'000LL),
              Read<int64_t>(lim, w, "duration_min", duration, 1, 1440)})
          if (!s.ok()) return fail(s);
        l.earnings = earnings * 100;
        l.contribution_base = base * 100;
        l.contribution_amount = amount * 100;
        l.sum_insured = sum * 100;
        l.duration = duration * 1000;
      }
    }
    if (YAML::Node st = root["state"]) {
      if (Status s = CheckKeys(st, "state",
                               {"block_cache_mb", "write_buffer_total_mb", "write_buffer_mb",
                                "sync_commits", "background_jobs"});
          !s.ok())
        return fail(s);
      uint64_t cache = cfg.store.block_cache_bytes >> 20,
               total = cfg.store.write_buffer_total_bytes >> 20,
               one = cfg.store.write_buffer_bytes >> 20;
      int jobs = cfg.store.background_jobs;
      bool sync = cfg.store.sync_commits;
      for (auto [key, ref] : {std::pair<const char*, uint64_t*>{"block_cache_mb", &cache},
                              {"write_buffer_total_mb", &total},
                              {"write_buffer_mb", &one}})
        if (Status s = Read<uint64_t>(st, "state", key, *ref, 1, 1u << 16); !s.ok()) return fail(s);
      if (Status s = Read<int>(st, "state", "background_jobs", jobs, 1, 64); !s.ok())
        return fail(s);
      if (Status s = Read<bool>(st, "state", "sync_commits", sync, false, true); !s.ok())
        return fail(s);
      if (one > total)
        return fail(Status::InvalidArgument("state.write_buffer_mb: " + std::to_string(one) +
                                            " exceeds state.write_buffer_total_mb " +
                                            std::to_string(total)));
      cfg.store.block_cache_bytes = cache << 20;
      cfg.store.write_buffer_total_bytes = total << 20;
      cfg.store.write_buffer_bytes = one << 20;
      cfg.store.background_jobs = jobs;
      cfg.store.sync_commits = sync;
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(name + ": not valid YAML: " + e.what());
  }
  return cfg;
}

Result<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read config " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

}  // namespace flexwatch

namespace flexwatch {
Result<Config> ShippedConfig() {
  return ParseConfig(kShippedConfig, "shipped config/flexwatch.yaml");
}
}  // namespace flexwatch
