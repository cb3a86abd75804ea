// The adaptive measurement loop and the interleaved comparison, driven by a fake clock: the
// runner advances simulated time by scripted durations, so the tests are exact and fast.
#include <gtest/gtest.h>

#include <random>

#include "bench/compare.h"
#include "bench/measure.h"

namespace hwopt::bench {
namespace {

struct FakeTime {
  double now = 0;
  Clock clock() {
    return [this] { return now; };
  }
};

TEST(BenchMeasure, ColdStartWarmUpAndConvergence) {
  FakeTime t;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0, 0.1);
  // Cold 100 ms, then falling warm-up times, then steady ~10 ms.
  const std::vector<double> script = {100, 40, 25, 15, 11};
  Runner run = [&](size_t i) {
    t.now += (i < script.size() ? script[i] : 10 + noise(rng)) / 1000;
    return Status();
  };
  MeasureOptions o;
  o.max_seconds = 100;
  o.target_rel_ci = 0.01;
  const Measurement m = measure(run, o, t.clock());
  ASSERT_TRUE(m.status.ok());
  EXPECT_DOUBLE_EQ(m.cold_ms, 100);
  // The warm-up went past the falling times and stopped once they were stable.
  ASSERT_GE(m.warmup_ms.size(), 5u);
  EXPECT_LT(m.warmup_ms.size(), 12u);
  for (double x : m.samples_ms) EXPECT_LT(x, 11);
  EXPECT_EQ(m.stop_reason, "converged");
  EXPECT_TRUE(m.converged);
  EXPECT_NEAR(m.summary.median, 10, 0.1);
  EXPECT_LE(m.summary.median_ci_rel_halfwidth(), 0.01);
  EXPECT_FALSE(m.noisy);
  EXPECT_EQ(m.summary.n, m.samples_ms.size());
}

TEST(BenchMeasure, NoisyRunsStopAtTheTimeBudgetAndAreFlagged) {
  FakeTime t;
  Runner run = [&](size_t i) {
    t.now += (i % 2 ? 5.0 : 20.0) / 1000;  // bimodal: the median's CI never gets narrow
    return Status();
  };
  MeasureOptions o;
  o.max_seconds = 2;
  o.target_rel_ci = 0.001;
  const Measurement m = measure(run, o, t.clock());
  EXPECT_EQ(m.stop_reason, "time budget");
  EXPECT_FALSE(m.converged);
  EXPECT_GE(m.wall_s, 2.0);
  EXPECT_LT(m.wall_s, 2.03);
  EXPECT_TRUE(m.noisy);
}

TEST(BenchMeasure, StopsWhenInterruptedAndKeepsWhatWasMeasured) {
  FakeTime t;
  size_t runs = 0;
  Runner run = [&](size_t) {
    t.now += 0.01;
    ++runs;
    return Status();
  };
  MeasureOptions o;
  o.target_rel_ci = 0;  // never converges
  o.should_stop = [&] { return runs >= 30; };
  const Measurement m = measure(run, o, t.clock());
  EXPECT_EQ(m.stop_reason, "interrupted");
  EXPECT_EQ(runs, 30u);
  EXPECT_EQ(m.samples_ms.size() + m.warmup_ms.size() + 1, 30u);
}

TEST(BenchMeasure, RunnerErrorEndsTheMeasurementWithItsStatus) {
  FakeTime t;
  Runner run = [&](size_t i) {
    t.now += 0.01;
    return i == 12 ? Status(StatusCode::out_of_memory, "too big") : Status();
  };
  const Measurement m = measure(run, MeasureOptions{}, t.clock());
  EXPECT_EQ(m.status.code(), StatusCode::out_of_memory);
  EXPECT_EQ(m.stop_reason, "error");
}

TEST(BenchCompare, InterleavedRatioAndVerdict) {
  FakeTime t;
  std::mt19937_64 rng(2);
  std::normal_distribution<double> noise(0, 0.2);
  size_t calls = 0;
  // The machine slows down over time; interleaving makes both candidates see it.
  auto drift = [&] { return 1 + 0.3 * static_cast<double>(calls) / 1000; };
  Runner a = [&](size_t) {
    ++calls;
    t.now += (10 * drift() + noise(rng)) / 1000;
    return Status();
  };
  Runner b = [&](size_t) {
    ++calls;
    t.now += (8 * drift() + noise(rng)) / 1000;
    return Status();
  };
  MeasureOptions o;
  o.max_seconds = 30;
  o.target_rel_ci = 0.01;
  const CompareResult r = compare(a, b, o, t.clock());
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.a_ms.size(), r.b_ms.size());
  EXPECT_NEAR(r.ratio.ratio, 0.8, 0.03);
  EXPECT_TRUE(r.ratio.significant());
  EXPECT_EQ(r.stop_reason, "converged");

  Runner b_same = [&](size_t) {
    ++calls;
    t.now += (10 * drift() + noise(rng)) / 1000;
    return Status();
  };
  o.max_seconds = 3;
  const CompareResult same = compare(a, b_same, o, t.clock());
  EXPECT_LE(same.ratio.low, 1.0);
  EXPECT_GE(same.ratio.high, 1.0);
}

TEST(BenchMachine, LoadAndMemoryProbesAnswer) {
  EXPECT_GE(online_cpus(), 1);
  EXPECT_GT(peak_rss_bytes(), 0u);
  const CpuSnapshot a = cpu_snapshot();
  const CpuSnapshot b = cpu_snapshot();
  EXPECT_GE(other_load(a, b), 0);
  MachineLoad l;
  l.cpus = 2;
  EXPECT_FALSE(l.busy());
  l.during = 1.0;
  EXPECT_TRUE(l.busy());
}

}  // namespace
}  // namespace hwopt::bench
