// Unit tests for the Cast and CastLike reference kernels (ref_cast.cpp).
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

testing::OpResult cast(const Tensor& x, DType to, int opset = 13) {
  return testing::run_ref_op("Cast", {x}, {testing::attr_i("to", static_cast<int64_t>(to))}, opset);
}

std::vector<std::string> strings_of(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DType::string);
  return std::vector<std::string>(t.data<std::string>(), t.data<std::string>() + t.numel());
}

TEST(RefCast, FloatToIntegerTypesTruncatesAndSaturates) {
  auto x = Tensor::from_vector<float>({8}, {2.9f, -2.9f, 300.7f, -1.5f, 1e20f, -1e20f, kNaN, kInf});
  auto r = cast(x, DType::int32);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const int32_t* i = r.out().data<int32_t>();
  EXPECT_EQ(i[0], 2);
  EXPECT_EQ(i[1], -2);
  EXPECT_EQ(i[2], 300);
  EXPECT_EQ(i[3], -1);
  EXPECT_EQ(i[4], std::numeric_limits<int32_t>::max());
  EXPECT_EQ(i[5], std::numeric_limits<int32_t>::min());
  EXPECT_EQ(i[6], 0);
  EXPECT_EQ(i[7], std::numeric_limits<int32_t>::max());

  r = cast(x, DType::uint8);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {8}, {2, 0, 255, 0, 255, 0, 0, 255});

  r = cast(Tensor::from_vector<double>({2}, {9.3e18, -9.3e18}), DType::int64);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().data<int64_t>()[0], std::numeric_limits<int64_t>::max());
  EXPECT_EQ(r.out().data<int64_t>()[1], std::numeric_limits<int64_t>::min());
}

TEST(RefCast, IntegerToIntegerWraps) {
  auto r = cast(Tensor::from_vector<int32_t>({3}, {300, -1, 65}), DType::uint8);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3}, {44, 255, 65});
  r = cast(Tensor::from_vector<uint64_t>({1}, {std::numeric_limits<uint64_t>::max()}), DType::int64);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().data<int64_t>()[0], -1);
  r = cast(Tensor::from_vector<int64_t>({3}, {0, -3, 7}), DType::boolean);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3}, {0, 1, 1});
  r = cast(Tensor::from_vector<bool>({2}, {true, false}), DType::float32);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2}, {1, 0});
}

TEST(RefCast, FloatWidths) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-10, 10);
  std::vector<float> xs(20);
  for (auto& v : xs) v = dist(rng);
  auto x = Tensor::from_vector<float>({4, 5}, xs);
  auto r = cast(x, DType::float16);
  ASSERT_TRUE(r.error.empty()) << r.error;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(r.out().data<Half>()[i].bits, Half(xs[i]).bits);
  auto back = cast(r.out(), DType::float64);
  ASSERT_TRUE(back.error.empty()) << back.error;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(back.out().data<double>()[i], static_cast<float>(Half(xs[i])));

  r = cast(x, DType::bfloat16);
  ASSERT_TRUE(r.error.empty()) << r.error;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(r.out().data<BFloat16>()[i].bits, BFloat16(xs[i]).bits);

  // bfloat16 rounds to nearest even: 1 + 2^-8 is a tie -> 1.0; 1 + 3 * 2^-8 is a tie -> 1 + 2^-6.
  r = cast(Tensor::from_vector<float>({2}, {1.00390625f, 1.01171875f}), DType::bfloat16);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().data<BFloat16>()[0].bits, 0x3f80);
  EXPECT_EQ(r.out().data<BFloat16>()[1].bits, 0x3f82);

  // double -> float out of range: no UB, IEEE rounding.
  const double above_max = static_cast<double>(std::numeric_limits<float>::max()) * (1 + 1e-9);
  r = cast(Tensor::from_vector<double>({4}, {1e300, -1e300, above_max, 0.1}), DType::float32);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const float* f = r.out().data<float>();
  EXPECT_EQ(f[0], kInf);
  EXPECT_EQ(f[1], -kInf);
  EXPECT_EQ(f[2], std::numeric_limits<float>::max());
  EXPECT_EQ(f[3], 0.1f);
  r = cast(Tensor::from_vector<double>({2}, {1e10, 65504.0}), DType::float16);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().data<Half>()[0].bits, 0x7c00);
  EXPECT_EQ(r.out().data<Half>()[1].bits, 0x7bff);
}

TEST(RefCast, NumbersToStringsLikeNumpy) {
  auto x = Tensor::from_vector<float>(
      {13}, {0.9767611f, 0.039187793f, 1.0f, 1e10f, 1e16f, 1e-5f, 1e-4f, -0.0f, 123456789.0f, 3.4e38f, kNaN, kInf, -kInf});
  auto r = cast(x, DType::string);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(strings_of(r.out()),
            (std::vector<std::string>{"0.9767611", "0.039187793", "1.0", "10000000000.0", "1e+16", "1e-05", "1e-04",
                                      "-0.0", "123456790.0", "3.4e+38", "NaN", "INF", "-INF"}));
  r = cast(Tensor::from_vector<double>({4}, {0.1, 5e-324, -2.5, 123456789.0}), DType::string);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(strings_of(r.out()), (std::vector<std::string>{"0.1", "5e-324", "-2.5", "123456789.0"}));
  r = cast(Tensor::from_vector<Half>({3}, {Half(65504.0f), Half(0.1f), Half(-3.0f)}), DType::string);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(strings_of(r.out()), (std::vector<std::string>{"65500.0", "0.1", "-3.0"}));
  r = cast(Tensor::from_vector<int64_t>({3}, {-5, 0, std::numeric_limits<int64_t>::max()}), DType::string);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(strings_of(r.out()), (std::vector<std::string>{"-5", "0", "9223372036854775807"}));
  r = cast(Tensor::from_vector<bool>({2}, {true, false}), DType::string);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(strings_of(r.out()), (std::vector<std::string>{"True", "False"}));
}

TEST(RefCast, FloatStringRoundTrip) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> dist(-1e6f, 1e6f);
  std::vector<float> xs(50);
  for (auto& v : xs) v = dist(rng) * std::pow(10.0f, static_cast<float>(static_cast<int>(rng() % 20) - 10));
  auto s = cast(Tensor::from_vector<float>({50}, xs), DType::string);
  ASSERT_TRUE(s.error.empty()) << s.error;
  auto back = cast(s.out(), DType::float32);
  ASSERT_TRUE(back.error.empty()) << back.error;
  for (int i = 0; i < 50; ++i) EXPECT_EQ(back.out().data<float>()[i], xs[i]) << s.out().data<std::string>()[i];
}

TEST(RefCast, StringsToNumbers) {
  auto x = Tensor::from_vector<std::string>({9}, {"0.47892547", "NaN", "INF", "+INF", "-INF", " 1e3 ", "-inf", "nan", "1E-2"});
  auto r = cast(x, DType::float32);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const std::vector<float> expected = {0.47892547f, kNaN, kInf, kInf, -kInf, 1000, -kInf, kNaN, 0.01f};
  for (int k = 0; k < 9; ++k) {
    float got = r.out().data<float>()[k];
    if (std::isnan(expected[k])) {
      EXPECT_TRUE(std::isnan(got)) << k;
    } else {
      EXPECT_EQ(got, expected[k]) << k;
    }
  }

  auto ints = Tensor::from_vector<std::string>({6}, {"100.5", "-7", "123456789012345678", "+12", "300", "-3"});
  r = cast(ints, DType::int64);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const int64_t* i = r.out().data<int64_t>();
  EXPECT_EQ(i[0], 100);
  EXPECT_EQ(i[1], -7);
  EXPECT_EQ(i[2], 123456789012345678LL);
  EXPECT_EQ(i[3], 12);
  r = cast(ints, DType::uint8);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {6}, {100, 0, 255, 12, 255, 0});

  r = cast(Tensor::from_vector<std::string>({4}, {"true", "False", "0", "2.5"}), DType::boolean);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {4}, {1, 0, 0, 1});

  r = cast(Tensor::from_vector<std::string>({1}, {"1.5"}), DType::float16);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().data<Half>()[0].bits, Half(1.5f).bits);

  r = cast(Tensor::from_vector<std::string>({2}, {"ab", "cd"}), DType::string);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(strings_of(r.out()), (std::vector<std::string>{"ab", "cd"}));
}

TEST(RefCast, CastLikeAndOldOpsets) {
  auto x = Tensor::from_vector<float>({2, 2}, {1.5f, -2.25f, 3.0f, 4.75f}).permute({1, 0});
  auto r = testing::run_ref_op("CastLike", {x, Tensor::from_vector<double>({1}, {0})}, {}, 15);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float64);
  testing::expect_tensor_near(r.out(), {2, 2}, {1.5, 3.0, -2.25, 4.75});
  r = testing::run_ref_op("CastLike", {x, Tensor::from_vector<std::string>({}, {""})}, {}, 19);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(strings_of(r.out()), (std::vector<std::string>{"1.5", "3.0", "-2.25", "4.75"}));

  // Opset 1 named the target type with a string.
  r = testing::run_ref_op("Cast", {x}, {testing::attr_s("to", "INT32")}, 1);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int32);
  testing::expect_tensor_near(r.out(), {2, 2}, {1, 3, -2, 4});
  // Opset 19 saturate is accepted (it only affects float8).
  r = testing::run_ref_op("Cast", {x}, {testing::attr_i("to", 10), testing::attr_i("saturate", 0)}, 19);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float16);
}

TEST(RefCast, BadInputsAreErrors) {
  auto x = Tensor::from_vector<float>({1}, {1});
  auto r = testing::run_ref_op("Cast", {x}, {testing::attr_i("to", 17)}, 19);
  EXPECT_NE(r.error.find("float8"), std::string::npos) << r.error;
  r = testing::run_ref_op("Cast", {x}, {testing::attr_i("to", 999)}, 13);
  EXPECT_NE(r.error.find("999"), std::string::npos) << r.error;
  r = testing::run_ref_op("Cast", {x}, {testing::attr_i("to", 0)}, 13);
  EXPECT_NE(r.error.find("'to'"), std::string::npos) << r.error;
  r = testing::run_ref_op("Cast", {x}, {}, 13);
  EXPECT_NE(r.error.find("'to'"), std::string::npos) << r.error;
  r = testing::run_ref_op("Cast", {x}, {testing::attr_s("to", "COMPLEX64")}, 1);
  EXPECT_NE(r.error.find("COMPLEX64"), std::string::npos) << r.error;
  r = cast(Tensor::from_vector<std::string>({2}, {"1.0", "hello"}), DType::float32);
  EXPECT_NE(r.error.find("'hello'"), std::string::npos) << r.error;
  r = cast(Tensor::from_vector<std::string>({1}, {""}), DType::int32);
  EXPECT_FALSE(r.error.empty());
  r = cast(Tensor::from_vector<std::string>({1}, {"0x10"}), DType::float32);
  EXPECT_FALSE(r.error.empty());
  r = testing::run_ref_op("CastLike", {x}, {}, 15);
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace hwopt
