// Scenarios, sweep and plots with fake workloads (and one short real run on a tiny model):
// Poisson arrivals, the server scenario's batching and latency, find-max-qps, the batch sweep's
// auto stop, memory prediction and out-of-memory handling, and the SVG writer.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "bench/scenarios.h"
#include "bench/sweep.h"
#include "passes_test_util.h"
#include "report/svg_plot.h"

namespace hwopt::bench {
namespace {

InputFactory fake_inputs(std::atomic<int>* made = nullptr, int64_t oom_from = 0) {
  return [=](int64_t batch, uint64_t seed) -> Expected<TensorMap> {
    if (oom_from > 0 && batch >= oom_from) return Status(StatusCode::out_of_memory, "fake: no memory");
    if (made) (*made)++;
    Tensor t(DType::float32, {batch, 2});
    t.data<float>()[0] = static_cast<float>(seed);
    return TensorMap{{"x", t}};
  };
}

// Takes `fixed_ms + per_sample_ms * batch` of wall time.
BatchRunner sleeping_runner(double fixed_ms, double per_sample_ms, std::atomic<int64_t>* largest = nullptr) {
  return [=](const TensorMap& in) -> Expected<TensorMap> {
    const int64_t b = in.at("x").dim(0);
    if (largest) {
      int64_t seen = largest->load();
      while (b > seen && !largest->compare_exchange_weak(seen, b)) {
      }
    }
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(fixed_ms + per_sample_ms * static_cast<double>(b)));
    return TensorMap{{"y", in.at("x")}};
  };
}

MeasureOptions quick() {
  MeasureOptions m;
  m.max_seconds = 0.15;
  m.min_runs = 3;
  m.target_rel_ci = 0.5;
  return m;
}

TEST(BenchScenarios, PoissonInterArrivalMeanAndSpread) {
  const auto t = poisson_arrivals(200, 20000, 11);
  ASSERT_EQ(t.size(), 20000u);
  std::vector<double> gaps;
  double prev = 0;
  for (double x : t) {
    ASSERT_GT(x, prev);
    gaps.push_back(x - prev);
    prev = x;
  }
  const Summary s = summarize(gaps);
  EXPECT_NEAR(s.mean, 1.0 / 200, 0.03 / 200);     // mean 1/qps
  EXPECT_NEAR(s.cov, 1.0, 0.03);                  // exponential: stdev == mean
  EXPECT_NEAR(s.median, std::log(2.0) / 200, 0.05 / 200);
  EXPECT_EQ(poisson_arrivals(200, 10, 11), poisson_arrivals(200, 10, 11));  // seeded
  EXPECT_NE(poisson_arrivals(200, 10, 11), poisson_arrivals(200, 10, 12));
}

TEST(BenchScenarios, SingleMultiStreamAndOffline) {
  Workload w(sleeping_runner(0.2, 0.1), fake_inputs(), 3);
  ScenarioOptions o;
  o.measure = quick();
  const auto single = run_scenario(w, Scenario::single_stream, o);
  ASSERT_TRUE(single.status.ok());
  EXPECT_EQ(single.samples_per_query, 1);
  EXPECT_DOUBLE_EQ(single.metric, single.measurement.summary.p90);
  o.samples_per_query = 4;
  const auto multi = run_scenario(w, Scenario::multi_stream, o);
  ASSERT_TRUE(multi.status.ok());
  EXPECT_EQ(multi.samples_per_query, 4);
  EXPECT_DOUBLE_EQ(multi.metric, multi.measurement.summary.p99);
  o.offline_samples = 20;
  o.batcher.max_batch = 8;
  o.batcher.workers = 2;
  const auto off = run_scenario(w, Scenario::offline, o);
  ASSERT_TRUE(off.status.ok());
  EXPECT_GT(off.throughput, 0);
  EXPECT_NEAR(off.throughput, 1000.0 * 20 / off.measurement.summary.median, 1e-6);
}

TEST(BenchScenarios, ServerBatchesPoissonArrivalsWithinMaxBatch) {
  std::atomic<int64_t> largest{0};
  Workload w(sleeping_runner(1.0, 0.05, &largest), fake_inputs(), 2);
  ScenarioOptions o;
  o.qps = 800;
  o.duration_s = 0.2;
  o.min_queries = 50;
  o.batcher.max_batch = 4;
  o.batcher.max_queue_delay_ms = 2;
  o.max_latency_ms = 1000;
  const auto r = run_server(w, o);
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_EQ(r.queries, 160u);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_LE(r.max_batch_seen, 4);
  EXPECT_LE(largest.load(), 4);
  EXPECT_GT(r.mean_batch, 1.0);  // at 800 QPS and ~1 ms per batch, queries share batches
  EXPECT_GE(r.latency.min, 1.0);  // includes the service time
  EXPECT_TRUE(r.valid);
}

TEST(BenchScenarios, FindMaxQpsBracketsTheCapacity) {
  // One worker, batches of one, 4 ms each: at most 250 QPS can be served.
  Workload w(sleeping_runner(4.0, 0), fake_inputs(), 1);
  ScenarioOptions o;
  o.duration_s = 0.12;
  o.min_queries = 12;
  o.batcher.max_batch = 1;
  o.batcher.max_queue_delay_ms = 0;
  o.max_latency_ms = 40;
  const auto s = find_max_qps(w, o, 50, 2);
  ASSERT_TRUE(s.status.ok());
  EXPECT_GE(s.tried.size(), 2u);
  EXPECT_GT(s.max_qps, 0);
  EXPECT_LT(s.max_qps, 300);
  ScenarioOptions no_bound = o;
  no_bound.max_latency_ms = 0;
  EXPECT_FALSE(find_max_qps(w, no_bound, 50).status.ok());
}

TEST(BenchSweep, AutoStopsWhenThroughputStopsImproving) {
  // Fixed 2 ms + 0.5 ms per sample: throughput gains shrink with the batch.
  Workload w(sleeping_runner(2.0, 0.5), fake_inputs(), 2);
  SweepOptions o;
  o.automatic = true;
  o.min_gain = 0.3;
  o.measure = quick();
  const auto r = run_sweep(w, o);
  ASSERT_TRUE(r.status.ok());
  ASSERT_GE(r.points.size(), 3u);
  EXPECT_LE(r.points.size(), 7u);
  EXPECT_EQ(r.points[0].batch, 1);
  EXPECT_EQ(r.points[1].batch, 2);
  EXPECT_NE(r.stop_reason.find("throughput"), std::string::npos) << r.stop_reason;
  EXPECT_GT(r.best_batch, 1);
  for (const auto& p : r.points) EXPECT_NEAR(p.per_sample_ms * static_cast<double>(p.batch), p.latency_ms, 1e-9);
}

TEST(BenchSweep, LatencyBoundNamesTheBestBatchUnderIt) {
  Workload w(sleeping_runner(1.0, 1.0), fake_inputs(), 1);
  SweepOptions o;
  o.batches = {1, 2, 16};
  o.max_latency_ms = 10;  // batch 16 takes ~17 ms
  o.measure = quick();
  const auto r = run_sweep(w, o);
  ASSERT_EQ(r.points.size(), 3u);
  EXPECT_FALSE(r.points[2].within_latency);
  EXPECT_EQ(r.best_batch, 2);
  EXPECT_EQ(r.stop_reason, "list done");
}

TEST(BenchSweep, OutOfMemoryEndsTheSweepWithTheLargestBatchThatFit) {
  // An allocation failure (here from the input factory) is reported, not a crash.
  Workload w(sleeping_runner(0.1, 0.01), fake_inputs(nullptr, 8), 1);
  SweepOptions o;
  o.automatic = true;
  o.min_gain = -1;  // never stop for throughput
  o.measure = quick();
  const auto r = run_sweep(w, o);
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.stop_reason, "out of memory");
  ASSERT_EQ(r.points.size(), 4u);  // 1, 2, 4 fit; 8 did not
  EXPECT_EQ(r.points.back().batch, 8);
  EXPECT_EQ(r.points.back().status.code(), StatusCode::out_of_memory);
  EXPECT_EQ(r.best_batch > 0 && r.best_batch <= 4, true);

  // Predicted from the memory plan: batch 16 is not even tried.
  std::atomic<int> made{0};
  Workload w2(sleeping_runner(0.1, 0.01), fake_inputs(&made), 1);
  SweepOptions p;
  p.batches = {1, 4, 16, 32};
  // The cap is on the whole process, whose peak RSS the sweep also extrapolates from: what the
  // earlier tests in this process used (much more under ASan) is the base of every figure.
  const size_t base = peak_rss_bytes();
  p.bytes_per_sample = 100 << 20;
  p.fixed_bytes = base + (50 << 20);
  p.available_bytes = base + (size_t{8} << 30);
  p.max_memory_bytes = base + (size_t{1} << 30);  // 1 GiB more: batch 16 needs ~1.65 GiB more
  p.measure = quick();
  EXPECT_EQ(predict_bytes(p, 16), base + (size_t{50} << 20) + 16 * (size_t{100} << 20));
  const auto r2 = run_sweep(w2, p);
  EXPECT_EQ(r2.stop_reason, "memory");
  ASSERT_EQ(r2.points.size(), 3u);
  EXPECT_EQ(r2.points[2].status.code(), StatusCode::out_of_memory);
  EXPECT_NE(r2.points[2].status.message().find("--max-memory-mb"), std::string::npos);
  EXPECT_EQ(made.load(), 2);  // inputs made for batches 1 and 4 only
  EXPECT_EQ(r2.best_batch > 0, true);
}

TEST(BenchSweep, ParsesBatchLists) {
  auto a = parse_batches("1,2,64", {});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->batches, (std::vector<int64_t>{1, 2, 64}));
  EXPECT_TRUE(parse_batches("auto", {})->automatic);
  EXPECT_FALSE(parse_batches("1,x", {}).ok());
  EXPECT_FALSE(parse_batches("0", {}).ok());
  EXPECT_FALSE(parse_batches("", {}).ok());
}

TEST(BenchSvg, TicksAndAWellFormedPlot) {
  const auto t = report::nice_ticks(0, 97);
  ASSERT_GE(t.size(), 4u);
  EXPECT_DOUBLE_EQ(t.front(), 0);
  EXPECT_GE(t.back(), 97);
  EXPECT_DOUBLE_EQ(t[1] - t[0], 20);
  EXPECT_EQ(report::xml_escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
  EXPECT_EQ(report::tick_label(12000), "12k");
  report::Series lat, tp;
  lat.name = "latency <ms>";
  lat.x = {1, 2, 4, 8};
  lat.y = {2, 3, 5, 9};
  tp.name = "throughput";
  tp.x = lat.x;
  tp.y = {500, 666, 800, 888};
  tp.right_axis = true;
  report::PlotOptions po;
  po.title = "sweep";
  po.log2_x = true;
  po.y_reference = 6;
  const std::string svg = report::render_line_plot(po, {lat, tp});
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '<') - std::count(svg.begin(), svg.end(), '>'), 0);
  EXPECT_NE(svg.find("latency &lt;ms&gt;"), std::string::npos);
  EXPECT_NE(svg.find("(right axis)"), std::string::npos);
  size_t polylines = 0;
  for (size_t p = svg.find("<polyline"); p != std::string::npos; p = svg.find("<polyline", p + 1)) ++polylines;
  EXPECT_EQ(polylines, 2u);
}

TEST(BenchReal, TinyModelSweepAndServerOnASession) {
  passes::testing::Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[batch, 16] x, float[16, 8] w) => (float[batch, 8] y) {
      m = MatMul(x, w)
      y = Relu(m)
    }
  )";
  c.random = {"w"};
  auto bytes = passes::testing::build_model_bytes(c);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  SessionOptions so;
  so.backend = "cpu";
  so.threads = 1;
  auto s = Session::load_from_bytes(bytes->data(), bytes->size(), so);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  InputFactory inputs = [](int64_t batch, uint64_t seed) -> Expected<TensorMap> {
    std::mt19937 rng(static_cast<uint32_t>(seed));
    return TensorMap{{"x", passes::testing::random_tensor({batch, 16}, rng)}};
  };
  Workload w = Workload::for_session(**s, inputs, 3);
  SweepOptions o;
  o.batches = {1, 4};
  o.measure = quick();
  const auto r = run_sweep(w, o);
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  ASSERT_EQ(r.points.size(), 2u);
  for (const auto& p : r.points) {
    EXPECT_TRUE(p.status.ok());
    EXPECT_GT(p.measurement.summary.n, 0u);
    EXPECT_GT(p.throughput, 0);
  }
  ScenarioOptions sc;
  sc.qps = 400;
  sc.duration_s = 0.1;
  sc.min_queries = 20;
  sc.batcher.max_batch = 4;
  sc.batcher.workers = 2;
  const auto server = run_server(w, sc);
  ASSERT_TRUE(server.status.ok()) << server.status.to_string();
  EXPECT_EQ(server.failed, 0u);
  EXPECT_EQ(server.queries, 40u);
  EXPECT_LE(server.max_batch_seen, 4);
}

}  // namespace
}  // namespace hwopt::bench
