// The detectors' statistics on constructed series: what they must catch, what they must not
// flag, and what they must not judge for lack of history.
#include "flexwatch/detectors/stats.h"

#include <gtest/gtest.h>

#include <random>

namespace flexwatch {
namespace {

std::vector<double> Noise(size_t n, double mean, double sigma, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(mean, sigma);
  std::vector<double> v;
  for (size_t i = 0; i < n; ++i) v.push_back(d(rng));
  return v;
}

TEST(Stats, RobustSpreadIgnoresAnOutlier) {
  const Spread s = RobustSpread({1, 2, 3, 4, 100});
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.sigma, 1.4826);  // the median absolute deviation is 1
  EXPECT_DOUBLE_EQ(RobustSpread({4, 1, 3, 2}).median, 2.5);
}

TEST(Stats, RobustZNeedsAReference) {
  EXPECT_FALSE(RobustZ(5, {1, 2}, 0.1).has_value());
  EXPECT_FALSE(RobustZ(5, {2, 2, 2}, 0).has_value());  // no spread and no floor: no scale
  EXPECT_NEAR(*RobustZ(5, {2, 2, 2}, 0.5), 6.0, 1e-12);
  EXPECT_NEAR(*RobustZ(3 + 3 * 1.4826, {1, 2, 3, 4, 100}, 0.1), 3.0, 1e-12);
}

TEST(Stats, AStepIsCaughtWithinAFewPoints) {
  std::vector<double> s = Noise(12, 0.80, 0.02, 1);         // e.g. a share of labour contracts
  for (double v : Noise(8, 0.70, 0.02, 2)) s.push_back(v);  // down five sigmas from point 12
  const Shift shift = DetectShift(s, {.baseline = 6, .k = 0.5, .h = 4, .min_sigma = 0.005});
  ASSERT_TRUE(shift.enough_history);
  ASSERT_TRUE(shift.first_alarm.has_value());
  EXPECT_GE(*shift.first_alarm, 12u);
  EXPECT_LE(*shift.first_alarm, 13u);
  EXPECT_EQ(shift.direction, -1);
  EXPECT_NEAR(shift.expected, 0.80, 0.02);
}

TEST(Stats, AGradualDriftIsCaught) {
  std::vector<double> s = Noise(8, 0.30, 0.01, 3);  // e.g. contributions over earnings
  for (int i = 1; i <= 10; ++i) s.push_back(0.30 - 0.006 * i + Noise(1, 0, 0.01, 10 + i)[0]);
  const Shift shift = DetectShift(s, {.baseline = 6, .k = 0.5, .h = 4, .min_sigma = 0.002});
  ASSERT_TRUE(shift.first_alarm.has_value());
  EXPECT_LE(*shift.first_alarm, 13u);  // within five months of a drift of 0.6 sigma a month
  EXPECT_EQ(shift.direction, -1);
}

TEST(Stats, AStableSeriesIsRarelyFlagged) {
  // Two years of a stable monthly share (noise 0.02), 200 platforms: a self-starting CUSUM at
  // h = 5 with the noise's size as its floor alarms on under 1% of them (0.4% in 1,000; a
  // baseline fixed on its first six points instead alarmed on over a third).
  int alarms = 0;
  for (unsigned seed = 0; seed < 200; ++seed) {
    const Shift shift = DetectShift(Noise(24, 0.5, 0.02, seed),
                                    {.baseline = 6, .k = 0.5, .h = 5, .min_sigma = 0.02});
    EXPECT_TRUE(shift.enough_history);
    alarms += shift.first_alarm.has_value();
  }
  EXPECT_LE(alarms, 2);
}

TEST(Stats, TooLittleHistoryIsNotJudged) {
  const Shift shift = DetectShift({0.8, 0.8, 0.1}, {.baseline = 6});
  EXPECT_FALSE(shift.enough_history);
  EXPECT_FALSE(shift.first_alarm.has_value());
  // A constant history and no floor on the scale: nothing to judge a move by.
  EXPECT_FALSE(DetectShift({1, 1, 1, 1, 1, 1, 5}, {.baseline = 6}).enough_history);
}

TEST(Stats, PoissonTail) {
  EXPECT_DOUBLE_EQ(PoissonUpperTail(0, 3), 1.0);
  EXPECT_DOUBLE_EQ(PoissonUpperTail(1, 0), 0.0);
  EXPECT_NEAR(PoissonUpperTail(3, 2.0), 0.3233235838169364, 1e-12);
  EXPECT_NEAR(PoissonUpperTail(80, 100.0), 0.9825486774837242, 1e-12);
  EXPECT_NEAR(PoissonUpperTail(130, 100.0) / 0.0022820930543169878, 1.0, 1e-9);
  EXPECT_NEAR(PoissonUpperTail(40, 10.0) / 7.341636314560689e-13, 1.0, 1e-9);  // the far tail
}

TEST(Stats, BunchingBelowAThresholdStandsOutOfTheSmoothShape) {
  // Worker-months by whole hours 0-159, thinning out linearly; the 104 h threshold.
  std::vector<int64_t> counts;
  for (int h = 0; h < 160; ++h) counts.push_back(400 - 2 * h);
  Bunching smooth = MeasureBunching(counts, 99, 104, 109, 15);
  EXPECT_NEAR(smooth.excess_ratio, 0.0, 1e-9);
  EXPECT_NEAR(smooth.z, 0.0, 1e-9);
  // A platform capping hours at 103: the months that would have gone past pile up below.
  for (int h = 104; h < 109; ++h) {
    counts[100 + (h - 104)] += counts[h] - 60;
    counts[h] = 60;
  }
  const Bunching capped = MeasureBunching(counts, 99, 104, 109, 15);
  EXPECT_GT(capped.excess_ratio, 0.5);
  EXPECT_GT(capped.z, 10);
  EXPECT_NEAR(capped.expected, smooth.expected, 1e-9);
}

}  // namespace
}  // namespace flexwatch
