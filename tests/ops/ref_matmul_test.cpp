// Tests for MatMul (broadcast batches, 1-D operands), MatMulInteger and QLinearMatMul.
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::run_ref_op;

std::vector<float> random_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.1f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = (rng() & 1 ? 1.0f : -1.0f) * u(rng);
  return v;
}

TEST(RefMatMul, TwoDimensional) {
  Tensor a = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from_vector<float>({3, 2}, {7, 8, 9, 10, 11, 12});
  auto r = run_ref_op("MatMul", {a, b}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 2}, {58, 64, 139, 154});
}

TEST(RefMatMul, BroadcastBatches) {
  // a [2, 1, 2, 3] x b [3, 3, 2] -> [2, 3, 2, 2]; every (i, j) batch uses a[i] and b[j].
  const auto av = random_values(2 * 2 * 3, 1), bv = random_values(3 * 3 * 2, 2);
  auto r = run_ref_op(
      "MatMul", {Tensor::from_vector<float>({2, 1, 2, 3}, av), Tensor::from_vector<float>({3, 3, 2}, bv)}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  std::vector<double> expected;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int m = 0; m < 2; ++m)
        for (int n = 0; n < 2; ++n) {
          double s = 0;
          for (int k = 0; k < 3; ++k) s += av[(i * 2 + m) * 3 + k] * bv[(j * 3 + k) * 2 + n];
          expected.push_back(s);
        }
  testing::expect_tensor_near(r.out(), {2, 3, 2, 2}, expected);
}

TEST(RefMatMul, OneDimensionalOperands) {
  Tensor v = Tensor::from_vector<float>({3}, {1, 2, 3});
  Tensor m = Tensor::from_vector<float>({2, 3, 2}, {1, 0, 0, 1, 1, 1, 2, 0, 0, 2, 1, -1});
  auto r = run_ref_op("MatMul", {v, m}, {}, 13);  // [3] x [2,3,2] -> [2,2]
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 2}, {4, 5, 5, 1});
  Tensor m2 = Tensor::from_vector<float>({2, 3}, {1, 0, 1, 0, 2, -1});
  r = run_ref_op("MatMul", {m2, v}, {}, 13);  // [2,3] x [3] -> [2]
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2}, {4, 1});
  r = run_ref_op("MatMul", {v, v}, {}, 13);  // dot product -> scalar
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {}, {14});
}

TEST(RefMatMul, IntegerAndHalfTypes) {
  Tensor a = Tensor::from_vector<int32_t>({1, 2}, {3, -4});
  Tensor b = Tensor::from_vector<int32_t>({2, 2}, {5, 6, 7, 8});
  auto r = run_ref_op("MatMul", {a, b}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int32);
  testing::expect_tensor_near(r.out(), {1, 2}, {-13, -14});
  Tensor ah = Tensor::from_vector<Half>({1, 2}, {Half(0.5f), Half(0.25f)});
  Tensor bh = Tensor::from_vector<Half>({2, 1}, {Half(2.0f), Half(4.0f)});
  r = run_ref_op("MatMul", {ah, bh}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float16);
  testing::expect_tensor_near(r.out(), {1, 1}, {2.0});
}

TEST(RefMatMul, RejectsBadShapes) {
  Tensor a = Tensor::from_vector<float>({2, 3}, random_values(6, 3));
  Tensor b = Tensor::from_vector<float>({2, 3}, random_values(6, 4));
  auto r = run_ref_op("MatMul", {a, b}, {}, 13);
  EXPECT_NE(r.error.find("inner dimensions differ"), std::string::npos) << r.error;
  Tensor a3 = Tensor::from_vector<float>({2, 2, 3}, random_values(12, 5));
  Tensor b3 = Tensor::from_vector<float>({3, 3, 2}, random_values(18, 6));
  r = run_ref_op("MatMul", {a3, b3}, {}, 13);
  EXPECT_NE(r.error.find("cannot be broadcast"), std::string::npos) << r.error;
  r = run_ref_op("MatMul", {Tensor::scalar<float>(1.0f), b}, {}, 13);
  EXPECT_NE(r.error.find("rank >= 1"), std::string::npos) << r.error;
}

TEST(RefMatMulInteger, ZeroPoints) {
  Tensor a = Tensor::from_vector<uint8_t>({2, 2}, {11, 7, 3, 255});
  Tensor b = Tensor::from_vector<int8_t>({2, 3}, {1, -2, 3, -128, 5, 127});
  auto r = run_ref_op("MatMulInteger", {a, b}, {}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int32);
  testing::expect_tensor_near(r.out(), {2, 3}, {11 - 896, -22 + 35, 33 + 889, 3 - 32640, -6 + 1275, 9 + 32385});
  // Per-row a_zero_point and per-column b_zero_point.
  Tensor azp = Tensor::from_vector<uint8_t>({2}, {1, 3});
  Tensor bzp = Tensor::from_vector<int8_t>({3}, {1, 0, -1});
  r = run_ref_op("MatMulInteger", {a, b, azp, bzp}, {}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  // rows: (10, 6), (0, 252); columns minus zp: (0, -129), (-2, 5), (4, 128)
  testing::expect_tensor_near(r.out(), {2, 3}, {-774, 10, 808, -32508, 1260, 32256});
  // Batched with a scalar zero point.
  Tensor a3 = Tensor::from_vector<uint8_t>({2, 1, 2}, {1, 2, 3, 4});
  Tensor b2 = Tensor::from_vector<uint8_t>({2, 1}, {10, 20});
  r = run_ref_op("MatMulInteger", {a3, b2, Tensor::scalar<uint8_t>(1)}, {}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 1, 1}, {20, 80});
  Tensor bad = Tensor::from_vector<uint8_t>({3}, {1, 2, 3});
  r = run_ref_op("MatMulInteger", {a, b, bad}, {}, 10);
  EXPECT_NE(r.error.find("a_zero_point"), std::string::npos) << r.error;
  r = run_ref_op("MatMulInteger", {a, b, Tensor(), Tensor::scalar<uint8_t>(1)}, {}, 10);
  EXPECT_NE(r.error.find("b_zero_point has dtype uint8"), std::string::npos) << r.error;
}

TEST(RefQLinearMatMul, Requantizes) {
  // real a = (a - 2) * 0.5, real b = (b - 1) * 0.25, y = round(real / 0.125) + 10.
  Tensor a = Tensor::from_vector<uint8_t>({2, 2}, {4, 3, 2, 6});
  Tensor b = Tensor::from_vector<uint8_t>({2, 2}, {5, 1, 2, 3});
  auto r = run_ref_op("QLinearMatMul",
                      {a, Tensor::scalar<float>(0.5f), Tensor::scalar<uint8_t>(2), b, Tensor::scalar<float>(0.25f),
                       Tensor::scalar<uint8_t>(1), Tensor::scalar<float>(0.125f), Tensor::scalar<uint8_t>(10)},
                      {}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  // int acc = (a-2)(b-1): [[2,1],[0,4]] x [[4,0],[1,2]] = [[9,2],[4,8]]; scale 0.5*0.25/0.125 = 1.
  testing::expect_tensor_near(r.out(), {2, 2}, {19, 12, 14, 18});
  // int8 output with saturation and round-half-to-even (scale 0.5: 9*.5=4.5->4, 2*.5=1, 4*.5=2, 8*.5=4).
  r = run_ref_op("QLinearMatMul",
                 {a, Tensor::scalar<float>(0.5f), Tensor::scalar<uint8_t>(2), b, Tensor::scalar<float>(0.25f),
                  Tensor::scalar<uint8_t>(1), Tensor::scalar<float>(0.25f), Tensor::scalar<int8_t>(125)},
                 {}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int8);
  testing::expect_tensor_near(r.out(), {2, 2}, {127, 126, 127, 127});
  r = run_ref_op(
      "QLinearMatMul",
      {a, Tensor::from_vector<float>({3}, {1, 1, 1}), Tensor::scalar<uint8_t>(2), b, Tensor::scalar<float>(0.25f),
       Tensor::scalar<uint8_t>(1), Tensor::scalar<float>(0.125f), Tensor::scalar<uint8_t>(10)},
      {}, 10);
  EXPECT_NE(r.error.find("a_scale"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
