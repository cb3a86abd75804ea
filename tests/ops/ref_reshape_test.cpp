#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::attr_ints;
using testing::run_ref_op;

std::vector<double> random_values(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(0.5f, 4.0f);
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i) v.push_back((i % 2 ? -1.0 : 1.0) * d(rng));
  return v;
}

Tensor float_tensor(const Shape& s, const std::vector<double>& v) {
  std::vector<float> f(v.begin(), v.end());
  return Tensor::from_vector<float>(s, f);
}

Tensor i64(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

TEST(RefReshape, ZeroAndMinusOne) {
  auto v = random_values(24, 1);
  Tensor x = float_tensor({2, 3, 4}, v);
  struct Case {
    std::vector<int64_t> shape;
    Shape expected;
  };
  for (const Case& c : std::vector<Case>{{{2, 0, -1}, {2, 3, 4}},
                                         {{-1, 4}, {6, 4}},
                                         {{0, 0, 2, 2}, {2, 3, 2, 2}},
                                         {{24}, {24}},
                                         {{4, -1, 3}, {4, 2, 3}}}) {
    auto r = run_ref_op("Reshape", {x, i64(c.shape)}, {}, 14);
    ASSERT_TRUE(r.error.empty()) << r.error;
    testing::expect_tensor_near(r.out(), c.expected, v);
  }
}

TEST(RefReshape, AllowZeroKeepsZeroDims) {
  Tensor x(DType::float32, {0, 3, 4});
  auto r = run_ref_op("Reshape", {x, i64({3, 4, 0})}, {attr_i("allowzero", 1)}, 14);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().shape(), (Shape{3, 4, 0}));
  // Without allowzero, 0 copies the input dim: [3, 4, 0] -> dim 2 copies 4 -> 48 elements: mismatch.
  auto bad = run_ref_op("Reshape", {x, i64({3, 4, 0})}, {}, 14);
  EXPECT_NE(bad.error.find("cannot reshape"), std::string::npos) << bad.error;
  auto both = run_ref_op("Reshape", {x, i64({0, -1})}, {attr_i("allowzero", 1)}, 14);
  EXPECT_NE(both.error.find("allowzero"), std::string::npos) << both.error;
}

TEST(RefReshape, ShapeAttributeBeforeOpset5AndViews) {
  auto v = random_values(6, 2);
  Tensor x = float_tensor({2, 3}, v);
  auto r = run_ref_op("Reshape", {x}, {attr_ints("shape", {3, -1})}, 4);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 2}, v);
  // A non-contiguous input (transposed view) is reshaped in its logical order.
  Tensor t = x.permute({1, 0});
  auto rt = run_ref_op("Reshape", {t, i64({6})}, {}, 13);
  ASSERT_TRUE(rt.error.empty()) << rt.error;
  testing::expect_tensor_near(rt.out(), {6}, {v[0], v[3], v[1], v[4], v[2], v[5]});
}

TEST(RefReshape, BadShapesAreErrors) {
  Tensor x = float_tensor({2, 3}, random_values(6, 3));
  EXPECT_NE(run_ref_op("Reshape", {x, i64({4, 2})}, {}, 13).error.find("cannot reshape"), std::string::npos);
  EXPECT_NE(run_ref_op("Reshape", {x, i64({-1, -1})}, {}, 13).error.find("more than one -1"), std::string::npos);
  EXPECT_NE(run_ref_op("Reshape", {x, i64({-2, 3})}, {}, 13).error.find("-2"), std::string::npos);
  EXPECT_NE(run_ref_op("Reshape", {x, i64({4, -1})}, {}, 13).error.find("cannot reshape"), std::string::npos);
  EXPECT_NE(run_ref_op("Reshape", {x, i64({1, 1, 0})}, {}, 13).error.find("rank 2"), std::string::npos);
}

TEST(RefFlatten, Axes) {
  auto v = random_values(120, 4);
  Tensor x = float_tensor({2, 3, 4, 5}, v);
  struct Case {
    int64_t axis;
    Shape expected;
  };
  for (const Case& c : std::vector<Case>{{0, {1, 120}}, {1, {2, 60}}, {2, {6, 20}}, {4, {120, 1}}, {-1, {24, 5}},
                                         {-4, {1, 120}}}) {
    auto r = run_ref_op("Flatten", {x}, {attr_i("axis", c.axis)}, 13);
    ASSERT_TRUE(r.error.empty()) << r.error;
    testing::expect_tensor_near(r.out(), c.expected, v);
  }
  auto d = run_ref_op("Flatten", {x}, {}, 9);
  ASSERT_TRUE(d.error.empty()) << d.error;
  EXPECT_EQ(d.out().shape(), (Shape{2, 60}));
  EXPECT_NE(run_ref_op("Flatten", {x}, {attr_i("axis", 5)}, 13).error.find("axis"), std::string::npos);
}

TEST(RefSqueeze, AttributeInputAndDefault) {
  auto v = random_values(15, 5);
  Tensor x = float_tensor({1, 3, 1, 5, 1}, v);
  auto a = run_ref_op("Squeeze", {x}, {attr_ints("axes", {0, -1})}, 11);
  ASSERT_TRUE(a.error.empty()) << a.error;
  testing::expect_tensor_near(a.out(), {3, 1, 5}, v);
  auto b = run_ref_op("Squeeze", {x, i64({2})}, {}, 13);
  ASSERT_TRUE(b.error.empty()) << b.error;
  testing::expect_tensor_near(b.out(), {1, 3, 5, 1}, v);
  auto c = run_ref_op("Squeeze", {x}, {}, 13);
  ASSERT_TRUE(c.error.empty()) << c.error;
  testing::expect_tensor_near(c.out(), {3, 5}, v);
  auto bad = run_ref_op("Squeeze", {x, i64({1})}, {}, 13);
  EXPECT_NE(bad.error.find("cannot squeeze axis 1"), std::string::npos) << bad.error;
  EXPECT_NE(run_ref_op("Squeeze", {x, i64({5})}, {}, 13).error.find("out of range"), std::string::npos);
}

TEST(RefUnsqueeze, AttributeAndInput) {
  auto v = random_values(12, 6);
  Tensor x = float_tensor({3, 4}, v);
  auto a = run_ref_op("Unsqueeze", {x}, {attr_ints("axes", {0, 3})}, 11);
  ASSERT_TRUE(a.error.empty()) << a.error;
  testing::expect_tensor_near(a.out(), {1, 3, 4, 1}, v);
  auto b = run_ref_op("Unsqueeze", {x, i64({-1, 1})}, {}, 13);
  ASSERT_TRUE(b.error.empty()) << b.error;
  testing::expect_tensor_near(b.out(), {3, 1, 4, 1}, v);
  auto s = run_ref_op("Unsqueeze", {Tensor::scalar<float>(2.5f), i64({0})}, {}, 13);
  ASSERT_TRUE(s.error.empty()) << s.error;
  testing::expect_tensor_near(s.out(), {1}, {2.5});
  EXPECT_NE(run_ref_op("Unsqueeze", {x, i64({1, 1})}, {}, 13).error.find("more than once"), std::string::npos);
  EXPECT_NE(run_ref_op("Unsqueeze", {x, i64({4})}, {}, 13).error.find("out of range"), std::string::npos);
  EXPECT_NE(run_ref_op("Unsqueeze", {x}, {}, 13).error.find("required"), std::string::npos);
}

}  // namespace
}  // namespace hwopt
