// The CPU backend's oneDNN MatMul / FusedMatMul against the reference kernels.
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::random_tensor;

using testing::expect_same;

void check_matmul(const Tensor& a, const Tensor& b, const std::vector<size_t>& constants) {
  SCOPED_TRACE(::testing::Message() << "A " << shape_str(a.shape()) << " B " << shape_str(b.shape())
                                    << " constants " << constants.size());
  auto ref = testing::run_ref_op("MatMul", {a, b}, {}, 13);
  auto cpu = testing::run_backend_op("cpu", "MatMul", {a, b}, {}, 13, 1, "", constants);
  EXPECT_EQ(cpu.implementation, "cpu:onednn:matmul");
  expect_same(cpu, ref);
}

const std::vector<std::pair<Shape, Shape>> kShapes = {
    {{3, 4}, {4, 5}},
    {{1, 1}, {1, 1}},
    {{7}, {7, 3}},                    // 1-D A
    {{2, 7}, {7}},                    // 1-D B
    {{7}, {7}},                       // dot product: scalar output
    {{2, 3, 5, 4}, {4, 6}},           // rows of A merged, one B
    {{4, 17, 33}, {33, 19}},          // odd sizes
    {{2, 3, 5, 4}, {2, 3, 4, 6}},     // batched
    {{2, 1, 5, 4}, {1, 3, 4, 6}},     // batch broadcast both ways
    {{5, 4}, {2, 3, 4, 6}},           // A broadcast over B's batch
    {{2, 3, 5, 4}, {4}},              // 1-D B on a batch
    {{3, 5, 4}, {1, 4, 6}},           // B batch of one
    {{1, 12, 17, 8}, {1, 12, 8, 17}}, // attention scores
    {{2, 2, 1, 2, 3, 4}, {2, 1, 2, 4, 5}},  // rank 6
};

TEST(CpuMatMul, MatchesReferenceWithRuntimeOperands) {
  uint32_t seed = 1;
  for (const auto& [as, bs] : kShapes) {
    check_matmul(random_tensor(as, seed), random_tensor(bs, seed + 1), {});
    seed += 2;
  }
}

TEST(CpuMatMul, MatchesReferenceWithConstantWeights) {
  uint32_t seed = 100;
  for (const auto& [as, bs] : kShapes) {
    check_matmul(random_tensor(as, seed), random_tensor(bs, seed + 1), {1});
    seed += 2;
  }
}

TEST(CpuMatMul, StridedViewsMatchReference) {
  // [B, S, H, D] viewed as [B, H, S, D], and K^T as a view: the attention MatMuls after
  // Transpose nodes that produced views.
  const int64_t B = 2, S = 9, H = 3, D = 8;
  Tensor q = random_tensor({B, S, H, D}, 1).permute({0, 2, 1, 3});
  Tensor k = random_tensor({B, S, H, D}, 2).permute({0, 2, 3, 1});
  check_matmul(q, k, {});
  // A transposed 2-D view, with constant and runtime weights.
  Tensor a = random_tensor({13, 6}, 3).permute({1, 0});
  Tensor w = random_tensor({13, 11}, 4);
  check_matmul(a, w, {});
  check_matmul(a, w, {1});
  // Runtime weights given as a transposed view.
  check_matmul(random_tensor({4, 6, 13}, 5), random_tensor({11, 13}, 6).permute({1, 0}), {});
  // A with merged rows but a non-contiguous batch: copied first.
  check_matmul(random_tensor({6, 4, 13}, 7).permute({1, 0, 2}), w, {1});
}

TEST(CpuMatMul, FusedMatMulBiasAndActivationsMatchReference) {
  const std::vector<std::vector<ir::Attribute>> acts = {
      {},
      {testing::attr_s("activation", "Relu")},
      {testing::attr_s("activation", "Gelu")},
      {testing::attr_s("activation", "FastGelu")},
      {testing::attr_s("activation", "LeakyRelu"), testing::attr_floats("activation_params", {0.3f})},
      {testing::attr_s("activation", "Clip"), testing::attr_floats("activation_params", {-0.2f, 0.4f})},
      {testing::attr_s("activation", "Sigmoid")},
      {testing::attr_s("activation", "Tanh")},
      {testing::attr_s("activation", "Silu")},
      {testing::attr_s("activation", "Mish")},
      {testing::attr_s("activation", "HardSwish")},
      {testing::attr_s("activation", "HardSigmoid"), testing::attr_floats("activation_params", {0.25f, 0.5f})},
  };
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 9, 24}, {24, 40}},         // BERT-like: [B, S, K] x W [K, N]
      {{5, 7}, {7, 3}},
      {{2, 3, 5, 4}, {2, 3, 4, 6}},   // batched runtime operands
      {{6}, {6, 5}},
  };
  uint32_t seed = 500;
  for (const auto& act : acts)
    for (const auto& [as, bs] : shapes)
      for (bool with_bias : {true, false})
        for (const std::vector<size_t>& constants : {std::vector<size_t>{1, 2}, std::vector<size_t>{}}) {
          SCOPED_TRACE(::testing::Message() << "A " << shape_str(as) << " B " << shape_str(bs) << " bias "
                                            << with_bias << " constants " << constants.size()
                                            << (act.empty() ? "" : " act " + act[0].s));
          seed += 3;
          std::vector<Tensor> inputs = {random_tensor(as, seed), random_tensor(bs, seed + 1)};
          if (with_bias) inputs.push_back(random_tensor({bs.back()}, seed + 2));
          auto ref = testing::run_ref_op("FusedMatMul", inputs, act, 1, 1, "ai.hwopt");
          auto cpu = testing::run_backend_op("cpu", "FusedMatMul", inputs, act, 1, 1, "ai.hwopt", constants);
          EXPECT_EQ(cpu.implementation, "cpu:onednn:matmul");
          expect_same(cpu, ref);
        }
}

// BF16 and INT8 products of constant weights (an inner product) against the FP32 reference;
// the error is judged against the unactivated product's magnitude.
TEST(CpuMatMul, ReducedPrecisionMatchesReference) {
  const std::vector<std::pair<Shape, Shape>> shapes = {{{2, 9, 24}, {24, 40}}, {{5, 70}, {70, 33}}, {{1, 128, 64}, {64, 96}}};
  const std::vector<std::vector<ir::Attribute>> acts = {{}, {testing::attr_s("activation", "Gelu")},
                                                        {testing::attr_s("activation", "Relu")}};
  uint32_t seed = 900;
  for (const std::string precision : {"bf16", "int8", "int8-dynamic"})
    for (const auto& [as, bs] : shapes)
      for (const auto& act : acts)
        for (bool positive : {false, true}) {
          seed += 3;
          Tensor a = random_tensor(as, seed);
          if (positive)
            for (int64_t i = 0; i < a.numel(); ++i) a.data<float>()[i] = std::fabs(a.data<float>()[i]);
          std::vector<Tensor> inputs = {a, random_tensor(bs, seed + 1), random_tensor({bs.back()}, seed + 2)};
          const std::string what = precision + " A " + shape_str(as) + " B " + shape_str(bs) +
                                   (act.empty() ? "" : " " + act[0].s) + (positive ? " u8" : " s8");
          auto ref = testing::run_ref_op("FusedMatMul", inputs, act, 1, 1, "ai.hwopt");
          auto linear = testing::run_ref_op("FusedMatMul", inputs, {}, 1, 1, "ai.hwopt");
          auto cpu = testing::run_backend_op("cpu", "FusedMatMul", inputs, act, 1, 1, "ai.hwopt", {1, 2}, 2, precision,
                                             {{"in0", testing::range_of(a)}});
          ASSERT_TRUE(cpu.error.empty()) << cpu.error;
          const std::string want = precision == "bf16"           ? std::string("cpu:onednn:matmul[bf16(->f32)]")
                                   : precision == "int8-dynamic" ? std::string("cpu:onednn:matmul[int8-dynamic]")
                                                                 : std::string("cpu:onednn:matmul[int8(") +
                                                                       (positive ? "u8" : "s8") + "->f32)]";
          EXPECT_EQ(cpu.implementation, want) << what;
          testing::expect_within_precision(cpu.out(), ref.out(), precision == "bf16" ? 0.01 : 0.03,
                                           testing::max_abs(linear.out()), 0.998, what);
        }
}

TEST(CpuMatMul, ShapeErrorsComeFromTheReference) {
  auto cpu = testing::run_backend_op("cpu", "MatMul", {random_tensor({3, 4}, 1), random_tensor({5, 6}, 2)}, {}, 13);
  EXPECT_EQ(cpu.implementation, "cpu:onednn:matmul");
  EXPECT_NE(cpu.error.find("inner dimensions differ"), std::string::npos) << cpu.error;
  auto bias = testing::run_backend_op("cpu", "FusedMatMul",
                                      {random_tensor({3, 4}, 1), random_tensor({4, 6}, 2), random_tensor({5}, 3)}, {},
                                      1, 1, "ai.hwopt", {1, 2});
  EXPECT_EQ(bias.implementation, "cpu:onednn:matmul");
  EXPECT_NE(bias.error.find("bias must have shape"), std::string::npos) << bias.error;
}

TEST(CpuMatMul, DeclinesWithReasons) {
  Tensor i = Tensor::from_vector<int32_t>({2, 2}, {1, 2, 3, 4});
  auto cpu = testing::run_backend_op("cpu", "MatMul", {i, i}, {}, 13);
  EXPECT_EQ(cpu.implementation, "ref:MatMul");
  ASSERT_FALSE(cpu.declined.empty());
  EXPECT_NE(cpu.declined[0].find("not known to be float32"), std::string::npos);

  auto elu = testing::run_backend_op("cpu", "FusedMatMul", {random_tensor({2, 3}, 1), random_tensor({3, 4}, 2)},
                                     {testing::attr_s("activation", "Elu")}, 1, 1, "ai.hwopt", {1});
  EXPECT_EQ(elu.implementation, "ref:FusedMatMul");
  ASSERT_FALSE(elu.declined.empty());
  EXPECT_NE(elu.declined[0].find("activation 'Elu'"), std::string::npos);
}

}  // namespace
}  // namespace hwopt
