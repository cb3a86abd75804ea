// Quantized models in, quantized models out: models/real/fmnist_cnn.onnx calibrated on 200
// Fashion-MNIST training images and written as a QDQ model (hwopt quantize's
// quant::write_qdq_model); the file passes onnx.checker, hwopt loads it back at precision int8
// with no calibration (the ranges are the model's) on its INT8 kernels and agrees with the FP32
// model on 1,000 test images, and ONNX Runtime (onnxruntime-node, scripts/ort_run.js) runs the
// same file with the same top-1 answers as hwopt's INT8 run.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "core/npy.h"
#include "hwopt/session.h"
#include "quant/calibrate.h"
#include "quant/dataset.h"
#include "quant/qdq_export.h"
#include "test_data.h"


namespace hwopt::quant {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot = test_data::kRoot;
const fs::path kModel = kRoot / "models/real/fmnist_cnn.onnx";
constexpr int kTestImages = 1000;
constexpr double kMinAgreement = 0.99;

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

/// Row-wise argmax of a [N, C] float tensor.
std::vector<int64_t> top1(const Tensor& logits) {
  const Tensor c = logits.contiguous();
  std::vector<int64_t> out;
  const int64_t n = c.dim(0), k = c.dim(1);
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = 0;
    for (int64_t j = 1; j < k; ++j)
      if (c.data<float>()[i * k + j] > c.data<float>()[i * k + best]) best = j;
    out.push_back(best);
  }
  return out;
}

double agreement(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a.size() != b.size() || a.empty()) return 0;
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  return static_cast<double>(same) / static_cast<double>(a.size());
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::fabs(a.element_as_double(i) - b.element_as_double(i)));
  return worst;
}

class QuantQdq : public ::testing::Test {
 protected:
  // Converts the images and writes the QDQ model once for the suite; an empty skip_reason_ means
  // the data set is there, setup_error_ says what failed after that.
  static void SetUpTestSuite() {
    skip_reason_ = test_data::fmnist_missing();
    if (!skip_reason_.empty()) return;
    dir_ = test_data::temp_dir("qdq");
    if (test_data::run_script("make_fmnist_npy.py", {(dir_ / "test").string(), "--limit", std::to_string(kTestImages)}) != 0 ||
        test_data::run_script("make_fmnist_npy.py", {(dir_ / "train").string(), "--train", "--limit", "200"}) != 0) {
      setup_error_ = "scripts/make_fmnist_npy.py failed";
      return;
    }
    setup_error_ = write_qdq().to_string();
    if (setup_error_ == Status::OK().to_string()) setup_error_.clear();
  }
  static void TearDownTestSuite() {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  }

  // As `hwopt quantize MODEL -o OUT --calibration train/images.npy --calibration-limit 200` does.
  static Status write_qdq() {
    SessionOptions so;
    so.backend = "cpu";
    so = qdq_session_options(so);
    auto probe = Session::load(kModel.string(), so);
    if (!probe.ok()) return probe.status();
    auto batches = load_dataset((dir_ / "train" / "images.npy").string(), (*probe)->inputs(), 50, 200);
    if (!batches.ok()) return batches.status();
    auto table = calibrate(kModel.string(), so, *batches, CalibrationOptions{});
    if (!table.ok()) return table.status();
    auto summary = write_qdq_model(kModel.string(), so, *table, qdq_model().string());
    if (!summary.ok()) return summary.status();
    summary_ = *summary;
    return Status::OK();
  }

  static fs::path qdq_model() { return dir_ / "fmnist_cnn_qdq.onnx"; }
  static fs::path images() { return dir_ / "test" / "images.npy"; }

  /// Runs `model` on the test images in one batch; the logits.
  static Tensor run(const fs::path& model, const SessionOptions& so, std::vector<std::string>* plan = nullptr) {
    auto s = Session::load(model.string(), so);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    if (!s.ok()) return {};
    if (plan) *plan = (*s)->describe_plan();
    auto x = read_npy(images().string());
    EXPECT_TRUE(x.ok()) << x.status().to_string();
    if (!x.ok()) return {};
    auto out = (*s)->run({{"input", *x}});
    EXPECT_TRUE(out.ok()) << out.status().to_string();
    return out.ok() ? out->at("logits") : Tensor();
  }
  static SessionOptions cpu(const std::string& precision) {
    SessionOptions so;
    so.backend = "cpu";
    so.optimize = true;
    so.precision = precision;
    return so;
  }

  static inline std::string skip_reason_, setup_error_;
  static inline fs::path dir_;
  static inline QdqSummary summary_;
};

TEST_F(QuantQdq, WritesACheckedQdqModelThatHwoptRunsOnInt8Kernels) {
  EXPECT_EQ(summary_.quantized_nodes, 4) << "the 2 convolutions and 2 Gemms";
  EXPECT_TRUE(summary_.per_channel);
  EXPECT_TRUE(summary_.skipped.empty());
  if (std::system("/usr/bin/python3 -c 'import onnx' > /dev/null 2>&1") == 0) {
    const std::string check = "/usr/bin/python3 -c \"import onnx, sys; onnx.checker.check_model(sys.argv[1], "
                              "full_check=True)\" " + quoted(qdq_model());
    EXPECT_EQ(std::system(check.c_str()), 0) << "onnx.checker refused " << qdq_model();
  } else {
    std::cout << "note: onnx.checker not run: /usr/bin/python3 has no onnx (Debian package python3-onnx)\n";
  }

  std::vector<std::string> plan;
  const Tensor int8 = run(qdq_model(), cpu("int8"), &plan);  // no activation_ranges: the model's own
  const Tensor fp32 = run(kModel, cpu("fp32"));
  const Tensor simulated = run(qdq_model(), cpu("fp32"));  // the QDQ model as written, Q/DQ run in float
  ASSERT_TRUE(int8.defined() && fp32.defined() && simulated.defined());
  size_t int8_steps = 0;
  for (const auto& line : plan) int8_steps += line.find("[int8(") != std::string::npos;
  EXPECT_EQ(int8_steps, 4u) << "expected the 2 convolutions and 2 Gemms in int8";
  ASSERT_EQ(int8.shape(), (Shape{kTestImages, 10}));
  const double vs_fp32 = agreement(top1(int8), top1(fp32));
  const double vs_simulated = agreement(top1(int8), top1(simulated));
  std::cout << "hwopt int8 (QDQ model) vs FP32 model: top-1 agreement " << vs_fp32 << ", max abs logit diff "
            << max_abs_diff(int8, fp32) << "\nhwopt int8 vs the QDQ model's own fp32 simulation: top-1 agreement "
            << vs_simulated << ", max abs logit diff " << max_abs_diff(int8, simulated) << "\n";
  EXPECT_GE(vs_fp32, kMinAgreement);
  EXPECT_GE(vs_simulated, kMinAgreement);
}

TEST_F(QuantQdq, OnnxRuntimeRunsTheQdqModelLikeHwopt) {
  if (std::system("command -v node > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "node not found (Debian package nodejs; scripts/setup.sh installs it)";
  if (!fs::exists(kRoot / "node_modules/onnxruntime-node/package.json"))
    GTEST_SKIP() << "node_modules/onnxruntime-node not found (npm install --ignore-scripts in " << kRoot.string()
                 << "; scripts/setup.sh does it)";
  const fs::path out = dir_ / "ort";
  const std::string cmd = "cd " + quoted(kRoot) + " && node scripts/ort_run.js " + quoted(qdq_model()) +
                          " --input input=" + quoted(images()) + " --output-dir " + quoted(out);
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto ort = read_npy((out / "logits.npy").string());
  ASSERT_TRUE(ort.ok()) << ort.status().to_string();
  const Tensor int8 = run(qdq_model(), cpu("int8"));
  const Tensor fp32 = run(kModel, cpu("fp32"));
  ASSERT_TRUE(int8.defined() && fp32.defined());
  ASSERT_EQ(ort->shape(), int8.shape());
  const double vs_hwopt = agreement(top1(*ort), top1(int8));
  std::cout << "ONNX Runtime (QDQ model) vs hwopt int8 (QDQ model): top-1 agreement " << vs_hwopt
            << ", max abs logit diff " << max_abs_diff(*ort, int8) << "\nONNX Runtime (QDQ model) vs hwopt FP32 model: "
            << "top-1 agreement " << agreement(top1(*ort), top1(fp32)) << ", max abs logit diff "
            << max_abs_diff(*ort, fp32) << "\n";
  EXPECT_GE(vs_hwopt, kMinAgreement);
  EXPECT_GE(agreement(top1(*ort), top1(fp32)), kMinAgreement);
}

}  // namespace
}  // namespace hwopt::quant
