#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::run_ref_op;

void expect_outputs(const testing::OpResult& r, const Shape& y_shape, const std::vector<double>& y,
                    const std::vector<double>& indices, const std::vector<double>& inverse,
                    const std::vector<double>& counts) {
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), y_shape, y, 0, 0);
  testing::expect_tensor_near(r.out(1), {(int64_t)indices.size()}, indices, 0, 0);
  testing::expect_tensor_near(r.out(2), {(int64_t)inverse.size()}, inverse, 0, 0);
  testing::expect_tensor_near(r.out(3), {(int64_t)counts.size()}, counts, 0, 0);
  EXPECT_EQ(r.out(1).dtype(), DType::int64);
}

TEST(RefUnique, FlatSortedAndUnsorted) {
  Tensor x = Tensor::from_vector<float>({6}, {2, 1, 1, 3, 4, 3});
  auto r = run_ref_op("Unique", {x}, {attr_i("sorted", 0)}, 11, 4);
  expect_outputs(r, {4}, {2, 1, 3, 4}, {0, 1, 3, 4}, {0, 1, 1, 2, 3, 2}, {1, 2, 2, 1});
  r = run_ref_op("Unique", {x}, {}, 11, 4);
  expect_outputs(r, {4}, {1, 2, 3, 4}, {1, 0, 3, 4}, {1, 0, 0, 2, 3, 2}, {2, 1, 2, 1});
  // Without axis the input is flattened.
  Tensor m = Tensor::from_vector<int64_t>({2, 2}, {1, 3, 2, 3});
  r = run_ref_op("Unique", {m}, {}, 11, 4);
  expect_outputs(r, {3}, {1, 2, 3}, {0, 2, 1}, {0, 2, 1, 2}, {1, 1, 2});
}

TEST(RefUnique, WithAxis) {
  Tensor x = Tensor::from_vector<float>({3, 3}, {1, 0, 0, 1, 0, 0, 2, 3, 4});
  auto r = run_ref_op("Unique", {x}, {attr_i("axis", 0)}, 11, 4);
  expect_outputs(r, {2, 3}, {1, 0, 0, 2, 3, 4}, {0, 2}, {0, 0, 1}, {2, 1});
  // Columns of [[1, 0, 1], [2, 5, 2]]: (1,2), (0,5), (1,2).
  Tensor c = Tensor::from_vector<int32_t>({2, 3}, {1, 0, 1, 2, 5, 2});
  r = run_ref_op("Unique", {c}, {attr_i("axis", -1)}, 11, 4);
  expect_outputs(r, {2, 2}, {0, 1, 5, 2}, {1, 0}, {1, 0, 1}, {1, 2});
  r = run_ref_op("Unique", {c}, {attr_i("axis", 1), attr_i("sorted", 0)}, 11, 4);
  expect_outputs(r, {2, 2}, {1, 0, 2, 5}, {0, 1}, {0, 1, 0}, {2, 1});
  // 3-D along the middle axis.
  Tensor t = Tensor::from_vector<float>({2, 4, 2}, {1, 1, 0, 1, 2, 1, 0, 1, 1, 1, 0, 1, 2, 1, 0, 1});
  r = run_ref_op("Unique", {t}, {attr_i("axis", 1)}, 11, 4);
  expect_outputs(r, {2, 3, 2}, {0, 1, 1, 1, 2, 1, 0, 1, 1, 1, 2, 1}, {1, 0, 2}, {1, 0, 2, 0}, {2, 1, 1});
}

TEST(RefUnique, StringsAndOptionalOutputs) {
  Tensor s = Tensor::from_vector<std::string>({5}, {"pear", "apple", "pear", "fig", "apple"});
  auto r = run_ref_op("Unique", {s}, {}, 11, 1);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const Tensor& y = r.out(0);
  ASSERT_EQ(y.shape(), (Shape{3}));
  EXPECT_EQ(y.data<std::string>()[0], "apple");
  EXPECT_EQ(y.data<std::string>()[1], "fig");
  EXPECT_EQ(y.data<std::string>()[2], "pear");
  r = run_ref_op("Unique", {Tensor(DType::float32, {0})}, {}, 11, 4);
  expect_outputs(r, {0}, {}, {}, {}, {});
}

TEST(RefUnique, BadAxis) {
  Tensor x = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  auto r = run_ref_op("Unique", {x}, {attr_i("axis", 2)}, 11, 4);
  EXPECT_NE(r.error.find("'axis' = 2 is out of range"), std::string::npos) << r.error;
  r = run_ref_op("Unique", {Tensor::scalar<float>(1)}, {attr_i("axis", 0)}, 11, 4);
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace hwopt
