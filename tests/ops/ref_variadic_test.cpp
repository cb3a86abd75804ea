// Unit tests for the variadic Max/Min/Mean/Sum reference kernels (ref_variadic.cpp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-5, 5);
  std::vector<float> v(n);
  for (auto& x : v) {
    do x = dist(rng);
    while (x == 0.0f);
  }
  return v;
}

TEST(RefVariadic, ThreeInputsBroadcast) {
  auto a = random_floats(12, 1), b = random_floats(4, 2), c = random_floats(3, 3);
  // a: [3, 4], b: [4], c: [3, 1]
  std::vector<double> emax, emin, emean, esum;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 4; ++j) {
      double x = a[i * 4 + j], y = b[j], z = c[i];
      emax.push_back(std::max({x, y, z}));
      emin.push_back(std::min({x, y, z}));
      esum.push_back(x + y + z);
      emean.push_back((x + y + z) / 3);
    }
  }
  std::vector<Tensor> in = {Tensor::from_vector<float>({3, 4}, a), Tensor::from_vector<float>({4}, b),
                            Tensor::from_vector<float>({3, 1}, c)};
  for (auto [op, expected] : {std::pair{"Max", emax}, {"Min", emin}, {"Mean", emean}, {"Sum", esum}}) {
    auto r = testing::run_ref_op(op, in, {}, 13);
    ASSERT_TRUE(r.error.empty()) << op << ": " << r.error;
    SCOPED_TRACE(op);
    testing::expect_tensor_near(r.out(), {3, 4}, expected);
  }
}

TEST(RefVariadic, OneInputIsACopy) {
  auto a = random_floats(5, 4);
  for (const char* op : {"Max", "Min", "Mean", "Sum"}) {
    auto r = testing::run_ref_op(op, {Tensor::from_vector<float>({5}, a)}, {}, 8);
    ASSERT_TRUE(r.error.empty()) << op << ": " << r.error;
    testing::expect_tensor_near(r.out(), {5}, std::vector<double>(a.begin(), a.end()));
  }
}

TEST(RefVariadic, IntegerMaxMinAndNaN) {
  auto a = Tensor::from_vector<uint64_t>({3}, {1, std::numeric_limits<uint64_t>::max(), 7});
  auto b = Tensor::from_vector<uint64_t>({3}, {2, 3, 7});
  auto r = testing::run_ref_op("Max", {a, b}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().data<uint64_t>()[1], std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(r.out().data<uint64_t>()[0], 2u);
  r = testing::run_ref_op("Min", {Tensor::from_vector<int8_t>({2}, {-128, 5}), Tensor::from_vector<int8_t>({1}, {0})}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2}, {-128, 0});

  const float nan = std::numeric_limits<float>::quiet_NaN();
  r = testing::run_ref_op("Max", {Tensor::from_vector<float>({2}, {nan, 1}), Tensor::from_vector<float>({2}, {1, nan})}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2}, {nan, nan});

  auto h = Tensor::from_vector<Half>({2}, {Half(1.5f), Half(-2.0f)});
  r = testing::run_ref_op("Mean", {h, h, Tensor::from_vector<Half>({}, {Half(3.0f)})}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float16);
  testing::expect_tensor_near(r.out(), {2}, {2.0, -1.0 / 3}, 1e-3, 1e-3);
}

TEST(RefVariadic, BadInputsAreErrors) {
  auto r = testing::run_ref_op("Sum", {Tensor::from_vector<float>({2}, {}), Tensor::from_vector<double>({2}, {})}, {}, 13);
  EXPECT_NE(r.error.find("dtype"), std::string::npos) << r.error;
  r = testing::run_ref_op("Max", {Tensor::from_vector<float>({2}, {}), Tensor::from_vector<float>({3}, {})}, {}, 13);
  EXPECT_NE(r.error.find("broadcast"), std::string::npos) << r.error;
  r = testing::run_ref_op("Mean", {Tensor::from_vector<int32_t>({2}, {})}, {}, 13);
  EXPECT_NE(r.error.find("int32"), std::string::npos) << r.error;
  r = testing::run_ref_op("Max", {}, {}, 13);
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace hwopt
