#include "flexwatch/detectors/stats.h"

#include <algorithm>
#include <cmath>

namespace flexwatch {
namespace {

double MedianOf(std::vector<double>& v) {
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

}  // namespace

Spread RobustSpread(std::vector<double> values) {
  Spread s;
  s.median = MedianOf(values);
  for (double& v : values) v = std::fabs(v - s.median);
  s.sigma = 1.4826 * MedianOf(values);
  return s;
}

std::optional<double> RobustZ(double value, const std::vector<double>& reference, double min_sigma,
                              size_t min_reference) {
  if (reference.size() < std::max<size_t>(min_reference, 1)) return std::nullopt;
  const Spread s = RobustSpread(reference);
  const double sigma = std::max(s.sigma, min_sigma);
  if (sigma <= 0) return std::nullopt;
  return (value - s.median) / sigma;
}

Shift DetectShift(const std::vector<double>& series, const ShiftOptions& options) {
  Shift out;
  const size_t start = std::max<size_t>(options.baseline, 3);
  if (series.size() <= start) return out;
  out.enough_history = true;
  // Self-starting: each point is judged against the mean and spread of the points before it
  // (Welford), and joins them if it raised no alarm. Its residual, over the spread times
  // sqrt(1 + 1/n), follows Student's t with n - 1 degrees of freedom; it is mapped to a normal
  // score before the CUSUM, so that a short history does not make false alarms.
  double mean = 0, m2 = 0;
  size_t n = 0;
  double up = 0, down = 0;
  for (size_t i = 0; i < series.size(); ++i) {
    const double x = series[i];
    if (n >= start) {
      const double sample_sd = std::sqrt(m2 / static_cast<double>(n - 1));
      const double sd = std::max(sample_sd, options.min_sigma);
      if (sd <= 0) {
        out.enough_history = false;  // a constant history and no floor: no scale to judge by
        return out;
      }
      const double t = (x - mean) / (sd * std::sqrt(1 + 1 / static_cast<double>(n)));
      const double df = static_cast<double>(n - 1);
      // Where the floor sets the scale, the scale is not estimated: the score is normal as it is.
      const double z = sample_sd < options.min_sigma
                           ? t
                           : t * (1 - 1 / (4 * df)) / std::sqrt(1 + t * t / (2 * df));
      up = std::max(0.0, up + z - options.k);
      down = std::max(0.0, down - z - options.k);
      out.expected = mean;
      out.sigma = sd;
      out.statistic = std::max(up, down);
      out.alarm_at_end = out.statistic > options.h;
      out.end_direction = out.alarm_at_end ? (up >= down ? 1 : -1) : 0;
      if (out.alarm_at_end) {
        if (!out.first_alarm) {
          out.first_alarm = i;
          out.direction = out.end_direction;
        }
        continue;  // a point in alarm does not join the baseline
      }
    }
    ++n;
    const double delta = x - mean;
    mean += delta / static_cast<double>(n);
    m2 += delta * (x - mean);
  }
  return out;
}

double PoissonUpperTail(int64_t k, double lambda) {
  if (k <= 0) return 1.0;
  if (lambda <= 0) return 0.0;
  // Sum the pmf from k upward, in log space, from its largest term.
  const double log_lambda = std::log(lambda);
  auto log_pmf = [&](double j) { return j * log_lambda - lambda - std::lgamma(j + 1); };
  // Below the mean the tail is most of the mass: 1 - P(X <= k - 1) summed downward instead.
  if (static_cast<double>(k) <= lambda) {
    double lower = 0;
    const double top = log_pmf(static_cast<double>(k - 1));
    for (int64_t j = k - 1; j >= 0; --j) {
      const double term = std::exp(log_pmf(static_cast<double>(j)) - top);
      lower += term;
      if (term < 1e-17 * lower) break;
    }
    return std::max(0.0, 1.0 - lower * std::exp(top));
  }
  const double first = log_pmf(static_cast<double>(k));
  double sum = 0;
  for (int64_t j = k;; ++j) {
    const double term = std::exp(log_pmf(static_cast<double>(j)) - first);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return std::min(1.0, sum * std::exp(first));
}

Bunching MeasureBunching(const std::vector<int64_t>& counts, size_t hole_begin,
                         size_t threshold_bin, size_t hole_end, size_t window) {
  Bunching b;
  // Least squares of count on bin index over the bins beside the hole.
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  auto take = [&](size_t i) {
    if (i >= counts.size()) return;
    const double x = static_cast<double>(i), y = static_cast<double>(counts[i]);
    n += 1;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  };
  for (size_t i = hole_begin >= window ? hole_begin - window : 0; i < hole_begin; ++i) take(i);
  for (size_t i = hole_end; i < hole_end + window; ++i) take(i);
  if (n < 2) return b;
  const double denom = n * sxx - sx * sx;
  const double slope = denom != 0 ? (n * sxy - sx * sy) / denom : 0;
  const double intercept = (sy - slope * sx) / n;
  for (size_t i = hole_begin; i < threshold_bin && i < counts.size(); ++i) {
    b.observed += static_cast<double>(counts[i]);
    b.expected += std::max(0.0, intercept + slope * static_cast<double>(i));
  }
  if (b.expected > 0) {
    b.excess_ratio = b.observed / b.expected - 1;
    b.z = (b.observed - b.expected) / std::sqrt(b.expected);
  }
  return b;
}

}  // namespace flexwatch
