#include <climits>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_ints;
using testing::run_ref_op;

Tensor i64(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

Tensor arange(const Shape& s) {
  std::vector<float> v(static_cast<size_t>(shape_numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i + 1);
  return Tensor::from_vector<float>(s, v);
}

TEST(RefSlice, OneDimensionalClampingLikeNumpy) {
  Tensor x = arange({10});  // 1..10
  struct Case {
    int64_t start, end, step;
    std::vector<double> expected;  // from numpy a[start:end:step]
  };
  std::vector<Case> cases = {
      {2, 8, 1, {3, 4, 5, 6, 7, 8}},
      {-1, -11, -1, {10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
      {20, -100, -3, {10, 7, 4, 1}},
      {0, INT64_MAX, 4, {1, 5, 9}},
      {INT64_MIN, 5, 1, {1, 2, 3, 4, 5}},
      {5, 2, 1, {}},
      {-3, INT64_MAX, 1, {8, 9, 10}},
      {8, INT64_MIN, -2, {9, 7, 5, 3, 1}},
      {1000, 1000, 1, {}},
      {3, 4, INT64_MAX, {4}},
      {9, 0, INT64_MIN, {10}},
  };
  for (const Case& c : cases) {
    auto r = run_ref_op("Slice", {x, i64({c.start}), i64({c.end}), i64({0}), i64({c.step})}, {}, 13);
    ASSERT_TRUE(r.error.empty()) << r.error;
    testing::expect_tensor_near(r.out(), {static_cast<int64_t>(c.expected.size())}, c.expected);
  }
}

TEST(RefSlice, MultiAxisNegativeStepsAndAxes) {
  Tensor x = arange({3, 4});
  auto a = run_ref_op("Slice", {x, i64({2, 0}), i64({0, 100}), i64({0, 1}), i64({-1, 2})}, {}, 13);
  ASSERT_TRUE(a.error.empty()) << a.error;
  testing::expect_tensor_near(a.out(), {2, 2}, {9, 11, 5, 7});
  auto b = run_ref_op("Slice", {x, i64({-1}), i64({-5}), i64({-1}), i64({-2})}, {}, 13);
  ASSERT_TRUE(b.error.empty()) << b.error;
  testing::expect_tensor_near(b.out(), {3, 2}, {4, 2, 8, 6, 12, 10});
  // int32 starts/ends, default axes and steps (opset 10 inputs).
  Tensor s32 = Tensor::from_vector<int32_t>({2}, {0, 1});
  Tensor e32 = Tensor::from_vector<int32_t>({2}, {2, 1000});
  auto c = run_ref_op("Slice", {x, s32, e32}, {}, 10);
  ASSERT_TRUE(c.error.empty()) << c.error;
  testing::expect_tensor_near(c.out(), {2, 3}, {2, 3, 4, 6, 7, 8});
}

TEST(RefSlice, Opset1Attributes) {
  Tensor x = arange({3, 4});
  auto r = run_ref_op("Slice", {x}, {attr_ints("starts", {0, 1}), attr_ints("ends", {2, 1000})}, 1);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3}, {2, 3, 4, 6, 7, 8});
  auto a = run_ref_op("Slice", {x}, {attr_ints("starts", {1}), attr_ints("ends", {-1}), attr_ints("axes", {1})}, 9);
  ASSERT_TRUE(a.error.empty()) << a.error;
  testing::expect_tensor_near(a.out(), {3, 2}, {2, 3, 6, 7, 10, 11});
}

TEST(RefSlice, BadArgumentsAreErrors) {
  Tensor x = arange({3, 4});
  EXPECT_NE(run_ref_op("Slice", {x, i64({0}), i64({2}), i64({0}), i64({0})}, {}, 13).error.find("must not be 0"),
            std::string::npos);
  EXPECT_NE(run_ref_op("Slice", {x, i64({0, 0}), i64({2, 2}), i64({1, -1})}, {}, 13).error.find("more than once"),
            std::string::npos);
  EXPECT_NE(run_ref_op("Slice", {x, i64({0}), i64({2}), i64({2})}, {}, 13).error.find("out of range"),
            std::string::npos);
  EXPECT_NE(run_ref_op("Slice", {x, i64({0, 0}), i64({2})}, {}, 13).error.find("'ends' has 1"), std::string::npos);
}

}  // namespace
}  // namespace hwopt
