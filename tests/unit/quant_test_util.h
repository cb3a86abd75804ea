// What the INT8 session tests on small built models share: random input batches and the check
// that an INT8 session stays close to the FP32 one.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../malformed/model_builder.h"
#include "hwopt/session.h"
#include "quant/calibrate.h"
#include "quant/dataset.h"

namespace hwopt::test {

/// `count` batches of input `name` with N(0, 1) values of `shape` (seeds 100, 101, ...).
inline std::vector<quant::Batch> normal_batches(const std::string& name, const Shape& shape, uint32_t count) {
  std::vector<quant::Batch> batches;
  for (uint32_t s = 0; s < count; ++s) {
    Tensor x(DType::float32, shape);
    auto v = normal_values(static_cast<size_t>(x.numel()), 100 + s, 1.f);
    std::copy(v.begin(), v.end(), x.data<float>());
    batches.push_back({{name, x}});
  }
  return batches;
}

/// An FP32 session of the model at `path` (cpu backend, optimized) and an INT8 one calibrated on
/// `batches` (MinMax); `table` holds the ranges. ok() is false with the reason in `error`.
struct Int8Pair {
  std::unique_ptr<Session> fp32, int8;
  std::map<std::string, ActivationRange> table;
  std::string error;
  bool ok() const { return fp32 && int8; }
};
inline Int8Pair calibrated_int8_pair(const std::string& path, const std::vector<quant::Batch>& batches) {
  Int8Pair p;
  SessionOptions fp32;
  fp32.backend = "cpu";
  fp32.optimize = true;
  auto table = quant::calibrate(path, fp32, batches, {});
  if (!table.ok()) {
    p.error = "calibration: " + table.status().to_string();
    return p;
  }
  p.table = *table;
  SessionOptions int8 = fp32;
  int8.precision = "int8";
  int8.activation_ranges = p.table;
  auto ref = Session::load(path, fp32);
  auto cand = Session::load(path, int8);
  if (!ref.ok() || !cand.ok()) {
    p.error = (ref.ok() ? cand.status() : ref.status()).to_string();
    return p;
  }
  p.fp32 = std::move(ref).value();
  p.int8 = std::move(cand).value();
  return p;
}

/// Output `output` of `cand` within 5 % of the largest FP32 magnitude of `ref` everywhere, and
/// cosine similarity above 0.999, on every batch.
inline void expect_int8_close_to_fp32(const Session& ref, const Session& cand, const std::vector<quant::Batch>& batches,
                                      const std::string& output) {
  for (const auto& b : batches) {
    auto want = ref.run(b);
    auto got = cand.run(b);
    ASSERT_TRUE(want.ok() && got.ok());
    const Tensor& w = want->at(output);
    const Tensor& o = got->at(output);
    double max_ref = 0, max_err = 0, dot = 0, nw = 0, no = 0;
    for (int64_t i = 0; i < w.numel(); ++i) {
      const double a = w.data<float>()[i], c = o.data<float>()[i];
      max_ref = std::max(max_ref, std::fabs(a));
      max_err = std::max(max_err, std::fabs(a - c));
      dot += a * c;
      nw += a * a;
      no += c * c;
    }
    EXPECT_LT(max_err, 0.05 * max_ref);
    EXPECT_GT(dot / std::sqrt(nw * no), 0.999);
  }
}

}  // namespace hwopt::test
