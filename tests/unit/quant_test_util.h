// What the INT8 session tests on small built models share: random input batches and the check
// that an INT8 session stays close to the FP32 one.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../malformed/model_builder.h"
#include "hwopt/session.h"
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
