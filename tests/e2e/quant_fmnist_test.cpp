// Accuracy validation on real labelled data: models/real/fmnist_cnn.onnx over the 10,000
// Fashion-MNIST test images (Debian's dataset-fashion-mnist, converted to .npy by
// scripts/make_fmnist_npy.py), through load_dataset and AccuracyMeter.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "hwopt/session.h"
#include "quant/accuracy.h"
#include "quant/calibrate.h"
#include "quant/sensitivity.h"
#include "quant/dataset.h"
#include "test_data.h"


namespace hwopt::quant {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot = test_data::kRoot;
const fs::path kModel = kRoot / "models/real/fmnist_cnn.onnx";
// fmnist_cnn's top-1 accuracy on the test set in FP32 (9,004 of 10,000 images).
constexpr double kFp32Accuracy = 0.9004;
#ifdef HWOPT_SANITIZED_BUILD
// Under ASan/UBSan the reduced-precision comparisons use the first 2,000 images (same code paths).
constexpr int64_t kCompareImages = 2000;
#else
constexpr int64_t kCompareImages = 10000;
#endif

class QuantFmnist : public ::testing::Test {
 protected:
  // Converts the test set once for the suite; an empty skip_reason_ means the files are there.
  static void SetUpTestSuite() {
    skip_reason_ = test_data::fmnist_missing();
    if (!skip_reason_.empty()) return;
    dir_ = test_data::temp_dir("fmnist");
    script_status_ = test_data::run_script("make_fmnist_npy.py", {dir_.string()});
    // Calibration data apart from the test set: the first 200 training images.
    if (script_status_ == 0)
      script_status_ = test_data::run_script("make_fmnist_npy.py", {(dir_ / "train").string(), "--train", "--limit", "200"});
  }
  static void TearDownTestSuite() {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_EQ(script_status_, 0) << "scripts/make_fmnist_npy.py failed";
  }

  static std::string images() { return (dir_ / "images.npy").string(); }
  static std::string labels() { return (dir_ / "labels.npy").string(); }
  static std::string calibration() { return (dir_ / "train" / "images.npy").string(); }

  static inline std::string skip_reason_;
  static inline fs::path dir_;
  static inline int script_status_ = -1;
};

TEST_F(QuantFmnist, Fp32TaskAccuracy) {
  SessionOptions options;
  options.backend = "cpu";
  options.optimize = true;
  auto session = Session::load(kModel.string(), options);
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  auto batches = load_dataset(images(), session.value()->inputs(), 100);
  ASSERT_TRUE(batches.ok()) << batches.status().to_string();
  ASSERT_EQ(batches->size(), 100u);
  auto batch_labels = load_labels(labels(), *batches);
  ASSERT_TRUE(batch_labels.ok()) << batch_labels.status().to_string();

  AccuracyMeter meter;
  for (size_t i = 0; i < batches->size(); ++i) {
    auto out = session.value()->run(batches->at(i));
    ASSERT_TRUE(out.ok()) << "batch " << i << ": " << out.status().to_string();
    // The reference is the candidate: the task accuracy is the model's own.
    Status st = meter.add(*out, *out, &batch_labels->at(i));
    ASSERT_TRUE(st.ok()) << st.to_string();
  }
  const AccuracyReport report = meter.report();
  ASSERT_EQ(report.outputs.size(), 1u);
  const OutputAccuracy& logits = report.outputs[0];
  ASSERT_TRUE(logits.classifier);
  EXPECT_EQ(logits.rows, 10000);
  EXPECT_EQ(logits.candidate_nonfinite, 0);
  EXPECT_NEAR(logits.reference_accuracy(), kFp32Accuracy, 1e-4);
  EXPECT_EQ(logits.reference_correct, logits.candidate_correct);
  EXPECT_EQ(logits.top1_agreement(), 1.0);
  EXPECT_TRUE(judge(report, *default_budget("int8")).pass);
  std::cout << format_accuracy_table(report);
}

TEST_F(QuantFmnist, CpuBackendMatchesReferenceBackend) {
  SessionOptions cpu_options;
  cpu_options.backend = "cpu";
  cpu_options.optimize = true;
  SessionOptions ref_options;
  ref_options.backend = "reference";
  auto cpu = Session::load(kModel.string(), cpu_options);
  ASSERT_TRUE(cpu.ok()) << cpu.status().to_string();
  auto ref = Session::load(kModel.string(), ref_options);
  ASSERT_TRUE(ref.ok()) << ref.status().to_string();
  auto batches = load_dataset(images(), ref.value()->inputs(), 100, 500);
  ASSERT_TRUE(batches.ok()) << batches.status().to_string();
  ASSERT_EQ(batches->size(), 5u);
  auto batch_labels = load_labels(labels(), *batches);
  ASSERT_TRUE(batch_labels.ok()) << batch_labels.status().to_string();

  AccuracyMeter meter;
  for (size_t i = 0; i < batches->size(); ++i) {
    auto want = ref.value()->run(batches->at(i));
    ASSERT_TRUE(want.ok()) << want.status().to_string();
    auto got = cpu.value()->run(batches->at(i));
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    Status st = meter.add(*want, *got, &batch_labels->at(i));
    ASSERT_TRUE(st.ok()) << st.to_string();
  }
  const AccuracyReport report = meter.report();
  ASSERT_EQ(report.outputs.size(), 1u);
  const OutputAccuracy& logits = report.outputs[0];
  EXPECT_EQ(logits.rows, 500);
  EXPECT_EQ(logits.top1_agreement(), 1.0);
  EXPECT_LT(logits.max_abs_error, 1e-3);
  EXPECT_EQ(logits.candidate_nonfinite, 0);
  EXPECT_GT(logits.cosine, 0.999999);
  EXPECT_EQ(logits.accuracy_drop(), 0.0);
  std::cout << format_accuracy_table(report);
}

// Runs the FP32 model and a candidate at `precision` (int8: calibrated with `method` on 200
// training images) over the whole test set; returns the comparison.
AccuracyReport compare_precision(const std::string& precision, CalibrationMethod method, const std::string& images,
                                 const std::string& labels, const std::string& calibration_images,
                                 size_t expected_reduced = 4) {
  SessionOptions fp32;
  fp32.backend = "cpu";
  fp32.optimize = true;
  auto ref = Session::load(kModel.string(), fp32);
  EXPECT_TRUE(ref.ok()) << ref.status().to_string();
  if (!ref.ok()) return {};
  SessionOptions options = fp32;
  options.precision = precision;
  if (precision == "int8") {
    auto cal = load_dataset(calibration_images, ref.value()->inputs(), 50);
    EXPECT_TRUE(cal.ok()) << cal.status().to_string();
    if (!cal.ok()) return {};
    CalibrationOptions co;
    co.method = method;
    auto table = calibrate(kModel.string(), fp32, *cal, co);
    EXPECT_TRUE(table.ok()) << table.status().to_string();
    if (!table.ok()) return {};
    options.activation_ranges = *table;
  }
  auto cand = Session::load(kModel.string(), options);
  EXPECT_TRUE(cand.ok()) << cand.status().to_string();
  if (!cand.ok()) return {};
  // Every convolution and matrix product runs at the precision asked for.
  size_t reduced = 0;
  for (const auto& step : cand.value()->plan_steps())
    if (step.implementation.find("[" + precision) != std::string::npos) ++reduced;
  EXPECT_EQ(reduced, expected_reduced) << "steps in " << precision;
  auto batches = load_dataset(images, ref.value()->inputs(), 100, kCompareImages);
  EXPECT_TRUE(batches.ok()) << batches.status().to_string();
  if (!batches.ok()) return {};
  auto batch_labels = load_labels(labels, *batches);
  EXPECT_TRUE(batch_labels.ok());
  if (!batch_labels.ok()) return {};
  auto budget = default_budget(precision);
  AccuracyMeter meter(*budget);
  for (size_t i = 0; i < batches->size(); ++i) {
    auto want = ref.value()->run(batches->at(i));
    auto got = cand.value()->run(batches->at(i));
    EXPECT_TRUE(want.ok() && got.ok());
    if (!want.ok() || !got.ok()) return {};
    EXPECT_TRUE(meter.add(*want, *got, &batch_labels->at(i)).ok());
  }
  return meter.report();
}

// Issue 6's target: INT8 task accuracy within 0.5 % absolute of FP32 (90.04 %), for each
// calibration method, with a top-1 agreement of at least 99 %.
TEST_F(QuantFmnist, Int8StaticQuantizationKeepsTaskAccuracy) {
  for (CalibrationMethod method : {CalibrationMethod::minmax, CalibrationMethod::percentile, CalibrationMethod::entropy}) {
    SCOPED_TRACE(calibration_method_name(method));
    const AccuracyReport report = compare_precision("int8", method, images(), labels(), calibration());
    ASSERT_EQ(report.outputs.size(), 1u);
    const OutputAccuracy& logits = report.outputs[0];
    EXPECT_EQ(logits.rows, kCompareImages);
    if (kCompareImages == 10000) {
      EXPECT_NEAR(logits.reference_accuracy(), kFp32Accuracy, 1e-4);
    }
    EXPECT_LE(logits.accuracy_drop(), 0.005);
    EXPECT_GE(logits.top1_agreement(), 0.99);
    const Verdict v = judge(report, *default_budget("int8"));
    EXPECT_TRUE(v.pass) << (v.reasons.empty() ? "" : v.reasons[0]);
    std::cout << calibration_method_name(method) << "\n" << format_accuracy_table(report);
  }
}

// A budget that INT8 meets needs no fallback; one nothing but FP32 meets (an element-wise
// tolerance of 1e-6 on the logits) ends with the layers tried and says it was not met.
TEST_F(QuantFmnist, FallbackStopsAtOnceWhenMetAndReportsAnUnmeetableBudget) {
  SessionOptions fp32;
  fp32.backend = "cpu";
  fp32.optimize = true;
  auto ref = Session::load(kModel.string(), fp32);
  ASSERT_TRUE(ref.ok());
  auto batches = load_dataset(images(), ref.value()->inputs(), 100, 1000);
  ASSERT_TRUE(batches.ok());
  auto cal = load_dataset(calibration(), ref.value()->inputs(), 50);
  ASSERT_TRUE(cal.ok());
  auto table = calibrate(kModel.string(), fp32, *cal, {});
  ASSERT_TRUE(table.ok());
  SessionOptions options = fp32;
  options.precision = "int8";
  options.activation_ranges = *table;
  auto reference = run_batches(**ref, *batches);
  ASSERT_TRUE(reference.ok());

  auto met = fallback_until_budget(kModel.string(), options, *batches, {}, *reference, *default_budget("int8"));
  ASSERT_TRUE(met.ok()) << met.status().to_string();
  EXPECT_TRUE(met->met);
  EXPECT_EQ(met->steps.size(), 1u);
  EXPECT_TRUE(met->ranking.empty());

  AccuracyBudget strict;
  strict.check_tolerance = true;
  strict.rtol = 0;
  strict.atol = 1e-6;
  FallbackOptions fo;
  fo.max_layers = 2;
  fo.ranking_batches = 2;
  auto unmet = fallback_until_budget(kModel.string(), options, *batches, {}, *reference, strict, fo);
  ASSERT_TRUE(unmet.ok()) << unmet.status().to_string();
  EXPECT_FALSE(unmet->met);
  EXPECT_EQ(unmet->ranking.size(), 4u);  // 2 convolutions, 2 Gemms
  EXPECT_EQ(unmet->steps.size(), 3u);    // none, then 2 layers in FP32
  EXPECT_EQ(unmet->steps.back().fp32_nodes.size(), 2u);
  // The most sensitive layer, back in FP32, removes part of the INT8 error.
  EXPECT_GT(unmet->ranking[0].gain(), 0.0);
  EXPECT_LT(unmet->ranking[0].error_without, unmet->ranking[0].error_all);
}

// Dynamic INT8 quantizes the two Gemms only (no calibration) and keeps the task accuracy.
TEST_F(QuantFmnist, Int8DynamicKeepsTaskAccuracy) {
  const AccuracyReport report =
      compare_precision("int8-dynamic", CalibrationMethod::minmax, images(), labels(), calibration(), 2);
  ASSERT_EQ(report.outputs.size(), 1u);
  const OutputAccuracy& logits = report.outputs[0];
  EXPECT_LE(logits.accuracy_drop(), 0.005);
  EXPECT_GE(logits.top1_agreement(), 0.99);
  EXPECT_TRUE(judge(report, *default_budget("int8-dynamic")).pass);
  std::cout << "int8-dynamic\n" << format_accuracy_table(report);
}

TEST_F(QuantFmnist, Bf16MeetsItsBudget) {
  const AccuracyReport report = compare_precision("bf16", CalibrationMethod::minmax, images(), labels(), calibration());
  ASSERT_EQ(report.outputs.size(), 1u);
  const OutputAccuracy& logits = report.outputs[0];
  EXPECT_GE(logits.top1_agreement(), 0.995);
  EXPECT_LE(logits.accuracy_drop(), 0.002);
  const Verdict v = judge(report, *default_budget("bf16"));
  EXPECT_TRUE(v.pass) << (v.reasons.empty() ? "" : v.reasons[0]);
  std::cout << format_accuracy_table(report);
}

}  // namespace
}  // namespace hwopt::quant
