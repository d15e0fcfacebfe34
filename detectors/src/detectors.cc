#include "flexwatch/detectors/detectors.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "flexwatch/core/json.h"
#include "flexwatch/detectors/stats.h"

namespace flexwatch {
namespace {

const PlatformMonth* Find(const MonthSeries* m, const std::string& platform) {
  if (!m) return nullptr;
  auto it = std::lower_bound(
      m->platforms.begin(), m->platforms.end(), platform,
      [](const PlatformMonth& a, const std::string& id) { return a.platform_id < id; });
  return it != m->platforms.end() && it->platform_id == platform ? &*it : nullptr;
}

bool Usable(const PlatformMonth& m, SeriesId s, PlatformMonth::Point& point) {
  point = m.Value(s);
  return point.defined && (!TraitsOf(s).needs_final || m.final);
}

// The sampling error of a share near `p` measured on `n` worker-months; a share of 0 or 1 is
// taken as half a worker-month from it, since n draws cannot tell it from that.
double ShareError(double p, int64_t n) {
  const double size = static_cast<double>(std::max<int64_t>(1, n));
  const double q = std::clamp(p, 0.5 / size, 1 - 0.5 / size);
  return std::sqrt(q * (1 - q) / size);
}

const char* Direction(double observed, double expected) {
  return observed < expected ? "down" : "up";
}

// Seasons (OwnHistoryConfig::seasonal): each point whose month a year before is among the points
// is taken less that month's departure from the mean of the points that are neither (the
// window's last point, the one judged, never counts in that mean), and the month a year before
// counts as that mean in the baseline (its season is not spread). A share stays within [0, 1].
void Deseason(std::vector<double>& values, const std::vector<Period>& periods, bool share) {
  const size_t n = values.size();
  std::vector<double> adjusted = values;
  for (size_t i = 0; i < n; ++i) {
    size_t j = n;
    for (size_t k = 0; k < i; ++k)
      if (periods[k] == periods[i] - 12) j = k;
    if (j == n) continue;
    double sum = 0;
    int count = 0;
    for (size_t k = 0; k + 1 < n; ++k)
      if (k != j && k != i) sum += values[k], ++count;
    if (count == 0) continue;
    adjusted[i] = values[i] - (values[j] - sum / count);
    adjusted[j] = sum / count;
    if (share) adjusted[i] = std::clamp(adjusted[i], 0.0, 1.0);
  }
  values = std::move(adjusted);
}

struct Detect {
  const RuleSet& rules;
  const DetectorConfig& config;
  const std::vector<const MonthSeries*>& history;
  Period p;
  std::vector<EarlyWarning>& out;

  EarlyWarning Start(const PlatformMonth& m, const DetectorBase& d, const char* id,
                     std::string series) {
    EarlyWarning w;
    w.platform_id = m.platform_id;
    w.period = p;
    w.detector = id;
    w.version = d.version;
    w.series = std::move(series);
    w.window_from = w.window_to = p;
    return w;
  }

  void OwnHistory(const PlatformMonth& now) {
    const OwnHistoryConfig& c = config.own_history;
    if (!c.enabled) return;
    for (SeriesId s : c.series) {
      const SeriesTraits traits = TraitsOf(s);
      if (traits.adverse == 0) continue;
      std::vector<double> values;
      std::vector<int64_t> sizes;
      std::vector<Period> periods;
      Period from = p;
      for (const MonthSeries* month : history) {
        const PlatformMonth* m = Find(month, now.platform_id);
        PlatformMonth::Point point;
        if (!m || !Usable(*m, s, point)) continue;
        if (values.empty()) from = m->period;
        values.push_back(point.value);
        sizes.push_back(point.n);
        periods.push_back(m->period);
      }
      const double raw = values.empty() ? 0 : values.back();
      if (c.seasonal) Deseason(values, periods, traits.share);
      PlatformMonth::Point current;
      if (!Usable(now, s, current)) continue;  // the month judged must be among the points
      if (values.size() < static_cast<size_t>(c.min_history_months) + 1) continue;
      double mean = 0;
      for (size_t i = 0; i + 1 < values.size(); ++i) mean += values[i];
      mean /= static_cast<double>(values.size() - 1);
      double floor = c.min_relative_sigma * std::fabs(mean);
      if (traits.share) {
        std::vector<int64_t> n(sizes.begin(), sizes.end() - 1);
        std::nth_element(n.begin(), n.begin() + static_cast<std::ptrdiff_t>(n.size() / 2), n.end());
        floor = std::max(c.min_share_sigma, ShareError(mean, n[n.size() / 2]));
      }
      const Shift shift =
          DetectShift(values, {.baseline = static_cast<size_t>(c.min_history_months),
                               .k = c.slack_sigmas,
                               .h = c.threshold_sigmas,
                               .min_sigma = floor});
      if (!shift.enough_history || !shift.alarm_at_end || shift.end_direction != traits.adverse)
        continue;
      EarlyWarning w = Start(now, c, kDetectorIds[0], kSeriesNames[static_cast<int>(s)]);
      w.window_from = from;
      // As observed, and what the baseline and the season (if any) expected of it.
      w.observed = raw;
      w.expected = shift.expected + (raw - values.back());
      w.unit = traits.unit;
      w.direction = Direction(w.observed, w.expected);
      w.score = shift.statistic;
      w.confidence = shift.statistic >= 2 * c.threshold_sigmas ? "high" : "medium";
      w.basis = "the platform's own months before, a self-starting CUSUM";
      out.push_back(std::move(w));
    }
  }

  void SectorPeers(const PlatformMonth& now, const MonthSeries& month) {
    const SectorPeersConfig& c = config.sector_peers;
    if (!c.enabled) return;
    for (SeriesId s : c.series) {
      const SeriesTraits traits = TraitsOf(s);
      PlatformMonth::Point self;
      if (traits.adverse == 0 || !Usable(now, s, self) || self.n < c.min_workers) continue;
      std::vector<double> peers;
      for (const PlatformMonth& other : month.platforms) {
        PlatformMonth::Point point;
        if (other.platform_id == now.platform_id || other.sector != now.sector ||
            !Usable(other, s, point) || point.n < c.min_workers)
          continue;
        peers.push_back(point.value);
      }
      if (peers.size() < static_cast<size_t>(c.min_peers)) continue;
      const Spread spread = RobustSpread(peers);
      double floor = c.min_relative_sigma * std::fabs(spread.median);
      if (traits.share) floor = std::max(c.min_share_sigma, ShareError(spread.median, self.n));
      const auto z = RobustZ(self.value, peers, floor, static_cast<size_t>(c.min_peers));
      if (!z || *z * traits.adverse < c.threshold_z) continue;
      EarlyWarning w = Start(now, c, kDetectorIds[1], kSeriesNames[static_cast<int>(s)]);
      w.expected = spread.median;
      w.observed = self.value;
      w.unit = traits.unit;
      w.direction = Direction(w.observed, w.expected);
      w.score = std::fabs(*z);
      w.confidence = w.score >= 1.5 * c.threshold_z ? "high" : "medium";
      w.basis = "the median of " + std::to_string(peers.size()) + " other " +
                std::string(NameOf(now.sector)) + " platforms that month";
      out.push_back(std::move(w));
    }
  }

  void HoursBunching(const PlatformMonth& now) {
    const HoursBunchingConfig& c = config.hours_bunching;
    if (!c.enabled) return;
    // Upper: an obligation above the threshold (labour relation), hours in (b, b+1]. Lower: an
    // obligation from the threshold on (managed), hours in [b, b+1).
    const std::pair<MilliMinutes, const std::vector<int64_t>*> thresholds[] = {
        {rules.labor_relation_above, &now.hours_upto}, {rules.managed_from, &now.hours_from}};
    for (const auto& [threshold, bins] : thresholds) {
      const int64_t t = threshold / 60000;
      if (t < c.below_hours) continue;
      const Bunching b = MeasureBunching(
          *bins, static_cast<size_t>(t - c.below_hours), static_cast<size_t>(t),
          static_cast<size_t>(t + c.above_hours), static_cast<size_t>(c.window_hours));
      const double expected = std::max(b.expected, 0.5);
      const auto observed = static_cast<int64_t>(std::llround(b.observed));
      if (observed < c.min_worker_months || b.observed / expected - 1 < c.min_excess_ratio)
        continue;
      const double tail = PoissonUpperTail(observed, expected);
      if (tail >= c.p_value) continue;
      EarlyWarning w = Start(now, c, kDetectorIds[2], "hours_below_" + std::to_string(t) + "h");
      w.expected = b.expected;
      w.observed = b.observed;
      w.unit = "worker_months";
      w.direction = "up";
      w.score = -std::log10(std::max(tail, 1e-300));
      w.confidence = tail <= c.p_value / 100 ? "high" : "medium";
      w.basis = "worker-months with " + std::to_string(t - c.below_hours) + "-" +
                std::to_string(t) + " h, against a line fitted on the " +
                std::to_string(c.window_hours) + " h on either side, Poisson";
      out.push_back(std::move(w));
    }
  }

  void ComplaintSpike(const PlatformMonth& now) {
    const ComplaintSpikeConfig& c = config.complaint_spike;
    if (!c.enabled || now.active_workers == 0) return;
    for (int k = 0; k < kComplaintCategoryCount; ++k) {
      int months = 0;
      int64_t past = 0, exposure = 0;
      Period from = p;
      for (size_t i = 0; i + 1 < history.size(); ++i) {
        const PlatformMonth* m = Find(history[i], now.platform_id);
        if (!m || m->active_workers == 0) continue;
        if (months == 0) from = m->period;
        ++months;
        past += m->complaints[static_cast<size_t>(k)];
        exposure += m->active_workers;
      }
      const int64_t observed = now.complaints[static_cast<size_t>(k)];
      if (months < c.min_history_months || observed < c.min_complaints) continue;
      const double lambda = (static_cast<double>(past) + c.prior_complaints) /
                            static_cast<double>(exposure) * static_cast<double>(now.active_workers);
      const double tail = PoissonUpperTail(observed, lambda);
      if (tail >= c.p_value) continue;
      EarlyWarning w =
          Start(now, c, kDetectorIds[3], "complaints/" + std::string(kComplaintCategoryNames[k]));
      w.window_from = from;
      w.expected = lambda;
      w.observed = static_cast<double>(observed);
      w.unit = "complaints";
      w.direction = "up";
      w.score = -std::log10(std::max(tail, 1e-300));
      w.confidence = tail <= c.p_value / 100 ? "high" : "medium";
      w.basis = "the platform's own rate per active worker over " + std::to_string(months) +
                " months, Poisson";
      out.push_back(std::move(w));
    }
  }
};

}  // namespace

std::string WarningNumber(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s += '0';
  }
  if (s == "-0.0") s = "0.0";
  return s;
}

std::string EarlyWarningJson(const EarlyWarning& w) {
  JsonWriter json;
  json.BeginObject().Key("detector").String(w.detector).Key("version").String(w.version);
  json.Key("series").String(w.series).Key("window").BeginObject();
  json.Key("from").String(FormatPeriod(w.window_from)).Key("to").String(FormatPeriod(w.window_to));
  json.EndObject().Key("expected").Raw(WarningNumber(w.expected));
  json.Key("observed").Raw(WarningNumber(w.observed)).Key("unit").String(w.unit);
  json.Key("direction").String(w.direction).Key("score").Raw(WarningNumber(w.score, 2));
  json.Key("confidence").String(w.confidence);
  return json.Key("basis").String(w.basis).EndObject().Take();
}

Result<const MonthSeries*> SeriesCache::Get(Store& store, const RuleSet& rules, Period p,
                                            bool close) {
  auto key = std::make_pair(p, close);
  const uint64_t now = store.ChangeSequence();
  if (auto it = months_.find(key); it != months_.end()) {
    Entry& entry = it->second;
    MonthEvaluation& cached = entry.series.evaluation;
    MonthEvaluation finality;
    DecideFinality(store, rules, p, close, finality);
    if (finality.final == cached.final && finality.finality == cached.finality) {
      cached.watermark = finality.watermark;
      cached.final_at = finality.final_at;
      cached.closed_at = finality.closed_at;
      if (entry.change_sequence != now) {
        for (const std::string& platform : store.ChangedSince(entry.change_sequence)) {
          auto one = ComputeSeries(store, rules, p, close, platform);
          if (!one.ok()) return one.status();
          ++platforms_recomputed_;
          // Both lists are ordered by platform id: replace, insert or remove its entry.
          auto splice = [&platform](auto& list, auto& fresh) {
            auto pos = std::lower_bound(
                list.begin(), list.end(), platform,
                [](const auto& e, const std::string& id) { return e.platform_id < id; });
            const bool there = pos != list.end() && pos->platform_id == platform;
            if (fresh.empty()) {
              if (there) list.erase(pos);
            } else if (there) {
              *pos = std::move(fresh.front());
            } else {
              list.insert(pos, std::move(fresh.front()));
            }
          };
          splice(cached.platforms, one->evaluation.platforms);
          splice(entry.series.platforms, one->platforms);
        }
        entry.change_sequence = now;
      }
      return &entry.series;
    }
    months_.erase(it);
  }
  auto computed = ComputeSeries(store, rules, p, close);
  if (!computed.ok()) return computed.status();
  ++months_computed_;
  return &months_.emplace(key, Entry{std::move(*computed), now}).first->second.series;
}

void SeriesCache::Retain(const std::function<bool(Period)>& keep) {
  std::erase_if(months_, [&](const auto& entry) { return !keep(entry.first.first); });
}

Result<std::vector<EarlyWarning>> DetectWarnings(Store& store, const RuleSet& rules,
                                                 const DetectorConfig& config, Period p, bool close,
                                                 SeriesCache& cache) {
  if (!config.present) return std::vector<EarlyWarning>{};
  const std::vector<Period> periods = store.Periods();
  const std::set<Period> in_state(periods.begin(), periods.end());
  std::vector<const MonthSeries*> history;
  for (Period q = p - config.history_months + 1; q <= p; ++q) {
    if (!in_state.count(q)) {
      history.push_back(nullptr);
      continue;
    }
    // A month before that the rule set cannot judge (say, before its base-limit table begins)
    // is no history; the month judged itself must be judged. Any other error (a read error of
    // the state) fails the detection: a month is never announced without its warnings silently.
    if (q != p && !rules.Judgeable(q).ok()) {
      history.push_back(nullptr);
      continue;
    }
    auto month = cache.Get(store, rules, q, q == p && close);
    if (!month.ok()) return month.status();
    history.push_back(*month);
  }
  return DetectWarningsIn(rules, config, history);
}

std::vector<EarlyWarning> DetectWarningsIn(const RuleSet& rules, const DetectorConfig& config,
                                           const std::vector<const MonthSeries*>& history) {
  std::vector<EarlyWarning> out;
  if (!config.present || history.empty() || !history.back()) return out;
  const MonthSeries& month = *history.back();
  Detect judge{rules, config, history, month.evaluation.period, out};
  for (const PlatformMonth& now : month.platforms) {
    judge.OwnHistory(now);
    judge.SectorPeers(now, month);
    judge.HoursBunching(now);
    judge.ComplaintSpike(now);
  }
  return out;
}

std::map<std::string, std::vector<EarlyWarning>> ByPlatform(std::vector<EarlyWarning> warnings) {
  std::map<std::string, std::vector<EarlyWarning>> out;
  for (EarlyWarning& w : warnings) out[w.platform_id].push_back(std::move(w));
  return out;
}

}  // namespace flexwatch
