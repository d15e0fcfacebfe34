#include "flexwatch/state/inspect.h"

#include <map>

#include "flexwatch/core/decimal.h"
#include "flexwatch/core/json.h"
#include "flexwatch/state/meta_keys.h"
#include "flexwatch/state/records.h"

namespace flexwatch {
namespace {

constexpr auto kBlock = JsonWriter::kBlock;

std::string Yuan(Fen f) { return FormatScaled(f, 2); }
std::string Hours(MilliMinutes m) {
  return FormatScaled(m / 60, 3);
}  // milli-minutes/60 = ms-hours

void DaysOfMask(JsonWriter& w, Period p, uint32_t mask) {
  w.BeginArray();
  for (int d = 0; d < 31; ++d)
    if (mask & (1u << d)) w.String(FormatDate(FirstDayOfPeriod(p) + d));
  w.EndArray();
}

// The worker-month's object, open: the caller may add members before closing it.
void WorkerMonthJson(JsonWriter& w, Period p, const WorkerMonth& wm) {
  w.BeginObject(kBlock).Key("period").String(FormatPeriod(p)).Key("hours").Raw(Hours(wm.duration));
  w.Key("minutes").Raw(FormatScaled(wm.duration, 3)).Key("earnings_cny").Raw(Yuan(wm.earnings));
  w.Key("orders").Int(wm.TotalOrders()).Key("orders_by_sector").BeginObject();
  for (int i = 0; i < kSectorCount; ++i)
    if (wm.orders[i]) w.Key(kSectorNames[i]).Int(wm.orders[i]);
  w.EndObject().Key("active_days").Int(__builtin_popcount(wm.active_days));
  w.Key("order_days_by_sector").BeginObject();
  for (int i = 0; i < kSectorCount; ++i)
    if (wm.sector_days[i]) DaysOfMask(w.Key(kSectorNames[i]), p, wm.sector_days[i]);
  w.EndObject().Key("first_order").String(FormatBeijing(wm.first_order));
  w.Key("last_order").String(FormatBeijing(wm.last_order));
}

Result<std::string> WorkerJson(Store& store, const std::string& platform, const std::string& worker,
                               const InspectQuery& q) {
  const std::optional<Period>& month = q.month;
  JsonWriter w;
  w.BeginObject(kBlock).Key("platform_id").String(platform).Key("worker_id").String(worker);
  w.Key("worker_months").BeginArray(kBlock);
  for (Period p : store.Periods()) {
    if (month && p != *month) continue;
    auto wm = store.GetWorkerMonth(p, platform, worker);
    if (!wm.ok() || !wm->has_value()) continue;
    WorkerMonthJson(w, p, **wm);
    if (q.explain) {
      auto verdict = q.explain(p, platform, worker);
      if (!verdict.ok()) return verdict.status();
      w.Key("verdict").Raw(*verdict);
    }
    w.EndObject();
  }
  w.EndArray().Key("contributions").BeginArray(kBlock);
  for (Period p : store.ContributionPeriods()) {
    if (month && p != *month) continue;
    for (const ContributionRecord& c : store.Contributions(p, platform, worker)) {
      w.BeginObject().Key("period").String(FormatPeriod(p)).Key("scheme").String(NameOf(c.scheme));
      w.Key("payer").String(NameOf(c.payer)).Key("base_cny").Raw(Yuan(c.total.base));
      w.Key("amount_cny").Raw(Yuan(c.total.amount));
      w.Key("orders_covered").Int(c.total.orders_covered).Key("payments").Int(c.total.payments);
      w.Key("last_paid").String(FormatBeijing(c.total.last_paid)).EndObject();
    }
  }
  w.EndArray().Key("contracts").BeginArray(kBlock);
  for (const ContractRecord& c : store.Contracts(platform, worker)) {
    w.BeginObject().Key("ts").String(FormatBeijing(c.ts)).Key("event_id").String(c.event_id);
    w.Key("action").String(NameOf(c.action)).Key("form").String(NameOf(c.form));
    w.Key("counterparty_id").String(c.counterparty_id).EndObject();
  }
  w.EndArray().Key("policies").BeginArray(kBlock);
  for (const PolicyRecord& r : store.Policies(platform, worker)) {
    w.BeginObject().Key("event_id").String(r.event_id).Key("product").String(NameOf(r.product));
    w.Key("sum_insured_cny").Raw(Yuan(r.sum_insured));
    w.Key("valid_from").String(FormatDate(r.valid_from));
    w.Key("valid_to").String(FormatDate(r.valid_to)).EndObject();
  }
  return w.EndArray().EndObject().Take();
}

struct MonthTotals {
  int64_t worker_months = 0, orders = 0;
  MilliMinutes minutes = 0;
  Fen earnings = 0;
};

}  // namespace

Result<std::string> InspectJson(Store& store, const InspectQuery& q) {
  if (!q.worker.empty()) {
    std::vector<std::string> platforms;
    if (!q.platform.empty()) {
      std::vector<std::string> ws = store.Workers(q.platform);
      bool known = std::binary_search(ws.begin(), ws.end(), q.worker);
      for (Period p : store.ContributionPeriods())  // contributions alone name a worker too
        known = known || !store.Contributions(p, q.platform, q.worker).empty();
      if (!known)
        return Status::NotFound("no record of worker " + q.worker + " on platform " + q.platform);
      platforms.push_back(q.platform);
    } else {
      for (const std::string& p : store.Platforms()) {
        std::vector<std::string> ws = store.Workers(p);
        if (std::binary_search(ws.begin(), ws.end(), q.worker)) platforms.push_back(p);
      }
    }
    if (platforms.empty()) return Status::NotFound("no record of worker " + q.worker);
    std::string s = platforms.size() == 1 ? "" : "[\n";
    for (size_t i = 0; i < platforms.size(); ++i) {
      auto one = WorkerJson(store, platforms[i], q.worker, q);
      if (!one.ok()) return one.status();
      s += (i ? ",\n" : "") + *one;
    }
    return s + (platforms.size() == 1 ? "\n" : "\n]\n");
  }

  // Per platform and month totals over worker-months.
  std::map<std::pair<std::string, Period>, MonthTotals> totals;
  for (Period p : store.Periods()) {
    if (q.month && p != *q.month) continue;
    Status s = store.ForEachWorkerMonth(p, q.platform, [&](const WorkerMonthRecord& r) {
      MonthTotals& t = totals[{r.platform_id, p}];
      ++t.worker_months;
      t.orders += r.wm.TotalOrders();
      t.minutes += r.wm.duration;
      t.earnings += r.wm.earnings;
    });
    if (!s.ok()) return s;
  }
  std::vector<std::string> platforms;
  if (!q.platform.empty()) {
    platforms.push_back(q.platform);
    std::vector<std::string> all = store.Platforms();
    if (!std::binary_search(all.begin(), all.end(), q.platform))
      return Status::NotFound("no record of platform " + q.platform);
  } else {
    platforms = store.Platforms();
  }
  JsonWriter w;
  w.BeginObject(kBlock);
  if (q.platform.empty()) {
    // What the state holds, the same for the same data however often it was delivered: the
    // distinct events applied and the distinct lines rejected (deliveries, duplicates among
    // them, are counted by `replay` and `run`'s metrics, not here).
    int64_t dead = 0;
    if (Status st = store.ForEachDeadLetter([&dead](std::string_view) { ++dead; }); !st.ok())
      return st;
    w.Key("events").BeginObject().Key("accepted").Int(store.Counter("accepted"));
    w.Key("rejected").Int(dead).EndObject().Key("sources").BeginArray();
    for (const auto& [source, position] : store.Positions())
      w.BeginObject().Key("source").String(source).Key("position").Raw(position).EndObject();
    w.EndArray().Key("periods").BeginArray();
    for (Period p : store.Periods()) w.String(FormatPeriod(p));
    w.EndArray();
  }
  w.Key("platforms").BeginArray(kBlock);
  for (const std::string& platform : platforms) {
    w.BeginObject().Key("platform_id").String(platform).Key("months").BeginArray(kBlock);
    for (const auto& [key, t] : totals) {
      if (key.first != platform) continue;
      int64_t complaints = 0;
      for (const auto& [cat, n] : store.Complaints(key.second, platform)) complaints += n;
      w.BeginObject().Key("period").String(FormatPeriod(key.second));
      w.Key("worker_months").Int(t.worker_months).Key("orders").Int(t.orders);
      w.Key("hours").Raw(Hours(t.minutes)).Key("earnings_cny").Raw(Yuan(t.earnings));
      // Repeated event ids whose content differs from their first arrival (records rewritten
      // after delivery), counted for this month.
      int64_t rewritten = 0;
      if (auto v = store.GetMeta(meta_keys::Rewritten(key.second, platform)))
        DecodeCounter(*v, rewritten);
      w.Key("complaints").Int(complaints).Key("rewritten_events").Int(rewritten);
      if (q.score && !q.platform.empty()) {
        auto verdict = q.score(key.second, platform);
        if (!verdict.ok()) return verdict.status();
        w.Key("verdict").Raw(*verdict);
      }
      w.EndObject();
    }
    w.EndArray().EndObject();
  }
  return w.EndArray().EndObject().Take() + "\n";
}

}  // namespace flexwatch
