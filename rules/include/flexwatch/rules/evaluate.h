// The monthly verdict of domain/rules.md: each worker-month's tier and findings, and per platform
// and dimension the in-scope and affected counts, rates and levels.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "flexwatch/rules/rule_set.h"
#include "flexwatch/state/store.h"

namespace flexwatch {

// Where a worker-month stands on one dimension.
enum class Outcome : uint8_t {
  kNotInScope,
  kCompliant,
  kPending,   // the verdict waits for contributions not yet due (the period is not final)
  kAffected,  // a finding
};
inline constexpr std::array<std::string_view, 4> kOutcomeNames = {"not_in_scope", "compliant",
                                                                  "pending", "affected"};

// One employer scheme of a labour-relation worker-month.
struct SchemeCheck {
  Scheme scheme = Scheme::kPension;
  bool paid = false;  // an employer contribution for the period exists
  Fen declared_base = 0, amount = 0;
  Ppm rate = 0;
  Fen expected_amount = 0;  // declared base x rate, rounded to the fen (for display)
  bool missing = false;     // not paid in time, and the period is final or its grace has passed
  bool pending = false;     // not paid, not yet due
  bool underdeclared = false;
  bool short_payment = false;
  // Payments made after the grace, which never count (rules.md section 4): reported as paid late
  // when the scheme is not satisfied by those made in time.
  bool paid_late = false;
  Fen late_amount = 0;
  Day late_paid_on = 0;  // the first of them
};

// Orders of one high-risk sector on days without adequate cover.
struct UncoveredDay {
  Day day = 0;
  // "no_policy": no policy of an adequate product at all; "not_valid_on_day": none valid that
  // day; "sum_below_minimum": valid that day, but every one insures less than the minimum.
  std::string_view why;
  Fen best_sum = 0;  // the largest sum insured valid that day (0: none)
};
struct HighRiskCheck {
  Sector sector = Sector::kOther;
  Fen min_sum = 0;
  int64_t orders = 0;
  int order_days = 0;
  std::vector<UncoveredDay> uncovered;
};

struct Verdict {
  Tier tier = Tier::kIndependent;
  std::array<Outcome, kDimensionCount> outcome{};

  // Contract avoidance: the form in force at the last order (none: no contract at all).
  std::optional<ContractRecord> form;
  bool form_satisfies = false;
  bool dispatched = false;  // labour relation through a dispatch contract (subject to the cap)

  // Underpayment (labour relation only).
  std::optional<BaseLimits> limits;
  Fen required_base = 0;
  std::array<SchemeCheck, kEmployerSchemes.size()> schemes{};

  // Coverage mismatch.
  bool exempt = false;             // statutory work-injury insurance paid for the month
  bool exemption_pending = false;  // labour relation, work injury not yet due
  int64_t pilot_orders = 0;
  int64_t orders_covered = 0;    // occupational_injury contributions paid in time, all payers
  bool premium_pending = false;  // no premium at all yet, not yet due
  std::vector<HighRiskCheck> high_risk;
  // Paid after the grace, so not counted above: premiums' orders, and the statutory work-injury
  // insurance (which would have exempted the worker).
  int64_t orders_covered_late = 0;
  bool work_injury_paid_late = false;
  // An affected worker-month that a payment made after the grace would have satisfied (the
  // finding kind paid_late).
  bool CoverPaidLate() const;

  bool PilotUncovered() const { return pilot_orders > orders_covered && !premium_pending; }
  bool PolicyInadequate() const;
};

// The form in force at instant `t`: the latest `signed` S at or before it that no `terminated` E
// of the same form ended, where E ends S when S.ts <= E.ts <= t (so a contract signed and
// terminated in the same second was never in force, events.md 1.1). REQUIRES: contracts in key
// order (event time, then event id), so that ties resolve the same way whatever the arrival order.
std::optional<ContractRecord> FormInForce(const std::vector<ContractRecord>& contracts,
                                          TimestampMs t);

// Judges one worker-month. `final`: missing contributions count as unpaid. Fails only when no
// base limits are configured for a labour-relation worker-month's period.
Result<Verdict> Judge(const RuleSet& rules, const MonthRow& row, bool final);

// The kinds of fault behind an affected outcome: no_contract, form_not_sufficient,
// missing_scheme, underdeclared_base, short_payment, pilot_uncovered, policy_inadequate, and
// paid_late (a payment after the grace that would have satisfied the rule, which never counts).
// (dispatch_over_cap is decided per platform, not per worker-month.)
std::vector<std::string_view> FindingsOf(const Verdict& v, Dimension d);

// The facts behind one dimension's outcome, as a JSON object (for evidence and `inspect`). Worker
// and event ids are not in it. `dispatch_cap_json`, when given, marks the worker-month as one of
// the dispatched ones beyond the platform's cap, with the cap's figures.
std::string FindingJson(const Verdict& v, Dimension d, std::string_view dispatch_cap_json = {});

struct DimensionScore {
  int64_t in_scope = 0;
  int64_t affected = 0;
  int64_t pending = 0;
  Level level = Level::kGreen;
  // Worker-months per kind of fault (a worker-month with several kinds counts under each).
  std::map<std::string, int64_t> findings;
};

struct PlatformScore {
  std::string platform_id;
  int64_t worker_months = 0;
  std::array<int64_t, 3> tiers{};  // by Tier
  int64_t in_scope_workers = 0;    // worker-months in scope of at least one dimension
  bool ranked = false;
  Level level = Level::kGreen;  // the worst dimension
  std::array<DimensionScore, kDimensionCount> dimensions{};
  int64_t dispatched = 0, dispatch_cap = 0;
  // Data quality: the orders of its worker-months, the contribution payments for them (every
  // scheme and payer), those among them made after the month's grace (which never count), and
  // the month's complaints; and the deliveries of an event id already applied whose content
  // differs from the first (a record rewritten after it was delivered, meta_keys::Rewritten).
  int64_t orders = 0, payments = 0, late_payments = 0, complaints = 0, rewritten = 0;
};

struct MonthEvaluation {
  Period period = 0;
  bool final = false;
  // "closed" (--final), "grace_passed" (in event time), "quiet_closed" (in wall-clock time while
  // the topics were quiet, see CloseQuietMonths), or "open".
  std::string finality;
  std::optional<TimestampMs> watermark;
  TimestampMs final_at = 0;              // when the grace passes, in event time
  std::optional<TimestampMs> closed_at;  // quiet_closed: the wall-clock time it closed
  std::vector<PlatformScore> platforms;  // by platform_id
};

// One affected worker-month of one dimension, for the evidence files.
struct Finding {
  const std::string& platform_id;
  const std::string& worker_id;
  Period period;
  Dimension dimension;
  const std::string& details_json;  // FindingJson, with the dispatch cap where it applies
};

struct EvaluateOptions {
  bool close = false;    // --final: the period is final whatever the watermark
  std::string platform;  // empty: every platform
  // Called for each affected worker-month and dimension (optional).
  std::function<void(const Finding&)> on_finding;
  // Called for each worker-month once judged (optional); dispatch beyond the cap is only known
  // at the platform's end and arrives through on_finding.
  std::function<void(const MonthRow&, const Verdict&)> on_verdict;
};

// Whether period `p` is final for `store` (and why), without evaluating it.
void DecideFinality(Store& store, const RuleSet& rules, Period p, bool close, MonthEvaluation& out);

Result<MonthEvaluation> EvaluateMonth(Store& store, const RuleSet& rules, Period p,
                                      const EvaluateOptions& options);

// A quiet month still closes: marks final in the state every month whose grace has passed in
// wall-clock time (`wall_now` less the allowed lateness is at or past its final_at) but not in
// event time. REQUIRES: no message has arrived for a while (the caller's judgement of "quiet").
// Returns the periods it closed.
Result<std::vector<Period>> CloseQuietMonths(Store& store, const RuleSet& rules,
                                             TimestampMs wall_now);

}  // namespace flexwatch
