#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::run_ref_op;

TEST(RefOneHot, DefaultAxisAndNegativeIndices) {
  Tensor indices = Tensor::from_vector<int64_t>({3}, {0, -1, 2});
  Tensor depth = Tensor::scalar<float>(3.0f);
  Tensor values = Tensor::from_vector<float>({2}, {-1, 7});
  auto r = run_ref_op("OneHot", {indices, depth, values}, {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 3}, {7, -1, -1, -1, -1, 7, -1, -1, 7});
  // Opset 9: negative indices are out of range (all off).
  r = run_ref_op("OneHot", {indices, depth, values}, {}, 9);
  testing::expect_tensor_near(r.out(), {3, 3}, {7, -1, -1, -1, -1, -1, -1, -1, 7});
  // Out-of-range indices give all off values.
  Tensor far = Tensor::from_vector<int32_t>({2}, {3, -4});
  r = run_ref_op("OneHot", {far, depth, values}, {}, 11);
  testing::expect_tensor_near(r.out(), {2, 3}, {-1, -1, -1, -1, -1, -1});
}

TEST(RefOneHot, AxisAndTypes) {
  // indices [[1, 2], [0, 1]] (float), depth 3 (int64 1-element), values int32, axis 1.
  Tensor indices = Tensor::from_vector<float>({2, 2}, {1, 2, 0, 1.9f});
  Tensor depth = Tensor::from_vector<int64_t>({1}, {3});
  Tensor values = Tensor::from_vector<int32_t>({2}, {0, 5});
  auto r = run_ref_op("OneHot", {indices, depth, values}, {attr_i("axis", 1)}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int32);
  // out[i][d][j] = 5 if indices[i][j] == d
  testing::expect_tensor_near(r.out(), {2, 3, 2}, {0, 0, 5, 0, 0, 5, 5, 0, 0, 5, 0, 0}, 0, 0);
  r = run_ref_op("OneHot", {indices, depth, values}, {attr_i("axis", -3)}, 11);
  // out[d][i][j]
  testing::expect_tensor_near(r.out(), {3, 2, 2}, {0, 0, 5, 0, 5, 0, 0, 5, 0, 5, 0, 0}, 0, 0);
  Tensor sv = Tensor::from_vector<std::string>({2}, {"off", "on"});
  r = run_ref_op("OneHot", {Tensor::from_vector<uint8_t>({1}, {1}), Tensor::scalar<double>(2.7), sv}, {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.out().shape(), (Shape{1, 2}));
  EXPECT_EQ(r.out().data<std::string>()[0], "off");
  EXPECT_EQ(r.out().data<std::string>()[1], "on");
}

TEST(RefOneHot, BadInput) {
  Tensor indices = Tensor::from_vector<int64_t>({2}, {0, 1});
  Tensor values = Tensor::from_vector<float>({2}, {0, 1});
  auto r = run_ref_op("OneHot", {indices, Tensor::scalar<int64_t>(-2), values}, {}, 11);
  EXPECT_NE(r.error.find("'depth'"), std::string::npos) << r.error;
  r = run_ref_op("OneHot", {indices, Tensor::scalar<int64_t>(2), Tensor::from_vector<float>({3}, {0, 1, 2})}, {}, 11);
  EXPECT_NE(r.error.find("'values' must have shape [2]"), std::string::npos) << r.error;
  r = run_ref_op("OneHot", {indices, Tensor::scalar<int64_t>(2), values}, {attr_i("axis", 2)}, 11);
  EXPECT_NE(r.error.find("'axis' = 2"), std::string::npos) << r.error;
  r = run_ref_op("OneHot", {indices, Tensor::from_vector<int64_t>({2}, {2, 2}), values}, {}, 11);
  EXPECT_NE(r.error.find("exactly one value"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
