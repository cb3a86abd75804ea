#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::run_ref_op;

Tensor i64(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

TEST(RefExpand, BidirectionalBroadcast) {
  Tensor x = Tensor::from_vector<float>({3, 1}, {1.5f, -2.0f, 3.25f});
  auto a = run_ref_op("Expand", {x, i64({2, 1, 4})}, {}, 13);
  ASSERT_TRUE(a.error.empty()) << a.error;
  std::vector<double> e;
  for (int rep = 0; rep < 2; ++rep)
    for (double v : {1.5, -2.0, 3.25})
      for (int k = 0; k < 4; ++k) e.push_back(v);
  testing::expect_tensor_near(a.out(), {2, 3, 4}, e);
  // A shape dim of 1 keeps the input dim; a shorter shape is right-aligned.
  auto b = run_ref_op("Expand", {x, i64({1, 1})}, {}, 8);
  ASSERT_TRUE(b.error.empty()) << b.error;
  testing::expect_tensor_near(b.out(), {3, 1}, {1.5, -2.0, 3.25});
  Tensor row = Tensor::from_vector<int32_t>({3}, {4, 5, 6});
  auto c = run_ref_op("Expand", {row, i64({2, 1})}, {}, 13);
  ASSERT_TRUE(c.error.empty()) << c.error;
  testing::expect_tensor_near(c.out(), {2, 3}, {4, 5, 6, 4, 5, 6});
  auto z = run_ref_op("Expand", {x, i64({0, 3, 2})}, {}, 13);
  ASSERT_TRUE(z.error.empty()) << z.error;
  EXPECT_EQ(z.out().shape(), (Shape{0, 3, 2}));
}

TEST(RefExpand, BadShapesAreErrors) {
  Tensor x = Tensor::from_vector<float>({3, 1}, {1, 2, 3});
  EXPECT_NE(run_ref_op("Expand", {x, i64({2, 4})}, {}, 13).error.find("cannot be broadcast"), std::string::npos);
  EXPECT_NE(run_ref_op("Expand", {x, i64({-1, 1})}, {}, 13).error.find("negative"), std::string::npos);
  auto huge = run_ref_op("Expand", {x, i64({int64_t{1} << 40, int64_t{1} << 40, 1})}, {}, 13);
  EXPECT_FALSE(huge.error.empty());
}

}  // namespace
}  // namespace hwopt
