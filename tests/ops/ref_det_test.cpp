// Tests for Det: known determinants, batches, singular matrices, float types and bad shapes.
#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::run_ref_op;

TEST(RefDet, KnownValuesAndBatches) {
  auto r = run_ref_op("Det", {Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4})}, {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {}, {-2});
  // Needs a row swap (zero pivot), a singular matrix, a 1x1 and a 3x3 by cofactor expansion.
  r = run_ref_op("Det",
                 {Tensor::from_vector<float>({2, 3, 3}, {0, 2, 1, 3, -1, 2, 1, 1, 4, 1, 2, 3, 2, 4, 6, 0.5f, 7, 1})},
                 {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  // 0*(-4-2) - 2*(12-2) + 1*(3+1) = -16
  testing::expect_tensor_near(r.out(), {2}, {-16, 0});
  r = run_ref_op("Det", {Tensor::from_vector<double>({2, 1, 1, 1}, {3.5, -2})}, {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float64);
  testing::expect_tensor_near(r.out(), {2, 1}, {3.5, -2});
  r = run_ref_op("Det", {Tensor::from_vector<Half>({2, 2}, {Half(2.0f), Half(1.0f), Half(1.0f), Half(3.0f)})}, {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float16);
  testing::expect_tensor_near(r.out(), {}, {5});
  // 4x4 upper-triangular times a permutation: det = -(2*3*4*5).
  r = run_ref_op("Det", {Tensor::from_vector<float>({4, 4}, {0, 3, 1, 1, 2, 1, 1, 1, 0, 0, 4, 1, 0, 0, 0, 5})}, {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {}, {-120}, 1e-4, 1e-6);
}

TEST(RefDet, RejectsNonSquareAndIntegers) {
  auto r = run_ref_op("Det", {Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6})}, {}, 11);
  EXPECT_NE(r.error.find("square"), std::string::npos) << r.error;
  r = run_ref_op("Det", {Tensor::from_vector<float>({3}, {1, 2, 3})}, {}, 11);
  EXPECT_NE(r.error.find("rank >= 2"), std::string::npos) << r.error;
  r = run_ref_op("Det", {Tensor::from_vector<int32_t>({1, 1}, {1})}, {}, 11);
  EXPECT_NE(r.error.find("float"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
