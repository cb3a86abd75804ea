#include <cmath>
#include <functional>
#include <limits>
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::attr_ints;
using testing::run_ref_op;

std::vector<float> random_values(size_t n, unsigned seed, float lo = 0.5f, float hi = 2.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = (gen() % 2 ? 1.0f : -1.0f) * dist(gen);
  return v;
}

// Independent expectation for a [2,3,4] input: reduces with explicit index loops.
std::vector<double> reduce_234(const std::vector<float>& x, bool r0, bool r1, bool r2,
                               const std::function<double(const std::vector<double>&)>& f) {
  std::vector<double> out;
  for (int a = 0; a < (r0 ? 1 : 2); ++a)
    for (int b = 0; b < (r1 ? 1 : 3); ++b)
      for (int c = 0; c < (r2 ? 1 : 4); ++c) {
        std::vector<double> vals;
        for (int i = 0; i < 2; ++i)
          for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 4; ++k)
              if ((r0 || i == a) && (r1 || j == b) && (r2 || k == c)) vals.push_back(x[(i * 3 + j) * 4 + k]);
        out.push_back(f(vals));
      }
  return out;
}

double f_sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}
double f_mean(const std::vector<double>& v) { return f_sum(v) / static_cast<double>(v.size()); }
double f_max(const std::vector<double>& v) {
  double m = v[0];
  for (double x : v) m = std::max(m, x);
  return m;
}
double f_min(const std::vector<double>& v) {
  double m = v[0];
  for (double x : v) m = std::min(m, x);
  return m;
}
double f_prod(const std::vector<double>& v) {
  double p = 1;
  for (double x : v) p *= x;
  return p;
}
double f_l1(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += std::fabs(x);
  return s;
}
double f_sumsq(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return s;
}
double f_l2(const std::vector<double>& v) { return std::sqrt(f_sumsq(v)); }
double f_logsum(const std::vector<double>& v) { return std::log(f_sum(v)); }
double f_lse(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += std::exp(x);
  return std::log(s);
}

struct OpCase {
  const char* op;
  double (*f)(const std::vector<double>&);
  bool positive_input;  // LogSum needs a positive sum
};

const OpCase kOps[] = {
    {"ReduceSum", f_sum, false},         {"ReduceMean", f_mean, false},    {"ReduceMax", f_max, false},
    {"ReduceMin", f_min, false},         {"ReduceProd", f_prod, false},    {"ReduceL1", f_l1, false},
    {"ReduceL2", f_l2, false},           {"ReduceLogSum", f_logsum, true}, {"ReduceLogSumExp", f_lse, false},
    {"ReduceSumSquare", f_sumsq, false},
};

int axes_input_opset(const std::string& op) { return op == "ReduceSum" ? 13 : 18; }

TEST(RefReduce, AllOpsAxesAsAttributeAndInput) {
  for (const OpCase& c : kOps) {
    std::vector<float> xv = random_values(24, 7);
    if (c.positive_input)
      for (auto& v : xv) v = std::fabs(v);
    Tensor x = Tensor::from_vector<float>({2, 3, 4}, xv);
    // (axes, keepdims) -> expected shape and values
    struct AxesCase {
      std::vector<int64_t> axes;
      bool keepdims;
      Shape shape;
      bool r0, r1, r2;
    };
    const AxesCase cases[] = {
        {{1}, true, {2, 1, 4}, false, true, false}, {{0, 2}, false, {3}, true, false, true},
        {{-1}, false, {2, 3}, false, false, true},  {{2, 0}, true, {1, 3, 1}, true, false, true},
        {{}, true, {1, 1, 1}, true, true, true},    {{}, false, {}, true, true, true},
    };
    for (const AxesCase& ac : cases) {
      auto expected = reduce_234(xv, ac.r0, ac.r1, ac.r2, c.f);
      SCOPED_TRACE(std::string(c.op) + " axes size " + std::to_string(ac.axes.size()));
      // Attribute form (opset 11 / 13).
      std::vector<ir::Attribute> attrs{attr_i("keepdims", ac.keepdims)};
      if (!ac.axes.empty()) attrs.push_back(attr_ints("axes", ac.axes));
      auto r = run_ref_op(c.op, {x}, attrs, 11);
      ASSERT_TRUE(r.error.empty()) << r.error;
      testing::expect_tensor_near(r.out(), ac.shape, expected, 1e-5, 1e-5);
      // Input form.
      Tensor axes_t = ac.axes.empty() ? Tensor() : Tensor::from_vector<int64_t>({(int64_t)ac.axes.size()}, ac.axes);
      auto r2 = run_ref_op(c.op, {x, axes_t}, {attr_i("keepdims", ac.keepdims)}, axes_input_opset(c.op));
      ASSERT_TRUE(r2.error.empty()) << r2.error;
      testing::expect_tensor_near(r2.out(), ac.shape, expected, 1e-5, 1e-5);
    }
  }
}

TEST(RefReduce, HandExample) {
  // [[1, 2], [3, 4]] reduced over axis 1.
  Tensor x = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  auto r = run_ref_op("ReduceLogSumExp", {x}, {attr_ints("axes", {1}), attr_i("keepdims", 0)}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2}, {2.0 + std::log1p(std::exp(-1.0)), 4.0 + std::log1p(std::exp(-1.0))});
  r = run_ref_op("ReduceMean", {x}, {attr_ints("axes", {0})}, 13);
  testing::expect_tensor_near(r.out(), {1, 2}, {2, 3});
  // LogSumExp stays finite for large inputs.
  Tensor big = Tensor::from_vector<float>({2}, {1000, 1000});
  r = run_ref_op("ReduceLogSumExp", {big}, {attr_i("keepdims", 0)}, 13);
  testing::expect_tensor_near(r.out(), {}, {1000 + std::log(2.0)}, 1e-3);
}

TEST(RefReduce, NoopWithEmptyAxes) {
  Tensor x = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  Tensor empty_axes(DType::int64, {0});
  auto r = run_ref_op("ReduceSum", {x, empty_axes}, {attr_i("noop_with_empty_axes", 1)}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 2}, {1, 2, 3, 4});
  r = run_ref_op("ReduceMax", {x}, {attr_i("noop_with_empty_axes", 1), attr_i("keepdims", 0)}, 18);
  testing::expect_tensor_near(r.out(), {2, 2}, {1, 2, 3, 4});
  // Without noop an empty axes input reduces everything.
  r = run_ref_op("ReduceSum", {x, empty_axes}, {attr_i("keepdims", 0)}, 13);
  testing::expect_tensor_near(r.out(), {}, {10});
}

TEST(RefReduce, IntegerTypes) {
  Tensor x = Tensor::from_vector<int32_t>({2, 3}, {5, -7, 2, 9, 4, -3});
  auto r = run_ref_op("ReduceSum", {x, Tensor::from_vector<int64_t>({1}, {1})}, {attr_i("keepdims", 0)}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int32);
  testing::expect_tensor_near(r.out(), {2}, {0, 10});
  r = run_ref_op("ReduceMean", {x}, {attr_ints("axes", {1}), attr_i("keepdims", 0)}, 13);
  testing::expect_tensor_near(r.out(), {2}, {0, 3});  // 0/3 and 10/3 truncated
  r = run_ref_op("ReduceProd", {x}, {attr_ints("axes", {0}), attr_i("keepdims", 0)}, 13);
  testing::expect_tensor_near(r.out(), {3}, {45, -28, -6});
  r = run_ref_op("ReduceL1", {x}, {attr_i("keepdims", 0)}, 13);
  testing::expect_tensor_near(r.out(), {}, {30});
  r = run_ref_op("ReduceSumSquare", {x}, {attr_i("keepdims", 0)}, 13);
  testing::expect_tensor_near(r.out(), {}, {25 + 49 + 4 + 81 + 16 + 9});
  Tensor big = Tensor::from_vector<int64_t>({2}, {int64_t{1} << 60, (int64_t{1} << 60) + 1});
  r = run_ref_op("ReduceMax", {big}, {attr_i("keepdims", 0)}, 13);
  EXPECT_EQ(r.out().data<int64_t>()[0], (int64_t{1} << 60) + 1);
  Tensor u8 = Tensor::from_vector<uint8_t>({3}, {7, 200, 3});
  r = run_ref_op("ReduceMin", {u8}, {attr_i("keepdims", 0)}, 12);
  EXPECT_EQ(r.out().dtype(), DType::uint8);
  EXPECT_EQ(r.out().data<uint8_t>()[0], 3);
}

TEST(RefReduce, BoolMaxMinFromOpset20) {
  Tensor x = Tensor::from_vector<bool>({2, 2}, {true, false, false, false});
  auto r = run_ref_op("ReduceMax", {x, Tensor::from_vector<int64_t>({1}, {1})}, {attr_i("keepdims", 0)}, 20);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::boolean);
  testing::expect_tensor_near(r.out(), {2}, {1, 0});
  r = run_ref_op("ReduceMin", {x}, {attr_i("keepdims", 0)}, 20);
  testing::expect_tensor_near(r.out(), {}, {0});
  r = run_ref_op("ReduceMax", {x}, {}, 18);
  EXPECT_NE(r.error.find("opset 20"), std::string::npos) << r.error;
  r = run_ref_op("ReduceSum", {x}, {}, 20);
  EXPECT_FALSE(r.error.empty());
}

TEST(RefReduce, ZeroSizeReductions) {
  Tensor x(DType::float32, {2, 0});
  const double inf = std::numeric_limits<double>::infinity();
  const std::pair<const char*, double> cases[] = {
      {"ReduceSum", 0},          {"ReduceProd", 1},
      {"ReduceMax", -inf},       {"ReduceMin", inf},
      {"ReduceL1", 0},           {"ReduceL2", 0},
      {"ReduceSumSquare", 0},    {"ReduceLogSum", -inf},
      {"ReduceLogSumExp", -inf}, {"ReduceMean", std::nan("")},
  };
  for (const auto& [op, value] : cases) {
    auto r = run_ref_op(op, {x}, {attr_ints("axes", {1}), attr_i("keepdims", 0)}, 11);
    ASSERT_TRUE(r.error.empty()) << op << ": " << r.error;
    ASSERT_EQ(r.out().shape(), (Shape{2})) << op;
    for (int i = 0; i < 2; ++i) {
      double got = r.out().element_as_double(i);
      if (std::isnan(value)) {
        EXPECT_TRUE(std::isnan(got)) << op;
      } else {
        EXPECT_EQ(got, value) << op;
      }
    }
  }
  Tensor xi(DType::int32, {0, 3});
  auto r = run_ref_op("ReduceMin", {xi}, {attr_ints("axes", {0}), attr_i("keepdims", 1)}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.out().shape(), (Shape{1, 3}));
  EXPECT_EQ(r.out().data<int32_t>()[0], std::numeric_limits<int32_t>::max());
  // Keeping the zero-size dim gives an empty output.
  r = run_ref_op("ReduceSum", {xi, Tensor::from_vector<int64_t>({1}, {1})}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().shape(), (Shape{0, 1}));
}

TEST(RefReduce, Float16AndNonContiguous) {
  Tensor h = Tensor::from_vector<Half>({2, 2}, {Half(1.5f), Half(2.0f), Half(-3.0f), Half(0.25f)});
  auto r = run_ref_op("ReduceSum", {h}, {attr_i("keepdims", 0)}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float16);
  testing::expect_tensor_near(r.out(), {}, {0.75});
  // Transposed view of [[1, 2, 3], [4, 5, 6]]: reduce over its axis 1 = columns of the original.
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6}).permute({1, 0});
  r = run_ref_op("ReduceSum", {x}, {attr_ints("axes", {1}), attr_i("keepdims", 0)}, 11);
  testing::expect_tensor_near(r.out(), {3}, {5, 7, 9});
}

TEST(RefReduce, BadAxes) {
  Tensor x = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  auto r = run_ref_op("ReduceSum", {x}, {attr_ints("axes", {2})}, 11);
  EXPECT_NE(r.error.find("axes value 2 is out of range"), std::string::npos) << r.error;
  r = run_ref_op("ReduceMean", {x}, {attr_ints("axes", {1, -1})}, 13);
  EXPECT_NE(r.error.find("more than once"), std::string::npos) << r.error;
  r = run_ref_op("ReduceMean", {x}, {attr_ints("axes", {1})}, 18);
  EXPECT_NE(r.error.find("as an input"), std::string::npos) << r.error;
  r = run_ref_op("ReduceMean", {x, Tensor::from_vector<int64_t>({1}, {1})}, {}, 17);
  EXPECT_NE(r.error.find("as an attribute"), std::string::npos) << r.error;
  r = run_ref_op("ReduceSum", {x, Tensor::from_vector<int64_t>({1}, {-3})}, {}, 13);
  EXPECT_NE(r.error.find("-3"), std::string::npos) << r.error;
  Tensor s = Tensor::from_vector<std::string>({1}, {"a"});
  r = run_ref_op("ReduceSum", {s}, {}, 13);
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace hwopt
