#include "flexwatch/rules/evaluate.h"

#include <algorithm>

#include "figures.h"
#include "flexwatch/core/decimal.h"
#include "flexwatch/core/json.h"
#include "flexwatch/state/meta_keys.h"
#include "flexwatch/state/records.h"

namespace flexwatch {
namespace {

using i128 = __int128;

// Meta key of a month closed in wall-clock time: its value is that time, in ms.

}  // namespace

std::optional<ContractRecord> FormInForce(const std::vector<ContractRecord>& contracts,
                                          TimestampMs t) {
  for (size_t i = contracts.size(); i-- > 0;) {
    const ContractRecord& s = contracts[i];
    if (s.action != ContractAction::kSigned || s.ts > t) continue;
    bool ended = false;
    for (const ContractRecord& e : contracts)
      if (e.action == ContractAction::kTerminated && e.form == s.form && e.ts >= s.ts && e.ts <= t)
        ended = true;
    if (!ended) return s;
  }
  return std::nullopt;
}

namespace {

// The payments of one scheme (of one payer, or of any when none is given) for a period: those
// made by the end of its grace, which count, and those made later, which never do.
struct Paid {
  ContributionTotal in_time, late;
  bool any_in_time = false, any_late = false;
  Day first_late = 0;
};
Paid PaymentsOf(const RuleSet& rules, const MonthRow& row, Scheme s,
                std::optional<Payer> payer = std::nullopt) {
  Paid out;
  for (const ContributionRecord& c : row.contributions) {
    if (c.scheme != s || (payer && c.payer != *payer)) continue;
    if (rules.PaidInTime(row.wm.period, c.paid_on)) {
      out.in_time.Add(c.total);
      out.any_in_time = true;
    } else {
      if (!out.any_late || c.paid_on < out.first_late) out.first_late = c.paid_on;
      out.late.Add(c.total);
      out.any_late = true;
    }
  }
  return out;
}

}  // namespace

bool Verdict::CoverPaidLate() const {
  if (outcome[static_cast<int>(Dimension::kCoverageMismatch)] != Outcome::kAffected) return false;
  return (PilotUncovered() && orders_covered_late > 0) || work_injury_paid_late;
}

bool Verdict::PolicyInadequate() const {
  for (const HighRiskCheck& h : high_risk)
    if (!h.uncovered.empty()) return true;
  return false;
}

Result<Verdict> Judge(const RuleSet& rules, const MonthRow& row, bool final) {
  Verdict v;
  const WorkerMonth& wm = row.wm.wm;
  const std::string& platform = row.wm.platform_id;
  v.tier = rules.TierOf(wm.duration);

  // Contract avoidance.
  v.form = FormInForce(row.contracts, wm.last_order);
  if (v.form) {
    const ContractForm f = v.form->form;
    const bool labor = (f == ContractForm::kLaborContract && v.form->counterparty_id == platform) ||
                       f == ContractForm::kLaborDispatch;
    v.form_satisfies = v.tier == Tier::kLaborRelation ? labor
                       : v.tier == Tier::kManaged ? labor || f == ContractForm::kWrittenAgreement
                                                  : true;
    v.dispatched = v.tier == Tier::kLaborRelation && f == ContractForm::kLaborDispatch;
  }
  v.outcome[0] = v.tier == Tier::kIndependent ? Outcome::kNotInScope
                 : v.form_satisfies           ? Outcome::kCompliant
                                              : Outcome::kAffected;

  // Underpayment.
  const Paid work_injury = PaymentsOf(rules, row, Scheme::kWorkInjury, Payer::kEmployer);
  if (v.tier == Tier::kLaborRelation) {
    auto limits = rules.BaseFor(row.wm.period);
    if (!limits.ok()) return limits.status();
    v.limits = *limits;
    v.required_base = std::clamp(wm.earnings, limits->lower, limits->upper);
    bool fault = false, pending = false;
    for (size_t i = 0; i < kEmployerSchemes.size(); ++i) {
      SchemeCheck& c = v.schemes[i];
      c.scheme = kEmployerSchemes[i];
      c.rate = rules.EmployerRate(c.scheme, platform);
      const Paid paid = c.scheme == Scheme::kWorkInjury
                            ? work_injury
                            : PaymentsOf(rules, row, c.scheme, Payer::kEmployer);
      if (!paid.any_in_time) {
        // A payment after the grace shows that the grace has passed, final or not.
        c.missing = final || paid.any_late;
        c.pending = !c.missing;
      } else {
        c.paid = true;
        c.declared_base = paid.in_time.base;
        c.amount = paid.in_time.amount;
        c.expected_amount =
            static_cast<Fen>((static_cast<i128>(c.declared_base) * c.rate + kPpmOne / 2) / kPpmOne);
        // declared < required x (1 - tolerance); amount < declared x rate x (1 - tolerance).
        c.underdeclared = static_cast<i128>(c.declared_base) * kPpmOne <
                          static_cast<i128>(v.required_base) * (kPpmOne - rules.tolerance);
        c.short_payment = static_cast<i128>(c.amount) * kPpmOne * kPpmOne <
                          static_cast<i128>(c.declared_base) * c.rate * (kPpmOne - rules.tolerance);
      }
      if (paid.any_late && (c.missing || c.underdeclared || c.short_payment)) {
        c.paid_late = true;
        c.late_amount = paid.late.amount;
        c.late_paid_on = paid.first_late;
      }
      fault |= c.missing || c.underdeclared || c.short_payment;
      pending |= c.pending;
    }
    v.outcome[1] = fault ? Outcome::kAffected : pending ? Outcome::kPending : Outcome::kCompliant;
  } else {
    v.outcome[1] = Outcome::kNotInScope;
  }

  // Coverage mismatch.
  bool in_scope = false;
  for (int s = 0; s < kSectorCount; ++s) {
    if (wm.orders[s] == 0) continue;
    const Sector sector = static_cast<Sector>(s);
    if (rules.IsPilot(sector)) {
      v.pilot_orders += wm.orders[s];
      in_scope = true;
    } else if (rules.IsHighRisk(sector)) {
      in_scope = true;
      HighRiskCheck h;
      h.sector = sector;
      h.min_sum = rules.high_risk_min_sum[s];
      h.orders = wm.orders[s];
      const Day first = FirstDayOfPeriod(row.wm.period);
      for (int d = 0; d < 31; ++d) {
        if (!(wm.sector_days[s] >> d & 1)) continue;
        ++h.order_days;
        const Day day = first + d;
        bool any_product = false, adequate = false;
        Fen best = 0;
        for (const PolicyRecord& p : row.policies) {
          if (!rules.IsAdequateProduct(p.product)) continue;
          any_product = true;
          if (p.valid_from > day || p.valid_to < day) continue;
          best = std::max(best, p.sum_insured);
          if (p.sum_insured >= h.min_sum) adequate = true;
        }
        if (adequate) continue;
        h.uncovered.push_back(UncoveredDay{day,
                                           !any_product ? "no_policy"
                                           : best == 0  ? "not_valid_on_day"
                                                        : "sum_below_minimum",
                                           best});
      }
      v.high_risk.push_back(std::move(h));
    }
  }
  if (in_scope) {
    const Paid premiums = PaymentsOf(rules, row, Scheme::kOccupationalInjury);
    v.orders_covered = premiums.in_time.orders_covered;
    v.orders_covered_late = premiums.late.orders_covered;
    v.premium_pending = !final && !premiums.any_in_time && !premiums.any_late && v.pilot_orders > 0;
    if (v.tier == Tier::kLaborRelation) {
      v.exempt = work_injury.any_in_time && work_injury.in_time.amount > 0;
      v.exemption_pending = !final && !work_injury.any_in_time && !work_injury.any_late;
      v.work_injury_paid_late = !v.exempt && work_injury.late.amount > 0;
    }
    const bool fault = v.PilotUncovered() || v.PolicyInadequate();
    v.outcome[2] = v.exempt                        ? Outcome::kCompliant
                   : fault && !v.exemption_pending ? Outcome::kAffected
                   : fault || (v.premium_pending && v.pilot_orders > v.orders_covered)
                       ? Outcome::kPending
                       : Outcome::kCompliant;
  } else {
    v.outcome[2] = Outcome::kNotInScope;
  }
  return v;
}

std::vector<std::string_view> FindingsOf(const Verdict& v, Dimension d) {
  std::vector<std::string_view> out;
  if (v.outcome[static_cast<int>(d)] != Outcome::kAffected) return out;
  switch (d) {
    case Dimension::kContractAvoidance:
      out.push_back(v.form ? "form_not_sufficient" : "no_contract");
      break;
    case Dimension::kUnderpayment: {
      bool missing = false, under = false, short_pay = false, late = false;
      for (const SchemeCheck& c : v.schemes) {
        missing |= c.missing;
        under |= c.underdeclared;
        short_pay |= c.short_payment;
        late |= c.paid_late;
      }
      if (missing) out.push_back("missing_scheme");
      if (under) out.push_back("underdeclared_base");
      if (short_pay) out.push_back("short_payment");
      if (late) out.push_back("paid_late");
      break;
    }
    case Dimension::kCoverageMismatch:
      if (v.PilotUncovered()) out.push_back("pilot_uncovered");
      if (v.PolicyInadequate()) out.push_back("policy_inadequate");
      if (v.CoverPaidLate()) out.push_back("paid_late");
      break;
  }
  return out;
}

std::string FindingJson(const Verdict& v, Dimension d, std::string_view dispatch_cap_json) {
  const bool over_cap = !dispatch_cap_json.empty();
  JsonWriter w;
  w.BeginObject()
      .Key("tier")
      .String(NameOf(v.tier))
      .Key("outcome")
      .String(over_cap ? "affected"
                       : kOutcomeNames[static_cast<int>(v.outcome[static_cast<int>(d)])]);
  std::vector<std::string_view> findings = FindingsOf(v, d);
  if (over_cap) findings.push_back("dispatch_over_cap");
  w.Key("findings").BeginArray();
  for (std::string_view f : findings) w.String(f);
  w.EndArray();
  switch (d) {
    case Dimension::kContractAvoidance: {
      w.Key("form_in_force");
      if (!v.form) {
        w.Null();
      } else {
        // Counterparties are enterprises (the platform, agencies), except for an individual
        // business, whose counterparty may name the worker: that one is never written out.
        w.BeginObject().Key("form").String(NameOf(v.form->form));
        w.Key("signed").String(FormatBeijing(v.form->ts));
        if (v.form->form != ContractForm::kIndividualBusiness)
          w.Key("counterparty_id").String(v.form->counterparty_id);
        w.EndObject();
      }
      w.Key("dispatched").Bool(v.dispatched);
      if (over_cap) w.Key("dispatch_cap").Raw(dispatch_cap_json);
      break;
    }
    case Dimension::kUnderpayment: {
      if (v.limits) {
        w.Key("required_base_cny").Raw(Yuan(v.required_base)).Key("base_limits").BeginObject();
        w.Key("from").String(FormatPeriod(v.limits->from));
        w.Key("to").String(FormatPeriod(v.limits->to));
        w.Key("lower_cny").Raw(Yuan(v.limits->lower)).Key("upper_cny").Raw(Yuan(v.limits->upper));
        w.EndObject().Key("schemes").BeginArray();
        for (const SchemeCheck& c : v.schemes) {
          std::string_view status = c.missing && c.paid_late ? "paid_late"
                                    : c.missing              ? "missing"
                                    : c.pending              ? "pending"
                                    : c.underdeclared ? (c.short_payment ? "underdeclared_and_short"
                                                                         : "underdeclared_base")
                                    : c.short_payment ? "short_payment"
                                                      : "paid";
          w.BeginObject().Key("scheme").String(NameOf(c.scheme)).Key("status").String(status);
          w.Key("rate_percent").Raw(Percent(c.rate));
          if (c.paid) {
            w.Key("declared_base_cny").Raw(Yuan(c.declared_base));
            w.Key("amount_cny").Raw(Yuan(c.amount));
            w.Key("expected_amount_cny").Raw(Yuan(c.expected_amount));
          }
          if (c.paid_late) {
            w.Key("paid_late").BeginObject().Key("amount_cny").Raw(Yuan(c.late_amount));
            w.Key("first_paid_on").String(FormatDate(c.late_paid_on)).EndObject();
          }
          w.EndObject();
        }
        w.EndArray();
      }
      break;
    }
    case Dimension::kCoverageMismatch: {
      w.Key("exempt").Bool(v.exempt);
      if (v.exemption_pending) w.Key("exemption_pending").Bool(true);
      if (v.pilot_orders > 0) {
        w.Key("pilot_orders").Int(v.pilot_orders).Key("orders_covered").Int(v.orders_covered);
        w.Key("orders_uncovered").Int(std::max<int64_t>(0, v.pilot_orders - v.orders_covered));
        if (v.orders_covered_late > 0) w.Key("orders_covered_paid_late").Int(v.orders_covered_late);
        if (v.premium_pending) w.Key("premium_pending").Bool(true);
      }
      if (v.work_injury_paid_late) w.Key("work_injury_paid_late").Bool(true);
      if (!v.high_risk.empty()) {
        w.Key("high_risk").BeginArray();
        for (const HighRiskCheck& h : v.high_risk) {
          w.BeginObject().Key("sector").String(NameOf(h.sector)).Key("orders").Int(h.orders);
          w.Key("order_days").Int(h.order_days).Key("min_sum_insured_cny").Raw(Yuan(h.min_sum));
          w.Key("uncovered_days").BeginArray();
          for (const UncoveredDay& u : h.uncovered) {
            w.BeginObject().Key("date").String(FormatDate(u.day)).Key("why").String(u.why);
            if (u.best_sum > 0) w.Key("best_sum_insured_cny").Raw(Yuan(u.best_sum));
            w.EndObject();
          }
          w.EndArray().EndObject();
        }
        w.EndArray();
      }
      break;
    }
  }
  return w.EndObject().Take();
}

void DecideFinality(Store& store, const RuleSet& rules, Period p, bool close,
                    MonthEvaluation& out) {
  out.period = p;
  out.final_at = rules.FinalAt(p);
  out.watermark.reset();
  // The smallest of the sources' watermarks (rules.md section 4), as the ingest committed it.
  if (auto closing = store.ClosingWatermark()) out.watermark = *closing - rules.allowed_lateness_ms;
  const bool grace_passed = out.watermark && *out.watermark >= out.final_at;
  out.closed_at.reset();
  if (!close && !grace_passed)
    if (auto at = store.GetMeta(meta_keys::QuietClosed(p))) out.closed_at = std::stoll(*at);
  out.final = close || grace_passed || out.closed_at;
  out.finality = close           ? "closed"
                 : grace_passed  ? "grace_passed"
                 : out.closed_at ? "quiet_closed"
                                 : "open";
}

Result<std::vector<Period>> CloseQuietMonths(Store& store, const RuleSet& rules,
                                             TimestampMs wall_now) {
  std::vector<Period> closed;
  Batch batch;
  for (Period p : store.Periods()) {
    MonthEvaluation m;
    DecideFinality(store, rules, p, false, m);
    if (m.final || wall_now - rules.allowed_lateness_ms < m.final_at) continue;
    batch.Put(meta_keys::QuietClosed(p), std::to_string(wall_now));
    closed.push_back(p);
  }
  if (!batch.empty())
    if (Status s = store.Write(batch); !s.ok()) return s;
  return closed;
}

Result<MonthEvaluation> EvaluateMonth(Store& store, const RuleSet& rules, Period p,
                                      const EvaluateOptions& options) {
  // A month the rule set has no figures for is not judged at all, whichever workers it holds:
  // the same month is never judged by one command and refused by another.
  if (Status judgeable = rules.Judgeable(p); !judgeable.ok()) return judgeable;
  MonthEvaluation out;
  DecideFinality(store, rules, p, options.close, out);
  struct Dispatched {
    TimestampMs signed_ts;
    std::string worker_id;
    Verdict verdict;
  };
  std::vector<Dispatched> dispatched;
  PlatformScore* score = nullptr;
  std::string details;
  auto finish = [&]() {
    if (!score) return;
    PlatformScore& ps = *score;
    ps.dispatched = static_cast<int64_t>(dispatched.size());
    ps.dispatch_cap =
        static_cast<int64_t>(static_cast<i128>(ps.tiers[static_cast<int>(Tier::kLaborRelation)]) *
                             rules.dispatch_cap / kPpmOne);
    const int64_t excess = std::max<int64_t>(0, ps.dispatched - ps.dispatch_cap);
    if (excess > 0) {
      // The dispatch contracts signed last are the ones beyond the cap.
      std::sort(dispatched.begin(), dispatched.end(), [](const Dispatched& a, const Dispatched& b) {
        return a.signed_ts != b.signed_ts ? a.signed_ts > b.signed_ts : a.worker_id > b.worker_id;
      });
      DimensionScore& ca = ps.dimensions[0];
      ca.affected += excess;
      ca.findings["dispatch_over_cap"] += excess;
      JsonWriter cap;
      cap.BeginObject().Key("labor_relation_worker_months");
      cap.Int(ps.tiers[static_cast<int>(Tier::kLaborRelation)]);
      cap.Key("cap_percent").Raw(Percent(rules.dispatch_cap)).Key("cap").Int(ps.dispatch_cap);
      const std::string cap_json = cap.Key("dispatched").Int(ps.dispatched).EndObject().Take();
      for (int64_t i = 0; options.on_finding && i < excess; ++i) {
        const Dispatched& d = dispatched[static_cast<size_t>(i)];
        details = FindingJson(d.verdict, Dimension::kContractAvoidance, cap_json);
        options.on_finding(
            Finding{ps.platform_id, d.worker_id, p, Dimension::kContractAvoidance, details});
      }
    }
    dispatched.clear();
    for (DimensionScore& d : ps.dimensions) d.level = rules.LevelOf(d.affected, d.in_scope);
    ps.level = Level::kGreen;
    for (const DimensionScore& d : ps.dimensions) ps.level = std::max(ps.level, d.level);
    ps.ranked = ps.in_scope_workers >= rules.min_ranked_workers;
    for (const auto& [category, n] : store.Complaints(p, ps.platform_id)) ps.complaints += n;
    if (auto v = store.GetMeta(meta_keys::Rewritten(p, ps.platform_id)))
      DecodeCounter(*v, ps.rewritten);
  };
  Status failure = Status::OK();
  Status scan = store.ScanMonth(p, options.platform, [&](const MonthRow& row) {
    if (!failure.ok()) return;
    if (!score || score->platform_id != row.wm.platform_id) {
      finish();
      out.platforms.emplace_back();
      score = &out.platforms.back();
      score->platform_id = row.wm.platform_id;
    }
    auto verdict = Judge(rules, row, out.final);
    if (!verdict.ok()) {
      failure = verdict.status();
      return;
    }
    const Verdict& v = *verdict;
    ++score->worker_months;
    score->orders += row.wm.wm.TotalOrders();
    for (const ContributionRecord& c : row.contributions) {
      score->payments += c.total.payments;
      if (!rules.PaidInTime(p, c.paid_on)) score->late_payments += c.total.payments;
    }
    ++score->tiers[static_cast<int>(v.tier)];
    bool any_scope = false;
    for (int d = 0; d < kDimensionCount; ++d) {
      DimensionScore& ds = score->dimensions[d];
      const Outcome o = v.outcome[d];
      if (o == Outcome::kNotInScope) continue;
      any_scope = true;
      ++ds.in_scope;
      if (o == Outcome::kPending) ++ds.pending;
      if (o != Outcome::kAffected) continue;
      ++ds.affected;
      for (std::string_view name : FindingsOf(v, static_cast<Dimension>(d)))
        ++ds.findings[std::string(name)];
      if (options.on_finding) {
        details = FindingJson(v, static_cast<Dimension>(d));
        options.on_finding(
            Finding{row.wm.platform_id, row.wm.worker_id, p, static_cast<Dimension>(d), details});
      }
    }
    if (any_scope) ++score->in_scope_workers;
    if (v.dispatched) dispatched.push_back(Dispatched{v.form->ts, row.wm.worker_id, v});
    if (options.on_verdict) options.on_verdict(row, v);
  });
  if (!failure.ok()) return failure;
  if (!scan.ok()) return scan;
  // Complaints, finality and the other reads beside the scan: a read error in any of them makes
  // the month's judgement partial, never an answer.
  finish();
  if (Status read = store.ReadStatus(); !read.ok()) return read;
  return out;
}

}  // namespace flexwatch
