// The rules of domain/rules.md on small hand-written feeds, one boundary at a time, through the
// real path: NDJSON lines -> decoder -> RocksDB state in a temp dir -> evaluation.
#include "flexwatch/rules/evaluate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "flexwatch/ingest/replay.h"
#include "flexwatch/settings/config.h"

namespace flexwatch {
namespace {

namespace fs = std::filesystem;

const RuleSet& Shipped() {
  static const Config config = *ShippedConfig();
  return *config.rules;
}

constexpr int kCa = 0, kUp = 1, kCm = 2;

class EvaluateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("flexwatch-eval-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    rules_ = Shipped();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Head(const char* type, const std::string& p, const std::string& w,
                   const std::string& ts) {
    return "{\"type\":\"" + std::string(type) + "\",\"event_id\":\"e-" + std::to_string(++ids_) +
           "\",\"ts\":\"" + ts + "\",\"platform_id\":\"" + p + "\",\"worker_id\":\"" + w + "\"";
  }
  // One order of `minutes` (a JSON number) on `date` at 12:00 Beijing time.
  void Order(const std::string& p, const std::string& w, const std::string& date,
             const std::string& minutes, const std::string& earnings = "10",
             const std::string& sector = "live_streaming", const std::string& time = "12:00:00") {
    lines_.push_back(Head("order", p, w, date + "T" + time + "+08:00") + ",\"sector\":\"" + sector +
                     "\",\"duration_min\":" + minutes + ",\"earnings_cny\":" + earnings + "}");
  }
  // `hours` of work in July 2024 as orders of at most 1000 minutes, one a day from July 1, then
  // `extra_minutes` (a JSON number) on July 28.
  void Work(const std::string& p, const std::string& w, int64_t hours,
            const std::string& extra_minutes = "", const std::string& sector = "live_streaming",
            const std::string& earnings = "10", const std::string& month = "2024-07") {
    int64_t left = hours * 60;
    for (int day = 1; left > 0; ++day) {
      const int64_t m = std::min<int64_t>(left, 1000);
      char date[16];
      std::snprintf(date, sizeof date, "%s-%02d", month.c_str(), day);
      Order(p, w, date, std::to_string(m), earnings, sector);
      left -= m;
    }
    if (!extra_minutes.empty()) Order(p, w, month + "-28", extra_minutes, "0", sector, "20:00:00");
  }
  void Contract(const std::string& p, const std::string& w, const std::string& ts,
                const std::string& action, const std::string& form,
                const std::string& counterparty) {
    lines_.push_back(Head("contract", p, w, ts) + ",\"action\":\"" + action + "\",\"form\":\"" +
                     form + "\",\"counterparty_id\":\"" + counterparty + "\"}");
  }
  void Sign(const std::string& p, const std::string& w, const std::string& form,
            const std::string& counterparty = "") {
    Contract(p, w, "2024-06-20T09:00:00+08:00", "signed", form,
             counterparty.empty() ? p : counterparty);
  }
  void Pay(const std::string& p, const std::string& w, const std::string& scheme,
           const std::string& base, const std::string& amount,
           const std::string& period = "2024-07", const std::string& payer = "employer") {
    lines_.push_back(Head("contribution", p, w, "2024-08-10T10:00:00+08:00") + ",\"period\":\"" +
                     period + "\",\"scheme\":\"" + scheme + "\",\"payer\":\"" + payer +
                     "\",\"base_cny\":" + base + ",\"amount_cny\":" + amount + "}");
  }
  // `base_yuan` x `bp` basis points, in yuan with two decimals (rounded half up).
  static std::string Amount(int64_t base_yuan, int64_t bp) {
    const int64_t fen = (base_yuan * bp + 50) / 100;
    return std::to_string(fen / 100) + "." + (fen % 100 < 10 ? "0" : "") +
           std::to_string(fen % 100);
  }
  static int64_t ShippedBp(const std::string& scheme) {
    return scheme == "pension"        ? 1600
           : scheme == "medical"      ? 980
           : scheme == "unemployment" ? 50
                                      : 40;
  }
  // All four employer schemes, at the shipped rates, on `base_yuan`.
  void PayAll(const std::string& p, const std::string& w, int64_t base_yuan,
              const std::string& period = "2024-07") {
    for (const char* scheme : {"pension", "medical", "unemployment", "work_injury"})
      Pay(p, w, scheme, std::to_string(base_yuan), Amount(base_yuan, ShippedBp(scheme)), period);
  }
  void Premium(const std::string& p, const std::string& w, int64_t orders,
               const std::string& period = "2024-07") {
    lines_.push_back(
        Head("contribution", p, w, "2024-08-05T10:00:00+08:00") + ",\"period\":\"" + period +
        "\",\"scheme\":\"occupational_injury\",\"payer\":\"platform\",\"amount_cny\":" +
        std::to_string(orders) + ",\"orders_covered\":" + std::to_string(orders) + "}");
  }
  void Policy(const std::string& p, const std::string& w, const std::string& product,
              const std::string& sum, const std::string& from, const std::string& to) {
    lines_.push_back(Head("coverage", p, w, "2024-06-28T10:00:00+08:00") + ",\"product\":\"" +
                     product + "\",\"sum_insured_cny\":" + sum + ",\"valid_from\":\"" + from +
                     "\",\"valid_to\":\"" + to + "\"}");
  }
  // An event of another platform and worker whose only role is to move the watermark.
  // A labour relation's month, paid in full except unemployment insurance.
  void WorkAndPayAllButUnemployment(const std::string& p, const std::string& w) {
    Work(p, w, 120);
    PayAll(p, w, 6821);
    lines_.erase(std::remove_if(lines_.begin(), lines_.end(),
                                [](const std::string& l) {
                                  return l.find("\"unemployment\"") != std::string::npos;
                                }),
                 lines_.end());
  }
  void Clock(const std::string& ts) {
    lines_.push_back(Head("complaint", "p-clock", "w-clock", ts) + ",\"category\":\"other\"}");
  }

  // Replays the lines (in the given order) into a fresh state and evaluates `period`.
  MonthEvaluation Evaluate(const std::string& period = "2024-07", bool close = true,
                           const std::vector<std::string>* order = nullptr) {
    const fs::path state = dir_ / ("state-" + std::to_string(++runs_));
    const fs::path feed = dir_ / ("feed-" + std::to_string(runs_) + ".ndjson");
    {
      std::ofstream f(feed);
      for (const std::string& l : order ? *order : lines_) f << l << "\n";
    }
    auto store = Store::Open(state.string(), StoreOptions{});
    EXPECT_TRUE(store.ok());
    auto counts = ReplayFiles(**store, {feed.string()}, ReplayOptions{});
    EXPECT_TRUE(counts.ok());
    EXPECT_EQ(counts->rejected, 0) << "a test line is invalid";
    if (quiet_now_) {
      auto closed = CloseQuietMonths(**store, rules_, *quiet_now_);
      EXPECT_TRUE(closed.ok());
      closed_ = closed.ok() ? *closed : std::vector<Period>{};
    }
    verdicts_.clear();
    findings_.clear();
    EvaluateOptions eo;
    eo.close = close;
    eo.on_verdict = [this](const MonthRow& row, const Verdict& v) {
      verdicts_[row.wm.platform_id + "/" + row.wm.worker_id] = v;
    };
    eo.on_finding = [this](const Finding& f) {
      findings_.push_back(f.platform_id + "/" + f.worker_id + "/" +
                          std::string(NameOf(f.dimension)) + " " + f.details_json);
    };
    auto m = EvaluateMonth(**store, rules_, *ParsePeriod(period), eo);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : MonthEvaluation{};
  }
  static const PlatformScore& Of(const MonthEvaluation& m, const std::string& p) {
    for (const PlatformScore& ps : m.platforms)
      if (ps.platform_id == p) return ps;
    static const PlatformScore none;
    ADD_FAILURE() << "no platform " << p;
    return none;
  }
  const Verdict& V(const std::string& p, const std::string& w) {
    auto it = verdicts_.find(p + "/" + w);
    if (it == verdicts_.end()) {
      ADD_FAILURE() << "no verdict for " << p << "/" << w;
      static const Verdict none;
      return none;
    }
    return it->second;
  }

  fs::path dir_;
  RuleSet rules_;
  std::vector<std::string> lines_;
  std::map<std::string, Verdict> verdicts_;
  std::vector<std::string> findings_;
  int ids_ = 0, runs_ = 0;
  // When set, Evaluate first closes the months quiet at this wall-clock time (into closed_).
  std::optional<TimestampMs> quiet_now_;
  std::vector<Period> closed_;
};

// --- tiers ---

TEST_F(EvaluateTest, TierBoundariesAt104And40Hours) {
  Work("p", "w-104", 104);               // exactly 104 h: managed
  Work("p", "w-104plus", 104, "0.001");  // 1/1000 minute more: labour relation
  Work("p", "w-40", 40);                 // exactly 40 h: managed
  Work("p", "w-40minus", 39, "59.999");  // just under 40 h: independent
  Evaluate();
  EXPECT_EQ(V("p", "w-104").tier, Tier::kManaged);
  EXPECT_EQ(V("p", "w-104plus").tier, Tier::kLaborRelation);
  EXPECT_EQ(V("p", "w-40").tier, Tier::kManaged);
  EXPECT_EQ(V("p", "w-40minus").tier, Tier::kIndependent);
  EXPECT_EQ(V("p", "w-40minus").outcome[kCa], Outcome::kNotInScope);
}

TEST_F(EvaluateTest, ThresholdsComeFromTheConfig) {
  rules_.labor_relation_above = 80 * 60000;
  Work("p", "w", 90);
  Evaluate();
  EXPECT_EQ(V("p", "w").tier, Tier::kLaborRelation);
}

TEST_F(EvaluateTest, AWorkerOnTwoPlatformsIsJudgedPerPlatform) {
  // 120 h in all, 60 h on each: two managed worker-months, never one labour relation.
  Work("p-a", "w", 60);
  Work("p-b", "w", 60);
  Sign("p-a", "w", "written_agreement");
  MonthEvaluation m = Evaluate();
  EXPECT_EQ(V("p-a", "w").tier, Tier::kManaged);
  EXPECT_EQ(V("p-b", "w").tier, Tier::kManaged);
  EXPECT_EQ(Of(m, "p-a").dimensions[kCa].affected, 0);
  EXPECT_EQ(Of(m, "p-b").dimensions[kCa].affected, 1);  // no agreement with p-b
  EXPECT_EQ(Of(m, "p-a").dimensions[kUp].in_scope, 0);
}

// --- contract avoidance ---

TEST_F(EvaluateTest, FormsThatSatisfyEachTier) {
  struct Case {
    const char* worker;
    int64_t hours;
    const char* form;  // "" for no contract
    const char* counterparty;
    bool affected;
  };
  const Case cases[] = {
      {"lr-contract", 120, "labor_contract", "p", false},
      {"lr-contract-agency", 120, "labor_contract", "agency-1", true},
      {"lr-dispatch", 120, "labor_dispatch", "dispatch-1", false},
      {"lr-outsourcing", 120, "outsourcing", "agency-1", true},
      {"lr-individual", 120, "individual_business", "ib-1", true},
      {"lr-agreement", 120, "written_agreement", "p", true},
      {"lr-freelance", 120, "freelance", "p", true},
      {"lr-none", 120, "", "", true},
      {"m-agreement", 60, "written_agreement", "p", false},
      {"m-contract", 60, "labor_contract", "p", false},
      {"m-freelance", 60, "freelance", "p", true},
      {"m-none", 60, "", "", true},
  };
  for (const Case& c : cases) {
    Work("p", c.worker, c.hours);
    if (*c.form) Sign("p", c.worker, c.form, c.counterparty);
  }
  Work("p", "i-none", 10);
  MonthEvaluation m = Evaluate();
  for (const Case& c : cases)
    EXPECT_EQ(V("p", c.worker).outcome[kCa], c.affected ? Outcome::kAffected : Outcome::kCompliant)
        << c.worker;
  EXPECT_EQ(V("p", "i-none").outcome[kCa], Outcome::kNotInScope);
  const DimensionScore& ca = Of(m, "p").dimensions[kCa];
  EXPECT_EQ(ca.in_scope, 12);
  // One dispatched of 8 labour relations: cap floor(0.8) = 0, so it is over the cap too.
  EXPECT_EQ(ca.affected, 8 + 1);
  EXPECT_EQ(ca.findings.at("no_contract"), 2);
  EXPECT_EQ(ca.findings.at("form_not_sufficient"), 6);
  EXPECT_EQ(ca.findings.at("dispatch_over_cap"), 1);
}

TEST_F(EvaluateTest, TheFormInForceAtTheLastOrderCountsInEventTime) {
  // Terminated before the month, another (weaker) form signed: that one is in force.
  Work("p", "w-switched", 120);
  Contract("p", "w-switched", "2024-06-01T09:00:00+08:00", "signed", "labor_contract", "p");
  Contract("p", "w-switched", "2024-06-20T09:00:00+08:00", "terminated", "labor_contract", "p");
  Contract("p", "w-switched", "2024-06-25T09:00:00+08:00", "signed", "outsourcing", "agency-1");
  // Terminated before the month and nothing else: no contract.
  Work("p", "w-ended", 120);
  Contract("p", "w-ended", "2024-06-01T09:00:00+08:00", "signed", "labor_contract", "p");
  Contract("p", "w-ended", "2024-06-30T09:00:00+08:00", "terminated", "labor_contract", "p");
  // Signed only after the last order of the month (July 28, 20:00): not in force for July.
  Work("p", "w-late", 120, "1");
  Contract("p", "w-late", "2024-07-28T20:00:01+08:00", "signed", "labor_contract", "p");
  // Signed exactly at the last order: in force ("at or before").
  Work("p", "w-at", 120, "1");
  Contract("p", "w-at", "2024-07-28T20:00:00+08:00", "signed", "labor_contract", "p");
  // Terminated after the last order: still in force at it.
  Work("p", "w-after", 120, "1");
  Contract("p", "w-after", "2024-06-01T09:00:00+08:00", "signed", "labor_contract", "p");
  Contract("p", "w-after", "2024-07-29T09:00:00+08:00", "terminated", "labor_contract", "p");
  // The outsourcing signed later was terminated: the earlier labour contract is in force again.
  Work("p", "w-back", 120);
  Contract("p", "w-back", "2024-05-01T09:00:00+08:00", "signed", "labor_contract", "p");
  Contract("p", "w-back", "2024-06-01T09:00:00+08:00", "signed", "outsourcing", "agency-1");
  Contract("p", "w-back", "2024-06-10T09:00:00+08:00", "terminated", "outsourcing", "agency-1");
  // Signed and terminated in the same second: never in force (events.md 1.1), whichever arrives
  // first; a form signed before it stays in force.
  Work("p", "w-instant", 120);
  Contract("p", "w-instant", "2024-06-10T09:00:00+08:00", "terminated", "labor_contract", "p");
  Contract("p", "w-instant", "2024-06-10T09:00:00+08:00", "signed", "labor_contract", "p");
  Work("p", "w-instant-over", 120);
  Contract("p", "w-instant-over", "2024-06-01T09:00:00+08:00", "signed", "written_agreement", "p");
  Contract("p", "w-instant-over", "2024-06-10T09:00:00+08:00", "signed", "labor_contract", "p");
  Contract("p", "w-instant-over", "2024-06-10T09:00:00+08:00", "terminated", "labor_contract", "p");
  Evaluate();
  EXPECT_FALSE(V("p", "w-instant").form.has_value());
  EXPECT_EQ(V("p", "w-instant").outcome[kCa], Outcome::kAffected);
  ASSERT_TRUE(V("p", "w-instant-over").form.has_value());
  EXPECT_EQ(V("p", "w-instant-over").form->form, ContractForm::kWrittenAgreement);
  EXPECT_EQ(V("p", "w-instant-over").outcome[kCa], Outcome::kAffected);
  EXPECT_EQ(V("p", "w-switched").form->form, ContractForm::kOutsourcing);
  EXPECT_EQ(V("p", "w-switched").outcome[kCa], Outcome::kAffected);
  EXPECT_FALSE(V("p", "w-ended").form.has_value());
  EXPECT_EQ(V("p", "w-ended").outcome[kCa], Outcome::kAffected);
  EXPECT_EQ(V("p", "w-late").outcome[kCa], Outcome::kAffected);
  EXPECT_EQ(V("p", "w-at").outcome[kCa], Outcome::kCompliant);
  EXPECT_EQ(V("p", "w-after").outcome[kCa], Outcome::kCompliant);
  EXPECT_EQ(V("p", "w-back").form->form, ContractForm::kLaborContract);
  EXPECT_EQ(V("p", "w-back").outcome[kCa], Outcome::kCompliant);
}

TEST_F(EvaluateTest, ArrivalOrderNeverChangesTheVerdict) {
  for (int w = 0; w < 12; ++w) {
    const std::string id = "w-" + std::to_string(w);
    Work("p", id, w % 3 == 0 ? 20 : w % 3 == 1 ? 60 : 120);
    Contract("p", id, "2024-06-01T09:00:00+08:00", "signed", "labor_contract", "p");
    Contract("p", id, "2024-06-20T09:00:00+08:00", "terminated", "labor_contract", "p");
    if (w % 2) Contract("p", id, "2024-06-25T09:00:00+08:00", "signed", "labor_dispatch", "d-1");
    if (w % 4 == 0) PayAll("p", id, 6821);
  }
  const MonthEvaluation a = Evaluate();
  std::vector<std::string> shuffled = lines_;
  std::mt19937 rng(7);
  for (int round = 0; round < 3; ++round) {
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    const MonthEvaluation b = Evaluate("2024-07", true, &shuffled);
    ASSERT_EQ(a.platforms.size(), b.platforms.size());
    for (int d = 0; d < kDimensionCount; ++d) {
      EXPECT_EQ(a.platforms[0].dimensions[d].affected, b.platforms[0].dimensions[d].affected);
      EXPECT_EQ(a.platforms[0].dimensions[d].in_scope, b.platforms[0].dimensions[d].in_scope);
    }
  }
}

TEST_F(EvaluateTest, DispatchCapAtExactlyTenPercentAndAbove) {
  // 20 labour relations, 2 dispatched: exactly 10%, cap floor(2.0) = 2, nothing over.
  for (int w = 0; w < 20; ++w) {
    const std::string id = "w-" + std::to_string(100 + w);
    Work("p", id, 120);
    Sign("p", id, w < 2 ? "labor_dispatch" : "labor_contract", w < 2 ? "d-1" : "p");
  }
  MonthEvaluation m = Evaluate();
  EXPECT_EQ(Of(m, "p").dispatch_cap, 2);
  EXPECT_EQ(Of(m, "p").dimensions[kCa].affected, 0);
  // A third dispatched worker (19 direct + 3 dispatched = 22, cap floor(2.2) = 2): one over.
  Work("p", "w-late-dispatch", 120);
  Contract("p", "w-late-dispatch", "2024-06-25T09:00:00+08:00", "signed", "labor_dispatch", "d-1");
  Work("p", "w-121", 120);
  Sign("p", "w-121", "labor_contract");
  m = Evaluate();
  EXPECT_EQ(Of(m, "p").tiers[static_cast<int>(Tier::kLaborRelation)], 22);
  EXPECT_EQ(Of(m, "p").dispatched, 3);
  EXPECT_EQ(Of(m, "p").dispatch_cap, 2);
  EXPECT_EQ(Of(m, "p").dimensions[kCa].affected, 1);
  EXPECT_EQ(Of(m, "p").dimensions[kCa].findings.at("dispatch_over_cap"), 1);
  // The one over the cap is the dispatch contract signed last.
  std::vector<std::string> ca;
  for (const std::string& f : findings_)
    if (f.find("/contract_avoidance ") != std::string::npos) ca.push_back(f);
  ASSERT_EQ(ca.size(), 1u);
  EXPECT_EQ(ca[0].rfind("p/w-late-dispatch/contract_avoidance", 0), 0u) << ca[0];
  EXPECT_NE(ca[0].find("\"cap\": 2"), std::string::npos) << ca[0];
  EXPECT_NE(ca[0].find("\"dispatch_over_cap\""), std::string::npos) << ca[0];
}

// --- underpayment ---

TEST_F(EvaluateTest, BaseLimitsClampTheRequiredBase) {
  Work("p", "w-low", 120, "", "live_streaming", "10");      // earnings 80 yuan: the lower limit
  Work("p", "w-high", 120, "", "live_streaming", "10000");  // 80,000 yuan: the upper limit
  PayAll("p", "w-low", 6821);
  PayAll("p", "w-high", 35811);
  Evaluate();
  EXPECT_EQ(V("p", "w-low").required_base, 682100);
  EXPECT_EQ(V("p", "w-high").required_base, 3581100);
  EXPECT_EQ(V("p", "w-low").outcome[kUp], Outcome::kCompliant);
  EXPECT_EQ(V("p", "w-high").outcome[kUp], Outcome::kCompliant);
}

TEST_F(EvaluateTest, TheJulySwitchOfTheBaseTable) {
  // June 2024 uses the 2023-07..2024-06 row (lower 6,326); July 2024 the next (lower 6,821).
  Work("p", "w", 120, "", "live_streaming", "10", "2024-06");
  Work("p", "w", 120, "", "live_streaming", "10", "2024-07");
  PayAll("p", "w", 6326, "2024-06");
  PayAll("p", "w", 6326, "2024-07");
  Evaluate("2024-06");
  EXPECT_EQ(V("p", "w").required_base, 632600);
  EXPECT_EQ(V("p", "w").outcome[kUp], Outcome::kCompliant);
  Evaluate("2024-07");
  EXPECT_EQ(V("p", "w").required_base, 682100);
  EXPECT_EQ(V("p", "w").outcome[kUp], Outcome::kAffected);
  EXPECT_TRUE(V("p", "w").schemes[0].underdeclared);
}

TEST_F(EvaluateTest, APeriodOutsideTheBaseTableIsAnError) {
  Work("p", "w", 120, "", "live_streaming", "10", "2021-03");
  const fs::path feed = dir_ / "f.ndjson";
  {
    std::ofstream f(feed);
    for (const std::string& l : lines_) f << l << "\n";
  }
  auto store = Store::Open((dir_ / "s").string(), StoreOptions{});
  ASSERT_TRUE(ReplayFiles(**store, {feed.string()}, ReplayOptions{}).ok());
  auto m = EvaluateMonth(**store, rules_, MakePeriod(2021, 3), {});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("no contribution base limits in force for 2021-03"),
            std::string::npos)
      << m.status().message();
}

TEST_F(EvaluateTest, ToleranceEdgesOfBaseAndAmount) {
  // Earnings 10,000 yuan: required base 10,000; 2% tolerance: 9,800 passes, 9,799.99 does not.
  // Pension 16% of 10,000 = 1,600; 2% tolerance: 1,568 passes, 1,567.99 is short.
  for (const char* w : {"w-base-ok", "w-base-low", "w-amount-ok", "w-amount-low"}) {
    Work("p", w, 120, "", "live_streaming", "1250");  // 8 orders x 1,250 = 10,000 yuan
    for (const char* s : {"medical", "unemployment", "work_injury"}) {
      const std::string amount = std::string(s) == "medical"        ? "980"
                                 : std::string(s) == "unemployment" ? "50"
                                                                    : "40";
      Pay("p", w, s, "10000", amount);
    }
  }
  Pay("p", "w-base-ok", "pension", "9800", "1568");
  Pay("p", "w-base-low", "pension", "9799.99", "1568");
  Pay("p", "w-amount-ok", "pension", "10000", "1568");
  Pay("p", "w-amount-low", "pension", "10000", "1567.99");
  Evaluate();
  EXPECT_EQ(V("p", "w-base-ok").required_base, 1000000);
  EXPECT_EQ(V("p", "w-base-ok").outcome[kUp], Outcome::kCompliant);
  EXPECT_EQ(V("p", "w-base-low").outcome[kUp], Outcome::kAffected);
  EXPECT_TRUE(V("p", "w-base-low").schemes[0].underdeclared);
  EXPECT_FALSE(V("p", "w-base-low").schemes[0].short_payment);
  EXPECT_EQ(V("p", "w-amount-ok").outcome[kUp], Outcome::kCompliant);
  EXPECT_EQ(V("p", "w-amount-low").outcome[kUp], Outcome::kAffected);
  EXPECT_TRUE(V("p", "w-amount-low").schemes[0].short_payment);
  EXPECT_FALSE(V("p", "w-amount-low").schemes[0].underdeclared);
}

TEST_F(EvaluateTest, PaymentsInPartsAreSummedAndOnlyTheEmployerCounts) {
  Work("p", "w-whole", 120);
  PayAll("p", "w-whole", 6821);
  // The pension of 1,091.36 paid in two parts.
  Work("p", "w-split", 120);
  Pay("p", "w-split", "pension", "6821", "500");
  Pay("p", "w-split", "pension", "6821", "591.36");
  for (const char* s : {"medical", "unemployment", "work_injury"})
    Pay("p", "w-split", s, "6821", Amount(6821, ShippedBp(s)));
  // The individual's own share does not stand in for the employer's.
  Work("p", "w-individual", 120);
  PayAll("p", "w-individual", 6821);
  lines_.erase(std::remove_if(lines_.begin(), lines_.end(),
                              [](const std::string& l) {
                                return l.find("w-individual") != std::string::npos &&
                                       l.find("\"pension\"") != std::string::npos;
                              }),
               lines_.end());
  Pay("p", "w-individual", "pension", "6821", "1091.36", "2024-07", "individual");
  Evaluate();
  EXPECT_EQ(V("p", "w-whole").outcome[kUp], Outcome::kCompliant);
  EXPECT_EQ(V("p", "w-split").outcome[kUp], Outcome::kCompliant);
  EXPECT_EQ(V("p", "w-individual").outcome[kUp], Outcome::kAffected);
  EXPECT_TRUE(V("p", "w-individual").schemes[0].missing);
}

TEST_F(EvaluateTest, AMissingSchemeIsPendingBeforeTheGraceAndUnpaidAfter) {
  WorkAndPayAllButUnemployment("p", "w");
  // July's grace ends 45 days after the month: 2024-09-15 00:00 Beijing. The watermark is the
  // largest event time less 24 h of allowed lateness.
  Clock("2024-09-15T23:59:59+08:00");  // watermark 2024-09-14T23:59:59: not yet final
  MonthEvaluation m = Evaluate("2024-07", /*close=*/false);
  EXPECT_FALSE(m.final);
  EXPECT_EQ(m.finality, "open");
  EXPECT_EQ(V("p", "w").outcome[kUp], Outcome::kPending);
  EXPECT_EQ(Of(m, "p").dimensions[kUp].pending, 1);
  EXPECT_EQ(Of(m, "p").dimensions[kUp].affected, 0);
  Clock("2024-09-16T00:00:00+08:00");  // watermark 2024-09-15T00:00: the grace has passed
  m = Evaluate("2024-07", false);
  EXPECT_TRUE(m.final);
  EXPECT_EQ(m.finality, "grace_passed");
  EXPECT_EQ(V("p", "w").outcome[kUp], Outcome::kAffected);
  EXPECT_TRUE(V("p", "w").schemes[2].missing);
  EXPECT_EQ(Of(m, "p").dimensions[kUp].findings.at("missing_scheme"), 1);
}

// Moves the payment of `scheme` of worker `w` (the last one added) to `ts`.
void PaidAt(std::vector<std::string>& lines, const std::string& w, const std::string& scheme,
            const std::string& ts) {
  for (size_t i = lines.size(); i-- > 0;) {
    std::string& l = lines[i];
    if (l.find("\"" + w + "\"") == std::string::npos ||
        l.find("\"scheme\":\"" + scheme + "\"") == std::string::npos)
      continue;
    const size_t at = l.find("\"ts\":\"") + 6;
    l.replace(at, l.find('"', at) - at, ts);
    return;
  }
  ADD_FAILURE() << "no " << scheme << " payment of " << w;
}

TEST_F(EvaluateTest, OnlyPaymentsMadeByTheEndOfTheGraceCount) {
  // July's grace ends 45 days after the month: payments up to 2024-09-14 24:00 Beijing count.
  for (const char* w : {"w-edge", "w-late", "w-topup", "w-exempt-late"}) {
    Work("p", w, 120, "", "food_delivery");  // pilot orders
    Sign("p", w, "labor_contract");
    PayAll("p", w, 6821);
  }
  PaidAt(lines_, "w-edge", "pension", "2024-09-14T23:59:59+08:00");
  PaidAt(lines_, "w-late", "pension", "2024-09-15T00:00:00+08:00");
  // Half the pension in time, the rest after the grace.
  Pay("p", "w-topup", "pension", "6821", "545.68");
  PaidAt(lines_, "w-topup", "pension", "2024-09-20T10:00:00+08:00");
  for (std::string& l : lines_)
    if (l.find("\"w-topup\"") != std::string::npos && l.find("1091.36") != std::string::npos)
      l.replace(l.find("1091.36"), 7, "545.68");
  // Statutory work injury paid late: no exemption, and the pilot orders have no premium.
  PaidAt(lines_, "w-exempt-late", "work_injury", "2024-10-01T10:00:00+08:00");
  // A managed worker whose premium (all its orders) came late: uncovered.
  Work("p", "w-premium-late", 60, "", "food_delivery");
  Sign("p", "w-premium-late", "written_agreement");
  Premium("p", "w-premium-late", 15);
  PaidAt(lines_, "w-premium-late", "occupational_injury", "2024-09-16T08:00:00+08:00");
  const MonthEvaluation m = Evaluate();
  EXPECT_EQ(V("p", "w-edge").outcome[kUp], Outcome::kCompliant);
  EXPECT_TRUE(V("p", "w-edge").exempt);
  const Verdict& late = V("p", "w-late");
  EXPECT_EQ(late.outcome[kUp], Outcome::kAffected);
  EXPECT_TRUE(late.schemes[0].missing && late.schemes[0].paid_late);
  EXPECT_EQ(late.schemes[0].late_amount, 109136);
  EXPECT_EQ(FormatDate(late.schemes[0].late_paid_on), "2024-09-15");
  EXPECT_FALSE(late.schemes[1].paid_late);  // medical was paid in time
  EXPECT_EQ(FindingsOf(late, Dimension::kUnderpayment),
            (std::vector<std::string_view>{"missing_scheme", "paid_late"}));
  const std::string late_json = FindingJson(late, Dimension::kUnderpayment);
  EXPECT_NE(late_json.find("\"status\": \"paid_late\""), std::string::npos) << late_json;
  EXPECT_NE(late_json.find("\"first_paid_on\": \"2024-09-15\""), std::string::npos) << late_json;
  const Verdict& topup = V("p", "w-topup");
  EXPECT_EQ(topup.outcome[kUp], Outcome::kAffected);
  EXPECT_EQ(topup.schemes[0].amount, 54568);  // only what came in time
  EXPECT_EQ(FindingsOf(topup, Dimension::kUnderpayment),
            (std::vector<std::string_view>{"short_payment", "paid_late"}));
  const Verdict& exempt_late = V("p", "w-exempt-late");
  EXPECT_FALSE(exempt_late.exempt);
  EXPECT_TRUE(exempt_late.work_injury_paid_late);
  EXPECT_EQ(exempt_late.outcome[kCm], Outcome::kAffected);
  EXPECT_EQ(FindingsOf(exempt_late, Dimension::kCoverageMismatch),
            (std::vector<std::string_view>{"pilot_uncovered", "paid_late"}));
  const Verdict& premium_late = V("p", "w-premium-late");
  EXPECT_EQ(premium_late.orders_covered, 0);
  EXPECT_EQ(premium_late.orders_covered_late, 15);
  EXPECT_EQ(premium_late.outcome[kCm], Outcome::kAffected);
  EXPECT_EQ(FindingsOf(premium_late, Dimension::kCoverageMismatch),
            (std::vector<std::string_view>{"pilot_uncovered", "paid_late"}));
  const PlatformScore& ps = Of(m, "p");
  EXPECT_EQ(ps.dimensions[kUp].affected, 3);  // late, topup, and exempt-late's work injury
  EXPECT_EQ(ps.dimensions[kUp].findings.at("paid_late"), 3);
  EXPECT_EQ(ps.dimensions[kCm].findings.at("paid_late"), 2);
  EXPECT_EQ(ps.late_payments, 4);  // the pension, the top-up, the work injury, the premium
  // A payment after the grace decides nothing, whatever the order the lines arrive in.
  std::vector<std::string> reversed(lines_.rbegin(), lines_.rend());
  const MonthEvaluation r = Evaluate("2024-07", true, &reversed);
  for (int d = 0; d < kDimensionCount; ++d)
    EXPECT_EQ(Of(r, "p").dimensions[d].findings, ps.dimensions[d].findings);
}

TEST_F(EvaluateTest, EachFileHasItsOwnWatermarkAndMonthsCloseOnItsEnd) {
  // Two files: one runs to September 20, past July's grace; the other holds only July.
  WorkAndPayAllButUnemployment("p", "w");
  Clock("2024-09-20T10:00:00+08:00");
  const fs::path ahead = dir_ / "ahead.ndjson", july = dir_ / "july.ndjson";
  {
    std::ofstream a(ahead);
    for (const std::string& l : lines_) a << l << "\n";
    std::ofstream j(july);
    j << Head("order", "p", "w-2", "2024-07-05T12:00:00+08:00")
      << ",\"sector\":\"live_streaming\",\"duration_min\":60,\"earnings_cny\":10}\n";
  }
  auto store = Store::Open((dir_ / "state").string(), StoreOptions{});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(ReplayFiles(**store, {july.string()}, ReplayOptions{}).ok());
  // July's file alone, read to its end: months close up to its last event, July is open.
  EXPECT_EQ(FormatBeijing((*store)->ClosingWatermark().value()), "2024-07-05T12:00:00.000+08:00");
  MonthEvaluation m;
  DecideFinality(**store, rules_, *ParsePeriod("2024-07"), false, m);
  EXPECT_FALSE(m.final);
  ASSERT_TRUE(ReplayFiles(**store, {ahead.string()}, ReplayOptions{}).ok());
  const auto watermarks = (*store)->SourceWatermarks();
  ASSERT_EQ(watermarks.size(), 2u);
  EXPECT_EQ(FormatBeijing(watermarks.at(july.string())), "2024-07-05T12:00:00.000+08:00");
  EXPECT_EQ(FormatBeijing(watermarks.at(ahead.string())), "2024-09-20T10:00:00.000+08:00");
  EXPECT_EQ(FormatBeijing((*store)->ClosingWatermark().value()), "2024-09-20T10:00:00.000+08:00");
  DecideFinality(**store, rules_, *ParsePeriod("2024-07"), false, m);
  EXPECT_TRUE(m.final);
  EXPECT_EQ(m.finality, "grace_passed");
  // The closing watermark never goes back: replaying July's file again changes nothing.
  ASSERT_TRUE(ReplayFiles(**store, {july.string()}, ReplayOptions{}).ok());
  EXPECT_EQ(FormatBeijing((*store)->ClosingWatermark().value()), "2024-09-20T10:00:00.000+08:00");
  EXPECT_EQ(FormatBeijing((*store)->SourceWatermarks().at(july.string())),
            "2024-07-05T12:00:00.000+08:00");
}

TEST_F(EvaluateTest, AQuietMonthClosesInWallClockTime) {
  WorkAndPayAllButUnemployment("p", "w");
  // Nothing arrives after July, so the watermark stays there; the wall clock, less the same
  // 24 h of allowed lateness, closes the month once it passes 2024-09-15 00:00 Beijing.
  quiet_now_ = *ParseRfc3339("2024-09-15T23:59:59+08:00");
  MonthEvaluation m = Evaluate("2024-07", /*close=*/false);
  EXPECT_FALSE(m.final);
  EXPECT_EQ(m.finality, "open");
  EXPECT_TRUE(closed_.empty());
  EXPECT_EQ(V("p", "w").outcome[kUp], Outcome::kPending);
  quiet_now_ = *ParseRfc3339("2024-09-16T00:00:00+08:00");
  m = Evaluate("2024-07", false);
  EXPECT_TRUE(m.final);
  EXPECT_EQ(m.finality, "quiet_closed");
  ASSERT_TRUE(m.closed_at);
  EXPECT_EQ(*m.closed_at, *quiet_now_);
  EXPECT_EQ(closed_, std::vector<Period>{*ParsePeriod("2024-07")});
  EXPECT_EQ(V("p", "w").outcome[kUp], Outcome::kAffected);
  EXPECT_TRUE(V("p", "w").schemes[2].missing);
  // A month already final in event time is not closed again: its finality stays the grace's.
  Clock("2024-09-16T00:00:00+08:00");
  m = Evaluate("2024-07", false);
  EXPECT_EQ(m.finality, "grace_passed");
  EXPECT_FALSE(m.closed_at);
  EXPECT_TRUE(closed_.empty());
}

TEST_F(EvaluateTest, FinalClosesThePeriodWhateverTheWatermark) {
  Work("p", "w", 120);
  MonthEvaluation m = Evaluate("2024-07", /*close=*/true);
  EXPECT_TRUE(m.final);
  EXPECT_EQ(m.finality, "closed");
  EXPECT_EQ(V("p", "w").outcome[kUp], Outcome::kAffected);
  for (const SchemeCheck& c : V("p", "w").schemes) EXPECT_TRUE(c.missing);
}

// --- coverage mismatch ---

TEST_F(EvaluateTest, PilotOrdersCoveredExactlyAndOneShort) {
  for (const char* w : {"w-exact", "w-short", "w-none"})
    for (int d = 1; d <= 10; ++d)
      Order("p", w, "2024-07-" + std::string(d < 10 ? "0" : "") + std::to_string(d), "30", "10",
            "food_delivery");
  Premium("p", "w-exact", 10);
  Premium("p", "w-short", 9);
  MonthEvaluation m = Evaluate();
  EXPECT_EQ(V("p", "w-exact").outcome[kCm], Outcome::kCompliant);
  EXPECT_EQ(V("p", "w-short").outcome[kCm], Outcome::kAffected);
  EXPECT_EQ(V("p", "w-none").outcome[kCm], Outcome::kAffected);
  EXPECT_EQ(Of(m, "p").dimensions[kCm].findings.at("pilot_uncovered"), 2);
  // Before the grace, a worker-month with no premium at all is pending; one short is a finding.
  Clock("2024-08-20T00:00:00+08:00");
  m = Evaluate("2024-07", false);
  EXPECT_EQ(V("p", "w-none").outcome[kCm], Outcome::kPending);
  EXPECT_EQ(V("p", "w-short").outcome[kCm], Outcome::kAffected);
}

TEST_F(EvaluateTest, PolicyValidToTheOrderDateInclusiveAndOneDayShort) {
  Order("p", "w-ok", "2024-07-10", "60", "50", "express_delivery");
  Policy("p", "w-ok", "accident", "600000", "2024-07-01", "2024-07-10");
  Order("p", "w-short", "2024-07-10", "60", "50", "express_delivery");
  Policy("p", "w-short", "accident", "600000", "2024-07-01", "2024-07-09");
  Order("p", "w-late", "2024-07-10", "60", "50", "express_delivery");
  Policy("p", "w-late", "accident", "600000", "2024-07-11", "2024-07-31");
  Order("p", "w-low", "2024-07-10", "60", "50", "home_services");
  Policy("p", "w-low", "accident", "599999.99", "2024-07-01", "2024-07-31");
  Order("p", "w-product", "2024-07-10", "60", "50", "home_services");
  Policy("p", "w-product", "medical_supplement", "1000000", "2024-07-01", "2024-07-31");
  Order("p", "w-oi", "2024-07-10", "60", "50", "home_services");
  Policy("p", "w-oi", "occupational_injury", "600000", "2024-07-10", "2024-07-10");
  Order("p", "w-other", "2024-07-10", "60", "50", "live_streaming");  // neither pilot nor risk
  MonthEvaluation m = Evaluate();
  EXPECT_EQ(V("p", "w-ok").outcome[kCm], Outcome::kCompliant);
  EXPECT_EQ(V("p", "w-oi").outcome[kCm], Outcome::kCompliant);
  EXPECT_EQ(V("p", "w-short").outcome[kCm], Outcome::kAffected);
  EXPECT_EQ(V("p", "w-short").high_risk[0].uncovered[0].why, "not_valid_on_day");
  EXPECT_EQ(V("p", "w-late").outcome[kCm], Outcome::kAffected);
  EXPECT_EQ(V("p", "w-low").outcome[kCm], Outcome::kAffected);
  EXPECT_EQ(V("p", "w-low").high_risk[0].uncovered[0].why, "sum_below_minimum");
  EXPECT_EQ(V("p", "w-product").outcome[kCm], Outcome::kAffected);
  EXPECT_EQ(V("p", "w-product").high_risk[0].uncovered[0].why, "no_policy");
  EXPECT_EQ(V("p", "w-other").outcome[kCm], Outcome::kNotInScope);
  EXPECT_EQ(Of(m, "p").dimensions[kCm].in_scope, 6);
  EXPECT_EQ(Of(m, "p").dimensions[kCm].affected, 4);
}

TEST_F(EvaluateTest, PaidWorkInjuryInsuranceExemptsALabourRelation) {
  for (const char* w : {"w-exempt", "w-unpaid"}) {
    Work("p", w, 120, "", "food_delivery");  // pilot orders, no premium at all
    Sign("p", w, "labor_contract");
  }
  PayAll("p", "w-exempt", 6821);
  MonthEvaluation m = Evaluate();
  EXPECT_TRUE(V("p", "w-exempt").exempt);
  EXPECT_EQ(V("p", "w-exempt").outcome[kCm], Outcome::kCompliant);
  EXPECT_FALSE(V("p", "w-unpaid").exempt);
  EXPECT_EQ(V("p", "w-unpaid").outcome[kCm], Outcome::kAffected);
  EXPECT_EQ(Of(m, "p").dimensions[kCm].in_scope, 2);
  // A managed worker with paid work injury is not exempt: only a labour relation is.
  Work("p", "w-managed", 60, "", "food_delivery");
  PayAll("p", "w-managed", 6821);
  Evaluate();
  EXPECT_EQ(V("p", "w-managed").outcome[kCm], Outcome::kAffected);
}

// --- levels ---

TEST_F(EvaluateTest, LevelsAtTheirThresholdsAndRanking) {
  EXPECT_EQ(rules_.LevelOf(0, 0), Level::kGreen);
  EXPECT_EQ(rules_.LevelOf(1, 51), Level::kGreen);     // 1.96%
  EXPECT_EQ(rules_.LevelOf(1, 50), Level::kYellow);    // 2%
  EXPECT_EQ(rules_.LevelOf(9, 91), Level::kYellow);    // 9.89%
  EXPECT_EQ(rules_.LevelOf(1, 10), Level::kOrange);    // 10%
  EXPECT_EQ(rules_.LevelOf(99, 397), Level::kOrange);  // 24.94%
  EXPECT_EQ(rules_.LevelOf(1, 4), Level::kRed);        // 25%
  // 19 in-scope workers: reported, not ranked; 20: ranked. Composite level: the worst.
  for (int w = 0; w < 19; ++w) {
    Work("p", "w-" + std::to_string(w), 60);
    Sign("p", "w-" + std::to_string(w), "written_agreement");
  }
  Work("p", "w-x", 10);  // independent, no orders in a risk sector: in scope of nothing
  MonthEvaluation m = Evaluate();
  EXPECT_EQ(Of(m, "p").in_scope_workers, 19);
  EXPECT_FALSE(Of(m, "p").ranked);
  Work("p", "w-19", 60);  // no agreement: 1 of 20 affected, 5%: yellow
  m = Evaluate();
  EXPECT_TRUE(Of(m, "p").ranked);
  EXPECT_EQ(Of(m, "p").dimensions[kCa].level, Level::kYellow);
  EXPECT_EQ(Of(m, "p").level, Level::kYellow);
}

TEST(RuleSetTest, RateRoundsHalfUpToFourDecimals) {
  EXPECT_EQ(RateText(0, 0), "0.0");
  EXPECT_EQ(RateText(0, 900), "0.0");
  EXPECT_EQ(RateText(250, 800), "0.3125");
  EXPECT_EQ(RateText(12, 900), "0.0133");
  EXPECT_EQ(RateText(1, 1), "1.0");
  EXPECT_EQ(RateText(1, 3), "0.3333");
  EXPECT_EQ(RateText(2, 3), "0.6667");
  EXPECT_EQ(RateText(1, 20000), "0.0001");  // 0.00005 rounds up
  EXPECT_EQ(RateText(1, 20001), "0.0");
}

}  // namespace
}  // namespace flexwatch
