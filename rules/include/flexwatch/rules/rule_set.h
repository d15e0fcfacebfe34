// The rule parameters of domain/rules.md, as read from the `rules` section of the config. Nothing
// here has a built-in default: every figure comes from YAML (config/flexwatch.yaml ships the
// Beijing ones), so that a regulator changes the file, never the code.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "flexwatch/core/event.h"
#include "flexwatch/core/status.h"

namespace flexwatch {

enum class Tier : uint8_t { kIndependent, kManaged, kLaborRelation };
inline constexpr std::array<std::string_view, 3> kTierNames = {"independent", "managed",
                                                               "labor_relation"};
enum class Dimension : uint8_t { kContractAvoidance, kUnderpayment, kCoverageMismatch };
inline constexpr int kDimensionCount = 3;
inline constexpr std::array<std::string_view, kDimensionCount> kDimensionNames = {
    "contract_avoidance", "underpayment", "coverage_mismatch"};
enum class Level : uint8_t { kGreen, kYellow, kOrange, kRed };
inline constexpr std::array<std::string_view, 4> kLevelNames = {"green", "yellow", "orange", "red"};

template <>
inline std::string_view NameOf(Tier e) {
  return kTierNames[static_cast<int>(e)];
}
template <>
inline std::string_view NameOf(Dimension e) {
  return kDimensionNames[static_cast<int>(e)];
}
template <>
inline std::string_view NameOf(Level e) {
  return kLevelNames[static_cast<int>(e)];
}

// Parts per million: shares and rates are exact integers (2% = 20000).
using Ppm = int64_t;
inline constexpr Ppm kPpmOne = 1000000;

// Contribution base limits in force for the periods [from, to] (inclusive).
struct BaseLimits {
  Period from = 0;
  Period to = 0;
  Fen lower = 0;
  Fen upper = 0;
};

// The employer schemes a labour relation requires, in this order.
inline constexpr std::array<Scheme, 4> kEmployerSchemes = {
    Scheme::kPension, Scheme::kMedical, Scheme::kUnemployment, Scheme::kWorkInjury};

struct RuleSet {
  std::string id;       // e.g. "beijing"
  std::string version;  // bumped whenever a figure changes
  // SHA-256 (hex, first 16 digits) of the figures below in a canonical form: two outputs with
  // the same id and version but a different fingerprint were made with edited figures.
  std::string fingerprint;

  // Tiers: hours above `labor_relation_above` make a labour relation, hours from `managed_from`
  // up to it a managed worker, fewer an independent one.
  MilliMinutes labor_relation_above = 0;
  MilliMinutes managed_from = 0;

  // Contract avoidance: dispatched worker-months may be at most this share of labour-relation
  // worker-months.
  Ppm dispatch_cap = 0;

  // Underpayment.
  std::vector<BaseLimits> base_limits;  // sorted by `from`, not overlapping
  std::array<Ppm, 3> employer_rate{};   // pension, medical, unemployment
  std::map<int, Ppm> work_injury_class_rate;
  int work_injury_default_class = 0;
  std::map<std::string, int, std::less<>> platform_work_injury_class;
  Ppm tolerance = 0;

  // Finality: a period is final once the watermark (largest event time less the allowed
  // lateness) passes its end plus the grace.
  int grace_days = 0;
  int64_t allowed_lateness_ms = 0;

  // Coverage mismatch.
  uint32_t pilot_sectors = 0;                         // bit per Sector
  std::array<Fen, kSectorCount> high_risk_min_sum{};  // > 0: the sector is high-risk
  uint32_t adequate_products = 0;                     // bit per Product

  // Levels: rate thresholds of yellow, orange and red; a platform with fewer in-scope workers
  // than `min_ranked_workers` is reported but not ranked.
  Ppm yellow = 0, orange = 0, red = 0;
  int64_t min_ranked_workers = 0;

  bool IsPilot(Sector s) const { return pilot_sectors >> static_cast<int>(s) & 1; }
  bool IsHighRisk(Sector s) const { return high_risk_min_sum[static_cast<int>(s)] > 0; }
  bool IsAdequateProduct(Product p) const { return adequate_products >> static_cast<int>(p) & 1; }
  Tier TierOf(MilliMinutes worked) const;
  // The base limits in force for `p`; NotFound naming the table's span when no row holds it.
  Result<BaseLimits> BaseFor(Period p) const;
  // OK when the rule set has every dated figure month `p` needs; else why not (a month it cannot
  // judge is reported as not judged, never a reason to stop the monitor).
  Status Judgeable(Period p) const { return BaseFor(p).status(); }
  // The employer's rate for one of kEmployerSchemes on `platform`.
  Ppm EmployerRate(Scheme s, std::string_view platform) const;
  Level LevelOf(int64_t affected, int64_t in_scope) const;
  // The first instant at which the period is final in event time (Beijing midnight after the
  // month's end plus the grace), compared against the watermark.
  TimestampMs FinalAt(Period p) const;
  // The first day (Beijing) past the period's grace: only payments made before it count for the
  // period (rules.md section 4); later ones are reported as paid late, never as compliance.
  Day GraceEnd(Period p) const { return FirstDayOfPeriod(p + 1) + grace_days; }
  bool PaidInTime(Period p, Day paid_on) const { return paid_on < GraceEnd(p); }
  // The canonical text the fingerprint is computed from.
  std::string Canonical() const;
};

// The rate affected / in_scope, rounded half up to 4 decimals: "0.0", "0.0133", "1.0".
std::string RateText(int64_t affected, int64_t in_scope);

// The stamp every output judged by a rule set carries: {"id": ..., "version": ...,
// "fingerprint": ...}.
std::string RulesStampJson(const RuleSet& rules);

}  // namespace flexwatch
