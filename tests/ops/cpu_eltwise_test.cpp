// The CPU backend's oneDNN eltwise candidates against the reference kernels.
#include <random>

#include "backends/cpu/onednn.h"
#include "runtime/single_op.h"
#include "op_test_util.h"

namespace hwopt {
namespace {

Tensor random_tensor(const Shape& shape, uint32_t seed, float lo = -3.f, float hi = 3.f) {
  Tensor t(DType::float32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) {
    float v = dist(rng);
    t.data<float>()[i] = v == 0.f ? 0.5f : v;
  }
  return t;
}

Tensor blocked(const Tensor& t, dnnl::memory::format_tag tag) {
  return cpu::reorder_to(t, cpu::tagged_desc(t.shape(), DType::float32, tag));
}

void expect_matches(const Tensor& got, const Tensor& want, double tol) {
  std::vector<double> w;
  for (int64_t i = 0; i < want.numel(); ++i) w.push_back(want.element_as_double(i));
  testing::expect_tensor_near(got, want.shape(), w, tol, tol);
}

struct EltCase {
  std::string op;
  std::vector<ir::Attribute> attrs;
  float lo = -3.f, hi = 3.f;
  double tol = 1e-5;
  std::string domain = "";
  int opset = 17;
};

const std::vector<EltCase>& cases() {
  static const std::vector<EltCase> c = {
      {"Relu", {}},
      {"LeakyRelu", {testing::attr_f("alpha", 0.1f)}},
      {"LeakyRelu", {}},
      {"Elu", {testing::attr_f("alpha", 0.7f)}, -3.f, 3.f, 1e-4},
      {"Sigmoid", {}, -8.f, 8.f, 1e-4},
      {"Tanh", {}, -4.f, 4.f, 1e-4},
      {"HardSigmoid", {testing::attr_f("alpha", 0.3f), testing::attr_f("beta", 0.4f)}},
      {"HardSigmoid", {}, -6.f, 6.f},
      {"HardSwish", {}, -6.f, 6.f},
      {"Exp", {}, -5.f, 5.f, 1e-4},
      {"Log", {}, 0.01f, 50.f, 1e-4},
      {"Sqrt", {}, 0.01f, 50.f, 1e-5},
      {"Abs", {}},
      {"Neg", {}},
      {"Softplus", {}, -10.f, 10.f, 1e-4},
      {"Mish", {}, -5.f, 5.f, 1e-4, "", 18},
      {"Gelu", {}, -5.f, 5.f, 1e-4, "", 20},
      {"Gelu", {testing::attr_s("approximate", "tanh")}, -5.f, 5.f, 1e-4, "", 20},
      {"Gelu", {}, -5.f, 5.f, 1e-4, "com.microsoft", 1},
      {"FastGelu", {}, -5.f, 5.f, 1e-4, "com.microsoft", 1},
      {"Clip", {testing::attr_f("min", -0.5f), testing::attr_f("max", 1.5f)}, -3.f, 3.f, 1e-5, "", 6},
      {"Clip", {testing::attr_f("min", 0.f)}, -3.f, 3.f, 1e-5, "", 6},
  };
  return c;
}

const std::vector<Shape> kShapes = {{1}, {7}, {3, 5}, {2, 3, 17}, {1, 16, 5, 5}, {2, 19, 3, 7}, {}, {1, 2, 3, 4, 5}};

void check(const EltCase& c, const Tensor& x, const Tensor& x_in, std::vector<Tensor> extra = {},
           std::vector<size_t> constants = {}) {
  std::vector<Tensor> ref_in = {x};
  std::vector<Tensor> cpu_in = {x_in};
  for (auto& e : extra) {
    ref_in.push_back(e);
    cpu_in.push_back(e);
  }
  auto ref = testing::run_ref_op(c.op, ref_in, c.attrs, c.opset, 1, c.domain);
  ASSERT_TRUE(ref.error.empty()) << ref.error;
  auto cpu = testing::run_backend_op("cpu", c.op, cpu_in, c.attrs, c.opset, 1, c.domain, constants);
  ASSERT_TRUE(cpu.error.empty()) << c.op << ": " << cpu.error;
  ASSERT_EQ(cpu.implementation, "cpu:onednn:eltwise") << c.op;
  SCOPED_TRACE(c.op + " " + shape_str(x.shape()));
  expect_matches(cpu.out(), ref.out(), c.tol);
}

TEST(CpuEltwise, PlainMatchesReference) {
  uint32_t seed = 1;
  for (const auto& c : cases())
    for (const Shape& s : kShapes) {
      Tensor x = random_tensor(s, seed++, c.lo, c.hi);
      check(c, x, x);
    }
}

TEST(CpuEltwise, BlockedInputStaysBlockedAndMatches) {
  uint32_t seed = 100;
  for (const auto& c : cases()) {
    if (c.op == "FastGelu") continue;
    for (const Shape& s : {Shape{1, 16, 5, 5}, Shape{2, 19, 3, 7}, Shape{1, 3, 4, 4}}) {
      Tensor x = random_tensor(s, seed++, c.lo, c.hi);
      check(c, x, blocked(x, dnnl::memory::format_tag::nChw16c));
      check(c, x, blocked(x, dnnl::memory::format_tag::nhwc));
    }
  }
}

TEST(CpuEltwise, OutputKeepsBlockedLayout) {
  SingleOp op;
  op.op_type = "Relu";
  op.inputs = {blocked(random_tensor({1, 32, 6, 6}, 5), dnnl::memory::format_tag::nChw16c)};
  SingleOpRunner runner("cpu", op, 2);
  ASSERT_EQ(runner.implementation(), "cpu:onednn:eltwise");
  auto r = runner.run(/*plain=*/false);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_FALSE(r.out().is_plain());
}

TEST(CpuEltwise, ClipWithConstantBoundInputs) {
  EltCase c{"Clip", {}, -3.f, 3.f, 1e-5, "", 13};
  for (const Shape& s : kShapes) {
    Tensor x = random_tensor(s, 7);
    check(c, x, x, {Tensor::scalar<float>(-1.f), Tensor::scalar<float>(0.5f)}, {1, 2});
    check(c, x, x, {Tensor::scalar<float>(0.f)}, {1});
    check(c, x, x, {Tensor(), Tensor::scalar<float>(0.25f)}, {2});
    check(c, x, x, {Tensor::scalar<float>(1.f), Tensor::scalar<float>(-1.f)}, {1, 2});  // min > max
  }
}

TEST(CpuEltwise, FastGeluWithBias) {
  EltCase c{"FastGelu", {}, -4.f, 4.f, 1e-4, "com.microsoft", 1};
  for (const Shape& s : {Shape{2, 3, 17}, Shape{5, 64}, Shape{33}}) {
    Tensor x = random_tensor(s, 9, -4.f, 4.f);
    Tensor b = random_tensor({s.back()}, 10, -1.f, 1.f);
    check(c, x, x, {b}, {1});
    check(c, x, x, {b}, {});
  }
}

TEST(CpuEltwise, DeclinesWithReasons) {
  // Clip bounds that are not constants.
  Tensor x = random_tensor({4, 4}, 1);
  auto r = testing::run_backend_op("cpu", "Clip", {x, Tensor::scalar<float>(0.f)}, {}, 13, 1, "", {});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_NE(r.implementation, "cpu:onednn:eltwise");
  ASSERT_FALSE(r.declined.empty());
  EXPECT_NE(r.declined[0].find("not a constant"), std::string::npos);
  // Integer input.
  Tensor xi = Tensor::from_vector<int32_t>({3}, {-1, 2, -3});
  r = testing::run_backend_op("cpu", "Relu", {xi}, {}, 17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_NE(r.implementation, "cpu:onednn:eltwise");
  ASSERT_FALSE(r.declined.empty());
  EXPECT_NE(r.declined[0].find("float32"), std::string::npos);
  // Unknown Gelu approximation.
  r = testing::run_backend_op("cpu", "Gelu", {x}, {testing::attr_s("approximate", "fast")}, 20);
  EXPECT_NE(r.implementation, "cpu:onednn:eltwise");
}

}  // namespace
}  // namespace hwopt
