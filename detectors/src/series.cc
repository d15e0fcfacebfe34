#include "flexwatch/detectors/series.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "flexwatch/core/json.h"

namespace flexwatch {

namespace {

bool IsExitForm(ContractForm f) {
  return f == ContractForm::kOutsourcing || f == ContractForm::kFreelance ||
         f == ContractForm::kIndividualBusiness;
}
bool IsLaborForm(ContractForm f) {
  return f == ContractForm::kLaborContract || f == ContractForm::kLaborDispatch;
}

double Ratio(double a, double b) { return b > 0 ? a / b : 0; }

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s += '0';
  if (s == "-0.0") s = "0.0";
  return s;
}

}  // namespace

SeriesTraits TraitsOf(SeriesId s) {
  switch (s) {
    case SeriesId::kLaborContractShare:
      return {true, false, -1, "share"};
    case SeriesId::kContractExitShare:
      return {true, false, +1, "share"};
    case SeriesId::kContributionRatio:
    case SeriesId::kContributionToDue:
      return {false, true, -1, "ratio"};
    case SeriesId::kPremiumPerOrder:
      return {false, true, -1, "yuan_per_order"};
    case SeriesId::kPilotCoveredShare:
      return {true, true, -1, "share"};
    case SeriesId::kSumInsuredPerRiskWorker:
      return {false, false, -1, "times_minimum"};
    case SeriesId::kComplaintsPer10k:
      return {false, false, +1, "per_10k_workers"};
    case SeriesId::kActiveWorkers:
    case SeriesId::kCount:
      break;
  }
  return {false, false, 0, "workers"};
}

int64_t PlatformMonth::TotalComplaints() const {
  int64_t n = 0;
  for (int64_t c : complaints) n += c;
  return n;
}

PlatformMonth::Point PlatformMonth::Value(SeriesId s) const {
  auto point = [](int64_t n, double v) { return Point{n > 0, v, n}; };
  switch (s) {
    case SeriesId::kLaborContractShare:
      return point(labor_relation, Ratio(on_labor_contract, labor_relation));
    case SeriesId::kContractExitShare:
      return point(contracted_before, Ratio(exits, contracted_before));
    case SeriesId::kContributionRatio:
      return point(labor_relation_earnings > 0 ? labor_relation : 0,
                   Ratio(employer_paid, labor_relation_earnings));
    case SeriesId::kContributionToDue:
      return point(employer_due > 0 ? labor_relation : 0, Ratio(employer_paid, employer_due));
    case SeriesId::kPremiumPerOrder:
      return point(pilot_workers, Ratio(premium, pilot_orders) / 100);
    case SeriesId::kPilotCoveredShare:
      return point(pilot_workers, Ratio(pilot_covered, pilot_orders));
    case SeriesId::kSumInsuredPerRiskWorker: {
      // Each tier's mean multiple of the minimum, the tiers present weighed alike.
      double sum = 0;
      int tiers = 0;
      for (size_t t = 0; t < 3; ++t)
        if (risk_workers_by_tier[t] > 0) {
          sum += risk_multiple_by_tier[t] / static_cast<double>(risk_workers_by_tier[t]);
          ++tiers;
        }
      return point(risk_workers, tiers ? sum / tiers : 0);
    }
    case SeriesId::kComplaintsPer10k:
      return point(active_workers, Ratio(TotalComplaints() * 10000.0, active_workers));
    case SeriesId::kActiveWorkers:
      return point(active_workers, static_cast<double>(active_workers));
    case SeriesId::kCount:
      break;
  }
  return {};
}

Result<MonthSeries> ComputeSeries(Store& store, const RuleSet& rules, Period p, bool close,
                                  std::string_view platform) {
  MonthSeries out;
  const size_t bins = static_cast<size_t>(rules.labor_relation_above / 60000) + 64;
  const Day first_day = FirstDayOfPeriod(p);
  const int days = DaysInMonth(PeriodYear(p), PeriodMonth(p));
  const TimestampMs month_start = static_cast<int64_t>(first_day) * kMsPerDay - kBeijingOffsetMs;
  EvaluateOptions options;
  options.close = close;
  options.platform = std::string(platform);
  options.on_verdict = [&](const MonthRow& row, const Verdict& v) {
    if (out.platforms.empty() || out.platforms.back().platform_id != row.wm.platform_id) {
      PlatformMonth m;
      m.platform_id = row.wm.platform_id;
      m.period = p;
      m.hours_upto.assign(bins, 0);
      m.hours_from.assign(bins, 0);
      m.daily_active.assign(static_cast<size_t>(days), 0);
      out.platforms.push_back(std::move(m));
    }
    PlatformMonth& m = out.platforms.back();
    const WorkerMonth& wm = row.wm.wm;
    ++m.active_workers;
    for (int s = 0; s < kSectorCount; ++s) m.orders[s] += wm.orders[s];
    for (int d = 0; d < days; ++d)
      if (wm.active_days >> d & 1) ++m.daily_active[static_cast<size_t>(d)];
    if (wm.duration > 0) {
      const size_t upto = static_cast<size_t>((wm.duration - 1) / 60000);
      const size_t from = static_cast<size_t>(wm.duration / 60000);
      ++m.hours_upto[std::min(upto, bins - 1)];  // the last bin: that many hours or more
      ++m.hours_from[std::min(from, bins - 1)];
    }
    if (v.tier == Tier::kLaborRelation) {
      ++m.labor_relation;
      if (v.form_satisfies) ++m.on_labor_contract;
      m.labor_relation_earnings += wm.earnings;
      // Only payments made in time count, as for the verdict (rules.md section 4).
      for (const ContributionRecord& c : row.contributions)
        if (c.payer == Payer::kEmployer && rules.PaidInTime(row.wm.period, c.paid_on) &&
            std::find(kEmployerSchemes.begin(), kEmployerSchemes.end(), c.scheme) !=
                kEmployerSchemes.end())
          m.employer_paid += c.total.amount;
      for (const SchemeCheck& sc : v.schemes)
        m.employer_due +=
            static_cast<Fen>(static_cast<__int128>(v.required_base) * sc.rate / kPpmOne);
    }
    if (auto before = FormInForce(row.contracts, month_start - 1);
        before && IsLaborForm(before->form)) {
      ++m.contracted_before;
      if (v.form && IsExitForm(v.form->form)) ++m.exits;
    }
    int64_t pilot = 0, risk = 0;
    int risk_sector = -1;  // the high-risk sector of most of its orders
    for (int s = 0; s < kSectorCount; ++s) {
      if (rules.IsPilot(static_cast<Sector>(s))) {
        pilot += wm.orders[s];
      } else if (rules.IsHighRisk(static_cast<Sector>(s))) {
        risk += wm.orders[s];
        if (wm.orders[s] > 0 && (risk_sector < 0 || wm.orders[s] > wm.orders[risk_sector]))
          risk_sector = s;
      }
    }
    if (pilot > 0) {
      ++m.pilot_workers;
      m.pilot_orders += pilot;
      int64_t covered = 0;
      for (const ContributionRecord& c : row.contributions)
        if (c.scheme == Scheme::kOccupationalInjury && rules.PaidInTime(row.wm.period, c.paid_on)) {
          covered += c.total.orders_covered;
          m.premium += c.total.amount;
        }
      m.pilot_covered += std::min(covered, pilot);
    }
    if (risk > 0) {
      ++m.risk_workers;
      Fen best = 0;
      for (const PolicyRecord& pol : row.policies)
        if (rules.IsAdequateProduct(pol.product) && pol.valid_from < first_day + days &&
            pol.valid_to >= first_day)
          best = std::max(best, pol.sum_insured);
      m.risk_sum_insured += best;
      const auto tier = static_cast<size_t>(v.tier);
      ++m.risk_workers_by_tier[tier];
      m.risk_multiple_by_tier[tier] +=
          static_cast<double>(best) / static_cast<double>(rules.high_risk_min_sum[risk_sector]);
    }
  };
  auto evaluation = EvaluateMonth(store, rules, p, options);
  if (!evaluation.ok()) return evaluation.status();
  out.evaluation = std::move(*evaluation);
  for (PlatformMonth& m : out.platforms) {
    m.final = out.evaluation.final;
    for (int s = 0; s < kSectorCount; ++s)
      if (m.orders[s] > m.orders[static_cast<int>(m.sector)]) m.sector = static_cast<Sector>(s);
    for (const auto& [category, n] : store.Complaints(p, m.platform_id))
      m.complaints[static_cast<int>(category)] += n;
  }
  return out;
}

std::string SeriesJson(const PlatformMonth& m) {
  JsonWriter w;
  w.BeginObject()
      .Key("platform_id")
      .String(m.platform_id)
      .Key("period")
      .String(FormatPeriod(m.period));
  w.Key("final").Bool(m.final).Key("sector").String(NameOf(m.sector)).Key("series").BeginObject();
  for (int i = 0; i < static_cast<int>(SeriesId::kCount); ++i) {
    const auto point = m.Value(static_cast<SeriesId>(i));
    w.Key(kSeriesNames[i]);
    if (point.defined)
      w.Raw(Num(point.value));
    else
      w.Null();
  }
  w.EndObject().Key("complaints").BeginObject();
  for (int c = 0; c < kComplaintCategoryCount; ++c)
    w.Key(kComplaintCategoryNames[c]).Int(m.complaints[static_cast<size_t>(c)]);
  w.EndObject().Key("complaints_per_10k_by_category").BeginObject();
  for (int c = 0; c < kComplaintCategoryCount; ++c)
    w.Key(kComplaintCategoryNames[c])
        .Raw(Num(Ratio(static_cast<double>(m.complaints[static_cast<size_t>(c)]) * 10000,
                       static_cast<double>(m.active_workers))));
  auto list = [&w](const std::vector<int64_t>& v) {
    w.BeginArray();
    for (int64_t n : v) w.Int(n);
    w.EndArray();
  };
  w.EndObject().Key("daily_active");
  list(m.daily_active);
  w.Key("hours_histogram").BeginObject().Key("bin_hours").Int(1);
  w.Key("last_bin_from_hours").Raw(std::to_string(m.hours_upto.size() - 1)).Key("bins");
  list(m.hours_upto);
  return w.EndObject().EndObject().Take();
}

}  // namespace flexwatch
