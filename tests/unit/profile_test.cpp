// The profiler: statistics, roofline classification on synthetic compute-heavy and memory-heavy
// graphs, attribution of fused steps to ONNX nodes, findings, the JSON schema and the Chrome
// trace format, and that runs without profiling read no per-step clock.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>

#include "../common/json_schema.h"
#include "bench/stats.h"
#include "passes_test_util.h"
#include "profile/profile_output.h"
#include "profile/profiler.h"

namespace hwopt::profile {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot = fs::path(__FILE__).parent_path().parent_path().parent_path();

// Ceilings of a made-up machine: the classification depends on them, not on this machine.
Roofs test_roofs() {
  Roofs r;
  r.fp32_gflops = 200;
  r.bf16_gflops = 400;
  r.int8_gops = 800;
  r.bandwidth_gbs = 20;
  r.threads = 2;
  return r;
}

struct Loaded {
  std::unique_ptr<Session> session;
  std::map<std::string, Tensor> inputs;
};

Loaded load(const passes::testing::Case& c, const std::string& backend = "cpu") {
  Loaded l;
  auto bytes = passes::testing::build_model_bytes(c);
  EXPECT_TRUE(bytes.ok()) << bytes.status().to_string();
  if (!bytes.ok()) return l;
  SessionOptions so;
  so.backend = backend;
  so.optimize = true;
  so.threads = 1;
  auto s = Session::load_from_bytes(bytes->data(), bytes->size(), so);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  if (!s.ok()) return l;
  l.session = std::move(s).value();
  auto m = onnx_import::load_model_from_bytes(bytes->data(), bytes->size());
  EXPECT_TRUE(m.ok());
  if (m.ok()) l.inputs = passes::testing::make_inputs(*m, c);
  return l;
}

ProfileOptions quick_options() {
  ProfileOptions o;
  o.warmup = 1;
  o.runs = 5;
  o.threads = 1;
  return o;
}

TEST(BenchStats, PercentilesSpreadAndMedianInterval) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);  // 1..100 in reverse order
  const auto s = bench::summarize(v);
  EXPECT_EQ(s.n, 100u);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 100);
  EXPECT_DOUBLE_EQ(s.median, 50.5);
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
  EXPECT_NEAR(s.p90, 90.1, 1e-9);
  EXPECT_NEAR(s.p99, 99.01, 1e-9);
  EXPECT_NEAR(s.stdev, 29.011, 1e-3);
  // Ranks 40 and 61 of 100 (n/2 -+ 1.96 sqrt(n)/2, rounded outwards).
  EXPECT_DOUBLE_EQ(s.median_ci_low, 40);
  EXPECT_DOUBLE_EQ(s.median_ci_high, 61);
  EXPECT_LT(s.median_ci_low, s.median);
  EXPECT_GT(s.median_ci_high, s.median);
  const auto empty = bench::summarize({});
  EXPECT_EQ(empty.n, 0u);
  const auto few = bench::summarize({3, 1, 2});
  EXPECT_DOUBLE_EQ(few.median_ci_low, 1);
  EXPECT_DOUBLE_EQ(few.median_ci_high, 3);
}

TEST(Roofline, ClassifiesByArithmeticIntensityAndFlagsTinySteps) {
  const Roofs roofs = test_roofs();  // ridge point: 200 / 20 = 10 FLOP/byte
  OpCost mm;
  mm.macs = 1e9;
  mm.flops = 2e9;
  mm.bytes = 12e6;
  // 2 GFLOP at 200 GFLOP/s takes 10 ms; in 20 ms the step reaches half its roof.
  auto p = place_on_roofline(mm, 20, DType::float32, roofs);
  EXPECT_EQ(p.bound, Bound::compute);
  EXPECT_NEAR(p.gflops, 100, 1e-9);
  EXPECT_NEAR(p.roof_fraction, 0.5, 1e-9);

  OpCost add;
  add.flops = 1e6;
  add.bytes = 12e6;  // 0.6 ms at 20 GB/s
  p = place_on_roofline(add, 1.2, DType::float32, roofs);
  EXPECT_EQ(p.bound, Bound::memory);
  EXPECT_NEAR(p.gbs, 10, 1e-9);
  EXPECT_NEAR(p.roof_fraction, 0.5, 1e-9);

  OpCost tiny;
  tiny.flops = 1000;
  tiny.bytes = 12000;  // 0.6 us at its roof; taking 50 us is fixed cost
  EXPECT_EQ(place_on_roofline(tiny, 0.05, DType::float32, roofs).bound, Bound::overhead);
  // A big step far below its roof is badly implemented, not overhead-bound.
  EXPECT_EQ(place_on_roofline(mm, 1000, DType::float32, roofs).bound, Bound::compute);

  OpCost unknown;
  unknown.known = false;
  unknown.bytes = 100;
  EXPECT_EQ(place_on_roofline(unknown, 1, DType::float32, roofs).bound, Bound::unknown);

  OpCost int8 = mm;
  int8.integer_math = true;  // compared with the INT8 roof: 2 GOP at 800 GOP/s = 2.5 ms
  EXPECT_NEAR(place_on_roofline(int8, 5, DType::uint8, roofs).roof_fraction, 0.5, 1e-9);
}

TEST(Roofline, AStepIsPlacedOnTheRoofOfThePrecisionItsKernelRunsIn) {
  EXPECT_EQ(kernel_compute_dtype("cpu:onednn:conv[int8(u8->s8)]", DType::float32), DType::int8);
  EXPECT_EQ(kernel_compute_dtype("cpu:onednn:matmul[int8-dynamic]", DType::float32), DType::int8);
  EXPECT_EQ(kernel_compute_dtype("cpu:onednn:matmul[bf16(->f32)]", DType::float32), DType::bfloat16);
  EXPECT_EQ(kernel_compute_dtype("cpu:onednn:conv", DType::float32), DType::float32);
  EXPECT_EQ(kernel_compute_dtype("ref:Conv", DType::uint8), DType::uint8);
  // A float graph value computed by an INT8 kernel: against the INT8 roof (800 in test_roofs),
  // not the FP32 one, so it cannot read as 4x "over the roof".
  OpCost mm;
  mm.macs = 1e9;
  mm.flops = 2e9;
  mm.bytes = 12e6;
  EXPECT_NEAR(place_on_roofline(mm, 5, kernel_compute_dtype("x[int8(u8->u8)]", DType::float32), test_roofs())
                  .roof_fraction,
              0.5, 1e-9);
}

passes::testing::Case compute_heavy() {
  passes::testing::Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[256, 512] x, float[512, 512] w) => (float[256, 512] y) {
      y = MatMul(x, w)
    }
  )";
  c.random = {"w"};
  return c;
}

passes::testing::Case memory_heavy() {
  passes::testing::Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1024, 1024] a, float[1024, 1024] b) => (float[1024, 1024] y) {
      y = Add(a, b)
    }
  )";
  return c;
}

TEST(Profiler, ComputeHeavyMatMulIsComputeBound) {
  auto l = load(compute_heavy());
  ASSERT_TRUE(l.session);
  auto p = profile_session(*l.session, l.inputs, test_roofs(), quick_options());
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  ASSERT_EQ(p->steps.size(), 1u);
  const auto& s = p->steps[0];
  EXPECT_EQ(s.cost.op_class, OpClass::matmul);
  EXPECT_DOUBLE_EQ(s.cost.macs, 256.0 * 512 * 512);
  EXPECT_EQ(s.roofline.bound, Bound::compute);
  EXPECT_GT(s.roofline.gflops, 0);
  EXPECT_EQ(s.onnx_nodes, std::vector<std::string>{"y"});
  EXPECT_GT(s.first_run_ms, 0);  // the first run is timed per step too
  EXPECT_EQ(p->end_to_end.n, 5u);
  EXPECT_NEAR(p->gap_ms, p->end_to_end.median - p->steps_sum_ms, 1e-12);
  EXPECT_GE(p->executor_ms, 0);
}

TEST(Profiler, MemoryHeavyAddIsMemoryBound) {
  auto l = load(memory_heavy());
  ASSERT_TRUE(l.session);
  auto p = profile_session(*l.session, l.inputs, test_roofs(), quick_options());
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  ASSERT_EQ(p->steps.size(), 1u);
  EXPECT_EQ(p->steps[0].cost.op_class, OpClass::elementwise);
  EXPECT_EQ(p->steps[0].roofline.bound, Bound::memory);
  EXPECT_DOUBLE_EQ(p->steps[0].cost.bytes, 3.0 * 1024 * 1024 * 4);
}

passes::testing::Case conv_block() {
  passes::testing::Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 8, 16, 16] x, float[8, 8, 3, 3] w, float[8] b) => (float[1, 8, 16, 16] y) {
      i = Identity(x)
      t = Conv <pads = [1, 1, 1, 1]> (i, w, b)
      s = Add(t, x)
      y = Relu(s)
    }
  )";
  c.random = {"w", "b"};
  return c;
}

TEST(Profiler, FusedStepTimeGoesToEveryOnnxNodeItCoversOnce) {
  auto l = load(conv_block());
  ASSERT_TRUE(l.session);
  auto p = profile_session(*l.session, l.inputs, test_roofs(), quick_options());
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  ASSERT_EQ(p->steps.size(), 1u) << "Conv + Add + Relu fuse into one step";
  EXPECT_EQ(p->steps[0].onnx_nodes, (std::vector<std::string>{"t", "s", "y"}));
  // What ran: the oneDNN convolution and the implementation oneDNN picked.
  EXPECT_EQ(p->steps[0].kernel.rfind("convolution ", 0), 0u) << p->steps[0].kernel;
  EXPECT_EQ(p->removed_nodes, std::vector<std::string>{"i"});
  EXPECT_EQ(p->imported_nodes, 4u);
  EXPECT_NEAR(p->steps[0].share, 1.0, 1e-12);
  ASSERT_EQ(p->op_types.size(), 1u);
  EXPECT_EQ(p->op_types[0].op_type, "com.microsoft.FusedConv");
}

TEST(Profiler, FindingsCiteFiguresForThreadsAndReferenceBackend) {
  auto l = load(compute_heavy(), "reference");
  ASSERT_TRUE(l.session);
  auto p = profile_session(*l.session, l.inputs, test_roofs(), quick_options());
  ASSERT_TRUE(p.ok());
  p->backend = "reference";
  auto findings = find_opportunities(*p, 2, {"avx512_vnni", "avx512_bf16"}, false);
  auto find = [&](const std::string& id) -> const Finding* {
    for (const auto& f : findings)
      if (f.id == id) return &f;
    return nullptr;
  };
  ASSERT_NE(find("reference_backend"), nullptr);
  ASSERT_NE(find("threads_below_cores"), nullptr);
  EXPECT_NE(find("threads_below_cores")->message.find("threads=1"), std::string::npos);
  EXPECT_NE(find("threads_below_cores")->message.find("2 physical cores"), std::string::npos);
  ASSERT_NE(find("int8_available"), nullptr) << "VNNI present and all time in a matmul";
  EXPECT_NE(find("int8_available")->message.find("VNNI"), std::string::npos);
  for (size_t i = 1; i < findings.size(); ++i) EXPECT_GE(findings[i - 1].impact, findings[i].impact);
  // Enough cores and no ISA features: neither finding.
  auto none = find_opportunities(*p, 1, {}, false);
  for (const auto& f : none) {
    EXPECT_NE(f.id, "threads_below_cores");
    EXPECT_NE(f.id, "int8_available");
  }
}

// Reference code counts wherever it runs: planned ("ref:"), handed over by a backend kernel at run
// time ("ref fallback"), or oneDNN's own reference implementation.
TEST(Profiler, FindingsCountReferenceCodeTheKernelsReport) {
  auto l = load(compute_heavy());
  ASSERT_TRUE(l.session);
  auto p = profile_session(*l.session, l.inputs, test_roofs(), quick_options());
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->steps.size(), 1u);
  ASSERT_EQ(p->steps[0].implementation.rfind("cpu:", 0), 0u) << p->steps[0].implementation;
  ASSERT_FALSE(p->steps[0].kernel.empty());
  auto has_reference_finding = [&](const std::string& kernel) {
    p->steps[0].kernel = kernel;
    for (const auto& f : find_opportunities(*p, 1, {}, false))
      if (f.id == "reference_kernels") return true;
    return false;
  };
  EXPECT_FALSE(has_reference_finding("inner_product brg:avx512_core"));
  EXPECT_TRUE(has_reference_finding(std::string(kReferenceFallback)));
  EXPECT_TRUE(has_reference_finding("matmul ref:any"));
}

// A slow first run is attributed to the steps' first use; when Winograd convolutions carry most
// of it, the finding names them and the direct algorithm.
TEST(Profiler, ColdStartFindingNamesWhereTheFirstRunWent) {
  auto l = load(compute_heavy());
  ASSERT_TRUE(l.session);
  auto p = profile_session(*l.session, l.inputs, test_roofs(), quick_options());
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->steps.size(), 1u);
  p->stages.steady_ms = 1.0;
  p->stages.first_run_ms = 50.0;
  p->steps[0].ms.median = 1.0;
  p->steps[0].first_run_ms = 45.0;
  auto cold_start = [&]() -> std::optional<Finding> {
    for (const auto& f : find_opportunities(*p, 1, {}, false))
      if (f.id == "cold_start") return f;
    return std::nullopt;
  };
  p->steps[0].kernel = "inner_product brgemm:avx512_core";
  auto f = cold_start();
  ASSERT_TRUE(f);
  EXPECT_NE(f->message.find("44.0 ms of it is the steps' first use"), std::string::npos) << f->message;
  EXPECT_EQ(f->message.find("Winograd"), std::string::npos) << f->message;
  EXPECT_EQ(f->action.find("--conv-algorithm direct"), std::string::npos) << f->action;
  p->steps[0].kernel = "convolution jit_fp32_wino_2x3:avx512_core";
  f = cold_start();
  ASSERT_TRUE(f);
  EXPECT_NE(f->message.find("44.0 ms of that in 1 Winograd convolutions"), std::string::npos) << f->message;
  EXPECT_NE(f->action.find("--conv-algorithm direct"), std::string::npos) << f->action;
  p->stages.first_run_ms = 2.0;  // not slow: no finding
  EXPECT_FALSE(cold_start());
}

TEST(Profiler, AModelAlreadyInInt8IsNotToldToQuantize) {
  auto l = load(compute_heavy(), "reference");
  ASSERT_TRUE(l.session);
  auto p = profile_session(*l.session, l.inputs, test_roofs(), quick_options());
  ASSERT_TRUE(p.ok());
  // The same steps as if their kernels ran in INT8, at their roof.
  for (auto& s : p->steps) {
    s.implementation = "cpu:onednn:matmul[int8(u8->f32)]";
    s.roofline.roof_fraction = 0.9;
  }
  auto findings = find_opportunities(*p, 2, {"avx512_vnni", "avx512_bf16"}, false);
  bool near_roof = false;
  for (const auto& f : findings) {
    EXPECT_NE(f.id, "int8_available") << f.message;
    EXPECT_NE(f.id, "bf16_available") << f.message;
    if (f.id == "compute_near_roof") {
      near_roof = true;
      EXPECT_NE(f.message.find("INT8 is nearly exhausted"), std::string::npos) << f.message;
    }
  }
  EXPECT_TRUE(near_roof);
}

TEST(Profiler, JsonFollowsTheDocumentedSchema) {
  auto l = load(conv_block());
  ASSERT_TRUE(l.session);
  auto p = profile_session(*l.session, l.inputs, test_roofs(), quick_options());
  ASSERT_TRUE(p.ok());
  p->model = "conv_block";
  p->backend = "cpu";
  p->findings = find_opportunities(*p, 2, {}, false);
  const auto doc = profile_to_json(*p);
  const auto errors = testing::validate_json_file_schema(doc, (kRoot / "docs/schemas/profile.schema.json").string());
  for (const auto& e : errors) ADD_FAILURE() << e;
  // The validator itself catches violations.
  auto broken = doc;
  broken["steps"][0].erase("bound");
  broken["threads"] = "two";
  EXPECT_EQ(testing::validate_json_file_schema(broken, (kRoot / "docs/schemas/profile.schema.json").string()).size(), 2u);
}

TEST(Profiler, ChromeTraceHasOneEventPerStepPerRunOnTheExecutorTrack) {
  auto l = load(conv_block());
  ASSERT_TRUE(l.session);
  auto o = quick_options();
  o.trace_runs = 2;
  auto p = profile_session(*l.session, l.inputs, test_roofs(), o);
  ASSERT_TRUE(p.ok());
  const auto trace = profile_to_chrome_trace(*p);
  const auto errors = testing::validate_json_file_schema(trace, (kRoot / "docs/schemas/chrome_trace.schema.json").string());
  for (const auto& e : errors) ADD_FAILURE() << e;
  int steps = 0, runs = 0;
  double last_end = -1;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] != "X") continue;
    if (e["cat"] == "run") {
      ++runs;
      continue;
    }
    ++steps;
    EXPECT_EQ(e["tid"], 2);
    EXPECT_EQ(e["args"]["op_type"], "FusedConv");
    EXPECT_EQ(e["args"]["onnx_nodes"], (std::vector<std::string>{"t", "s", "y"}));
    EXPECT_EQ(e["args"]["outputs"][0], "float32[1,8,16,16]");
    EXPECT_GE(e["ts"].get<double>(), last_end) << "runs do not overlap";
    last_end = e["ts"].get<double>() + e["dur"].get<double>();
  }
  EXPECT_EQ(steps, 2);
  EXPECT_EQ(runs, 2);
}

TEST(Profiler, RunsWithoutProfilingReadNoStepClock) {
  auto l = load(conv_block());
  ASSERT_TRUE(l.session);
  const uint64_t before = timed_step_count();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(l.session->run(l.inputs).ok());
  EXPECT_EQ(timed_step_count(), before);
  RunStats stats;
  RunOptions ro;
  ro.profile = true;
  ASSERT_TRUE(l.session->run(l.inputs, ro, &stats).ok());
  EXPECT_EQ(timed_step_count(), before + stats.steps.size());
  ASSERT_EQ(stats.steps.size(), 1u);
  EXPECT_EQ(stats.steps[0].inputs.size(), 4u);
  EXPECT_GE(stats.steps[0].start_ms, 0);
}

}  // namespace
}  // namespace hwopt::profile
