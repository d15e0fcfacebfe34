// The statistics the early-warning detectors stand on: robust location and spread, a shift
// test against a series' own past, a Poisson tail, and the excess mass just below a threshold.
// Pure functions of their inputs (no state, no clock), so that every warning can be recomputed
// from the series it names.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace flexwatch {

// Median and MAD (median absolute deviation) scaled by 1.4826, so that it estimates the standard
// deviation of normal data. REQUIRES: `values` not empty.
struct Spread {
  double median = 0;
  double sigma = 0;
};
Spread RobustSpread(std::vector<double> values);

// (value - median) / max(sigma, min_sigma) against `reference`; nullopt with fewer than
// `min_reference` values, when there is nothing to compare with.
std::optional<double> RobustZ(double value, const std::vector<double>& reference, double min_sigma,
                              size_t min_reference = 3);

// A step or a drift against a series' own past: a self-starting two-sided CUSUM. Each point
// after the first `baseline` is standardised against the mean and spread of the points before
// it that raised no alarm (the spread at least `min_sigma`, in the series' unit), the
// small-sample t score mapped to a normal one (unless the floor, not the history, sets the
// spread: then the score is normal as it is), and accumulated with slack `k` and decision
// interval `h` (both in sigmas). A step of d sigmas is caught after about h / (d - k) points and
// stays in alarm while it lasts (the points in alarm do not join the baseline); a stable series
// stays below h.
struct ShiftOptions {
  size_t baseline = 6;  // points of history before it speaks
  double k = 0.5;
  double h = 4.0;
  double min_sigma = 0;  // a floor on the scale, in the series' unit
};
struct Shift {
  bool enough_history = false;
  std::optional<size_t> first_alarm;  // index into the series
  int direction = 0;                  // +1 up, -1 down (at the first alarm)
  bool alarm_at_end = false;          // the last point is in alarm
  int end_direction = 0;              // +1 up, -1 down (at the last point, when in alarm)
  double expected = 0, sigma = 0;     // the baseline's mean and spread at the last point
  double statistic = 0;               // the larger CUSUM at the last point, in sigmas
};
Shift DetectShift(const std::vector<double>& series, const ShiftOptions& options);

// P(X >= k) for X ~ Poisson(lambda), accurate in its far tail (summed in log space).
// REQUIRES: lambda >= 0.
double PoissonUpperTail(int64_t k, double lambda);

// Bunching below a threshold: `counts[i]` is how many observations fall in bin i (say, worker-
// months with hours in [i, i+1)). The bins in [hole_begin, hole_end) (just below the threshold
// and the depleted ones just above it) are left out of a straight-line fit on the `window` bins
// on either side; the expected count of [hole_begin, threshold_bin) is the fit's, and the
// excess is what was observed there beyond it. `z` is the excess in Poisson standard errors.
struct Bunching {
  double observed = 0, expected = 0;
  double excess_ratio = 0;  // observed / expected - 1
  double z = 0;
};
Bunching MeasureBunching(const std::vector<int64_t>& counts, size_t hole_begin,
                         size_t threshold_bin, size_t hole_end, size_t window);

}  // namespace flexwatch
