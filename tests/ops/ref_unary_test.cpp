// Unit tests for the element-wise unary math reference kernels (ref_unary.cpp).
#include <cmath>
#include <functional>
#include <limits>
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

struct FloatCase {
  const char* op;
  float lo, hi;
  std::function<double(double)> fn;
};

TEST(RefUnary, FloatOpsMatchCmath) {
  const std::vector<FloatCase> cases = {
      {"Abs", -5, 5, [](double x) { return std::fabs(x); }},
      {"Acos", -0.99f, 0.99f, [](double x) { return std::acos(x); }},
      {"Acosh", 1.01f, 9, [](double x) { return std::acosh(x); }},
      {"Asin", -0.99f, 0.99f, [](double x) { return std::asin(x); }},
      {"Asinh", -5, 5, [](double x) { return std::asinh(x); }},
      {"Atan", -5, 5, [](double x) { return std::atan(x); }},
      {"Atanh", -0.99f, 0.99f, [](double x) { return std::atanh(x); }},
      {"Ceil", -5, 5, [](double x) { return std::ceil(x); }},
      {"Cos", -5, 5, [](double x) { return std::cos(x); }},
      {"Cosh", -5, 5, [](double x) { return std::cosh(x); }},
      {"Erf", -3, 3, [](double x) { return std::erf(x); }},
      {"Exp", -5, 5, [](double x) { return std::exp(x); }},
      {"Floor", -5, 5, [](double x) { return std::floor(x); }},
      {"Log", 0.01f, 9, [](double x) { return std::log(x); }},
      {"Neg", -5, 5, [](double x) { return -x; }},
      {"Reciprocal", 0.5f, 9, [](double x) { return 1.0 / x; }},
      {"Sign", -5, 5, [](double x) { return x > 0 ? 1.0 : -1.0; }},
      {"Sin", -5, 5, [](double x) { return std::sin(x); }},
      {"Sinh", -5, 5, [](double x) { return std::sinh(x); }},
      {"Sqrt", 0.01f, 9, [](double x) { return std::sqrt(x); }},
      {"Tan", -1.4f, 1.4f, [](double x) { return std::tan(x); }},
      {"Tanh", -5, 5, [](double x) { return std::tanh(x); }},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    for (const Shape& shape : {Shape{7}, Shape{2, 3, 4}, Shape{}}) {
      size_t n = static_cast<size_t>(shape_numel(shape));
      auto xs = random_floats(n, c.lo, c.hi, seed++);
      std::vector<double> expected;
      for (float x : xs) expected.push_back(c.fn(x));
      auto r = testing::run_ref_op(c.op, {Tensor::from_vector<float>(shape, xs)}, {}, 13);
      ASSERT_TRUE(r.error.empty()) << c.op << ": " << r.error;
      SCOPED_TRACE(c.op);
      EXPECT_EQ(r.out().dtype(), DType::float32);
      testing::expect_tensor_near(r.out(), shape, expected, 1e-5, 1e-5);
    }
  }
}

TEST(RefUnary, DoubleAndHalfGoThroughTheirOwnType) {
  auto xs = random_floats(10, -3, 3, 42);
  std::vector<double> xd(xs.begin(), xs.end());
  auto r = testing::run_ref_op("Exp", {Tensor::from_vector<double>({10}, xd)});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float64);
  for (int i = 0; i < 10; ++i) EXPECT_DOUBLE_EQ(r.out().data<double>()[i], std::exp(xd[i]));

  std::vector<Half> xh;
  std::vector<double> expected;
  for (float x : xs) {
    xh.emplace_back(x);
    expected.push_back(static_cast<float>(Half(std::sin(static_cast<float>(Half(x))))));
  }
  r = testing::run_ref_op("Sin", {Tensor::from_vector<Half>({2, 5}, xh)});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float16);
  testing::expect_tensor_near(r.out(), {2, 5}, expected, 0, 0);

  std::vector<BFloat16> xb;
  expected.clear();
  for (float x : xs) {
    xb.emplace_back(x);
    expected.push_back(static_cast<float>(BFloat16(std::fabs(static_cast<float>(BFloat16(x))))));
  }
  r = testing::run_ref_op("Abs", {Tensor::from_vector<BFloat16>({10}, xb)});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::bfloat16);
  testing::expect_tensor_near(r.out(), {10}, expected, 0, 0);
}

TEST(RefUnary, RoundIsHalfToEven) {
  auto x = Tensor::from_vector<float>({10}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.3f, 2.7f, -2.7f, 0.1f});
  auto r = testing::run_ref_op("Round", {x}, {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {10}, {0, 2, 2, -0.0, -2, -2, 2, 3, -3, 0});
}

TEST(RefUnary, IntegerAbsNegSignWrapWithoutUB) {
  auto x = Tensor::from_vector<int32_t>({5}, {-7, 3, 0, std::numeric_limits<int32_t>::min(), 12});
  auto r = testing::run_ref_op("Abs", {x});
  ASSERT_TRUE(r.error.empty()) << r.error;
  const int32_t* a = r.out().data<int32_t>();
  EXPECT_EQ(a[0], 7);
  EXPECT_EQ(a[1], 3);
  EXPECT_EQ(a[2], 0);
  EXPECT_EQ(a[3], std::numeric_limits<int32_t>::min());
  EXPECT_EQ(a[4], 12);

  r = testing::run_ref_op("Neg", {Tensor::from_vector<int8_t>({3}, {-128, 5, -9})});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().data<int8_t>()[0], -128);
  EXPECT_EQ(r.out().data<int8_t>()[1], -5);
  EXPECT_EQ(r.out().data<int8_t>()[2], 9);

  r = testing::run_ref_op("Sign", {Tensor::from_vector<int64_t>({3}, {-4, 0, 9})});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3}, {-1, 0, 1});

  r = testing::run_ref_op("Sign", {Tensor::from_vector<uint8_t>({2}, {0, 200})});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2}, {0, 1});

  r = testing::run_ref_op("Abs", {Tensor::from_vector<uint16_t>({2}, {7, 65535})});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2}, {7, 65535});
}

TEST(RefUnary, NotIsNaNIsInfBitwiseNot) {
  auto r = testing::run_ref_op("Not", {Tensor::from_vector<bool>({2, 2}, {true, false, false, true})}, {}, 1);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 2}, {0, 1, 1, 0});

  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto x = Tensor::from_vector<float>({6}, {-1.7f, nan, inf, -3.6f, -inf, inf});
  r = testing::run_ref_op("IsNaN", {x}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::boolean);
  testing::expect_tensor_near(r.out(), {6}, {0, 1, 0, 0, 0, 0});

  r = testing::run_ref_op("IsInf", {x}, {}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {6}, {0, 0, 1, 0, 1, 1});
  r = testing::run_ref_op("IsInf", {x}, {testing::attr_i("detect_positive", 0)}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {6}, {0, 0, 0, 0, 1, 0});
  r = testing::run_ref_op("IsInf", {x}, {testing::attr_i("detect_negative", 0)}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {6}, {0, 0, 1, 0, 0, 1});

  r = testing::run_ref_op("BitwiseNot", {Tensor::from_vector<uint8_t>({3}, {0, 5, 255})}, {}, 18);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3}, {255, 250, 0});
  r = testing::run_ref_op("BitwiseNot", {Tensor::from_vector<int32_t>({2}, {0, -6})}, {}, 18);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2}, {-1, 5});
}

TEST(RefUnary, ReadsNonContiguousViews) {
  auto x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6}).permute({1, 0});
  auto r = testing::run_ref_op("Neg", {x});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 2}, {-1, -4, -2, -5, -3, -6});
}

TEST(RefUnary, RejectsBadDtypes) {
  auto r = testing::run_ref_op("Sin", {Tensor::from_vector<int32_t>({2}, {1, 2})}, {}, 7);
  EXPECT_NE(r.error.find("int32"), std::string::npos) << r.error;
  r = testing::run_ref_op("Not", {Tensor::from_vector<float>({1}, {1})}, {}, 1);
  EXPECT_NE(r.error.find("bool"), std::string::npos) << r.error;
  r = testing::run_ref_op("Neg", {Tensor::from_vector<uint32_t>({1}, {1})});
  EXPECT_NE(r.error.find("uint32"), std::string::npos) << r.error;
  r = testing::run_ref_op("IsNaN", {Tensor::from_vector<int64_t>({1}, {1})});
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace hwopt
