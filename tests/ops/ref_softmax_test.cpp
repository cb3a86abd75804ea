#include <cmath>
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::run_ref_op;

std::vector<float> random_values(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

// Softmax over groups: group_of(i) names the group of flat element i of x.
std::vector<double> grouped(const std::vector<float>& x, int (*group_of)(int), bool log) {
  std::vector<double> sums(64, 0.0);
  for (size_t i = 0; i < x.size(); ++i) sums[group_of(static_cast<int>(i))] += std::exp(static_cast<double>(x[i]));
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double s = sums[group_of(static_cast<int>(i))];
    y[i] = log ? x[i] - std::log(s) : std::exp(static_cast<double>(x[i])) / s;
  }
  return y;
}

// Flat index i of a [2, 3, 4] tensor has coordinates (i / 12, i / 4 % 3, i % 4).
int group_axis1(int i) { return (i / 12) * 4 + i % 4; }  // per (d0, d2)
int group_axis2(int i) { return i / 4; }                 // per (d0, d1)
int group_from1(int i) { return i / 12; }                // 2-D coercion at axis 1: per d0

TEST(RefSoftmax, PerAxisFromOpset13) {
  const std::vector<float> xv = random_values(24, 11);
  Tensor x = Tensor::from_vector<float>({2, 3, 4}, xv);
  auto r = run_ref_op("Softmax", {x}, {attr_i("axis", 1)}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3, 4}, grouped(xv, group_axis1, false));
  r = run_ref_op("Softmax", {x}, {}, 13);  // default axis -1
  testing::expect_tensor_near(r.out(), {2, 3, 4}, grouped(xv, group_axis2, false));
  r = run_ref_op("LogSoftmax", {x}, {attr_i("axis", -2)}, 13);
  testing::expect_tensor_near(r.out(), {2, 3, 4}, grouped(xv, group_axis1, true));
}

TEST(RefSoftmax, CoercedTo2DBeforeOpset13) {
  const std::vector<float> xv = random_values(24, 12);
  Tensor x = Tensor::from_vector<float>({2, 3, 4}, xv);
  auto r = run_ref_op("Softmax", {x}, {}, 11);  // default axis 1: rows of 12
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3, 4}, grouped(xv, group_from1, false));
  r = run_ref_op("LogSoftmax", {x}, {attr_i("axis", 2)}, 1);
  testing::expect_tensor_near(r.out(), {2, 3, 4}, grouped(xv, group_axis2, true));
  r = run_ref_op("LogSoftmax", {x}, {attr_i("axis", 1)}, 11);
  testing::expect_tensor_near(r.out(), {2, 3, 4}, grouped(xv, group_from1, true));
}

TEST(RefSoftmax, LargeNumbersAndDoubles) {
  Tensor x = Tensor::from_vector<double>({1, 3}, {1000, 1001, 1002});
  auto r = run_ref_op("Softmax", {x}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float64);
  const double s = 1 + std::exp(-1.0) + std::exp(-2.0);
  testing::expect_tensor_near(r.out(), {1, 3}, {std::exp(-2.0) / s, std::exp(-1.0) / s, 1 / s});
  r = run_ref_op("LogSoftmax", {x}, {}, 13);
  testing::expect_tensor_near(r.out(), {1, 3}, {-2 - std::log(s), -1 - std::log(s), -std::log(s)});
}

TEST(RefSoftmax, Hardmax) {
  Tensor x = Tensor::from_vector<float>({2, 2, 2}, {3, 1, 2, 1, 0, 5, 5, 5});
  auto r = run_ref_op("Hardmax", {x}, {}, 13);  // per last axis; ties: first
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 2, 2}, {1, 0, 1, 0, 0, 1, 1, 0});
  r = run_ref_op("Hardmax", {x}, {attr_i("axis", 1)}, 13);
  testing::expect_tensor_near(r.out(), {2, 2, 2}, {1, 1, 0, 0, 0, 1, 1, 0});
  r = run_ref_op("Hardmax", {x}, {}, 11);  // rows of 4 (axis 1 coercion)
  testing::expect_tensor_near(r.out(), {2, 2, 2}, {1, 0, 0, 0, 0, 1, 0, 0});
  Tensor h = Tensor::from_vector<Half>({3}, {Half(1.0f), Half(4.0f), Half(2.0f)});
  r = run_ref_op("Hardmax", {h}, {}, 13);
  EXPECT_EQ(r.out().dtype(), DType::float16);
  testing::expect_tensor_near(r.out(), {3}, {0, 1, 0});
}

TEST(RefSoftmax, BadInput) {
  Tensor x = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  auto r = run_ref_op("Softmax", {x}, {attr_i("axis", 2)}, 13);
  EXPECT_NE(r.error.find("'axis' = 2 is out of range"), std::string::npos) << r.error;
  r = run_ref_op("LogSoftmax", {x}, {attr_i("axis", -3)}, 11);
  EXPECT_FALSE(r.error.empty());
  Tensor i = Tensor::from_vector<int32_t>({2}, {1, 2});
  r = run_ref_op("Softmax", {i}, {}, 13);
  EXPECT_NE(r.error.find("int32"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
