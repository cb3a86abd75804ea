// The CPU backend's oneDNN binary and Pow candidates against the reference kernels.
#include <random>

#include "backends/cpu/onednn.h"
#include "runtime/single_op.h"
#include "op_test_util.h"

namespace hwopt {
namespace {

using tag = dnnl::memory::format_tag;

Tensor random_tensor(const Shape& shape, uint32_t seed, float lo = -2.f, float hi = 2.f) {
  Tensor t(DType::float32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) {
    float v = dist(rng);
    // Non-zero and away from zero, so Div is well conditioned.
    if (std::fabs(v) < 0.1f) v = v < 0 ? -0.1f - v : 0.1f + v;
    t.data<float>()[i] = v;
  }
  return t;
}

Tensor blocked(const Tensor& t, tag tg) { return cpu::reorder_to(t, cpu::tagged_desc(t.shape(), DType::float32, tg)); }

void expect_matches(const Tensor& got, const Tensor& want, double tol) {
  std::vector<double> w;
  for (int64_t i = 0; i < want.numel(); ++i) w.push_back(want.element_as_double(i));
  testing::expect_tensor_near(got, want.shape(), w, tol, tol);
}

const std::vector<std::string> kOps = {"Add", "Sub", "Mul", "Div", "Max", "Min"};

void check(const std::string& op, const Tensor& a, const Tensor& b, const Tensor& a_in, const Tensor& b_in,
           std::vector<size_t> constants = {}, const std::string& impl = "cpu:onednn:binary") {
  SCOPED_TRACE(op + " " + shape_str(a.shape()) + " " + shape_str(b.shape()) + " layouts " +
               (a_in.is_plain() ? "plain" : a_in.layout()->name()) + " " +
               (b_in.is_plain() ? "plain" : b_in.layout()->name()));
  auto ref = testing::run_ref_op(op, {a, b}, {}, 17);
  ASSERT_TRUE(ref.error.empty()) << ref.error;
  auto cpu = testing::run_backend_op("cpu", op, {a_in, b_in}, {}, 17, 1, "", constants);
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  ASSERT_EQ(cpu.implementation, impl);
  expect_matches(cpu.out(), ref.out(), 1e-6);
}

TEST(CpuBinary, PlainBroadcastingMatchesReference) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{7}, {7}},
      {{2, 3, 17}, {2, 3, 17}},
      {{2, 3, 4}, {4}},
      {{4}, {2, 3, 4}},              // first operand broadcasts: swap (Sub negates, Div loops)
      {{2, 3, 4}, {3, 1}},
      {{3, 1}, {2, 3, 4}},
      {{2, 1, 4}, {1, 3, 1}},        // both broadcast
      {{}, {2, 5}},
      {{2, 5}, {}},
      {{}, {}},
      {{1}, {5}},
      {{2, 16, 5, 5}, {16, 1, 1}},   // per-channel bias
      {{2, 16, 5, 5}, {1, 16, 5, 1}},
      {{3, 8, 64}, {3, 8, 1}},       // per-row scale
      {{1, 2, 3, 4, 5}, {5}},
      {{2, 3, 0}, {3, 1}},           // empty
  };
  uint32_t seed = 1;
  for (const auto& op : kOps)
    for (const auto& [sa, sb] : shapes) {
      Tensor a = random_tensor(sa, seed++), b = random_tensor(sb, seed++);
      check(op, a, b, a, b);
      check(op, a, b, a, b, {1});  // a constant second operand (a bias)
    }
}

TEST(CpuBinary, BlockedInputsMatchReference) {
  uint32_t seed = 50;
  for (const auto& op : kOps)
    for (int64_t c : {16, 19}) {
      const Shape s{2, c, 5, 3};
      Tensor a = random_tensor(s, seed++), b = random_tensor(s, seed++);
      Tensor bias = random_tensor({c, 1, 1}, seed++), bias4 = random_tensor({1, c, 1, 1}, seed++);
      Tensor spatial = random_tensor({1, 1, 5, 3}, seed++), scalar = random_tensor({1}, seed++);
      const Tensor ab = blocked(a, tag::nChw16c), bb = blocked(b, tag::nChw16c);
      check(op, a, b, ab, bb);                           // same layout
      check(op, a, b, ab, b);                            // blocked + plain of the same shape
      check(op, a, b, a, bb);                            // plain + blocked
      check(op, a, b, ab, blocked(b, tag::nhwc));        // two different layouts
      check(op, a, bias, ab, bias, {1});                 // [C,1,1] bias
      check(op, a, bias4, ab, bias4, {1});
      check(op, bias4, a, bias4, ab, {0});               // broadcast first operand
      check(op, a, bias4, ab, blocked(bias4, tag::nChw16c));  // squeeze-excite scale, both blocked
      check(op, bias4, a, blocked(bias4, tag::nChw16c), ab);
      check(op, a, spatial, ab, spatial);                // a broadcast without a fast blocked kernel
      check(op, a, scalar, ab, scalar, {1});
      check(op, scalar, a, scalar, ab, {0});
    }
}

TEST(CpuBinary, OutputOfBlockedInputsStaysBlocked) {
  for (int64_t c : {32, 19}) {
    SingleOp op;
    op.op_type = "Add";
    op.inputs = {blocked(random_tensor({1, c, 4, 4}, 3), tag::nChw16c), random_tensor({c, 1, 1}, 4)};
    op.constant_inputs = {1};
    SingleOpRunner runner("cpu", op, 2);
    ASSERT_EQ(runner.implementation(), "cpu:onednn:binary");
    auto r = runner.run(/*plain=*/false);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_FALSE(r.out().is_plain());
    r = runner.run(/*plain=*/false);  // the cached, pre-reordered bias
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_FALSE(r.out().is_plain());
  }
}

TEST(CpuBinary, PowWithConstantScalarExponent) {
  uint32_t seed = 200;
  for (float e : {2.f, 3.f, -1.f, 1.f, 0.f}) {
    for (const Shape& s : {Shape{7}, Shape{2, 3, 17}, Shape{}, Shape{2, 19, 3, 3}}) {
      Tensor x = random_tensor(s, seed++);
      Tensor y = Tensor::scalar<float>(e);
      auto ref = testing::run_ref_op("Pow", {x, y}, {}, 15);
      auto cpu = testing::run_backend_op("cpu", "Pow", {x, y}, {}, 15, 1, "", {1});
      ASSERT_TRUE(cpu.error.empty()) << cpu.error;
      ASSERT_EQ(cpu.implementation, "cpu:onednn:eltwise_pow");
      expect_matches(cpu.out(), ref.out(), 1e-5);
      if (s.size() == 4) {
        cpu = testing::run_backend_op("cpu", "Pow", {blocked(x, tag::nChw16c), y}, {}, 15, 1, "", {1});
        ASSERT_TRUE(cpu.error.empty()) << cpu.error;
        expect_matches(cpu.out(), ref.out(), 1e-5);
      }
    }
  }
  // Fractional exponents of positive bases; integer exponent tensors; a rank-2 scalar exponent.
  Tensor x = random_tensor({3, 11}, 7, 0.1f, 4.f);
  for (const Tensor& y : {Tensor::scalar<float>(0.5f), Tensor::scalar<float>(1.5f),
                          Tensor::from_vector<int64_t>({1}, {2}), Tensor::from_vector<float>({1, 1, 1}, {-0.5f})}) {
    auto ref = testing::run_ref_op("Pow", {x, y}, {}, 15);
    auto cpu = testing::run_backend_op("cpu", "Pow", {x, y}, {}, 15, 1, "", {1});
    ASSERT_TRUE(cpu.error.empty()) << cpu.error;
    ASSERT_EQ(cpu.implementation, "cpu:onednn:eltwise_pow");
    expect_matches(cpu.out(), ref.out(), 1e-5);
  }
}

/// `r` did not run candidate `name`, which declined with a reason containing `why`.
void expect_declined(const testing::BackendOpResult& r, const std::string& name, const std::string& why) {
  EXPECT_NE(r.implementation, "cpu:" + name);
  bool found = false;
  for (const auto& d : r.declined) found = found || (d.find(name + ": ") != std::string::npos && d.find(why) != std::string::npos);
  EXPECT_TRUE(found) << name << " should decline with '" << why << "'";
}

TEST(CpuBinary, DeclinesWithReasons) {
  Tensor ia = Tensor::from_vector<int32_t>({3}, {1, 2, 3});
  auto r = testing::run_backend_op("cpu", "Add", {ia, ia}, {}, 17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  expect_declined(r, "onednn:binary", "float32");

  Tensor x = random_tensor({3, 4}, 1);
  r = testing::run_backend_op("cpu", "Max", {x, x, x}, {}, 17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  expect_declined(r, "onednn:binary", "3 inputs");

  r = testing::run_backend_op("cpu", "Add", {x, random_tensor({3, 5}, 2)}, {}, 17);
  expect_declined(r, "onednn:binary", "do not broadcast");

  r = testing::run_backend_op("cpu", "Pow", {x, Tensor::scalar<float>(2.f)}, {}, 15, 1, "", {});
  ASSERT_TRUE(r.error.empty()) << r.error;
  expect_declined(r, "onednn:eltwise_pow", "not a constant");
  auto ref = testing::run_ref_op("Pow", {x, Tensor::scalar<float>(2.f)}, {}, 15);
  expect_matches(r.out(), ref.out(), 1e-5);
}

}  // namespace
}  // namespace hwopt
