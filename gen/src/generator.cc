#include "flexwatch/gen/generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "flexwatch/core/event.h"

namespace flexwatch {
namespace {

// splitmix64: small, fast, and the same on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  int64_t Below(int64_t n) {
    return n <= 0 ? 0
                  : static_cast<int64_t>(
                        (static_cast<unsigned __int128>(Next()) * static_cast<uint64_t>(n)) >> 64);
  }
  int64_t Between(int64_t lo, int64_t hi) { return lo + Below(hi - lo + 1); }  // inclusive
  bool Chance(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }

 private:
  uint64_t s_;
};

constexpr Tier kIndependent = Tier::kIndependent, kManaged = Tier::kManaged,
               kLaborRelation = Tier::kLaborRelation;

struct SectorProfile {
  Sector sector;
  const char* short_name;
  int min_minutes, max_minutes;  // one task
  int fen_per_hour_lo, fen_per_hour_hi;
  int workforce_weight;  // share of platform workers in the sector, percent
};
// Platform sectors in the order platforms are assigned them. Calibration: the paper (section 3.1)
// names delivery and ride-hailing platforms (Meituan, Didi, JD.com) as the drivers of Beijing's
// 3.6 million flexible workers, so food delivery and ride-hailing carry most of the workforce;
// hourly pay of 25-90 yuan puts a full-time rider's month near the 6,821-yuan base floor and above.
constexpr std::array<SectorProfile, 7> kProfiles = {{
    {Sector::kFoodDelivery, "meal", 18, 45, 3600, 5200, 30},
    {Sector::kRideHailing, "ride", 12, 50, 4200, 6000, 25},
    {Sector::kExpressDelivery, "express", 8, 20, 3500, 4800, 15},
    {Sector::kInstantDelivery, "dash", 15, 40, 3800, 5400, 10},
    {Sector::kHomeServices, "home", 60, 150, 4500, 7000, 8},
    {Sector::kFreight, "freight", 60, 240, 5000, 8000, 5},
    {Sector::kLiveStreaming, "live", 90, 300, 2500, 9000, 7},
}};

constexpr std::array<const char*, 8> kDistricts = {"chaoyang", "haidian",  "dongcheng",
                                                   "xicheng",  "fengtai",  "shijingshan",
                                                   "tongzhou", "changping"};

struct Planted {
  double contract_avoidance = 0, underpayment = 0, coverage_mismatch = 0, dispatch_share = 0.05;
};

struct PlatformSim {
  std::string id;
  SectorProfile profile;
  Planted planted;
  // Its honest levels (GenOptions::seasons makes them differ between platforms).
  double size = 1;  // workforce weight, against the sector's share
  int labor_relation_pct = 30, managed_pct = 35;
  int64_t premium_fen = 0;         // per pilot order, 0: GenOptions::premium_per_order_fen
  int full_time_sum_pct = 100;     // labour-relation workers' cover, percent of the minimum
  double monthly_growth = 0;       // joiners beyond those replacing leavers, share per month
  bool hires_part_timers = false;  // each July and August
  int second_sector = -1;          // kProfiles index its orders partly move to, June-September
};

// One worker's relation to one platform, over the months it lasts.
struct Engagement {
  int worker;
  int platform;
  Tier tier;
  bool has_contract;
  ContractForm form;
  std::string counterparty;
  bool renews;  // terminated and re-signed in the second month (an awkward but honest case)
  bool secondary = false;   // a second platform of a multi-homing worker
  bool part_timer = false;  // hired for the summer: a managed worker's hours
  Period from = 0, to = 0;  // the months it is active, inclusive
};

// One worker-month while it is generated, and the facts the truth needs.
struct MonthSim {
  int engagement;
  const SectorProfile* profile = nullptr;  // the sector of its orders this month
  std::vector<Day> days;                   // active days, ascending
  int64_t budget_mmin_per_day;
  MilliMinutes minutes = 0;
  Fen earnings = 0;
  int64_t pilot_orders = 0, risk_orders = 0;
  std::vector<Day> risk_days;
  TimestampMs last_order = INT64_MIN;
  // Planted coverage defect decided at month start: 0 none, 1 low sum, 2 one day short, 3 none.
  int policy_defect = 0;
};

std::string Money(Fen fen) {
  std::string s = std::to_string(fen / 100);
  int cents = static_cast<int>(fen % 100);
  if (cents == 0) return s;
  if (cents % 10 == 0) return s + "." + std::to_string(cents / 10);
  return s + "." + (cents < 10 ? "0" : "") + std::to_string(cents);
}

std::string Ts(TimestampMs ts, bool utc) {
  if (!utc) {
    std::string s = FormatBeijing(ts);  // ...T12:34:56.000+08:00
    return s.substr(0, 19) + "+08:00";
  }
  Day d = static_cast<Day>(ts >= 0 ? ts / kMsPerDay : (ts - kMsPerDay + 1) / kMsPerDay);
  int64_t in_day = ts - static_cast<int64_t>(d) * kMsPerDay;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ", FormatDate(d).c_str(),
                static_cast<int>(in_day / 3600000), static_cast<int>(in_day / 60000 % 60),
                static_cast<int>(in_day / 1000 % 60));
  return buf;
}

TimestampMs BeijingInstant(Day d, int64_t minute_of_day) {
  return static_cast<int64_t>(d) * kMsPerDay - kBeijingOffsetMs + minute_of_day * 60000;
}

// The category of a platform's complaint surge.
int SurgeCategory(int platform) { return platform % kComplaintCategoryCount; }

struct Cell {  // truth for one platform and month
  int64_t worker_months = 0, tiers[3] = {0, 0, 0};
  int64_t ca_scope = 0, ca_individual = 0, dispatched = 0;
  int64_t up_scope = 0, up_affected = 0, up_missing = 0, up_underdeclared = 0, up_short = 0;
  int64_t cov_scope = 0, cov_affected = 0, cov_pilot = 0, cov_policy = 0;
  int64_t in_scope_workers = 0;  // worker-months in scope of any dimension
};

class Sim {
 public:
  Sim(const GenOptions& o, std::ostream& feed)
      : o_(o), rng_(o.seed), id_rng_(o.seed ^ 0x5eed), feed_(feed) {}
  Status Run(std::ostream* truth);

 private:
  // A line of the feed: written now in time order, or kept to be shuffled at the end.
  void Out(std::string_view line) {
    ++lines_;
    if (o_.order == FeedOrder::kShuffled) {
      held_.emplace_back(line);
      return;
    }
    feed_.write(line.data(), static_cast<std::streamsize>(line.size()));
    feed_ << '\n';
  }
  void Emit(Day day, TimestampMs ts, std::string line) {
    schedule_[day].emplace_back(ts, std::move(line));
  }
  std::string Head(const char* type, const std::string& id, TimestampMs ts,
                   const std::string& platform, const std::string& worker) {
    std::string s = "{\"type\":\"";
    s += type;
    s += "\",\"event_id\":\"" + id + "\",\"ts\":\"" + Ts(ts, rng_.Chance(0.1)) +
         "\",\"platform_id\":\"" + platform + "\"";
    if (!worker.empty()) s += ",\"worker_id\":\"" + worker + "\"";
    return s;
  }
  // The next event id, in the shape asked for (GenOptions::ids); `ts` is the event's time, which
  // a snowflake id carries.
  std::string NextId(const char* prefix, TimestampMs ts) {
    ++ids_;
    char buf[48];
    switch (o_.ids) {
      case IdShape::kSequential:
        return std::string(prefix) + std::to_string(ids_);
      case IdShape::kHex:
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id_rng_.Next()));
        return buf;
      case IdShape::kUuid: {  // version 4: random but for the version and variant bits
        const uint64_t hi = id_rng_.Next(), lo = id_rng_.Next();
        std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-%04llx-%012llx",
                      static_cast<unsigned long long>(hi >> 32),
                      static_cast<unsigned long long>(hi >> 16 & 0xffff),
                      static_cast<unsigned long long>(hi & 0xfff),
                      static_cast<unsigned long long>(0x8000 | (lo >> 48 & 0x3fff)),
                      static_cast<unsigned long long>(lo & 0xffffffffffffull));
        return buf;
      }
      case IdShape::kSnowflake: {
        // 41 bits of milliseconds since 2020-01-01 (UTC), 10 of a producer's machine, 12 of a
        // sequence: 64-bit, time-ordered as the producer made them.
        const int64_t since = std::max<int64_t>(0, ts - 1577836800000LL);
        const uint64_t id =
            static_cast<uint64_t>(since) << 22 | (id_rng_.Next() & 0x3ff) << 12 | (ids_ & 0xfff);
        return std::to_string(id);
      }
    }
    return std::string(prefix) + std::to_string(ids_);
  }
  void SetUpPlatforms();
  void AssignSizes();
  double ExpectedWorkers(int platform) const;
  void AssignShapes();
  void SetUpWorkers();
  void Engage(int w, int p, Tier tier, Period from, Period to, bool secondary);
  int NewWorker();
  Tier DrawTier(const PlatformSim& ps);
  Status PlanDrifts();
  // How many months drift `kind` of platform `platform` has run by month `p` (1 in its first
  // month), 0 when there is none.
  int64_t DriftMonths(int platform, DriftKind kind, Period p) const {
    for (const Drift& d : drifts_)
      if (d.platform == platform && d.kind == kind && p >= d.start) return p - d.start + 1;
    return 0;
  }
  void StartMonth(Period p);
  void GenerateDay(Day d);
  void EndMonth(Period p);
  void Flush(Day d);
  void WriteTruth(std::ostream& out);

  const GenOptions& o_;
  Rng rng_;
  Rng id_rng_;  // separate, so that the id scheme does not change the feed's content
  std::ostream& feed_;
  uint64_t ids_ = 0;
  std::vector<std::string> held_;  // the feed, when it is shuffled
  std::vector<PlatformSim> platforms_;
  std::vector<Drift> drifts_;
  std::vector<std::string> workers_;
  std::vector<Engagement> engagements_;
  std::vector<MonthSim> month_;
  std::map<Day, std::vector<std::pair<TimestampMs, std::string>>> schedule_;
  std::map<std::pair<int, Period>, Cell> cells_;
  int64_t lines_ = 0, valid_ = 0, duplicates_ = 0, malformed_ = 0;
};

void Sim::SetUpPlatforms() {
  for (int i = 0; i < o_.platforms; ++i) {
    PlatformSim p;
    p.profile = kProfiles[i % kProfiles.size()];
    p.id = "p-" + std::string(p.profile.short_name) + "-" + std::to_string(i + 1);
    switch (o_.static_violations ? i % 6 : 0) {
      case 1:  // disguises workers as outsourced / individual businesses, and over-dispatches
        p.planted.contract_avoidance = 0.30;
        p.planted.dispatch_share = 0.20;
        break;
      case 2:
        p.planted.underpayment = 0.15;
        break;
      case 3:
        p.planted.coverage_mismatch = 0.12;
        break;
      case 5:
        p.planted = Planted{0.05, 0.05, 0.05, 0.05};
        break;
      default:
        break;
    }
    platforms_.push_back(p);
  }
}

// GenOptions::seasons: each platform's own size, log-uniform between 0.12 and 2.5 times its
// sector's share (a few dozen workers to hundreds), drawn before the drifts are planted.
void Sim::AssignSizes() {
  if (!o_.seasons) return;
  Rng r(o_.seed ^ 0x512e5ULL);
  for (PlatformSim& p : platforms_)
    p.size = 0.12 * std::pow(2.5 / 0.12, static_cast<double>(r.Below(1000)) / 999.0);
}

// The workers a platform is expected to have at the start (its share of GenOptions::workers).
double Sim::ExpectedWorkers(int platform) const {
  std::array<int, kProfiles.size()> per_sector{};
  for (int i = 0; i < o_.platforms; ++i) ++per_sector[i % kProfiles.size()];
  double total = 0, own = 0;
  for (int i = 0; i < o_.platforms; ++i) {
    const double w = 1.0 * kProfiles[i % kProfiles.size()].workforce_weight /
                     per_sector[i % kProfiles.size()] * platforms_[i].size;
    total += w;
    if (i == platform) own = w;
  }
  return total > 0 ? o_.workers * own / total : 0;
}

// GenOptions::seasons: each platform's own levels, and the roles of the platforms that
// grow, hire for the summer or change sector, drawn among those without a planted drift (their
// own generator: the feed without seasons is unchanged).
void Sim::AssignShapes() {
  if (!o_.seasons) return;
  Rng r(o_.seed ^ 0x5ea5005ULL);
  std::vector<int> free;
  for (size_t i = 0; i < platforms_.size(); ++i) {
    PlatformSim& p = platforms_[i];
    p.labor_relation_pct = static_cast<int>(r.Between(20, 40));
    p.managed_pct = static_cast<int>(r.Between(28, 42));
    p.premium_fen = o_.premium_per_order_fen * r.Between(80, 140) / 100;
    p.full_time_sum_pct = r.Chance(0.5) ? 160 : 100;
    const bool drifting = std::any_of(drifts_.begin(), drifts_.end(), [&](const Drift& d) {
      return d.platform == static_cast<int>(i);
    });
    if (!drifting) free.push_back(static_cast<int>(i));
  }
  for (size_t i = 0; i + 1 < free.size(); ++i)
    std::swap(free[i],
              free[i + static_cast<size_t>(r.Below(static_cast<int64_t>(free.size() - i)))]);
  auto take = [&](const std::function<bool(const PlatformSim&)>& fits) -> PlatformSim* {
    for (size_t k = 0; k < free.size(); ++k)
      if (fits(platforms_[free[k]])) {
        PlatformSim* p = &platforms_[free[k]];
        free.erase(free.begin() + static_cast<std::ptrdiff_t>(k));
        return p;
      }
    return nullptr;
  };
  if (PlatformSim* p = take([](const PlatformSim&) { return true; })) {
    p->monthly_growth = 0.12;
    p->size = std::min(p->size, 0.5);  // starts small
  }
  if (PlatformSim* p = take([&](const PlatformSim& x) {
        return o_.rules->IsHighRisk(x.profile.sector) && !o_.rules->IsPilot(x.profile.sector);
      })) {
    p->hires_part_timers = true;
    p->full_time_sum_pct = 160;  // full-timers insured above the minimum, part-timers at it
  }
  if (PlatformSim* p =
          take([](const PlatformSim& x) { return x.profile.sector == Sector::kFoodDelivery; }))
    p->second_sector = 3;  // instant delivery
}

// One engagement of worker `w` with platform `p`, active from month `from` to `to`.
void Sim::Engage(int w, int p, Tier tier, Period from, Period to, bool secondary) {
  const PlatformSim& ps = platforms_[p];
  Engagement e{w, p, tier, true, ContractForm::kFreelance, "", false};
  e.secondary = secondary;
  e.from = from;
  e.to = to;
  const std::string& self = ps.id;
  if (tier == kLaborRelation) {
    if (rng_.Chance(ps.planted.contract_avoidance)) {
      bool ib = rng_.Chance(0.5);
      e.form = ib ? ContractForm::kIndividualBusiness : ContractForm::kOutsourcing;
      e.counterparty = ib ? "ib-" + workers_[w] : "agency-" + std::to_string(rng_.Between(1, 40));
    } else if (rng_.Chance(ps.planted.dispatch_share)) {
      e.form = ContractForm::kLaborDispatch;
      e.counterparty = "dispatch-" + std::to_string(rng_.Between(1, 9));
    } else {
      e.form = ContractForm::kLaborContract;
      e.counterparty = self;
      e.renews = from == o_.start && rng_.Chance(0.05);
    }
  } else if (tier == kManaged) {
    if (rng_.Chance(ps.planted.contract_avoidance)) {
      e.has_contract = rng_.Chance(0.5);
      e.form = ContractForm::kFreelance;
      e.counterparty = self;
    } else {
      e.form = ContractForm::kWrittenAgreement;
      e.counterparty = self;
    }
  } else {
    e.has_contract = rng_.Chance(0.5);
    e.form = ContractForm::kFreelance;
    e.counterparty = self;
  }
  engagements_.push_back(e);
}

int Sim::NewWorker() {
  char buf[32];
  std::snprintf(buf, sizeof buf, "w-%06d", static_cast<int>(workers_.size()) + 1);
  workers_.emplace_back(buf);
  return static_cast<int>(workers_.size()) - 1;
}

Tier Sim::DrawTier(const PlatformSim& ps) {
  const int64_t r = rng_.Below(100);
  return r < ps.labor_relation_pct                    ? kLaborRelation
         : r < ps.labor_relation_pct + ps.managed_pct ? kManaged
                                                      : kIndependent;
}

void Sim::SetUpWorkers() {
  const Period last = o_.start + o_.months - 1;
  for (int w = 0; w < o_.workers; ++w) NewWorker();
  // Each worker's main platform, drawn by its sector's share of the workforce (split evenly among
  // the platforms of one sector), times the platform's own size.
  std::vector<int64_t> cumulative;
  {
    std::array<int, kProfiles.size()> per_sector{};
    for (int i = 0; i < o_.platforms; ++i) ++per_sector[i % kProfiles.size()];
    int64_t total = 0;
    for (int i = 0; i < o_.platforms; ++i) {
      total += static_cast<int64_t>(1000 * kProfiles[i % kProfiles.size()].workforce_weight /
                                    per_sector[i % kProfiles.size()] * platforms_[i].size);
      cumulative.push_back(total);
    }
  }
  for (int w = 0; w < o_.workers; ++w) {
    const int64_t draw = rng_.Below(cumulative.back());
    const int home = static_cast<int>(std::upper_bound(cumulative.begin(), cumulative.end(), draw) -
                                      cumulative.begin());
    Engage(w, home, DrawTier(platforms_[home]), o_.start, last, false);
    if (o_.platforms > 1 && rng_.Chance(o_.multi_homing))
      Engage(w, static_cast<int>((home + 1 + rng_.Below(o_.platforms - 1)) % o_.platforms),
             kIndependent, o_.start, last, true);
  }
  // Seasons: month by month, leavers (more around the Spring Festival), their places taken by
  // new workers, a growing platform's joiners, and the summer's part-timers.
  std::vector<int64_t> away(platforms_.size());  // February's leavers not yet replaced
  if (o_.seasons)
    for (Period p = o_.start; p <= last; ++p) {
      // The first month has no one leaving or joining, only, in July, the summer's part-timers.
      const bool first_month = p == o_.start;
      std::vector<int> leavers(platforms_.size()), active(platforms_.size());
      const double churn = PeriodMonth(p) == 2 ? 0.12 : 0.05;
      const size_t before = engagements_.size();
      const Period was = first_month ? p : p - 1;
      for (size_t i = 0; i < before; ++i) {
        Engagement& e = engagements_[i];
        if (e.from > was || e.to < was || e.to != last || e.part_timer) continue;
        ++active[e.platform];
        if (first_month || e.renews || !rng_.Chance(churn)) continue;
        e.to = p - 1;
        ++leavers[e.platform];
      }
      for (size_t pi = 0; pi < platforms_.size(); ++pi) {
        const PlatformSim& ps = platforms_[pi];
        // Fewer join in the Spring Festival month itself; the rest in March.
        int64_t joiners = leavers[pi];
        if (PeriodMonth(p) == 2) {
          joiners = leavers[pi] / 3;
          away[pi] = leavers[pi] - joiners;
        } else if (PeriodMonth(p) == 3) {
          joiners += away[pi];
          away[pi] = 0;
        }
        if (!first_month) joiners += static_cast<int64_t>(ps.monthly_growth * active[pi] + 0.5);
        for (int64_t k = 0; k < joiners; ++k)
          Engage(NewWorker(), static_cast<int>(pi), DrawTier(ps), p, last, false);
        if (ps.hires_part_timers && PeriodMonth(p) == 7)
          for (int64_t k = 0; k < active[pi] * 4 / 10; ++k) {
            Engage(NewWorker(), static_cast<int>(pi), kManaged, p, std::min(p + 1, last), false);
            engagements_.back().part_timer = true;
          }
      }
    }
  // Contracts are signed in the weeks before an engagement's first month; a labour contract is
  // terminated in the first days after its last one.
  for (const Engagement& e : engagements_) {
    if (!e.has_contract) continue;
    const Day first = FirstDayOfPeriod(e.from);
    Day d = first - static_cast<Day>(rng_.Between(2, 25));
    TimestampMs ts = BeijingInstant(d, rng_.Between(9 * 60, 17 * 60));
    Emit(d, ts,
         Head("contract", NextId("c-", ts), ts, platforms_[e.platform].id, workers_[e.worker]) +
             ",\"action\":\"signed\",\"form\":\"" + std::string(NameOf(e.form)) +
             "\",\"counterparty_id\":\"" + e.counterparty + "\"}");
    if (e.renews && o_.months > 1) {
      Day rd = FirstDayOfPeriod(o_.start + 1) + 4;
      TimestampMs t1 = BeijingInstant(rd, 9 * 60), t2 = BeijingInstant(rd, 10 * 60);
      const std::string& pid = platforms_[e.platform].id;
      Emit(rd, t1,
           Head("contract", NextId("c-", t1), t1, pid, workers_[e.worker]) +
               ",\"action\":\"terminated\",\"form\":\"labor_contract\",\"counterparty_id\":\"" +
               pid + "\"}");
      Emit(rd, t2,
           Head("contract", NextId("c-", t2), t2, pid, workers_[e.worker]) +
               ",\"action\":\"signed\",\"form\":\"labor_contract\",\"counterparty_id\":\"" + pid +
               "\"}");
    }
    if (e.to < last) {
      const Day end = FirstDayOfPeriod(e.to + 1) + static_cast<Day>(rng_.Between(0, 4));
      const TimestampMs t = BeijingInstant(end, rng_.Between(9 * 60, 17 * 60));
      Emit(end, t,
           Head("contract", NextId("c-", t), t, platforms_[e.platform].id, workers_[e.worker]) +
               ",\"action\":\"terminated\",\"form\":\"" + std::string(NameOf(e.form)) +
               "\",\"counterparty_id\":\"" + e.counterparty + "\"}");
    }
  }
}

void Sim::StartMonth(Period p) {
  month_.clear();
  const Day first = FirstDayOfPeriod(p);
  const int ndays = DaysInMonth(PeriodYear(p), PeriodMonth(p));
  // The Spring Festival: in February many workers are away, and those who work work less.
  const bool festival = o_.seasons && PeriodMonth(p) == 2;
  const bool summer = PeriodMonth(p) >= 6 && PeriodMonth(p) <= 9;
  for (size_t i = 0; i < engagements_.size(); ++i) {
    const Engagement& e = engagements_[i];
    if (p < e.from || p > e.to) continue;
    if (festival && !rng_.Chance(0.6)) continue;
    const bool secondary = e.secondary;
    int days_lo, days_hi;
    int64_t hours_lo, hours_hi;
    // Hours overlap across the tier thresholds (104 h, 40 h) as they do in real feeds: a
    // labour-contract worker with a short month is a managed worker-month, a managed one with a
    // short month an independent one, so that the shape around a threshold is smooth.
    if (e.part_timer) {  // a summer's part-timer: a managed worker's month, never near 104 h
      days_lo = 10, days_hi = 18, hours_lo = 42, hours_hi = 80;
    } else if (e.tier == kLaborRelation) {
      days_lo = 20, days_hi = 27, hours_lo = 85, hours_hi = 215;
    } else if (e.tier == kManaged) {
      days_lo = 8, days_hi = 18, hours_lo = 28, hours_hi = 90;
    } else {
      days_lo = 2, days_hi = 8, hours_lo = secondary ? 5 : 6, hours_hi = secondary ? 22 : 30;
    }
    MonthSim m;
    m.engagement = static_cast<int>(i);
    int nd = static_cast<int>(rng_.Between(days_lo, std::min(days_hi, ndays)));
    std::vector<int> all(ndays);
    for (int d = 0; d < ndays; ++d) all[d] = d;
    for (int k = 0; k < nd; ++k) std::swap(all[k], all[k + rng_.Below(ndays - k)]);
    for (int k = 0; k < nd; ++k) m.days.push_back(first + all[k]);
    std::sort(m.days.begin(), m.days.end());
    int64_t hours = rng_.Between(hours_lo, hours_hi);
    if (festival) hours = std::max<int64_t>(1, hours * 65 / 100);
    // Capping: kept just under the labour-relation threshold, and so out of its obligations.
    if (const int64_t k = DriftMonths(e.platform, DriftKind::kCapping, p);
        k > 0 && e.tier == kLaborRelation &&
        rng_.Chance(std::min(0.9, 0.3 * static_cast<double>(k))))
      hours = rng_.Between(101, 103);
    m.budget_mmin_per_day = hours * 60000 / nd;
    const PlatformSim& ps = platforms_[e.platform];
    m.profile = &ps.profile;
    // A platform whose orders move partly to its second sector in the summer.
    if (o_.seasons && summer && ps.second_sector >= 0 && rng_.Chance(0.4))
      m.profile = &kProfiles[static_cast<size_t>(ps.second_sector)];
    if (o_.rules->IsHighRisk(m.profile->sector) && rng_.Chance(ps.planted.coverage_mismatch))
      m.policy_defect = static_cast<int>(rng_.Between(1, 3));
    month_.push_back(std::move(m));
  }
  // A move to agencies: labour contracts ended and outsourcing signed in the small hours of the
  // first day, before any order of the month.
  for (Engagement& e : engagements_) {
    if (p < e.from || p > e.to || e.tier != kLaborRelation || !e.has_contract || e.renews ||
        e.form != ContractForm::kLaborContract || !DriftMonths(e.platform, DriftKind::kAgency, p) ||
        !rng_.Chance(0.12))
      continue;
    const std::string& pid = platforms_[e.platform].id;
    const TimestampMs t1 = BeijingInstant(first, rng_.Between(60, 300)), t2 = t1 + 60000;
    e.form = ContractForm::kOutsourcing;
    e.counterparty = "agency-" + std::to_string(rng_.Between(1, 40));
    Emit(first, t1,
         Head("contract", NextId("c-", t1), t1, pid, workers_[e.worker]) +
             ",\"action\":\"terminated\",\"form\":\"labor_contract\",\"counterparty_id\":\"" + pid +
             "\"}");
    Emit(first, t2,
         Head("contract", NextId("c-", t2), t2, pid, workers_[e.worker]) +
             ",\"action\":\"signed\",\"form\":\"outsourcing\",\"counterparty_id\":\"" +
             e.counterparty + "\"}");
  }
  // High-risk sectors: the commercial policy is bought before the month starts.
  for (MonthSim& m : month_) {
    const Engagement& e = engagements_[m.engagement];
    const PlatformSim& ps = platforms_[e.platform];
    if (!o_.rules->IsHighRisk(m.profile->sector) || m.policy_defect == 3) continue;
    Day from = first, to = first + ndays - 1;
    const Fen min_sum = o_.rules->high_risk_min_sum[static_cast<int>(m.profile->sector)];
    // An honest platform buys at least the minimum: some buy more for their full-timers.
    Fen sum =
        e.tier == kLaborRelation && !e.part_timer ? min_sum * ps.full_time_sum_pct / 100 : min_sum;
    if (m.policy_defect == 1) sum = min_sum / 3;
    if (m.policy_defect == 2) {
      to = m.days.back() - 1;  // lapses the day before the last order
      if (to < from) to = from, sum = min_sum / 3, m.policy_defect = 1;
    }
    TimestampMs ts = BeijingInstant(first - 2, rng_.Between(9 * 60, 17 * 60));
    Emit(first - 2, ts,
         Head("coverage", NextId("v-", ts), ts, ps.id, workers_[e.worker]) +
             ",\"product\":\"accident\",\"sum_insured_cny\":" + Money(sum) + ",\"valid_from\":\"" +
             FormatDate(from) + "\",\"valid_to\":\"" + FormatDate(to) + "\"}");
  }
}

void Sim::GenerateDay(Day d) {
  for (MonthSim& m : month_) {
    if (!std::binary_search(m.days.begin(), m.days.end(), d)) continue;
    const Engagement& e = engagements_[m.engagement];
    const PlatformSim& ps = platforms_[e.platform];
    const SectorProfile& sp = *m.profile;
    int64_t minute = rng_.Between(7 * 60, 11 * 60);
    int64_t used = 0;
    const int64_t fen_per_hour = rng_.Between(sp.fen_per_hour_lo, sp.fen_per_hour_hi);
    while (used < m.budget_mmin_per_day && minute < 23 * 60) {
      int64_t dur = rng_.Between(sp.min_minutes, sp.max_minutes) * 1000;
      if (rng_.Chance(0.1)) dur += 500;  // half minutes occur in real feeds
      if (used + dur > m.budget_mmin_per_day + 10000)
        dur = std::max<int64_t>(1000, (m.budget_mmin_per_day - used) / 1000 * 1000);
      Fen pay = dur * fen_per_hour / 60000;
      TimestampMs ts = BeijingInstant(d, minute + dur / 60000);
      std::string line =
          Head("order", NextId("o-", ts), ts, ps.id, workers_[e.worker]) + ",\"sector\":\"" +
          std::string(NameOf(sp.sector)) + "\",\"duration_min\":" +
          (dur % 1000 ? std::to_string(dur / 1000) + ".5" : std::to_string(dur / 1000)) +
          ",\"earnings_cny\":" + Money(pay);
      if (rng_.Chance(0.8))
        line += ",\"district\":\"" + std::string(kDistricts[rng_.Below(8)]) + "\"";
      line += "}";
      Emit(d, ts, std::move(line));
      used += dur;
      minute += dur / 60000 + rng_.Between(2, 20);
      m.minutes += dur;
      m.earnings += pay;
      m.last_order = std::max(m.last_order, ts);
      if (o_.rules->IsPilot(sp.sector)) ++m.pilot_orders;
      if (o_.rules->IsHighRisk(sp.sector)) {
        ++m.risk_orders;
        if (m.risk_days.empty() || m.risk_days.back() != d) m.risk_days.push_back(d);
      }
    }
  }
}

void Sim::EndMonth(Period p) {
  const Day next_first = FirstDayOfPeriod(p + 1);
  const std::string period = FormatPeriod(p);
  const BaseLimits limits = *o_.rules->BaseFor(p);  // checked in Run()
  // A falling premium: 15% less per order each month of the drift, down to 30% of it.
  auto premium_for = [&](int platform) {
    const int64_t k = DriftMonths(platform, DriftKind::kPremium, p);
    const int64_t own = platforms_[static_cast<size_t>(platform)].premium_fen;
    return (own > 0 ? own : o_.premium_per_order_fen) * std::max<int64_t>(30, 100 - 15 * k) / 100;
  };
  static constexpr std::pair<Scheme, int> kIndividual[] = {
      {Scheme::kPension, 800}, {Scheme::kMedical, 200}, {Scheme::kUnemployment, 50}};
  for (const MonthSim& m : month_) {
    if (m.minutes == 0) continue;
    const Engagement& e = engagements_[m.engagement];
    const PlatformSim& ps = platforms_[e.platform];
    const std::string& w = workers_[e.worker];
    Cell& cell = cells_[{e.platform, p}];
    ++cell.worker_months;
    const Tier tier = o_.rules->TierOf(m.minutes);
    ++cell.tiers[static_cast<int>(tier)];
    auto pay_day = [&]() {
      return rng_.Chance(o_.late_share)
                 ? next_first + DaysInMonth(PeriodYear(p + 1), PeriodMonth(p + 1)) +
                       static_cast<Day>(rng_.Between(-10, 9))
                 : next_first + 9;
    };
    // Contract avoidance.
    const bool form_ok_lr =
        e.has_contract && ((e.form == ContractForm::kLaborContract && e.counterparty == ps.id) ||
                           e.form == ContractForm::kLaborDispatch);
    if (tier != kIndependent) {
      ++cell.ca_scope;
      bool ok = form_ok_lr ||
                (tier == kManaged && e.has_contract && e.form == ContractForm::kWrittenAgreement);
      if (!ok) ++cell.ca_individual;
      if (tier == kLaborRelation && e.has_contract && e.form == ContractForm::kLaborDispatch)
        ++cell.dispatched;
    }
    // Underpayment: the employer's four schemes for a labour-relation worker-month.
    bool work_injury_paid = false;
    if (tier == kLaborRelation) {
      ++cell.up_scope;
      const Fen required = std::clamp(m.earnings, limits.lower, limits.upper);
      int defect = rng_.Chance(ps.planted.underpayment) ? static_cast<int>(rng_.Between(1, 3)) : 0;
      // A falling contribution ratio: more worker-months each month declared on half the base.
      if (const int64_t k = DriftMonths(e.platform, DriftKind::kContribution, p);
          defect == 0 && k > 0 && rng_.Chance(std::min(0.9, 0.08 * static_cast<double>(k))))
        defect = 4;
      int missing = defect == 1 ? static_cast<int>(rng_.Below(4)) : -1;
      Day d = pay_day();
      TimestampMs ts = BeijingInstant(d, rng_.Between(9 * 60, 17 * 60));
      for (int s = 0; s < 4; ++s) {
        if (s == missing) continue;
        Fen base = defect == 2 ? required * 7 / 10 : defect == 4 ? required / 2 : required;
        const Ppm rate = o_.rules->EmployerRate(kEmployerSchemes[s], ps.id);
        Fen amount = (base * rate + kPpmOne / 2) / kPpmOne;
        if (defect == 3) amount = amount * 8 / 10;
        if (kEmployerSchemes[s] == Scheme::kWorkInjury) work_injury_paid = true;
        Emit(d, ts,
             Head("contribution", NextId("s-", ts), ts, ps.id, w) + ",\"period\":\"" + period +
                 "\",\"scheme\":\"" + std::string(NameOf(kEmployerSchemes[s])) +
                 "\",\"payer\":\"employer\",\"base_cny\":" + Money(base) +
                 ",\"amount_cny\":" + Money(amount) + "}");
      }
      for (auto [scheme, bp] : kIndividual)
        Emit(d, ts,
             Head("contribution", NextId("s-", ts), ts, ps.id, w) + ",\"period\":\"" + period +
                 "\",\"scheme\":\"" + std::string(NameOf(scheme)) +
                 "\",\"payer\":\"individual\",\"base_cny\":" + Money(required) +
                 ",\"amount_cny\":" + Money((required * bp + 5000) / 10000) + "}");
      if (defect) {
        ++cell.up_affected;
        ++(defect == 1                  ? cell.up_missing
           : defect == 2 || defect == 4 ? cell.up_underdeclared
                                        : cell.up_short);
      }
    }
    // Coverage: pilot premiums per order, commercial cover for high-risk sectors.
    const bool exempt = tier == kLaborRelation && work_injury_paid;
    if (tier != kIndependent || m.pilot_orders > 0 || m.risk_orders > 0) ++cell.in_scope_workers;
    if (m.pilot_orders > 0 || m.risk_orders > 0) {
      ++cell.cov_scope;
      bool affected = false;
      if (m.pilot_orders > 0) {
        const Fen premium_fen = premium_for(e.platform);
        int64_t covered = m.pilot_orders;
        if (!exempt && rng_.Chance(ps.planted.coverage_mismatch))
          covered -= 1 + rng_.Below(std::max<int64_t>(1, m.pilot_orders / 2));
        Day d = pay_day();
        TimestampMs ts = BeijingInstant(d, rng_.Between(9 * 60, 17 * 60));
        Emit(d, ts,
             Head("contribution", NextId("s-", ts), ts, ps.id, w) + ",\"period\":\"" + period +
                 "\",\"scheme\":\"occupational_injury\",\"payer\":\"platform\",\"amount_cny\":" +
                 Money(covered * premium_fen) + ",\"orders_covered\":" + std::to_string(covered) +
                 "}");
        if (covered < m.pilot_orders && !exempt) {
          affected = true;
          ++cell.cov_pilot;
        }
      }
      if (m.risk_orders > 0 && m.policy_defect != 0 && !exempt) {
        affected = true;
        ++cell.cov_policy;
      }
      if (affected) ++cell.cov_affected;
    }
  }
  // Complaints: a baseline everywhere, more where workers are failed. With seasons, the baseline
  // follows the platform's active workers (about one complaint a month per 80 of them).
  std::vector<int64_t> working(platforms_.size());
  if (o_.seasons)
    for (const MonthSim& m : month_)
      if (m.minutes > 0) ++working[static_cast<size_t>(engagements_[m.engagement].platform)];
  for (size_t pi = 0; pi < platforms_.size(); ++pi) {
    const PlatformSim& ps = platforms_[pi];
    double extra =
        ps.planted.contract_avoidance + ps.planted.underpayment + ps.planted.coverage_mismatch;
    int64_t n = rng_.Between(0, 2) + static_cast<int64_t>(o_.workers / o_.platforms * extra / 10);
    if (o_.seasons) {
      n = 0;
      for (int64_t k = 0; k < working[pi]; ++k) n += rng_.Chance(1.0 / 80);
    }
    // A surge: 6 more complaints of one category in its first month, 2 more each month after.
    const int64_t surge_months = DriftMonths(static_cast<int>(pi), DriftKind::kComplaints, p);
    const int64_t surge = surge_months > 0 ? 4 + 2 * surge_months : 0;
    for (int64_t k = 0; k < n + surge; ++k) {
      Day d = FirstDayOfPeriod(p) +
              static_cast<Day>(rng_.Below(DaysInMonth(PeriodYear(p), PeriodMonth(p))));
      TimestampMs ts = BeijingInstant(d, rng_.Between(8 * 60, 22 * 60));
      std::string worker = rng_.Chance(0.5) ? workers_[rng_.Below(o_.workers)] : "";
      Emit(d, ts,
           Head("complaint", NextId("q-", ts), ts, ps.id, worker) + ",\"category\":\"" +
               std::string(kComplaintCategoryNames[k < n ? rng_.Below(kComplaintCategoryCount)
                                                         : SurgeCategory(static_cast<int>(pi))]) +
               "\"}");
    }
  }
}

// Writes one day's events in time order, with the awkward cases of real feeds mixed in.
void Sim::Flush(Day d) {
  auto it = schedule_.find(d);
  if (it == schedule_.end()) return;
  auto events = std::move(it->second);
  schedule_.erase(it);
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i + 1 < events.size(); ++i)  // slightly out of order
    if (rng_.Chance(0.03)) std::swap(events[i], events[i + 1]);
  for (auto& [ts, line] : events) {
    if (line.front() == '{') {
      ++valid_;
      if (rng_.Chance(o_.duplicate_share)) {
        ++duplicates_;
        schedule_[d + static_cast<Day>(rng_.Between(1, 3))].emplace_back(ts, "#" + line);
      }
      if (rng_.Chance(o_.malformed_share)) {
        ++malformed_;
        std::string bad;
        switch (rng_.Below(6)) {
          case 0:
            bad = line.substr(0, line.size() / 2);  // truncated
            break;
          case 1:
            bad = "{\"type\":\"order\",\"event_id\":\"bad-" + std::to_string(malformed_) +
                  "\",\"ts\":\"2024-13-01T10:00:00+08:00\",\"platform_id\":\"p-x\",\"worker_id\":"
                  "\"w-x\",\"sector\":\"food_delivery\",\"duration_min\":10,\"earnings_cny\":1}";
            break;
          case 2:
            bad = "{\"type\":\"order\",\"event_id\":\"bad-" + std::to_string(malformed_) +
                  "\",\"ts\":\"2024-07-01T10:00:00+08:00\",\"platform_id\":\"p-x\",\"worker_id\":"
                  "\"w-x\",\"sector\":\"drone_delivery\",\"duration_min\":10,\"earnings_cny\":1}";
            break;
          case 3:
            bad = "{\"type\":\"order\",\"event_id\":\"bad-" + std::to_string(malformed_) +
                  "\",\"ts\":\"2024-07-01T10:00:00+08:00\",\"platform_id\":\"p-x\",\"worker_id\":"
                  "\"w-x\",\"sector\":\"food_delivery\",\"duration_min\":-5,\"earnings_cny\":1}";
            break;
          case 4:
            bad = "{\"type\":\"contribution\",\"event_id\":\"bad-" + std::to_string(malformed_) +
                  "\",\"ts\":\"2024-07-01T10:00:00+08:00\",\"worker_id\":\"w-x\",\"period\":"
                  "\"2024-07\",\"scheme\":\"pension\",\"payer\":\"employer\",\"base_cny\":1,"
                  "\"amount_cny\":1}";  // no platform_id
            break;
          default:
            bad = "{\"type\":\"complaint\",\"event_id\":\"bad-" + std::to_string(malformed_) +
                  "\",\"ts\":\"2024-07-01T10:00:00+08:00\",\"platform_id\":\"p-\xff\","
                  "\"category\":\"other\"}";  // not UTF-8
            break;
        }
        Out(bad);
      }
    }
    Out(std::string_view(line).substr(line.front() == '#'));
  }
}

Status Sim::PlanDrifts() {
  const Period end = o_.start + o_.months;
  std::vector<bool> taken(platforms_.size(), false);
  for (const Drift& d : o_.drifts) {
    if (d.platform < 0 || d.platform >= o_.platforms)
      return Status::InvalidArgument("drift on platform " + std::to_string(d.platform + 1) +
                                     ": there are " + std::to_string(o_.platforms));
    if (d.start < o_.start || d.start >= end)
      return Status::InvalidArgument("drift from " + FormatPeriod(d.start) +
                                     ": not a month of the feed");
    drifts_.push_back(d);
    taken[static_cast<size_t>(d.platform)] = true;
  }
  if (o_.auto_drifts <= 0) return Status::OK();
  if (o_.months < 6) return Status::InvalidArgument("planted drifts need at least 6 months");
  Rng r(o_.seed ^ 0xd41f7);
  std::vector<int> order(platforms_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  for (size_t i = 0; i + 1 < order.size(); ++i)
    std::swap(order[i],
              order[i + static_cast<size_t>(r.Below(static_cast<int64_t>(order.size() - i)))]);
  for (int i = 0; i < o_.auto_drifts; ++i) {
    const DriftKind kind = static_cast<DriftKind>(i % kDriftKindNames.size());
    int chosen = -1;
    for (int p : order)
      if (!taken[static_cast<size_t>(p)] &&
          (kind != DriftKind::kPremium || o_.rules->IsPilot(platforms_[p].profile.sector)) &&
          // With seasons, on a platform large enough for a drift to show in its figures (a move
          // of 12% of a dozen labour contracts is one worker a month).
          (!o_.seasons || ExpectedWorkers(p) >= 60)) {
        chosen = p;
        break;
      }
    if (chosen < 0)
      return Status::InvalidArgument("not enough platforms for " + std::to_string(o_.auto_drifts) +
                                     " drifts");
    taken[static_cast<size_t>(chosen)] = true;
    // In the second half, with at least two months of it in the feed.
    const int first = o_.months / 2, last = o_.months - 2;
    drifts_.push_back(
        {kind, chosen, o_.start + first + static_cast<int>(r.Below(last - first + 1))});
  }
  return Status::OK();
}

Status Sim::Run(std::ostream* truth) {
  if (o_.workers < 1 || o_.platforms < 1 || o_.months < 1)
    return Status::InvalidArgument("workers, platforms and months must be at least 1");
  if (!o_.rules) return Status::InvalidArgument("the generator needs the rule set");
  for (int mi = 0; mi < o_.months; ++mi)
    if (auto b = o_.rules->BaseFor(o_.start + mi); !b.ok()) return b.status();
  SetUpPlatforms();
  AssignSizes();
  if (Status s = PlanDrifts(); !s.ok()) return s;
  AssignShapes();
  SetUpWorkers();
  Day day = schedule_.empty() ? FirstDayOfPeriod(o_.start) : schedule_.begin()->first;
  for (int mi = 0; mi < o_.months; ++mi) {
    Period p = o_.start + mi;
    StartMonth(p);
    const Day first = FirstDayOfPeriod(p), end = FirstDayOfPeriod(p + 1);
    for (; day < first; ++day) Flush(day);
    for (; day < end; ++day) {
      GenerateDay(day);
      Flush(day);
    }
    EndMonth(p);
  }
  while (!schedule_.empty()) Flush(schedule_.begin()->first);
  if (o_.order == FeedOrder::kShuffled) {  // Fisher-Yates with the feed's own generator
    Rng order(o_.seed ^ 0x5b0ff1eULL);
    for (size_t i = held_.size(); i > 1; --i)
      std::swap(held_[i - 1], held_[static_cast<size_t>(order.Below(static_cast<int64_t>(i)))]);
    for (const std::string& line : held_) feed_ << line << '\n';
    held_.clear();
  }
  feed_.flush();
  if (!feed_) return Status::IOError("cannot write the feed");
  if (truth) {
    WriteTruth(*truth);
    if (!*truth) return Status::IOError("cannot write the truth file");
  }
  return Status::OK();
}

void Sim::WriteTruth(std::ostream& out) {
  out << "{\n  \"generator\": \"flexwatch-gen\",\n  \"version\": 1,\n  \"seed\": " << o_.seed
      << ",\n  \"workers\": " << o_.workers << ",\n  \"platforms\": " << o_.platforms
      << ",\n  \"months\": " << o_.months << ",\n  \"start\": \"" << FormatPeriod(o_.start)
      << "\",\n  \"lines\": " << lines_ << ",\n  \"valid_events\": " << valid_
      << ",\n  \"duplicate_lines\": " << duplicates_ << ",\n  \"malformed_lines\": " << malformed_
      << ",\n  \"rules\": {\"id\": \"" << o_.rules->id << "\", \"version\": \"" << o_.rules->version
      << "\", \"fingerprint\": \"" << o_.rules->fingerprint << "\"}, \"every_month_final\": true,"
      << "\n  \"platform_list\": [";
  for (size_t i = 0; i < platforms_.size(); ++i) {
    const PlatformSim& p = platforms_[i];
    out << (i ? "," : "") << "\n    {\"platform_id\": \"" << p.id << "\", \"sector\": \""
        << NameOf(p.profile.sector)
        << "\", \"planted\": {\"contract_avoidance\": " << p.planted.contract_avoidance
        << ", \"dispatch_share\": " << p.planted.dispatch_share
        << ", \"underpayment\": " << p.planted.underpayment
        << ", \"coverage_mismatch\": " << p.planted.coverage_mismatch << "}, \"honest\": "
        << (p.planted.contract_avoidance == 0 && p.planted.underpayment == 0 &&
                    p.planted.coverage_mismatch == 0 &&
                    std::none_of(drifts_.begin(), drifts_.end(),
                                 [&](const Drift& d) { return d.platform == static_cast<int>(i); })
                ? "true"
                : "false")
        << "}";
  }
  out << "\n  ],\n  \"drifts\": [";
  for (size_t i = 0; i < drifts_.size(); ++i) {
    const Drift& d = drifts_[i];
    out << (i ? "," : "") << "\n    {\"platform_id\": \"" << platforms_[d.platform].id
        << "\", \"kind\": \"" << kDriftKindNames[static_cast<int>(d.kind)] << "\", \"start\": \""
        << FormatPeriod(d.start) << "\"";
    if (d.kind == DriftKind::kComplaints)
      out << ", \"category\": \"" << kComplaintCategoryNames[SurgeCategory(d.platform)] << "\"";
    out << "}";
  }
  out << "\n  ],\n  \"cells\": [";
  bool first = true;
  const RuleSet& r = *o_.rules;
  auto level = [&r](int64_t affected, int64_t in_scope) {
    return "\"" + std::string(NameOf(r.LevelOf(affected, in_scope))) + "\"";
  };
  for (const auto& [key, c] : cells_) {
    const int64_t lr = c.tiers[static_cast<int>(kLaborRelation)];
    const int64_t cap = static_cast<int64_t>(static_cast<__int128>(lr) * r.dispatch_cap / kPpmOne);
    const int64_t excess = std::max<int64_t>(0, c.dispatched - cap);
    const int64_t ca = c.ca_individual + excess;
    const Level worst = std::max({r.LevelOf(ca, c.ca_scope), r.LevelOf(c.up_affected, c.up_scope),
                                  r.LevelOf(c.cov_affected, c.cov_scope)});
    out << (first ? "" : ",") << "\n    {\"platform_id\": \"" << platforms_[key.first].id
        << "\", \"period\": \"" << FormatPeriod(key.second)
        << "\", \"worker_months\": " << c.worker_months
        << ", \"in_scope_workers\": " << c.in_scope_workers
        << ", \"ranked\": " << (c.in_scope_workers >= r.min_ranked_workers ? "true" : "false")
        << ", \"level\": \"" << NameOf(worst) << "\", \"tiers\": {\"labor_relation\": " << lr
        << ", \"managed\": " << c.tiers[static_cast<int>(kManaged)]
        << ", \"independent\": " << c.tiers[static_cast<int>(kIndependent)] << "},"
        << "\n     \"contract_avoidance\": {\"in_scope\": " << c.ca_scope
        << ", \"affected\": " << ca << ", \"level\": " << level(ca, c.ca_scope)
        << ", \"individual\": " << c.ca_individual << ", \"dispatched\": " << c.dispatched
        << ", \"dispatch_cap\": " << cap << ", \"dispatch_excess\": " << excess << "},"
        << "\n     \"underpayment\": {\"in_scope\": " << c.up_scope
        << ", \"affected\": " << c.up_affected
        << ", \"level\": " << level(c.up_affected, c.up_scope)
        << ", \"missing_scheme\": " << c.up_missing
        << ", \"underdeclared_base\": " << c.up_underdeclared
        << ", \"short_payment\": " << c.up_short << "},"
        << "\n     \"coverage_mismatch\": {\"in_scope\": " << c.cov_scope
        << ", \"affected\": " << c.cov_affected
        << ", \"level\": " << level(c.cov_affected, c.cov_scope)
        << ", \"pilot_uncovered\": " << c.cov_pilot << ", \"policy_inadequate\": " << c.cov_policy
        << "}}";
    first = false;
  }
  out << "\n  ]\n}\n";
}

}  // namespace

Result<Drift> ParseDrift(std::string_view text) {
  const size_t a = text.find(':'), b = a == std::string_view::npos ? a : text.find(':', a + 1);
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("drift '" + std::string(text) + "': " + why +
                                   " (expected KIND:PLATFORM:YYYY-MM)");
  };
  if (b == std::string_view::npos) return bad("not three fields");
  Drift d;
  const auto kind = EnumFromName<DriftKind>(kDriftKindNames, text.substr(0, a));
  if (!kind) return bad("unknown kind");
  d.kind = *kind;
  const std::string number(text.substr(a + 1, b - a - 1));
  if (number.empty() || number.size() > 6 ||
      number.find_first_not_of("0123456789") != std::string::npos || std::stoi(number) < 1)
    return bad("the platform is its number, from 1");
  d.platform = std::stoi(number) - 1;
  auto start = ParsePeriod(text.substr(b + 1));
  if (!start.ok()) return bad("the start is not a month");
  d.start = *start;
  return d;
}

Status Generate(const GenOptions& options, std::ostream& feed, std::ostream* truth) {
  Sim sim(options, feed);
  return sim.Run(truth);
}

}  // namespace flexwatch
