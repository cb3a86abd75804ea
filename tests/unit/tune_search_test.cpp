// The tuner's search on a real small model (models/real/fmnist_cnn.onnx, random inputs):
// stopping when the requirements are met, the no-solution path, pruning, accuracy as a hard
// constraint, memory constraints, presets and resuming from a log.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <random>
#include <set>

#include <unistd.h>

#include <fstream>

#include "core/npy.h"
#include "passes_test_util.h"
#include "tune/search.h"

namespace hwopt::tune {
namespace {

std::string model() {
  return (std::filesystem::path(__FILE__).parent_path() / "../../models/real/fmnist_cnn.onnx").string();
}

// Random [batch, 1, 28, 28] images in [0, 1).
Tensor random_images(int64_t batch, uint64_t seed) {
  Tensor t(DType::float32, {batch, 1, 28, 28});
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

bench::InputFactory images(const Session&) {
  return [](int64_t batch, uint64_t seed) -> Expected<bench::TensorMap> {
    return bench::TensorMap{{"input", random_images(batch, seed)}};
  };
}

TuneOptions quick(Requirements r) {
  TuneOptions o;
  o.requirements = r;
  o.input_factory = images;
  o.max_seconds_per_candidate = 0.3;
  return o;
}

TEST(TuneSearch, StopsAtTheBaselineWhenItMeetsTheRequirements) {
  Requirements r;
  r.max_latency_ms = 10000;  // anything meets it
  auto t = run_tune(model(), quick(r));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  ASSERT_EQ(t->candidates.size(), 1u);
  EXPECT_EQ(t->candidates[0].step, "baseline");
  EXPECT_TRUE(t->met);
  EXPECT_EQ(t->best, 0);
  EXPECT_TRUE(t->limits.empty());
}

TEST(TuneSearch, ExhaustiveGoesOnAndRespectsThreadsAndPruning) {
  Requirements r;
  r.max_latency_ms = 10000;
  r.exhaustive = true;
  r.max_threads = 1;
  auto t = run_tune(model(), quick(r));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_GT(t->candidates.size(), 1u);
  bool dynamic = false;
  for (const auto& c : t->candidates) {
    EXPECT_LE(c.config.threads, 1) << c.config.key();  // never above --cores
    EXPECT_NE(c.config.precision, "int8") << "static INT8 needs calibration data: pruned";
    dynamic |= c.config.precision == "int8-dynamic";
    if (c.config.precision != "fp32" && c.measured) {
      EXPECT_TRUE(c.validated) << c.config.key();
      EXPECT_FALSE(c.decision.empty()) << c.config.key();
    }
  }
  EXPECT_TRUE(dynamic) << "the model has Gemms: dynamic INT8 is a candidate";
  for (const auto& c : t->candidates) EXPECT_NE(c.step, "passes") << "no depthwise convolution to unfuse";
  EXPECT_TRUE(t->met);
  ASSERT_GE(t->best, 0);
  EXPECT_FALSE(t->pareto.empty());
}

TEST(TuneSearch, NoSolutionReportsTheClosestAndWhatLimitsIt) {
  Requirements r;
  r.max_latency_ms = 1e-6;  // nothing is that fast
  r.time_budget_s = 60;
  auto t = run_tune(model(), quick(r));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_FALSE(t->met);
  ASSERT_GE(t->best, 0);
  const Candidate& best = t->candidates[static_cast<size_t>(t->best)];
  EXPECT_FALSE(best.meets);
  ASSERT_FALSE(best.misses.empty());
  EXPECT_NE(best.misses[0].find("p99"), std::string::npos);
  EXPECT_NE(t->limits.find("No configuration meets"), std::string::npos);
  EXPECT_NE(t->limits.find(best.config.key()), std::string::npos);
  EXPECT_NE(t->limits.find("Its profile:"), std::string::npos) << "what limits it, from its profile: " << t->limits;
}

TEST(TuneSearch, AccuracyIsAHardConstraint) {
  Requirements r;
  r.exhaustive = true;
  r.min_cosine = 1.0;  // only exact results pass: every reduced precision is rejected
  r.max_threads = 1;
  auto t = run_tune(model(), quick(r));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  for (const auto& c : t->candidates)
    if (c.config.precision != "fp32" && c.measured) {
      EXPECT_FALSE(c.accuracy_ok) << c.config.key();
      EXPECT_EQ(c.decision, "rejected") << c.config.key();
      EXPECT_NE(c.reason.find("accuracy"), std::string::npos) << c.reason;
    }
  ASSERT_GE(t->best, 0);
  EXPECT_EQ(t->candidates[static_cast<size_t>(t->best)].config.precision, "fp32");
}

TEST(TuneSearch, MemoryCapIsChecked) {
  Requirements r;
  r.max_memory_mb = 0.001;
  auto t = run_tune(model(), quick(r));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_FALSE(t->met);
  const Candidate& b = t->candidates[static_cast<size_t>(t->best)];
  ASSERT_FALSE(b.misses.empty());
  EXPECT_NE(b.misses.back().find("memory"), std::string::npos);
}

TEST(TuneSearch, BatchPresetSweepsBatchSizes) {
  Requirements r;
  ASSERT_TRUE(apply_preset("batch", r).ok());
  r.max_batch = 8;
  r.max_threads = 1;
  auto t = run_tune(model(), quick(r));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  std::set<int64_t> batches;
  for (const auto& c : t->candidates)
    if (c.step == "batch") batches.insert(c.config.batch);
  EXPECT_TRUE(batches.count(1) && batches.count(2) && batches.count(4)) << "sweep 1, 2, 4 (8 is the baseline)";
  EXPECT_FALSE(apply_preset("nightly", r).ok());
}

TEST(TuneSearch, ResumeReusesTheLog) {
  Requirements r;
  r.exhaustive = true;
  r.max_threads = 1;
  auto first = run_tune(model(), quick(r));
  ASSERT_TRUE(first.ok());
  TuneOptions o = quick(r);
  o.previous = first->candidates;
  auto second = run_tune(model(), o);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->candidates.size(), first->candidates.size());
  for (size_t i = 0; i < second->candidates.size(); ++i) {
    if (!first->candidates[i].measured) continue;
    EXPECT_EQ(second->candidates[i].median_ms, first->candidates[i].median_ms) << i;
    EXPECT_NE(second->candidates[i].reason.find("resumed"), std::string::npos) << second->candidates[i].reason;
  }
}

// Two candidates whose logged medians are within the noise of each other: the choice is
// re-measured interleaved against the rival before it is final, and the result says so.
// An exhaustive one-thread tune, then the same tune resumed from its log as `edit` rewrites it
// (edit returns false to drop a candidate from the log, which is then measured again).
// With `all_variants`, the log also holds the FP32 kernel variants of the FP32 baseline (copies
// of it: every layout with either convolution algorithm) when the first run did not measure
// them (it tries them only when FP32 is its best), so that the resumed run measures nothing new.
Expected<TuneResult> tune_with_edited_log(const std::function<bool(Candidate&)>& edit, bool all_variants = false) {
  Requirements r;
  r.exhaustive = true;
  r.max_threads = 1;
  auto first = run_tune(model(), quick(r));
  if (!first.ok()) return first.status();
  std::vector<Candidate> log = first->candidates;
  if (all_variants) {
    std::set<std::string> keys;
    for (const Candidate& c : log) keys.insert(c.config.key());
    for (const Candidate& c : first->candidates)
      if (c.measured && c.config.precision == "fp32" && c.config.layout == "blocked" &&
          c.config.conv_algorithm == "winograd" && c.config.fp32_nodes.empty())
        for (const char* l : {"blocked", "channels_last", "any"})
          for (const char* a : {"winograd", "direct"}) {
            Candidate v = c;
            v.config.layout = l;
            v.config.conv_algorithm = a;
            v.step = std::string(a) == "direct" ? "conv_algorithm" : "layout";
            if (keys.insert(v.config.key()).second) log.push_back(v);
          }
  }
  TuneOptions o = quick(r);
  for (Candidate c : log)
    if (edit(c)) o.previous.push_back(c);
  return run_tune(model(), o);
}

TEST(TuneSearch, CloseRivalsAreReMeasuredInterleavedBeforeTheChoice) {
  auto t = tune_with_edited_log([](Candidate& c) {  // every configuration equally fast, as far as the log knows
    if (c.measured) {
      c.median_ms = c.p99_ms = 1.0 * static_cast<double>(c.config.batch);
      c.ci_low_ms = 0.99 * c.median_ms;
      c.ci_high_ms = 1.01 * c.median_ms;
      c.throughput = 1000.0;
    }
    return true;
  }, /*all_variants=*/true);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  ASSERT_GE(t->best, 0);
  ASSERT_FALSE(t->confirmation.empty());
  EXPECT_NE(t->confirmation.find("Re-measured interleaved"), std::string::npos) << t->confirmation;
  EXPECT_NE(t->confirmation.find(t->candidates[static_cast<size_t>(t->best)].config.key()), std::string::npos)
      << "the confirmation names the final choice: " << t->confirmation;
}

// A budget finer than one validation sample (here 0.01 points on 16 images: steps of 6.25 points)
// cannot be resolved: the result warns and says how many samples it needs.
TEST(TuneSearch, WarnsWhenTheBudgetIsFinerThanTheValidationSet) {
  const auto dir = std::filesystem::temp_directory_path() / ("hwopt_tune_warn_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "images.npy").string();
  ASSERT_TRUE(write_npy(path, random_images(16, 3)).ok());
  Requirements r;
  r.max_latency_ms = 10000;
  r.max_accuracy_drop = 0.01;
  TuneOptions o = quick(r);
  o.validation = path;
  auto t = run_tune(model(), o);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  ASSERT_EQ(t->warnings.size(), 1u);
  EXPECT_NE(t->warnings[0].find("16 samples"), std::string::npos) << t->warnings[0];
  EXPECT_NE(t->warnings[0].find("at least 10000 samples"), std::string::npos) << t->warnings[0];
}

// With FP32 the best precision, the FP32 convolutions' layouts are tried (nhwc and oneDNN's
// choice against the default nChw16c), then the direct convolution algorithm against Winograd;
// FP32 candidates with Winograd are validated against the direct reference like a precision,
// and the artifact's session carries the chosen layout and algorithm.
TEST(TuneSearch, LayoutsAndConvAlgorithmsAreTriedWhenConvolutionsRunInFp32) {
  auto t = tune_with_edited_log([](Candidate& c) {  // every reduced precision much slower
    if (!c.measured || c.step == "layout" || c.step == "conv_algorithm" || c.step == "batch" || c.step == "threads")
      return false;
    if (c.config.precision != "fp32") {
      c.median_ms = c.p99_ms = c.ci_low_ms = c.ci_high_ms = 1000.0;
      c.throughput = 0.001;
    }
    return true;
  });
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  std::set<std::string> layouts;
  int direct = 0, validated_winograd = 0;
  for (const auto& c : t->candidates) {
    if (c.step == "layout") {
      EXPECT_EQ(c.config.precision, "fp32");
      layouts.insert(c.config.layout);
      EXPECT_NE(c.config.key().find(c.config.layout == "channels_last" ? "nhwc" : "layout-any"), std::string::npos);
    }
    if (c.step == "conv_algorithm") {
      ++direct;
      EXPECT_EQ(c.config.conv_algorithm, "direct");
      EXPECT_NE(c.config.key().find("direct-conv"), std::string::npos) << c.config.key();
      EXPECT_FALSE(c.validated) << "direct FP32 is the reference itself";
    }
    if (!c.resumed && c.measured && c.config.precision == "fp32" && c.config.conv_algorithm == "winograd") {
      EXPECT_TRUE(c.validated) << c.config.key();
      EXPECT_GT(c.cosine, 0.9999) << c.config.key();
      ++validated_winograd;
    }
  }
  EXPECT_EQ(layouts, (std::set<std::string>{"channels_last", "any"}));
  EXPECT_EQ(direct, 1);
  EXPECT_GE(validated_winograd, 2);  // the two layouts
  const Config back = config_from_json(to_json(Config{t->candidates.back().config}));
  EXPECT_EQ(back.layout, t->candidates.back().config.layout);
  EXPECT_EQ(back.conv_algorithm, t->candidates.back().config.conv_algorithm);
}

// A pointwise convolution into a 3x3 depthwise one (MobileNet's pattern): fuse_conv_depthwise
// fuses them, and the search measures the best configuration with the pass off too.
TEST(TuneSearch, TradeOffFusionsAreTriedOff) {
  passes::testing::Case m;
  m.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[N, 8, 12, 12] x, float[16, 8, 1, 1] w1, float[16] b1, float[16, 1, 3, 3] w2, float[16] b2)
      => (float[N, 16, 12, 12] y) {
      a = Conv <kernel_shape = [1, 1]> (x, w1, b1)
      r = Relu (a)
      d = Conv <group = 16, kernel_shape = [3, 3], pads = [1, 1, 1, 1]> (r, w2, b2)
      y = Relu (d)
    })";
  m.random = {"w1", "b1", "w2", "b2"};
  auto bytes = passes::testing::build_model_bytes(m);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  const std::string path =
      (std::filesystem::temp_directory_path() / ("hwopt_tune_dw_" + std::to_string(getpid()) + ".onnx")).string();
  { std::ofstream(path, std::ios::binary) << *bytes; }
  Requirements r;
  r.exhaustive = true;
  TuneOptions o = quick(r);
  o.input_factory = [](const Session&) {
    return [](int64_t batch, uint64_t seed) -> Expected<bench::TensorMap> {
      std::mt19937 rng(static_cast<uint32_t>(seed));
      return bench::TensorMap{{"x", passes::testing::random_tensor({batch, 8, 12, 12}, rng)}};
    };
  };
  auto t = run_tune(path, o);
  std::filesystem::remove(path);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  int off = 0;
  for (const auto& c : t->candidates)
    if (c.step == "passes") {
      ++off;
      EXPECT_EQ(c.config.disabled_passes, std::vector<std::string>{"fuse_conv_depthwise"});
      EXPECT_NE(c.config.key().find(" -fuse_conv_depthwise"), std::string::npos) << c.config.key();
      EXPECT_TRUE(c.measured) << c.error;
      EXPECT_FALSE(c.decision.empty());
    }
  EXPECT_EQ(off, 1);
}

TEST(TuneSearch, BadRequirementsAreErrors) {
  Requirements r;
  r.min_batch = 4;
  r.max_batch = 2;
  EXPECT_FALSE(run_tune(model(), quick(r)).ok());
  TuneOptions o = quick(Requirements{});
  o.input_factory = nullptr;
  EXPECT_FALSE(run_tune(model(), o).ok());
  EXPECT_FALSE(run_tune("/nonexistent.onnx", quick(Requirements{})).ok());
}

// The server pattern: after the batch sweep, the best configuration is served through the
// dynamic batcher per batch size and way of sharing the cores, and the choice is the server
// configuration with the highest request rate whose p99 (queueing included) kept the bound.
TEST(TuneSearch, ServerPresetSearchesTheBatcherUnderTheLatencyBound) {
  Requirements r;
  ASSERT_TRUE(apply_preset("server", r).ok());
  EXPECT_TRUE(r.server);
  EXPECT_EQ(r.goal, Goal::throughput);
  EXPECT_FALSE(run_tune(model(), quick(r)).ok()) << "the server preset needs a latency bound";
  r.max_batch = 2;
  r.max_latency_ms = 200;
  r.max_threads = 1;  // one way of sharing the cores: the test stays short
  TuneOptions o = quick(r);
  o.server_seconds_per_rate = 0.3;
  auto t = run_tune(model(), o);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  ASSERT_GE(t->best, 0);
  int served = 0;
  for (const auto& c : t->candidates) {
    if (c.config.server_max_batch == 0) continue;
    ++served;
    EXPECT_EQ(c.step, "server");
    EXPECT_EQ(c.config.server_max_batch, c.config.batch) << c.config.key();
    EXPECT_LE(c.config.batch, r.max_batch) << c.config.key();
    EXPECT_NE(c.config.key().find("server("), std::string::npos) << c.config.key();
    if (c.measured) {
      EXPECT_LE(c.p99_ms, r.max_latency_ms) << c.config.key() << ": a rate is only kept within the bound";
      EXPECT_GT(c.throughput, 0) << c.config.key();
      EXPECT_GE(c.server_mean_batch, 1.0) << c.config.key();
      EXPECT_LE(c.server_mean_batch, static_cast<double>(c.config.server_max_batch)) << c.config.key();
    }
  }
  EXPECT_GE(served, 1);
  const Candidate& best = t->candidates[static_cast<size_t>(t->best)];
  EXPECT_GT(best.config.server_max_batch, 0) << "the choice is served through the batcher: " << best.config.key();
  for (const auto& c : t->candidates)
    if (c.measured && c.config.server_max_batch > 0 && c.accuracy_ok) {
      EXPECT_GE(best.throughput * 1.0001, c.throughput * (1 - 0.5))
          << "the choice is among the highest rates: " << best.config.key() << " vs " << c.config.key();
    }
  EXPECT_NE(t->summary.find("requests/s"), std::string::npos) << t->summary;
  // The configuration (batcher included) round-trips through the plan's JSON.
  const Config back = config_from_json(to_json(best.config));
  EXPECT_EQ(back.key(), best.config.key());
  EXPECT_EQ(back.server_workers, best.config.server_workers);
}

// A bound that not even one request alone can keep: no server configuration, said so.
TEST(TuneSearch, ServerPresetWithAnImpossibleBoundSaysWhy) {
  Requirements r;
  ASSERT_TRUE(apply_preset("server", r).ok());
  r.max_batch = 2;
  r.max_latency_ms = 1e-4;
  TuneOptions o = quick(r);
  o.server_seconds_per_rate = 0.2;
  auto t = run_tune(model(), o);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_FALSE(t->met);
  bool warned = false;
  for (const auto& w : t->warnings) warned |= w.find("no server configuration") != std::string::npos;
  EXPECT_TRUE(warned);
  EXPECT_FALSE(t->limits.empty());
}

}  // namespace
}  // namespace hwopt::tune
