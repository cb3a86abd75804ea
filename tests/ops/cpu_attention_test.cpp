// The CPU backend's ScaledDotProductAttention against the reference kernel.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

Tensor random_tensor(const Shape& shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t(DType::float32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) {
    float v = dist(rng);
    t.data<float>()[i] = v == 0.f ? 0.5f : v;
  }
  return t;
}

void check_sdpa(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, float scale, bool kt) {
  SCOPED_TRACE(::testing::Message() << "Q " << shape_str(q.shape()) << " K " << shape_str(k.shape()) << " V "
                                    << shape_str(v.shape()) << " mask "
                                    << (mask.defined() ? shape_str(mask.shape()) : "none") << " k_transposed " << kt
                                    << " threads " << omp_get_max_threads());
  std::vector<ir::Attribute> attrs = {testing::attr_f("scale", scale), testing::attr_i("k_transposed", kt)};
  std::vector<Tensor> inputs = {q, k, v};
  if (mask.defined()) inputs.push_back(mask);
  auto ref = testing::run_ref_op("ScaledDotProductAttention", inputs, attrs, 1, 1, "ai.hwopt");
  auto cpu = testing::run_backend_op("cpu", "ScaledDotProductAttention", inputs, attrs, 1, 1, "ai.hwopt");
  EXPECT_EQ(cpu.implementation, "cpu:onednn:attention");
  ASSERT_TRUE(ref.error.empty()) << ref.error;
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  std::vector<double> want;
  for (int64_t i = 0; i < ref.out().numel(); ++i) want.push_back(ref.out().element_as_double(i));
  testing::expect_tensor_near(cpu.out(), ref.out().shape(), want, 1e-4, 1e-4);
}

struct SdpaCase {
  int64_t B, H, S, Skv, D, Dv;
  Shape mask;  // empty with has_mask=false: no mask
  bool has_mask;
  int64_t kv_heads = 0;  // K/V head count when it differs from H (1: shared by all heads)
};

const std::vector<SdpaCase> kCases = {
    {1, 1, 1, 1, 1, 1, {}, false},
    {1, 2, 5, 7, 4, 3, {}, false},
    {2, 3, 17, 17, 8, 8, {2, 1, 1, 17}, true},   // BERT padding mask
    {2, 3, 17, 13, 8, 5, {17, 13}, true},        // one mask for all heads
    {2, 3, 9, 11, 6, 6, {2, 3, 9, 11}, true},    // full mask
    {1, 4, 7, 7, 5, 5, {1, 1, 7, 1}, true},      // per-row mask
    {2, 2, 6, 6, 4, 4, {1}, true},               // scalar mask
    {1, 1, 33, 29, 16, 8, {33, 29}, true},       // one head: heads in turn, primitives threaded
    {2, 4, 8, 10, 4, 4, {2, 1, 8, 10}, true, 1}, // K/V shared by all heads
    {1, 12, 64, 64, 64, 64, {1, 1, 1, 64}, true},  // BERT-base head geometry
};

/// Calls f(q, k, v, mask, scale, k_transposed) with random operands for every case, K both ways.
template <typename F>
void for_each_case(uint32_t seed, F&& f) {
  for (const auto& c : kCases)
    for (bool kt : {false, true}) {
      const int64_t kvh = c.kv_heads ? c.kv_heads : c.H;
      Tensor q = random_tensor({c.B, c.H, c.S, c.D}, seed++);
      Tensor k = random_tensor(kt ? Shape{c.B, kvh, c.D, c.Skv} : Shape{c.B, kvh, c.Skv, c.D}, seed++);
      Tensor v = random_tensor({c.B, kvh, c.Skv, c.Dv}, seed++);
      Tensor mask = c.has_mask ? random_tensor(c.mask, seed++, -3.f, 0.f) : Tensor();
      f(q, k, v, mask, 1.f / std::sqrt(static_cast<float>(c.D)), kt);
    }
}

void run_cases(uint32_t seed) { for_each_case(seed, check_sdpa); }

TEST(CpuAttention, MatchesReference) { run_cases(1); }

// Precision bf16: both products in BF16 with FP32 accumulation, the softmax in FP32; within BF16's
// rounding of the reference (8 mantissa bits on Q, K, V and the probabilities).
TEST(CpuAttention, Bf16MatchesReferenceWithinItsRounding) {
  for_each_case(500, [](const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, float scale, bool kt) {
    std::vector<Tensor> inputs = {q, k, v};
    if (mask.defined()) inputs.push_back(mask);
    const std::vector<ir::Attribute> attrs = {testing::attr_f("scale", scale), testing::attr_i("k_transposed", kt)};
    const std::string what = "bf16 Q " + shape_str(q.shape()) + (kt ? " K^T" : "");
    auto ref = testing::run_ref_op("ScaledDotProductAttention", inputs, attrs, 1, 1, "ai.hwopt");
    auto cpu =
        testing::run_backend_op("cpu", "ScaledDotProductAttention", inputs, attrs, 1, 1, "ai.hwopt", {}, 2, "bf16");
    ASSERT_TRUE(ref.error.empty()) << ref.error;
    ASSERT_TRUE(cpu.error.empty()) << cpu.error;
    EXPECT_EQ(cpu.implementation, "cpu:onednn:attention[bf16(->f32)]") << what;
    testing::expect_within_precision(cpu.out(), ref.out(), 0.02, testing::max_abs(ref.out()), 0.999, what);
    // BF16 arithmetic really ran (a fallback to the FP32 reference would match it exactly).
    double max_err = 0;
    for (int64_t i = 0; i < ref.out().numel(); ++i)
      max_err = std::max(max_err, std::fabs(cpu.out().element_as_double(i) - ref.out().element_as_double(i)));
    EXPECT_GT(max_err, 0.0) << what;
  });
}

TEST(CpuAttention, MatchesReferenceOnOneThread) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  run_cases(1000);
  omp_set_num_threads(saved);
}

TEST(CpuAttention, StridedViewsMatchReference) {
  // Q, K, V as [B, S, H, D] projections viewed as [B, H, S, D] (and K^T as [B, H, D, S]).
  const int64_t B = 2, S = 11, H = 3, D = 8;
  Tensor q = random_tensor({B, S, H, D}, 1).permute({0, 2, 1, 3});
  Tensor k = random_tensor({B, S, H, D}, 2).permute({0, 2, 1, 3});
  Tensor kt = random_tensor({B, S, H, D}, 3).permute({0, 2, 3, 1});
  Tensor v = random_tensor({B, S, H, D}, 4).permute({0, 2, 1, 3});
  Tensor mask = random_tensor({B, 1, 1, S}, 5, -5.f, 0.f);
  check_sdpa(q, k, v, mask, 0.3f, false);
  check_sdpa(q, kt, v, mask, 0.3f, true);
  check_sdpa(q, k, v, Tensor(), 1.f, false);
}

TEST(CpuAttention, LargeMaskValuesMatchReference) {
  // -10000 on padded positions, as BERT's extended attention mask has.
  const int64_t B = 2, H = 2, S = 16, D = 8;
  Tensor mask(DType::float32, {B, 1, 1, S});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) mask.data<float>()[b * S + s] = s < S - 5 * b - 2 ? 0.f : -10000.f;
  check_sdpa(random_tensor({B, H, S, D}, 1, -4.f, 4.f), random_tensor({B, H, S, D}, 2, -4.f, 4.f),
             random_tensor({B, H, S, D}, 3), mask, 0.35f, false);
}

TEST(CpuAttention, ShapeErrorsComeFromTheReference) {
  auto cpu = testing::run_backend_op(
      "cpu", "ScaledDotProductAttention",
      {random_tensor({1, 2, 4, 8}, 1), random_tensor({1, 2, 4, 6}, 2), random_tensor({1, 2, 4, 8}, 3)}, {}, 1, 1,
      "ai.hwopt");
  EXPECT_EQ(cpu.implementation, "cpu:onednn:attention");
  EXPECT_NE(cpu.error.find("head size"), std::string::npos) << cpu.error;
}

TEST(CpuAttention, DeclinesWithReasons) {
  Tensor d = Tensor::from_vector<double>({1, 1, 2, 2}, {1, 2, 3, 4});
  auto cpu = testing::run_backend_op("cpu", "ScaledDotProductAttention", {d, d, d}, {}, 1, 1, "ai.hwopt");
  EXPECT_EQ(cpu.implementation, "ref:ScaledDotProductAttention");
  ASSERT_FALSE(cpu.declined.empty());
  EXPECT_NE(cpu.declined[0].find("not known to be float32"), std::string::npos);
  Tensor r3 = random_tensor({2, 3, 4}, 1);
  auto rank = testing::run_backend_op("cpu", "ScaledDotProductAttention", {r3, r3, r3}, {}, 1, 1, "ai.hwopt");
  EXPECT_EQ(rank.implementation, "ref:ScaledDotProductAttention");
  ASSERT_FALSE(rank.declined.empty());
  EXPECT_NE(rank.declined[0].find("rank 3"), std::string::npos);
}

}  // namespace
}  // namespace hwopt
