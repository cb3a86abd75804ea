// `hwopt bench`'s engine against an independent plain timed loop on a real model
// (MobileNetV2, batch 1), interleaved in one process: the medians agree within 5 %, and the
// confidence interval the engine reports covers repeat runs. A timing check: run it on a quiet
// machine with `make bench-check` (it is not part of `make test`).
//
// The machine may be shared and busy, so the comparison is made robust rather than lenient:
// both methods run in alternating blocks (so both see the same background load), each block
// gives a median, the verdict compares the medians of the block medians, and a failing
// attempt is retried once. One intra-op thread: with a thread per core, a single descheduled
// OpenMP thread on a busy 2-core machine makes a run take several times longer, which measures
// the neighbours rather than the model.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>

#include "bench/measure.h"
#include "bench/workload.h"
#include "hwopt/session.h"

#ifndef HWOPT_SOURCE_DIR
#error "HWOPT_SOURCE_DIR must be defined"
#endif

namespace hwopt::bench {
namespace {

namespace fs = std::filesystem;
const fs::path kModel = fs::path(HWOPT_SOURCE_DIR) / "models/real/nsfwjs_mobilenet_v2.onnx";

Expected<TensorMap> random_inputs(const Session& s, int64_t batch, uint64_t seed) {
  TensorMap m;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  for (const auto& in : s.inputs()) {
    if (in.dtype != DType::float32 || !in.has_shape) return Status(StatusCode::unsupported, "test expects float inputs");
    Shape shape;
    for (size_t d = 0; d < in.shape.size(); ++d) shape.push_back(in.shape[d] >= 0 ? in.shape[d] : (d == 0 ? batch : 1));
    Tensor t(DType::float32, shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
    m[in.name] = t;
  }
  return m;
}

struct Attempt {
  double bench_median = 0, loop_median = 0;
  std::vector<Summary> blocks;  // the engine's per-block summaries
};

Attempt run_attempt(const Session& s, Workload& w, const std::vector<TensorMap>& sets, int blocks) {
  Attempt a;
  std::vector<double> bench_medians, loop_medians;
  auto runner = w.runner(1);
  EXPECT_TRUE(runner.ok());
  for (int k = 0; k < blocks; ++k) {
    // The engine, as `hwopt bench` runs it by default (CI target 2 %, at least 1 s, the CI
    // floor for a busy machine), with a shorter budget.
    MachineLoad load;
    load.cpus = online_cpus();
    load.before = sample_other_load(0.05);
    MeasureOptions o;
    o.max_seconds = 1.5;
    o.min_seconds = 1;
    o.min_ci_rel = busy_machine_ci_floor(load);
    const Measurement m = measure(*runner, o);
    EXPECT_TRUE(m.status.ok()) << m.status.to_string();
    a.blocks.push_back(m.summary);
    bench_medians.push_back(m.summary.median);
    // The independent loop: warm up, then time each run with steady_clock, for as long as the
    // engine's block took (so both see the same share of the background load).
    for (int i = 0; i < 3; ++i) (void)s.run(sets[static_cast<size_t>(i) % sets.size()]);
    std::vector<double> t;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 10 || std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < m.wall_s; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      auto out = s.run(sets[static_cast<size_t>(i) % sets.size()]);
      t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      EXPECT_TRUE(out.ok());
    }
    loop_medians.push_back(median_of(t));
  }
  a.bench_median = median_of(bench_medians);
  a.loop_median = median_of(loop_medians);
  return a;
}

TEST(BenchIndependentLoop, MobileNetV2MedianWithin5PercentAndCiCoversRepeats) {
  if (!fs::exists(kModel)) GTEST_SKIP() << "missing " << kModel;
  SessionOptions so;
  so.backend = "cpu";
  so.optimize = true;
  so.threads = 1;
  auto s = Session::load(kModel.string(), so);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  const Session& session = **s;
  InputFactory inputs = [&](int64_t b, uint64_t seed) { return random_inputs(session, b, seed); };
  Workload w = Workload::for_session(session, inputs, 4, 0);
  auto sets = w.input_sets(1);
  ASSERT_TRUE(sets.ok()) << sets.status().to_string();

  Attempt a;
  double rel = 1;
  int covered = 0;
  const int blocks = 6;
  for (int attempt = 0; attempt < 2; ++attempt) {
    a = run_attempt(session, w, *sets, blocks);
    rel = std::abs(a.bench_median / a.loop_median - 1);
    std::cout << "[ bench    ] attempt " << attempt + 1 << ": engine median " << a.bench_median << " ms, plain loop median "
              << a.loop_median << " ms (" << rel * 100 << " % apart)\n";
    // Coverage: each block's reported CI against the median of the other (repeat) blocks.
    covered = 0;
    for (size_t k = 0; k < a.blocks.size(); ++k) {
      std::vector<double> others;
      for (size_t j = 0; j < a.blocks.size(); ++j)
        if (j != k) others.push_back(a.blocks[j].median);
      const double m = median_of(others);
      const bool in = a.blocks[k].median_ci_low <= m && m <= a.blocks[k].median_ci_high;
      covered += in;
      std::cout << "[ bench    ] block " << k + 1 << ": median " << a.blocks[k].median << " CI [" << a.blocks[k].median_ci_low
                << ", " << a.blocks[k].median_ci_high << "] n=" << a.blocks[k].n << (in ? " covers" : " misses")
                << " the repeats' median " << m << "\n";
    }
    if (rel <= 0.05 && covered >= blocks - 2) break;
  }
  EXPECT_LE(rel, 0.05) << "engine median " << a.bench_median << " ms vs plain loop " << a.loop_median << " ms";
  // A 95 % interval should cover nearly every repeat; at most two misses of six are allowed
  // for the background load of a shared machine changing between blocks.
  EXPECT_GE(covered, blocks - 2);
}

}  // namespace
}  // namespace hwopt::bench
