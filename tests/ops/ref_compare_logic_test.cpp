// Unit tests for the comparison and boolean logic reference kernels (ref_compare_logic.cpp).
#include <cmath>
#include <limits>
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

std::vector<int32_t> random_ints(size_t n, int lo, int hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

TEST(RefCompareLogic, ComparisonsBroadcast) {
  auto a = random_ints(24, -3, 3, 1);
  auto b = random_ints(4, -3, 3, 2);
  const char* ops[] = {"Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual"};
  for (const char* op : ops) {
    std::vector<double> expected;
    for (size_t i = 0; i < a.size(); ++i) {
      int x = a[i], y = b[i % 4];
      std::string o = op;
      bool v = o == "Equal" ? x == y : o == "Greater" ? x > y : o == "GreaterOrEqual" ? x >= y : o == "Less" ? x < y : x <= y;
      expected.push_back(v);
    }
    std::vector<float> af(a.begin(), a.end()), bf(b.begin(), b.end());
    auto r = testing::run_ref_op(op, {Tensor::from_vector<int32_t>({2, 3, 4}, a), Tensor::from_vector<int32_t>({4}, b)}, {}, 16);
    ASSERT_TRUE(r.error.empty()) << op << ": " << r.error;
    EXPECT_EQ(r.out().dtype(), DType::boolean);
    testing::expect_tensor_near(r.out(), {2, 3, 4}, expected);
    r = testing::run_ref_op(op, {Tensor::from_vector<float>({2, 3, 4}, af), Tensor::from_vector<float>({1, 4}, bf)}, {}, 16);
    ASSERT_TRUE(r.error.empty()) << op << ": " << r.error;
    testing::expect_tensor_near(r.out(), {2, 3, 4}, expected);
  }
}

TEST(RefCompareLogic, NaNComparesUnequal) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto x = Tensor::from_vector<float>({3}, {nan, 1, 2});
  auto y = Tensor::from_vector<float>({3}, {nan, 1, 3});
  auto r = testing::run_ref_op("Equal", {x, y}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3}, {0, 1, 0});
  r = testing::run_ref_op("LessOrEqual", {x, y}, {}, 16);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3}, {0, 1, 1});
}

TEST(RefCompareLogic, EqualOnStringsBoolsAndHalf) {
  auto s1 = Tensor::from_vector<std::string>({3}, {"a", "bc", ""});
  auto s2 = Tensor::from_vector<std::string>({3}, {"a", "b", ""});
  auto r = testing::run_ref_op("Equal", {s1, s2}, {}, 19);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3}, {1, 0, 1});

  auto b1 = Tensor::from_vector<bool>({2}, {true, false});
  r = testing::run_ref_op("Equal", {b1, Tensor::from_vector<bool>({}, {true})}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2}, {1, 0});

  auto h1 = Tensor::from_vector<Half>({2}, {Half(1.5f), Half(-2.0f)});
  auto h2 = Tensor::from_vector<Half>({2}, {Half(1.0f), Half(-2.0f)});
  r = testing::run_ref_op("Greater", {h1, h2}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2}, {1, 0});
}

TEST(RefCompareLogic, AndOrXor) {
  std::mt19937 rng(11);
  std::vector<bool> a(24), b(6);
  for (size_t i = 0; i < a.size(); ++i) a[i] = rng() & 1;
  for (size_t i = 0; i < b.size(); ++i) b[i] = rng() & 1;
  auto ta = Tensor(DType::boolean, {2, 2, 6});
  auto tb = Tensor(DType::boolean, {6});
  for (size_t i = 0; i < a.size(); ++i) ta.data<bool>()[i] = a[i];
  for (size_t i = 0; i < b.size(); ++i) tb.data<bool>()[i] = b[i];
  const char* ops[] = {"And", "Or", "Xor"};
  for (const char* op : ops) {
    std::vector<double> expected;
    for (size_t i = 0; i < a.size(); ++i) {
      bool x = a[i], y = b[i % 6];
      std::string o = op;
      expected.push_back(o == "And" ? (x && y) : o == "Or" ? (x || y) : (x != y));
    }
    auto r = testing::run_ref_op(op, {ta, tb}, {}, 7);
    ASSERT_TRUE(r.error.empty()) << op << ": " << r.error;
    testing::expect_tensor_near(r.out(), {2, 2, 6}, expected);
  }
}

TEST(RefCompareLogic, LegacyBroadcast) {
  auto a = Tensor::from_vector<int64_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto b = Tensor::from_vector<int64_t>({2}, {2, 5});
  auto r = testing::run_ref_op("Greater", {a, b}, {testing::attr_i("broadcast", 1), testing::attr_i("axis", 0)}, 1);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3}, {0, 0, 1, 0, 0, 1});
}

TEST(RefCompareLogic, BadInputsAreErrors) {
  auto r = testing::run_ref_op("And", {Tensor::from_vector<int32_t>({1}, {1}), Tensor::from_vector<int32_t>({1}, {1})}, {}, 7);
  EXPECT_NE(r.error.find("bool"), std::string::npos) << r.error;
  r = testing::run_ref_op("Less", {Tensor::from_vector<float>({1}, {1}), Tensor::from_vector<int32_t>({1}, {1})}, {}, 13);
  EXPECT_NE(r.error.find("dtype"), std::string::npos) << r.error;
  r = testing::run_ref_op("Greater", {Tensor::from_vector<std::string>({1}, {"a"}), Tensor::from_vector<std::string>({1}, {"b"})},
                          {}, 13);
  EXPECT_NE(r.error.find("string"), std::string::npos) << r.error;
  r = testing::run_ref_op("Equal", {Tensor::from_vector<float>({3}, {}), Tensor::from_vector<float>({2}, {})}, {}, 13);
  EXPECT_NE(r.error.find("broadcast"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
