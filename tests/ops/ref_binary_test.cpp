// Unit tests for the broadcasting binary arithmetic reference kernels (ref_binary.cpp).
#include <cmath>
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
    while (std::fabs(x) < 0.1f);
  }
  return v;
}

// Independent broadcast: index of the element of `in` feeding out[flat].
int64_t bcast_index(const Shape& in, const Shape& out, int64_t flat) {
  int64_t idx = 0, stride = 1;
  for (size_t k = 0; k < out.size(); ++k) {
    size_t o = out.size() - 1 - k;
    int64_t coord = flat % out[o];
    flat /= out[o];
    if (k < in.size()) {
      int64_t d = in[in.size() - 1 - k];
      idx += (d == 1 ? 0 : coord) * stride;
      stride *= d;
    }
  }
  return idx;
}

TEST(RefBinary, FloatArithmeticBroadcasts) {
  struct Case {
    Shape a, b, out;
  };
  const std::vector<Case> shapes = {
      {{3, 4, 5}, {3, 4, 5}, {3, 4, 5}}, {{3, 4, 5}, {5}, {3, 4, 5}}, {{3, 1, 5}, {4, 1}, {3, 4, 5}},
      {{}, {2, 3}, {2, 3}},               {{2, 1}, {1, 3}, {2, 3}},
  };
  const char* ops[] = {"Add", "Sub", "Mul", "Div"};
  uint32_t seed = 3;
  for (const char* op : ops) {
    for (const auto& c : shapes) {
      auto a = random_floats(static_cast<size_t>(shape_numel(c.a)), -5, 5, seed++);
      auto b = random_floats(static_cast<size_t>(shape_numel(c.b)), -5, 5, seed++);
      std::vector<double> expected;
      for (int64_t i = 0; i < shape_numel(c.out); ++i) {
        double x = a[bcast_index(c.a, c.out, i)], y = b[bcast_index(c.b, c.out, i)];
        std::string o = op;
        expected.push_back(o == "Add" ? x + y : o == "Sub" ? x - y : o == "Mul" ? x * y : x / y);
      }
      auto r = testing::run_ref_op(op, {Tensor::from_vector<float>(c.a, a), Tensor::from_vector<float>(c.b, b)}, {}, 14);
      ASSERT_TRUE(r.error.empty()) << op << ": " << r.error;
      SCOPED_TRACE(op);
      testing::expect_tensor_near(r.out(), c.out, expected);
    }
  }
}

TEST(RefBinary, IntegerArithmeticWrapsAndTruncates) {
  auto a = Tensor::from_vector<int32_t>({6}, {7, -7, 7, -7, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()});
  auto b = Tensor::from_vector<int32_t>({6}, {2, 2, -2, -2, 1, -1});
  auto r = testing::run_ref_op("Div", {a, b});
  ASSERT_TRUE(r.error.empty()) << r.error;
  const int32_t* d = r.out().data<int32_t>();
  EXPECT_EQ(d[0], 3);
  EXPECT_EQ(d[1], -3);
  EXPECT_EQ(d[2], -3);
  EXPECT_EQ(d[3], 3);
  EXPECT_EQ(d[4], std::numeric_limits<int32_t>::max());
  EXPECT_EQ(d[5], std::numeric_limits<int32_t>::min());  // wraps, does not trap

  r = testing::run_ref_op("Add", {a, b});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().data<int32_t>()[4], std::numeric_limits<int32_t>::min());

  auto u = Tensor::from_vector<uint16_t>({2}, {65535, 300});
  r = testing::run_ref_op("Mul", {u, u});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().data<uint16_t>()[0], 1);  // 65535^2 mod 2^16
  EXPECT_EQ(r.out().data<uint16_t>()[1], static_cast<uint16_t>(90000 % 65536));

  auto u8a = Tensor::from_vector<uint8_t>({3}, {10, 200, 5});
  auto u8b = Tensor::from_vector<uint8_t>({3}, {20, 100, 2});
  r = testing::run_ref_op("Sub", {u8a, u8b});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3}, {246, 100, 3});
}

TEST(RefBinary, DivisionByZeroIsAnErrorForIntegersOnly) {
  auto r = testing::run_ref_op("Div", {Tensor::from_vector<int64_t>({2}, {1, 2}), Tensor::from_vector<int64_t>({2}, {1, 0})});
  EXPECT_NE(r.error.find("division by zero"), std::string::npos) << r.error;
  r = testing::run_ref_op("Div", {Tensor::from_vector<float>({1}, {1}), Tensor::from_vector<float>({1}, {0})});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(std::isinf(r.out().data<float>()[0]));
}

TEST(RefBinary, PowMixedTypes) {
  auto r = testing::run_ref_op("Pow", {Tensor::from_vector<float>({3}, {1, 2, 3}), Tensor::from_vector<int64_t>({3}, {4, 5, 6})},
                               {}, 15);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float32);
  testing::expect_tensor_near(r.out(), {3}, {1, 32, 729});

  r = testing::run_ref_op("Pow", {Tensor::from_vector<int32_t>({3}, {1, 2, 3}), Tensor::from_vector<float>({3}, {4, 5, 6.5f})},
                          {}, 15);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int32);
  testing::expect_tensor_near(r.out(), {3}, {1, 32, std::trunc(std::pow(3.0, 6.5))});

  // Exact int64 power beyond 2^53, and negative exponents.
  r = testing::run_ref_op("Pow", {Tensor::from_vector<int64_t>({4}, {3, 2, -1, 1}), Tensor::from_vector<int64_t>({4}, {39, -1, -3, -7})},
                          {}, 15);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const int64_t* p = r.out().data<int64_t>();
  EXPECT_EQ(p[0], 4052555153018976267LL);
  EXPECT_EQ(p[1], 0);
  EXPECT_EQ(p[2], -1);
  EXPECT_EQ(p[3], 1);

  auto xs = random_floats(12, 0.5f, 3, 5);
  auto ys = random_floats(4, -2, 2, 6);
  std::vector<double> expected;
  for (size_t i = 0; i < xs.size(); ++i) expected.push_back(std::pow(static_cast<double>(xs[i]), ys[i % 4]));
  r = testing::run_ref_op("Pow", {Tensor::from_vector<float>({3, 4}, xs), Tensor::from_vector<float>({4}, ys)}, {}, 7);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 4}, expected);

  r = testing::run_ref_op("Pow", {Tensor::from_vector<int32_t>({1}, {0}), Tensor::from_vector<int32_t>({1}, {-2})}, {}, 15);
  EXPECT_NE(r.error.find("negative power"), std::string::npos) << r.error;
}

TEST(RefBinary, ModSignConventions) {
  auto x = Tensor::from_vector<int8_t>({6}, {-4, 7, 5, 4, -7, 8});
  auto y = Tensor::from_vector<int8_t>({6}, {2, -3, 8, -2, 3, 5});
  auto r = testing::run_ref_op("Mod", {x, y}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {6}, {0, -2, 5, 0, 2, 3});  // sign of the divisor
  r = testing::run_ref_op("Mod", {x, y}, {testing::attr_i("fmod", 1)}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {6}, {0, 1, 5, 0, -1, 3});  // sign of the dividend

  auto xf = Tensor::from_vector<float>({4}, {-4.3f, 7.2f, 5.0f, -7.2f});
  auto yf = Tensor::from_vector<float>({1}, {3.4f});
  r = testing::run_ref_op("Mod", {xf, yf}, {testing::attr_i("fmod", 1)}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {4},
                              {std::fmod(-4.3f, 3.4f), std::fmod(7.2f, 3.4f), std::fmod(5.0f, 3.4f), std::fmod(-7.2f, 3.4f)});

  r = testing::run_ref_op("Mod", {xf, yf}, {}, 13);
  EXPECT_NE(r.error.find("fmod"), std::string::npos) << r.error;
  r = testing::run_ref_op("Mod", {x, Tensor::from_vector<int8_t>({1}, {0})}, {}, 13);
  EXPECT_NE(r.error.find("zero"), std::string::npos) << r.error;
  r = testing::run_ref_op("Mod", {Tensor::from_vector<int32_t>({1}, {std::numeric_limits<int32_t>::min()}),
                                  Tensor::from_vector<int32_t>({1}, {-1})}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().data<int32_t>()[0], 0);
}

TEST(RefBinary, BitShiftAndBitwise) {
  auto x = Tensor::from_vector<uint8_t>({4}, {16, 4, 1, 255});
  auto s = Tensor::from_vector<uint8_t>({4}, {1, 2, 7, 9});
  auto r = testing::run_ref_op("BitShift", {x, s}, {testing::attr_s("direction", "LEFT")}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {4}, {32, 16, 128, 0});
  r = testing::run_ref_op("BitShift", {x, s}, {testing::attr_s("direction", "RIGHT")}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {4}, {8, 1, 0, 0});
  auto x64 = Tensor::from_vector<uint64_t>({2}, {1, 3});
  r = testing::run_ref_op("BitShift", {x64, Tensor::from_vector<uint64_t>({}, {63})}, {testing::attr_s("direction", "LEFT")}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().data<uint64_t>()[0], 1ULL << 63);
  EXPECT_EQ(r.out().data<uint64_t>()[1], 1ULL << 63);

  r = testing::run_ref_op("BitShift", {x, s}, {testing::attr_s("direction", "UP")}, 11);
  EXPECT_NE(r.error.find("direction"), std::string::npos) << r.error;
  r = testing::run_ref_op("BitShift", {Tensor::from_vector<int32_t>({1}, {1}), Tensor::from_vector<int32_t>({1}, {1})},
                          {testing::attr_s("direction", "LEFT")}, 11);
  EXPECT_NE(r.error.find("int32"), std::string::npos) << r.error;

  auto a = Tensor::from_vector<int32_t>({2, 2}, {0b1100, -1, 7, 0});
  auto b = Tensor::from_vector<int32_t>({2}, {0b1010, 5});
  r = testing::run_ref_op("BitwiseAnd", {a, b}, {}, 18);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 2}, {0b1000, 5, 2, 0});
  r = testing::run_ref_op("BitwiseOr", {a, b}, {}, 18);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 2}, {0b1110, -1, 15, 5});
  r = testing::run_ref_op("BitwiseXor", {a, b}, {}, 18);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 2}, {0b0110, -6, 13, 5});
}

TEST(RefBinary, LegacyBroadcastAttributes) {
  // Opset 6: B of shape [3] aligned to axis 1 of A [2, 3, 2].
  std::vector<float> a(12);
  for (int i = 0; i < 12; ++i) a[i] = static_cast<float>(i + 1);
  auto r = testing::run_ref_op("Add", {Tensor::from_vector<float>({2, 3, 2}, a), Tensor::from_vector<float>({3}, {10, 20, 30})},
                               {testing::attr_i("broadcast", 1), testing::attr_i("axis", 1)}, 6);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3, 2}, {11, 12, 23, 24, 35, 36, 17, 18, 29, 30, 41, 42});
  // Without broadcast=1 the shapes must match.
  r = testing::run_ref_op("Add", {Tensor::from_vector<float>({2, 3, 2}, a), Tensor::from_vector<float>({2}, {1, 2})}, {}, 6);
  EXPECT_NE(r.error.find("broadcast"), std::string::npos) << r.error;
}

TEST(RefBinary, BadInputsAreErrors) {
  auto r = testing::run_ref_op("Add", {Tensor::from_vector<float>({2, 3}, {}), Tensor::from_vector<float>({4}, {})});
  EXPECT_NE(r.error.find("[2,3]"), std::string::npos) << r.error;
  r = testing::run_ref_op("Mul", {Tensor::from_vector<float>({2}, {}), Tensor::from_vector<double>({2}, {})});
  EXPECT_NE(r.error.find("dtype"), std::string::npos) << r.error;
  r = testing::run_ref_op("Add", {Tensor::from_vector<float>({2}, {})});
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace hwopt
