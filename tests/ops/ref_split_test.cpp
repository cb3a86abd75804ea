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
  for (int64_t i = 0; i < n; ++i) v.push_back(d(rng));
  return v;
}

Tensor float_tensor(const Shape& s, const std::vector<double>& v) {
  return Tensor::from_vector<float>(s, std::vector<float>(v.begin(), v.end()));
}

Tensor i64(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

// Columns [c0, c0 + n) of a row-major [rows, cols] matrix.
std::vector<double> columns(const std::vector<double>& v, int64_t rows, int64_t cols, int64_t c0, int64_t n) {
  std::vector<double> out;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = c0; j < c0 + n; ++j) out.push_back(v[i * cols + j]);
  return out;
}

TEST(RefSplit, EqualPartsAndSizes) {
  auto v = random_values(2 * 6, 1);
  Tensor x = float_tensor({2, 6}, v);
  auto eq = run_ref_op("Split", {x}, {attr_i("axis", 1)}, 13, 3);
  ASSERT_TRUE(eq.error.empty()) << eq.error;
  for (int k = 0; k < 3; ++k) testing::expect_tensor_near(eq.out(k), {2, 2}, columns(v, 2, 6, 2 * k, 2));

  auto in13 = run_ref_op("Split", {x, i64({1, 5})}, {attr_i("axis", -1)}, 13, 2);
  ASSERT_TRUE(in13.error.empty()) << in13.error;
  testing::expect_tensor_near(in13.out(0), {2, 1}, columns(v, 2, 6, 0, 1));
  testing::expect_tensor_near(in13.out(1), {2, 5}, columns(v, 2, 6, 1, 5));

  auto attr11 = run_ref_op("Split", {x}, {attr_i("axis", 1), attr_ints("split", {4, 0, 2})}, 11, 3);
  ASSERT_TRUE(attr11.error.empty()) << attr11.error;
  testing::expect_tensor_near(attr11.out(0), {2, 4}, columns(v, 2, 6, 0, 4));
  EXPECT_EQ(attr11.out(1).shape(), (Shape{2, 0}));
  testing::expect_tensor_near(attr11.out(2), {2, 2}, columns(v, 2, 6, 4, 2));

  auto rows = run_ref_op("Split", {x}, {}, 13, 2);  // default axis 0
  ASSERT_TRUE(rows.error.empty()) << rows.error;
  testing::expect_tensor_near(rows.out(0), {1, 6}, std::vector<double>(v.begin(), v.begin() + 6));
  testing::expect_tensor_near(rows.out(1), {1, 6}, std::vector<double>(v.begin() + 6, v.end()));
}

TEST(RefSplit, NumOutputsUnevenOpset18) {
  auto v = random_values(7, 2);
  Tensor x = float_tensor({7}, v);
  auto r = run_ref_op("Split", {x}, {attr_i("num_outputs", 3)}, 18, 3);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {3}, {v[0], v[1], v[2]});
  testing::expect_tensor_near(r.out(1), {3}, {v[3], v[4], v[5]});
  testing::expect_tensor_near(r.out(2), {1}, {v[6]});
}

TEST(RefSplit, BadSplitsAreErrors) {
  Tensor x = float_tensor({6}, random_values(6, 3));
  EXPECT_NE(run_ref_op("Split", {x, i64({2, 3})}, {}, 13, 2).error.find("sums to 5"), std::string::npos);
  EXPECT_NE(run_ref_op("Split", {x, i64({2, 4})}, {}, 13, 3).error.find("3 outputs"), std::string::npos);
  EXPECT_NE(run_ref_op("Split", {x}, {}, 13, 4).error.find("equal parts"), std::string::npos);
  EXPECT_NE(run_ref_op("Split", {x, i64({-1, 7})}, {}, 13, 2).error.find("negative"), std::string::npos);
  EXPECT_NE(run_ref_op("Split", {x}, {attr_i("axis", 1)}, 13, 2).error.find("out of range"), std::string::npos);
}

}  // namespace
}  // namespace hwopt
