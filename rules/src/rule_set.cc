#include "flexwatch/rules/rule_set.h"

#include "flexwatch/core/digest.h"
#include "flexwatch/core/json.h"

namespace flexwatch {

Tier RuleSet::TierOf(MilliMinutes worked) const {
  if (worked > labor_relation_above) return Tier::kLaborRelation;
  if (worked >= managed_from) return Tier::kManaged;
  return Tier::kIndependent;
}

Result<BaseLimits> RuleSet::BaseFor(Period p) const {
  for (const BaseLimits& row : base_limits)
    if (row.from <= p && p <= row.to) return row;
  if (base_limits.empty()) return Status::NotFound("rules.contributions.base_limits is empty");
  return Status::NotFound("no contribution base limits in force for " + FormatPeriod(p) +
                          ": rules.contributions.base_limits covers " +
                          FormatPeriod(base_limits.front().from) + " to " +
                          FormatPeriod(base_limits.back().to) +
                          " (add the row of the official notice for that year)");
}

Ppm RuleSet::EmployerRate(Scheme s, std::string_view platform) const {
  switch (s) {
    case Scheme::kPension:
      return employer_rate[0];
    case Scheme::kMedical:
      return employer_rate[1];
    case Scheme::kUnemployment:
      return employer_rate[2];
    case Scheme::kWorkInjury: {
      int cls = work_injury_default_class;
      if (auto it = platform_work_injury_class.find(platform);
          it != platform_work_injury_class.end())
        cls = it->second;
      auto rate = work_injury_class_rate.find(cls);
      return rate == work_injury_class_rate.end() ? 0 : rate->second;
    }
    default:
      return 0;
  }
}

Level RuleSet::LevelOf(int64_t affected, int64_t in_scope) const {
  if (in_scope <= 0 || affected <= 0) return Level::kGreen;
  // affected / in_scope >= t / 10^6, exactly.
  const __int128 lhs = static_cast<__int128>(affected) * kPpmOne;
  auto at_least = [&](Ppm t) { return lhs >= static_cast<__int128>(t) * in_scope; };
  if (at_least(red)) return Level::kRed;
  if (at_least(orange)) return Level::kOrange;
  if (at_least(yellow)) return Level::kYellow;
  return Level::kGreen;
}

TimestampMs RuleSet::FinalAt(Period p) const {
  return static_cast<TimestampMs>(GraceEnd(p)) * kMsPerDay - kBeijingOffsetMs;
}

std::string RuleSet::Canonical() const {
  std::string s = "id=" + id + "\nversion=" + version;
  auto add = [&s](const char* k, int64_t v) {
    s += "\n" + std::string(k) + "=" + std::to_string(v);
  };
  add("labor_relation_above_mmin", labor_relation_above);
  add("managed_from_mmin", managed_from);
  add("dispatch_cap_ppm", dispatch_cap);
  for (const BaseLimits& b : base_limits)
    s += "\nbase=" + FormatPeriod(b.from) + ".." + FormatPeriod(b.to) + ":" +
         std::to_string(b.lower) + "-" + std::to_string(b.upper);
  for (int i = 0; i < 3; ++i) add("employer_rate_ppm", employer_rate[i]);
  for (const auto& [cls, rate] : work_injury_class_rate)
    s += "\nwork_injury_class=" + std::to_string(cls) + ":" + std::to_string(rate);
  add("work_injury_default_class", work_injury_default_class);
  for (const auto& [platform, cls] : platform_work_injury_class)
    s += "\nplatform_class=" + platform + ":" + std::to_string(cls);
  add("tolerance_ppm", tolerance);
  add("grace_days", grace_days);
  add("allowed_lateness_ms", allowed_lateness_ms);
  add("pilot_sectors", pilot_sectors);
  for (int i = 0; i < kSectorCount; ++i) add("high_risk_min_sum_fen", high_risk_min_sum[i]);
  add("adequate_products", adequate_products);
  add("yellow_ppm", yellow);
  add("orange_ppm", orange);
  add("red_ppm", red);
  add("min_ranked_workers", min_ranked_workers);
  return s + "\n";
}

std::string RateText(int64_t affected, int64_t in_scope) {
  if (in_scope <= 0 || affected <= 0) return "0.0";
  // round(affected / in_scope * 10^4), half up, in integers.
  const __int128 q = (static_cast<__int128>(affected) * 20000 + in_scope) / (2 * in_scope);
  const int64_t v = static_cast<int64_t>(q);
  std::string frac = std::to_string(v % 10000);
  frac.insert(0, 4 - frac.size(), '0');
  while (frac.size() > 1 && frac.back() == '0') frac.pop_back();
  return std::to_string(v / 10000) + "." + frac;
}

std::string RulesStampJson(const RuleSet& rules) {
  JsonWriter w;
  w.BeginObject().Key("id").String(rules.id).Key("version").String(rules.version);
  return w.Key("fingerprint").String(rules.fingerprint).EndObject().Take();
}

}  // namespace flexwatch
