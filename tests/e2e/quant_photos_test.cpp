// INT8 and BF16 accuracy of a real image classifier on real photos: the MobileNetV2 converted
// from nsfwjs (models/real) over ~190 crops of 19 photos from Debian's darknet and
// python3-skimage packages (scripts/make_photos_npy.py). Calibration and validation use
// different photos.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "hwopt/session.h"
#include "quant/accuracy.h"
#include "quant/calibrate.h"
#include "quant/dataset.h"
#include "quant/sensitivity.h"
#include "test_data.h"


namespace hwopt::quant {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot = test_data::kRoot;
const fs::path kModel = kRoot / "models/real/nsfwjs_mobilenet_v2.onnx";
// The first 6 photos (10 crops each) calibrate; the other 13 photos validate.
constexpr int64_t kCalibrationSamples = 60;

class QuantPhotos : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    skip_reason_ = test_data::python_missing("numpy, PIL");
    if (!skip_reason_.empty()) return;
    dir_ = test_data::temp_dir("photos");
    // The unpacked packages are kept between runs (apt-get download needs the Debian mirror).
    if (test_data::run_script("make_photos_npy.py", {dir_.string(), "--cache", test_data::photo_cache()}) != 0)
      skip_reason_ = "scripts/make_photos_npy.py could not fetch the photos";
  }
  static void TearDownTestSuite() {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
  }

  // The FP32 run against `options` on the validation photos.
  static AccuracyReport compare(const SessionOptions& options, const AccuracyBudget& budget) {
    SessionOptions fp32;
    fp32.backend = "cpu";
    fp32.optimize = true;
    auto ref = Session::load(kModel.string(), fp32);
    auto cand = Session::load(kModel.string(), options);
    EXPECT_TRUE(ref.ok() && cand.ok());
    if (!ref.ok() || !cand.ok()) return {};
    auto all = load_dataset((dir_ / "images.npy").string(), ref.value()->inputs(), 10);
    EXPECT_TRUE(all.ok()) << all.status().to_string();
    if (!all.ok()) return {};
    AccuracyMeter meter(budget);
    for (size_t i = kCalibrationSamples / 10; i < all->size(); ++i) {
      auto want = ref.value()->run(all->at(i));
      auto got = cand.value()->run(all->at(i));
      EXPECT_TRUE(want.ok() && got.ok());
      if (!want.ok() || !got.ok()) return {};
      EXPECT_TRUE(meter.add(*want, *got).ok());
    }
    return meter.report();
  }

  static CalibrationTable calibration(CalibrationMethod method) {
    SessionOptions fp32;
    fp32.backend = "cpu";
    fp32.optimize = true;
    auto probe = Session::load(kModel.string(), fp32);
    EXPECT_TRUE(probe.ok());
    if (!probe.ok()) return {};
    auto cal = load_dataset((dir_ / "images.npy").string(), probe.value()->inputs(), 10, kCalibrationSamples);
    EXPECT_TRUE(cal.ok());
    if (!cal.ok()) return {};
    CalibrationOptions co;
    co.method = method;
    auto table = calibrate(kModel.string(), fp32, *cal, co);
    EXPECT_TRUE(table.ok()) << table.status().to_string();
    return table.ok() ? *table : CalibrationTable{};
  }

  static inline std::string skip_reason_;
  static inline fs::path dir_;
};

// Issue 6's target: top-1 agreement >= 99 % on real photos (entropy calibration; MinMax is
// reported: its ranges keep rare outliers and cost resolution).
TEST_F(QuantPhotos, MobileNetV2Int8KeepsTop1) {
  for (CalibrationMethod method : {CalibrationMethod::entropy, CalibrationMethod::minmax}) {
    SessionOptions options;
    options.backend = "cpu";
    options.optimize = true;
    options.precision = "int8";
    options.activation_ranges = calibration(method);
    ASSERT_FALSE(options.activation_ranges.empty());
    const AccuracyReport report = compare(options, *default_budget("int8"));
    ASSERT_EQ(report.outputs.size(), 1u);
    const OutputAccuracy& probs = report.outputs[0];
    EXPECT_EQ(probs.rows, 130);
    EXPECT_EQ(probs.candidate_nonfinite, 0);
    std::cout << calibration_method_name(method) << "\n" << format_accuracy_table(report);
    if (method == CalibrationMethod::entropy) {
      EXPECT_GE(probs.top1_agreement(), 0.99);
      EXPECT_GT(probs.cosine, 0.99);
    } else {
      EXPECT_GE(probs.top1_agreement(), 0.95);
    }
  }
}

// A budget all-INT8 MinMax misses by construction: a cosine similarity with 30 % less error
// (1 - cosine) than it reaches. (Whether it misses the 99 % top-1 agreement depends on which of the
// 130 crops sit near a decision boundary, which moves with float rounding.) The fallback ranks
// the layers and keeps the most sensitive ones in FP32 until the budget is met, and those layers
// then run in FP32.
TEST_F(QuantPhotos, FallbackKeepsSensitiveLayersInFp32UntilTheBudgetIsMet) {
  SessionOptions fp32;
  fp32.backend = "cpu";
  fp32.optimize = true;
  SessionOptions options = fp32;
  options.precision = "int8";
  options.activation_ranges = calibration(CalibrationMethod::minmax);
  auto ref = Session::load(kModel.string(), fp32);
  ASSERT_TRUE(ref.ok());
  auto all = load_dataset((dir_ / "images.npy").string(), ref.value()->inputs(), 10);
  ASSERT_TRUE(all.ok());
  const std::vector<Batch> batches(all->begin() + kCalibrationSamples / 10, all->end());
  auto reference = run_batches(**ref, batches);
  ASSERT_TRUE(reference.ok());
  AccuracyBudget budget = *default_budget("int8");
  budget.min_top1_agreement = -1;  // judged by cosine
  const AccuracyReport all_int8 = compare(options, budget);
  ASSERT_EQ(all_int8.outputs.size(), 1u);
  budget.min_cosine = 1.0 - 0.7 * (1.0 - all_int8.outputs[0].cosine);
  std::cout << "all-INT8 MinMax cosine " << all_int8.outputs[0].cosine << ", budget " << budget.min_cosine << "\n";
  FallbackOptions fo;
  fo.max_layers = 8;
  auto fb = fallback_until_budget(kModel.string(), options, batches, {}, *reference, budget, fo);
  ASSERT_TRUE(fb.ok()) << fb.status().to_string();
  ASSERT_GE(fb->steps.size(), 2u) << "all-INT8 misses the budget by construction";
  EXPECT_FALSE(fb->steps[0].verdict.pass);
  EXPECT_TRUE(fb->met);
  ASSERT_FALSE(fb->ranking.empty());
  for (size_t i = 1; i < fb->ranking.size(); ++i) EXPECT_GE(fb->ranking[i - 1].gain(), fb->ranking[i].gain());
  const auto& kept = fb->steps.back().fp32_nodes;
  ASSERT_FALSE(kept.empty());
  EXPECT_EQ(kept[0], fb->ranking[0].node);
  // The kept layers run in FP32, the others stay INT8.
  options.fp32_nodes = kept;
  auto cand = Session::load(kModel.string(), options);
  ASSERT_TRUE(cand.ok());
  size_t convs = 0;
  for (const auto& step : cand.value()->plan_steps()) {
    const bool is_kept = std::find(kept.begin(), kept.end(), step.node) != kept.end();
    const bool is_int8 = step.implementation.find("[int8(") != std::string::npos;
    if (is_kept) {
      EXPECT_FALSE(is_int8) << step.node;
    }
    if (step.op_type.find("Conv") == std::string::npos) continue;
    ++convs;
    if (!is_kept) {
      EXPECT_TRUE(is_int8) << step.node << " " << step.implementation;
    }
  }
  EXPECT_GE(convs, 30u);  // MobileNetV2's 52 convolutions, some fused in pairs
  std::cout << "kept in FP32:";
  for (const auto& k : kept) std::cout << " " << k;
  std::cout << "\n";
}

TEST_F(QuantPhotos, MobileNetV2Bf16KeepsTop1) {
  SessionOptions options;
  options.backend = "cpu";
  options.optimize = true;
  options.precision = "bf16";
  const AccuracyReport report = compare(options, *default_budget("bf16"));
  ASSERT_EQ(report.outputs.size(), 1u);
  std::cout << format_accuracy_table(report);
  EXPECT_GE(report.outputs[0].top1_agreement(), 0.99);
  EXPECT_GT(report.outputs[0].cosine, 0.995);
}

}  // namespace
}  // namespace hwopt::quant
