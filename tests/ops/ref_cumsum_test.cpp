#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::run_ref_op;

TEST(RefCumSum, OneDimVariants) {
  Tensor x = Tensor::from_vector<double>({5}, {1.5, -2, 3, 4.25, 5});
  Tensor axis = Tensor::scalar<int32_t>(0);
  auto r = run_ref_op("CumSum", {x, axis}, {}, 14);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {5}, {1.5, -0.5, 2.5, 6.75, 11.75});
  r = run_ref_op("CumSum", {x, axis}, {attr_i("exclusive", 1)}, 14);
  testing::expect_tensor_near(r.out(), {5}, {0, 1.5, -0.5, 2.5, 6.75});
  r = run_ref_op("CumSum", {x, axis}, {attr_i("reverse", 1)}, 11);
  testing::expect_tensor_near(r.out(), {5}, {11.75, 10.25, 12.25, 9.25, 5});
  r = run_ref_op("CumSum", {x, axis}, {attr_i("reverse", 1), attr_i("exclusive", 1)}, 11);
  testing::expect_tensor_near(r.out(), {5}, {10.25, 12.25, 9.25, 5, 0});
}

TEST(RefCumSum, TwoDimAxes) {
  // [[1, 2, 3], [4, 5, 6]]
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto r = run_ref_op("CumSum", {x, Tensor::scalar<int64_t>(0)}, {}, 14);
  testing::expect_tensor_near(r.out(), {2, 3}, {1, 2, 3, 5, 7, 9});
  r = run_ref_op("CumSum", {x, Tensor::scalar<int64_t>(1)}, {}, 14);
  testing::expect_tensor_near(r.out(), {2, 3}, {1, 3, 6, 4, 9, 15});
  r = run_ref_op("CumSum", {x, Tensor::from_vector<int64_t>({1}, {-1})}, {attr_i("reverse", 1)}, 14);
  testing::expect_tensor_near(r.out(), {2, 3}, {6, 5, 3, 15, 11, 6});
  // Non-contiguous view: the transpose [[1, 4], [2, 5], [3, 6]].
  r = run_ref_op("CumSum", {x.permute({1, 0}), Tensor::scalar<int32_t>(0)}, {}, 14);
  testing::expect_tensor_near(r.out(), {3, 2}, {1, 4, 3, 9, 6, 15});
}

TEST(RefCumSum, IntegerAndHalf) {
  Tensor x = Tensor::from_vector<int32_t>({4}, {7, -3, 10, -20});
  auto r = run_ref_op("CumSum", {x, Tensor::scalar<int32_t>(0)}, {attr_i("exclusive", 1)}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int32);
  testing::expect_tensor_near(r.out(), {4}, {0, 7, 4, 14}, 0, 0);
  Tensor u = Tensor::from_vector<uint64_t>({3}, {1, 2, 3});
  r = run_ref_op("CumSum", {u, Tensor::scalar<int64_t>(0)}, {}, 11);
  testing::expect_tensor_near(r.out(), {3}, {1, 3, 6}, 0, 0);
  Tensor h = Tensor::from_vector<Half>({3}, {Half(0.5f), Half(1.0f), Half(-2.0f)});
  r = run_ref_op("CumSum", {h, Tensor::scalar<int64_t>(0)}, {}, 14);
  EXPECT_EQ(r.out().dtype(), DType::float16);
  testing::expect_tensor_near(r.out(), {3}, {0.5, 1.5, -0.5});
}

TEST(RefCumSum, BadAxis) {
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto r = run_ref_op("CumSum", {x, Tensor::scalar<int64_t>(2)}, {}, 14);
  EXPECT_NE(r.error.find("'axis' = 2 is out of range"), std::string::npos) << r.error;
  r = run_ref_op("CumSum", {x, Tensor::from_vector<int64_t>({2}, {0, 1})}, {}, 14);
  EXPECT_NE(r.error.find("must be a scalar"), std::string::npos) << r.error;
  r = run_ref_op("CumSum", {x, Tensor::scalar<float>(0)}, {}, 14);
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace hwopt
