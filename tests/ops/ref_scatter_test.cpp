#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::attr_s;
using testing::run_ref_op;

Tensor arange(const Shape& s) {
  std::vector<float> v(static_cast<size_t>(shape_numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i + 1);
  return Tensor::from_vector<float>(s, v);
}

TEST(RefScatterElements, Axis0AndDeprecatedScatter) {
  Tensor data = arange({3, 3});
  Tensor idx = Tensor::from_vector<int64_t>({2, 3}, {1, 0, 2, 0, 2, 1});
  Tensor upd = Tensor::from_vector<float>({2, 3}, {1.0f, 1.1f, 1.2f, 2.0f, 2.1f, 2.2f});
  const std::vector<double> expected{2, 1.1, 3, 1, 5, 2.2, 7, 2.1, 1.2};
  auto a = run_ref_op("ScatterElements", {data, idx, upd}, {}, 13);
  ASSERT_TRUE(a.error.empty()) << a.error;
  testing::expect_tensor_near(a.out(), {3, 3}, expected);
  auto b = run_ref_op("Scatter", {data, idx, upd}, {}, 9);
  ASSERT_TRUE(b.error.empty()) << b.error;
  testing::expect_tensor_near(b.out(), {3, 3}, expected);
  // The input is not modified.
  testing::expect_tensor_near(data, {3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST(RefScatterElements, ReductionsAndNegativeIndices) {
  Tensor data = Tensor::from_vector<float>({1, 5}, {1, 2, 3, 4, 5});
  Tensor upd = Tensor::from_vector<float>({1, 2}, {1.1f, 2.1f});
  auto neg = run_ref_op("ScatterElements", {data, Tensor::from_vector<int64_t>({1, 2}, {1, -2}), upd},
                        {attr_i("axis", 1)}, 13);
  ASSERT_TRUE(neg.error.empty()) << neg.error;
  testing::expect_tensor_near(neg.out(), {1, 5}, {1, 1.1, 3, 2.1, 5});
  Tensor dup = Tensor::from_vector<int64_t>({1, 2}, {1, 1});
  struct Case {
    const char* reduction;
    int opset;
    double value;
  };
  for (const Case& c : std::vector<Case>{{"add", 16, 2 + 1.1 + 2.1}, {"mul", 16, 2 * 1.1 * 2.1}, {"max", 18, 2.1},
                                         {"min", 18, 1.1}}) {
    auto r = run_ref_op("ScatterElements", {data, dup, upd}, {attr_i("axis", 1), attr_s("reduction", c.reduction)},
                        c.opset);
    ASSERT_TRUE(r.error.empty()) << r.error;
    testing::expect_tensor_near(r.out(), {1, 5}, {1, c.value, 3, 4, 5}, 1e-5);
  }
  // Integer add.
  Tensor di = Tensor::from_vector<int32_t>({4}, {10, 20, 30, 40});
  auto ri = run_ref_op("ScatterElements", {di, Tensor::from_vector<int64_t>({3}, {3, 0, 3}),
                                           Tensor::from_vector<int32_t>({3}, {1, 2, 3})},
                       {attr_s("reduction", "add")}, 16);
  ASSERT_TRUE(ri.error.empty()) << ri.error;
  testing::expect_tensor_near(ri.out(), {4}, {12, 20, 30, 44});
}

TEST(RefScatterElements, BadInputsAreErrors) {
  Tensor data = arange({2, 3});
  Tensor upd = Tensor::from_vector<float>({1, 2}, {7, 8});
  auto a = run_ref_op("ScatterElements", {data, Tensor::from_vector<int64_t>({1, 2}, {0, 3}), upd},
                      {attr_i("axis", 1)}, 13);
  EXPECT_NE(a.error.find("index 3"), std::string::npos) << a.error;
  auto b = run_ref_op("ScatterElements", {data, Tensor::from_vector<int64_t>({1, 2}, {0, 1}), upd},
                      {attr_s("reduction", "max")}, 16);
  EXPECT_NE(b.error.find("'max'"), std::string::npos) << b.error;
  auto c = run_ref_op("ScatterElements", {data, Tensor::from_vector<int64_t>({2, 1}, {0, 1}), upd}, {}, 13);
  EXPECT_NE(c.error.find("'updates' shape"), std::string::npos) << c.error;
}

TEST(RefScatterND, SpecExamplesAndReductions) {
  Tensor data = arange({8});
  Tensor idx = Tensor::from_vector<int64_t>({4, 1}, {4, 3, 1, 7});
  Tensor upd = Tensor::from_vector<float>({4}, {9, 10, 11, 12});
  auto a = run_ref_op("ScatterND", {data, idx, upd}, {}, 13);
  ASSERT_TRUE(a.error.empty()) << a.error;
  testing::expect_tensor_near(a.out(), {8}, {1, 11, 3, 10, 9, 6, 7, 12});

  // Slices of a 3-D tensor, random updates; duplicates with add / mul.
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(0.5f, 2.0f);
  std::vector<float> u(2 * 4 * 4);
  for (auto& f : u) f = dist(rng);
  Tensor d3 = arange({4, 4, 4});
  Tensor u3 = Tensor::from_vector<float>({2, 4, 4}, u);
  auto b = run_ref_op("ScatterND", {d3, Tensor::from_vector<int64_t>({2, 1}, {0, 2}), u3}, {}, 16);
  auto add = run_ref_op("ScatterND", {d3, Tensor::from_vector<int64_t>({2, 1}, {0, 0}), u3},
                        {attr_s("reduction", "add")}, 16);
  auto mul = run_ref_op("ScatterND", {d3, Tensor::from_vector<int64_t>({2, 1}, {-4, 0}), u3},
                        {attr_s("reduction", "mul")}, 16);
  ASSERT_TRUE(b.error.empty() && add.error.empty() && mul.error.empty()) << b.error << add.error << mul.error;
  std::vector<double> eb, eadd, emul;
  for (int i = 0; i < 64; ++i) {
    const double x = i + 1;
    const int s = i / 16, e = i % 16;
    eb.push_back(s == 0 ? u[e] : s == 2 ? u[16 + e] : x);
    eadd.push_back(s == 0 ? x + u[e] + u[16 + e] : x);
    emul.push_back(s == 0 ? x * u[e] * u[16 + e] : x);
  }
  testing::expect_tensor_near(b.out(), {4, 4, 4}, eb);
  testing::expect_tensor_near(add.out(), {4, 4, 4}, eadd, 1e-4);
  testing::expect_tensor_near(mul.out(), {4, 4, 4}, emul, 1e-4);

  // Full index tuples into a 2-D int64 tensor with max.
  Tensor di = Tensor::from_vector<int64_t>({2, 2}, {5, 6, 7, 8});
  auto m = run_ref_op("ScatterND", {di, Tensor::from_vector<int64_t>({2, 2}, {0, 1, 1, 0}),
                                    Tensor::from_vector<int64_t>({2}, {9, 1})},
                      {attr_s("reduction", "max")}, 18);
  ASSERT_TRUE(m.error.empty()) << m.error;
  testing::expect_tensor_near(m.out(), {2, 2}, {5, 9, 7, 8});
}

TEST(RefScatterND, BadInputsAreErrors) {
  Tensor data = arange({4});
  auto a = run_ref_op("ScatterND", {data, Tensor::from_vector<int64_t>({1, 1}, {4}),
                                    Tensor::from_vector<float>({1}, {1})}, {}, 13);
  EXPECT_NE(a.error.find("index 4"), std::string::npos) << a.error;
  auto b = run_ref_op("ScatterND", {data, Tensor::from_vector<int64_t>({1, 1}, {0}),
                                    Tensor::from_vector<float>({2}, {1, 2})}, {}, 13);
  EXPECT_NE(b.error.find("'updates' shape"), std::string::npos) << b.error;
  auto c = run_ref_op("ScatterND", {data, Tensor::from_vector<int64_t>({1, 2}, {0, 0}),
                                    Tensor::from_vector<float>({1}, {1})}, {}, 13);
  EXPECT_NE(c.error.find("last dim"), std::string::npos) << c.error;
}

}  // namespace
}  // namespace hwopt
