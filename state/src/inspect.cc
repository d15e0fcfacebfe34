#include "flexwatch/state/inspect.h"

#include <map>

#include "flexwatch/core/decimal.h"
#include "flexwatch/core/json.h"

namespace flexwatch {
namespace {

std::string Q(std::string_view s) { return JsonString(s); }
std::string Yuan(Fen f) { return FormatScaled(f, 2); }
std::string Hours(MilliMinutes m) {
  return FormatScaled(m / 60, 3);
}  // milli-minutes/60 = ms-hours

std::string DaysOfMask(Period p, uint32_t mask) {
  std::string out = "[";
  bool first = true;
  for (int d = 0; d < 31; ++d) {
    if (!(mask & (1u << d))) continue;
    out += (first ? "" : ", ") + Q(FormatDate(FirstDayOfPeriod(p) + d));
    first = false;
  }
  return out + "]";
}

std::string WorkerMonthJson(Period p, const WorkerMonth& wm, const std::string& indent) {
  std::string s = "{\n";
  s += indent + "  \"period\": " + Q(FormatPeriod(p)) + ",\n";
  s += indent + "  \"hours\": " + Hours(wm.duration) + ",\n";
  s += indent + "  \"minutes\": " + FormatScaled(wm.duration, 3) + ",\n";
  s += indent + "  \"earnings_cny\": " + Yuan(wm.earnings) + ",\n";
  s += indent + "  \"orders\": " + std::to_string(wm.TotalOrders()) + ",\n";
  s += indent + "  \"orders_by_sector\": {";
  bool first = true;
  for (int i = 0; i < kSectorCount; ++i) {
    if (!wm.orders[i]) continue;
    s += std::string(first ? "" : ", ") + Q(kSectorNames[i]) + ": " + std::to_string(wm.orders[i]);
    first = false;
  }
  s += "},\n";
  s += indent + "  \"active_days\": " + std::to_string(__builtin_popcount(wm.active_days)) + ",\n";
  s += indent + "  \"order_days_by_sector\": {";
  first = true;
  for (int i = 0; i < kSectorCount; ++i) {
    if (!wm.sector_days[i]) continue;
    s += std::string(first ? "" : ", ") + Q(kSectorNames[i]) + ": " +
         DaysOfMask(p, wm.sector_days[i]);
    first = false;
  }
  s += "},\n";
  s += indent + "  \"first_order\": " + Q(FormatBeijing(wm.first_order)) + ",\n";
  s += indent + "  \"last_order\": " + Q(FormatBeijing(wm.last_order)) + "\n";
  return s + indent + "}";
}

// One JSON object per contribution record of the worker-month.
void AppendContributions(Store& store, Period p, const std::string& platform,
                         const std::string& worker, std::vector<std::string>& out) {
  for (const ContributionRecord& c : store.Contributions(p, platform, worker))
    out.push_back("{\"period\": " + Q(FormatPeriod(p)) + ", \"scheme\": " + Q(NameOf(c.scheme)) +
                  ", \"payer\": " + Q(NameOf(c.payer)) + ", \"base_cny\": " + Yuan(c.total.base) +
                  ", \"amount_cny\": " + Yuan(c.total.amount) +
                  ", \"orders_covered\": " + std::to_string(c.total.orders_covered) +
                  ", \"payments\": " + std::to_string(c.total.payments) +
                  ", \"last_paid\": " + Q(FormatBeijing(c.total.last_paid)) + "}");
}

std::string JsonList(const std::vector<std::string>& items, const std::string& indent) {
  if (items.empty()) return "[]";
  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ",\n" : "\n") + indent + "  " + items[i];
  return s + "\n" + indent + "]";
}

Result<std::string> WorkerJson(Store& store, const std::string& platform, const std::string& worker,
                               const InspectQuery& q) {
  const std::optional<Period>& month = q.month;
  std::string s = "{\n  \"platform_id\": " + Q(platform) + ",\n  \"worker_id\": " + Q(worker) +
                  ",\n  \"worker_months\": [";
  bool first = true;
  std::vector<Period> periods = store.Periods();
  for (Period p : periods) {
    if (month && p != *month) continue;
    auto wm = store.GetWorkerMonth(p, platform, worker);
    if (!wm.ok() || !wm->has_value()) continue;
    std::string wm_json = WorkerMonthJson(p, **wm, "    ");
    if (q.explain) {
      auto verdict = q.explain(p, platform, worker);
      if (!verdict.ok()) return verdict.status();
      wm_json.erase(wm_json.size() - 6);  // "\n    }"
      wm_json += ",\n      \"verdict\": " + *verdict + "\n    }";
    }
    s += std::string(first ? "\n    " : ",\n    ") + wm_json;
    first = false;
  }
  s += first ? "],\n" : "\n  ],\n";
  std::vector<std::string> contributions;
  for (Period p : store.ContributionPeriods())
    if (!month || p == *month) AppendContributions(store, p, platform, worker, contributions);
  s += "  \"contributions\": " + JsonList(contributions, "  ") + ",\n";
  s += "  \"contracts\": [";
  first = true;
  for (const ContractRecord& c : store.Contracts(platform, worker)) {
    s += std::string(first ? "\n" : ",\n") + "    {\"ts\": " + Q(FormatBeijing(c.ts)) +
         ", \"event_id\": " + Q(c.event_id) + ", \"action\": " + Q(NameOf(c.action)) +
         ", \"form\": " + Q(NameOf(c.form)) + ", \"counterparty_id\": " + Q(c.counterparty_id) +
         "}";
    first = false;
  }
  s += first ? "],\n" : "\n  ],\n";
  s += "  \"policies\": [";
  first = true;
  for (const PolicyRecord& r : store.Policies(platform, worker)) {
    s += std::string(first ? "\n" : ",\n") + "    {\"event_id\": " + Q(r.event_id) +
         ", \"product\": " + Q(NameOf(r.product)) +
         ", \"sum_insured_cny\": " + Yuan(r.sum_insured) +
         ", \"valid_from\": " + Q(FormatDate(r.valid_from)) +
         ", \"valid_to\": " + Q(FormatDate(r.valid_to)) + "}";
    first = false;
  }
  s += first ? "]\n}" : "\n  ]\n}";
  return s;
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
  std::string s = "{\n";
  if (q.platform.empty()) {
    // What the state holds, the same for the same data however often it was delivered: the
    // distinct events applied and the distinct lines rejected (deliveries, duplicates among
    // them, are counted by `replay` and `run`'s metrics, not here).
    int64_t dead = 0;
    if (Status st = store.ForEachDeadLetter([&dead](std::string_view) { ++dead; }); !st.ok())
      return st;
    s += "  \"events\": {\"accepted\": " + std::to_string(store.Counter("accepted")) +
         ", \"rejected\": " + std::to_string(dead) + "},\n";
    s += "  \"sources\": [";
    bool first_source = true;
    for (const auto& [source, position] : store.Positions()) {
      s += std::string(first_source ? "" : ", ") + "{\"source\": " + Q(source) +
           ", \"position\": " + position + "}";
      first_source = false;
    }
    s += "],\n";
    s += "  \"periods\": [";
    bool first = true;
    for (Period p : store.Periods()) {
      s += std::string(first ? "" : ", ") + Q(FormatPeriod(p));
      first = false;
    }
    s += "],\n";
  }
  s += "  \"platforms\": [";
  bool first_platform = true;
  for (const std::string& platform : platforms) {
    s += std::string(first_platform ? "\n" : ",\n") + "    {\"platform_id\": " + Q(platform) +
         ", \"months\": [";
    first_platform = false;
    bool first = true;
    for (const auto& [key, t] : totals) {
      if (key.first != platform) continue;
      int64_t complaints = 0;
      for (const auto& [cat, n] : store.Complaints(key.second, platform)) complaints += n;
      s += std::string(first ? "\n" : ",\n") + "      {\"period\": " + Q(FormatPeriod(key.second)) +
           ", \"worker_months\": " + std::to_string(t.worker_months) +
           ", \"orders\": " + std::to_string(t.orders) + ", \"hours\": " + Hours(t.minutes) +
           ", \"earnings_cny\": " + Yuan(t.earnings) +
           ", \"complaints\": " + std::to_string(complaints) + "}";
      first = false;
    }
    s += first ? "]}" : "\n    ]}";
  }
  s += first_platform ? "]\n}\n" : "\n  ]\n}\n";
  return s;
}

}  // namespace flexwatch
