// Unit tests for the activation reference kernels (ref_activation.cpp).
#include <algorithm>
#include <cmath>
#include <numbers>
#include <functional>
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

std::vector<float> random_floats(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) {
    do x = dist(rng);
    while (x == 0.0f);
  }
  return v;
}

struct ActCase {
  const char* op;
  std::vector<ir::Attribute> attrs;
  int opset;
  std::function<double(double)> fn;
};

TEST(RefActivation, MatchesFormulas) {
  const double selu_a = 1.67326319217681884765625, selu_g = 1.05070102214813232421875;
  const std::vector<ActCase> cases = {
      {"Relu", {}, 14, [](double x) { return x > 0 ? x : 0; }},
      {"LeakyRelu", {}, 16, [](double x) { return x < 0 ? 0.01 * x : x; }},
      {"LeakyRelu", {testing::attr_f("alpha", 0.1f)}, 6, [](double x) { return x < 0 ? 0.1f * x : x; }},
      {"Elu", {}, 6, [](double x) { return x < 0 ? std::exp(x) - 1 : x; }},
      {"Elu", {testing::attr_f("alpha", 2.0f)}, 6, [](double x) { return x < 0 ? 2 * (std::exp(x) - 1) : x; }},
      {"Selu", {}, 6, [&](double x) { return x <= 0 ? selu_g * selu_a * (std::exp(x) - 1) : selu_g * x; }},
      {"Selu", {testing::attr_f("alpha", 2.0f), testing::attr_f("gamma", 3.0f)}, 6,
       [](double x) { return x <= 0 ? 6 * (std::exp(x) - 1) : 3 * x; }},
      {"Celu", {testing::attr_f("alpha", 2.0f)}, 12,
       [](double x) { return std::max(0.0, x) + std::min(0.0, 2 * (std::exp(x / 2) - 1)); }},
      {"Sigmoid", {}, 13, [](double x) { return 1 / (1 + std::exp(-x)); }},
      {"HardSigmoid", {}, 6, [](double x) { return std::clamp(0.2 * x + 0.5, 0.0, 1.0); }},
      {"HardSigmoid", {testing::attr_f("alpha", 0.5f), testing::attr_f("beta", 0.6f)}, 6,
       [](double x) { return std::clamp(0.5 * x + 0.6, 0.0, 1.0); }},
      {"HardSwish", {}, 14, [](double x) { return x * std::clamp(x / 6 + 0.5, 0.0, 1.0); }},
      {"Softplus", {}, 1, [](double x) { return std::log(std::exp(x) + 1); }},
      {"Softsign", {}, 1, [](double x) { return x / (1 + std::fabs(x)); }},
      {"ThresholdedRelu", {}, 10, [](double x) { return x > 1 ? x : 0; }},
      {"ThresholdedRelu", {testing::attr_f("alpha", 2.0f)}, 10, [](double x) { return x > 2 ? x : 0; }},
      {"Shrink", {}, 9, [](double x) { return x < -0.5 ? x : (x > 0.5 ? x : 0); }},
      {"Shrink", {testing::attr_f("lambd", 1.5f), testing::attr_f("bias", 1.5f)}, 9,
       [](double x) { return x < -1.5 ? x + 1.5 : (x > 1.5 ? x - 1.5 : 0); }},
      {"Gelu", {}, 20, [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }},
      {"Gelu", {testing::attr_s("approximate", "tanh")}, 20,
       [](double x) { return 0.5 * x * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (x + 0.044715 * x * x * x))); }},
      {"Mish", {}, 18, [](double x) { return x * std::tanh(std::log1p(std::exp(x))); }},
  };
  uint32_t seed = 7;
  for (const auto& c : cases) {
    for (const Shape& shape : {Shape{9}, Shape{3, 2, 5}}) {
      auto xs = random_floats(static_cast<size_t>(shape_numel(shape)), -4, 4, seed++);
      std::vector<double> expected;
      for (float x : xs) expected.push_back(c.fn(x));
      auto r = testing::run_ref_op(c.op, {Tensor::from_vector<float>(shape, xs)}, c.attrs, c.opset);
      ASSERT_TRUE(r.error.empty()) << c.op << ": " << r.error;
      SCOPED_TRACE(c.op);
      testing::expect_tensor_near(r.out(), shape, expected, 1e-5, 1e-5);
    }
  }
}

TEST(RefActivation, ExtremeInputsStayFinite) {
  auto x = Tensor::from_vector<float>({4}, {-200.0f, 200.0f, -90.0f, 90.0f});
  auto r = testing::run_ref_op("Sigmoid", {x});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {4}, {0, 1, 0, 1});
  r = testing::run_ref_op("Softplus", {x});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {4}, {0, 200, 0, 90});
}

TEST(RefActivation, IntegerReluAndShrink) {
  auto r = testing::run_ref_op("Relu", {Tensor::from_vector<int32_t>({4}, {-3, 0, 5, -1})}, {}, 14);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int32);
  testing::expect_tensor_near(r.out(), {4}, {0, 0, 5, 0});

  r = testing::run_ref_op("Shrink", {Tensor::from_vector<int8_t>({5}, {-8, -1, 0, 1, 8})},
                          {testing::attr_f("lambd", 1.5f), testing::attr_f("bias", 1.5f)}, 9);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {5}, {-6, 0, 0, 0, 6});  // -6.5 and 6.5 truncate toward zero
}

TEST(RefActivation, HalfRelu) {
  std::vector<Half> xs = {Half(-1.5f), Half(2.25f), Half(0.0f)};
  auto r = testing::run_ref_op("Relu", {Tensor::from_vector<Half>({3}, xs)});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float16);
  testing::expect_tensor_near(r.out(), {3}, {0, 2.25, 0});
}

TEST(RefActivation, PReluBroadcastsSlope) {
  auto xs = random_floats(24, -3, 3, 99);
  auto slope = random_floats(4, -1, 1, 100);
  std::vector<double> expected;
  for (size_t i = 0; i < xs.size(); ++i) {
    double s = slope[i % 4];
    expected.push_back(xs[i] < 0 ? s * xs[i] : xs[i]);
  }
  auto r = testing::run_ref_op("PRelu", {Tensor::from_vector<float>({2, 3, 4}, xs), Tensor::from_vector<float>({4}, slope)},
                               {}, 16);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3, 4}, expected);

  // Channel-wise slope of shape [3, 1].
  std::vector<float> cslope = {0.5f, -2.0f, 3.0f};
  expected.clear();
  for (size_t i = 0; i < xs.size(); ++i) {
    double s = cslope[(i / 4) % 3];
    expected.push_back(xs[i] < 0 ? s * xs[i] : xs[i]);
  }
  r = testing::run_ref_op("PRelu", {Tensor::from_vector<float>({2, 3, 4}, xs), Tensor::from_vector<float>({3, 1}, cslope)},
                          {}, 9);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3, 4}, expected);

  // Opset 6: a 1-D slope of size C applies per channel (axis 1).
  expected.clear();
  for (size_t i = 0; i < xs.size(); ++i) {
    double s = cslope[(i / 4) % 3];
    expected.push_back(xs[i] < 0 ? s * xs[i] : xs[i]);
  }
  r = testing::run_ref_op("PRelu", {Tensor::from_vector<float>({2, 3, 4}, xs), Tensor::from_vector<float>({3}, cslope)},
                          {}, 6);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3, 4}, expected);

  r = testing::run_ref_op("PRelu", {Tensor::from_vector<int64_t>({3}, {-4, 5, -1}), Tensor::from_vector<int64_t>({1}, {3})},
                          {}, 16);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3}, {-12, 5, -3});
}

TEST(RefActivation, BadInputsAreErrors) {
  // Slope must broadcast to X's shape (unidirectional).
  auto r = testing::run_ref_op("PRelu", {Tensor::from_vector<float>({3}, {1, 2, 3}), Tensor::from_vector<float>({2, 3}, {})},
                               {}, 16);
  EXPECT_NE(r.error.find("slope"), std::string::npos) << r.error;
  r = testing::run_ref_op("PRelu", {Tensor::from_vector<float>({3}, {1, 2, 3}), Tensor::from_vector<float>({4}, {})}, {}, 16);
  EXPECT_FALSE(r.error.empty());
  r = testing::run_ref_op("Gelu", {Tensor::from_vector<float>({1}, {1})}, {testing::attr_s("approximate", "fast")}, 20);
  EXPECT_NE(r.error.find("approximate"), std::string::npos) << r.error;
  r = testing::run_ref_op("Sigmoid", {Tensor::from_vector<int32_t>({1}, {1})});
  EXPECT_NE(r.error.find("int32"), std::string::npos) << r.error;
  r = testing::run_ref_op("Celu", {Tensor::from_vector<float>({1}, {1})}, {testing::attr_f("alpha", 0.0f)}, 12);
  EXPECT_NE(r.error.find("alpha"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
