// `hwopt bench` statistics on synthetic samples: percentiles, the median's confidence interval
// (and that it covers the true median about 95 % of the time), the bootstrap ratio interval.
#include <gtest/gtest.h>

#include <random>

#include "bench/stats.h"

namespace hwopt::bench {
namespace {

TEST(BenchStats, PercentilesOfAKnownSample) {
  std::vector<double> v;
  for (int i = 1000; i >= 1; --i) v.push_back(i);  // 1..1000, reversed
  const Summary s = summarize(v);
  EXPECT_DOUBLE_EQ(s.median, 500.5);
  EXPECT_NEAR(s.p90, 900.1, 1e-9);
  EXPECT_NEAR(s.p95, 950.05, 1e-9);
  EXPECT_NEAR(s.p99, 990.01, 1e-9);
  EXPECT_NEAR(s.p999, 999.001, 1e-9);
  EXPECT_NEAR(s.cov, s.stdev / s.mean, 1e-12);
  EXPECT_DOUBLE_EQ(median_of({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median_of({4, 1, 2, 3}), 2.5);
  EXPECT_DOUBLE_EQ(median_of({}), 0);
}

TEST(BenchStats, MedianIntervalCoversTheTrueMedianAbout95Percent) {
  // Lognormal timings (right-skewed like real latencies) with a known median of 10.
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(std::log(10.0), 0.3);
  int covered = 0;
  const int trials = 400;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> v(101);
    for (double& x : v) x = d(rng);
    const Summary s = summarize(v);
    covered += s.median_ci_low <= 10.0 && 10.0 <= s.median_ci_high;
  }
  const double rate = static_cast<double>(covered) / trials;
  EXPECT_GT(rate, 0.91);
  EXPECT_LT(rate, 0.995);
}

TEST(BenchStats, SeriesIntervalWidensForDriftWithinTheRange) {
  // Independent noise: the drift interval adds little. A slow drift through the run: it widens.
  std::mt19937_64 rng(9);
  std::normal_distribution<double> noise(0, 0.05);
  std::vector<double> flat, shifted;
  for (int i = 0; i < 120; ++i) {
    flat.push_back(10 + noise(rng));
    shifted.push_back(10 + 0.5 * i / 120.0 + noise(rng));
  }
  const Summary f = summarize_series(flat), plain_f = summarize(flat);
  EXPECT_DOUBLE_EQ(f.median, plain_f.median);
  EXPECT_LT(f.median_ci_high - f.median_ci_low, 3 * (plain_f.median_ci_high - plain_f.median_ci_low));
  const Summary s = summarize_series(shifted), plain_s = summarize(shifted);
  EXPECT_GT(s.median_ci_high - s.median_ci_low, 2 * (plain_s.median_ci_high - plain_s.median_ci_low));
  EXPECT_GE(s.median_ci_low, s.min);
  EXPECT_LE(s.median_ci_high, s.max);
  // Too few samples for blocks: the plain summary.
  const std::vector<double> few = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_DOUBLE_EQ(summarize_series(few).median_ci_low, summarize(few).median_ci_low);
}

TEST(BenchStats, RatioIntervalFindsARealDifference) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 0.3);
  std::vector<double> a, b;
  for (int i = 0; i < 200; ++i) {
    const double drift = 1 + 0.2 * std::sin(i / 10.0);  // both suffer the same machine drift
    a.push_back(10 * drift + noise(rng));
    b.push_back(12 * drift + noise(rng));
  }
  const RatioCI r = ratio_ci_bootstrap(a, b);
  EXPECT_NEAR(r.ratio, 1.2, 0.03);
  EXPECT_LT(r.low, r.ratio);
  EXPECT_GT(r.high, r.ratio);
  EXPECT_GT(r.low, 1.1);
  EXPECT_TRUE(r.significant());
  // Deterministic for a seed.
  const RatioCI again = ratio_ci_bootstrap(a, b);
  EXPECT_DOUBLE_EQ(again.low, r.low);
  EXPECT_DOUBLE_EQ(again.high, r.high);
}

TEST(BenchStats, RatioIntervalOfTheSameDistributionContainsOne) {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> d(std::log(10.0), 0.2);
  std::vector<double> a, b;
  for (int i = 0; i < 150; ++i) {
    a.push_back(d(rng));
    b.push_back(d(rng));
  }
  const RatioCI r = ratio_ci_bootstrap(a, b);
  EXPECT_LE(r.low, 1.0);
  EXPECT_GE(r.high, 1.0);
  EXPECT_FALSE(r.significant());
  EXPECT_EQ(r.pairs, 150u);
  EXPECT_FALSE(ratio_ci_bootstrap({}, {}).significant());
}

}  // namespace
}  // namespace hwopt::bench
