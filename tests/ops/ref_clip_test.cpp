// Unit tests for the Clip reference kernel (ref_clip.cpp).
#include <algorithm>
#include <limits>
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-3, 3);
  std::vector<float> v(n);
  for (auto& x : v) {
    do x = dist(rng);
    while (x == 0.0f);
  }
  return v;
}

TEST(RefClip, InputBoundsOpset11Plus) {
  auto xs = random_floats(60, 1);
  std::vector<double> both, lo_only, hi_only;
  for (float x : xs) {
    both.push_back(std::clamp(x, -1.0f, 1.5f));
    lo_only.push_back(std::max(x, -1.0f));
    hi_only.push_back(std::min(x, 1.5f));
  }
  auto x = Tensor::from_vector<float>({3, 4, 5}, xs);
  auto lo = Tensor::scalar<float>(-1.0f), hi = Tensor::scalar<float>(1.5f);
  auto r = testing::run_ref_op("Clip", {x, lo, hi}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 4, 5}, both);
  r = testing::run_ref_op("Clip", {x, lo}, {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 4, 5}, lo_only);
  r = testing::run_ref_op("Clip", {x, Tensor(), hi}, {}, 12);  // min omitted
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 4, 5}, hi_only);
  r = testing::run_ref_op("Clip", {x}, {}, 13);  // no bounds: a copy
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 4, 5}, std::vector<double>(xs.begin(), xs.end()));
}

TEST(RefClip, AttributeBoundsBeforeOpset11) {
  auto xs = random_floats(10, 2);
  std::vector<double> expected;
  for (float x : xs) expected.push_back(std::clamp(x, -0.5f, 0.5f));
  auto r = testing::run_ref_op("Clip", {Tensor::from_vector<float>({10}, xs)},
                               {testing::attr_f("min", -0.5f), testing::attr_f("max", 0.5f)}, 6);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {10}, expected);
  r = testing::run_ref_op("Clip", {Tensor::from_vector<double>({10}, std::vector<double>(xs.begin(), xs.end()))},
                          {testing::attr_f("max", 0.5f)}, 6);
  ASSERT_TRUE(r.error.empty()) << r.error;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(r.out().data<double>()[i], std::min<double>(xs[i], 0.5));
}

TEST(RefClip, IntegersAndMinAboveMax) {
  auto x = Tensor::from_vector<int8_t>({5}, {-128, -5, 0, 5, 127});
  auto r = testing::run_ref_op("Clip", {x, Tensor::scalar<int8_t>(-3), Tensor::scalar<int8_t>(4)}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int8);
  testing::expect_tensor_near(r.out(), {5}, {-3, -3, 0, 4, 4});
  // min > max: everything becomes max.
  r = testing::run_ref_op("Clip", {x, Tensor::scalar<int8_t>(4), Tensor::scalar<int8_t>(-3)}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {5}, {-3, -3, -3, -3, -3});
  r = testing::run_ref_op("Clip", {Tensor::from_vector<uint64_t>({2}, {1, 1ULL << 60}), Tensor(),
                                   Tensor::scalar<uint64_t>(1ULL << 40)},
                          {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().data<uint64_t>()[1], 1ULL << 40);
}

TEST(RefClip, BadInputsAreErrors) {
  auto x = Tensor::from_vector<float>({2}, {1, 2});
  auto r = testing::run_ref_op("Clip", {x, Tensor::from_vector<float>({2}, {0, 1})}, {}, 13);
  EXPECT_NE(r.error.find("'min'"), std::string::npos) << r.error;
  r = testing::run_ref_op("Clip", {x, Tensor(), Tensor::scalar<double>(1.0)}, {}, 13);
  EXPECT_NE(r.error.find("'max'"), std::string::npos) << r.error;
  r = testing::run_ref_op("Clip", {Tensor::from_vector<std::string>({1}, {"a"})}, {}, 13);
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace hwopt
