// Real pretrained models (models/real) run end to end and match ONNX Runtime 1.30's outputs
// stored in tests/e2e/data by scripts/make_ort_reference.sh, within rtol 1e-3 / atol 1e-4.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "hwopt/session.h"

#ifndef HWOPT_SOURCE_DIR
#error "HWOPT_SOURCE_DIR must be defined"
#endif

namespace hwopt {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot = HWOPT_SOURCE_DIR;

class RealModel : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(RealModel, MatchesOnnxRuntime) {
  const auto& [model_name, backend] = GetParam();
  const fs::path dir = kRoot / "tests/e2e/data" / model_name;
  std::ifstream mf(dir / "manifest.json");
  ASSERT_TRUE(mf) << "missing manifest in " << dir;
  auto manifest = nlohmann::json::parse(mf);
  SessionOptions options;
  options.backend = backend;
  auto session = Session::load((kRoot / manifest["model"].get<std::string>()).string(), options);
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  std::map<std::string, Tensor> inputs;
  for (const auto& in : manifest["inputs"]) {
    auto t = read_npy((dir / in["file"].get<std::string>()).string());
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    inputs[in["name"].get<std::string>()] = std::move(t).value();
  }
  auto outs = session.value()->run(inputs);
  ASSERT_TRUE(outs.ok()) << outs.status().to_string();
  for (const auto& out : manifest["outputs"]) {
    const std::string name = out["name"];
    auto want = read_npy((dir / out["file"].get<std::string>()).string());
    ASSERT_TRUE(want.ok()) << want.status().to_string();
    ASSERT_TRUE(outs->count(name)) << "no output " << name;
    const Tensor& got = outs->at(name);
    ASSERT_EQ(got.dtype(), want->dtype()) << name;
    ASSERT_EQ(got.shape(), want->shape()) << name;
    double worst = 0;
    int64_t bad = 0;
    for (int64_t i = 0; i < got.numel(); ++i) {
      double g = got.element_as_double(i), w = want->element_as_double(i);
      double err = std::fabs(g - w);
      worst = std::max(worst, err);
      if (!(err <= 1e-4 + 1e-3 * std::fabs(w))) ++bad;
    }
    EXPECT_EQ(bad, 0) << name << ": " << bad << " of " << got.numel() << " elements outside rtol 1e-3 / atol 1e-4 (max abs diff " << worst << ")";
  }
  // Classifier check on real Fashion-MNIST images: top-1 equals ORT's and the labels.
  if (manifest.contains("extra") && manifest["extra"].contains("ort_top1")) {
    const Tensor& logits = outs->begin()->second;
    auto ort_top1 = manifest["extra"]["ort_top1"].get<std::vector<int64_t>>();
    for (int64_t b = 0; b < logits.dim(0); ++b) {
      int64_t best = 0;
      for (int64_t k = 1; k < logits.dim(1); ++k)
        if (logits.element_as_double(b * logits.dim(1) + k) > logits.element_as_double(b * logits.dim(1) + best)) best = k;
      EXPECT_EQ(best, ort_top1[b]) << "image " << b;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, RealModel,
    ::testing::Combine(::testing::Values("fmnist_cnn", "nsfwjs_mobilenet_v2", "blazeface_front_128", "ppocrv4_det",
                                         "ppocrv4_rec", "ppocr_mobile_v2_cls", "silero_vad_v5"),
                       ::testing::Values("reference", "cpu")),
    [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

}  // namespace
}  // namespace hwopt
