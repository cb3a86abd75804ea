// The CPU backend's normalisation candidates against the reference kernels.
#include <random>

#include "backends/cpu/onednn.h"
#include "op_test_util.h"
#include "runtime/single_op.h"

namespace hwopt {
namespace {

using tag = dnnl::memory::format_tag;

Tensor random_tensor(const Shape& shape, uint32_t seed, float lo = -2.f, float hi = 2.f) {
  Tensor t(DType::float32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) {
    float v = dist(rng);
    t.data<float>()[i] = v == 0.f ? 0.5f : v;
  }
  return t;
}

Tensor blocked(const Tensor& t, tag tg) { return cpu::reorder_to(t, cpu::tagged_desc(t.shape(), DType::float32, tg)); }

void expect_matches(const Tensor& got, const Tensor& want, double tol = 1e-5) {
  std::vector<double> w;
  for (int64_t i = 0; i < want.numel(); ++i) w.push_back(want.element_as_double(i));
  testing::expect_tensor_near(got, want.shape(), w, tol, tol);
}

void check(const std::string& op, const std::vector<Tensor>& in, const std::vector<Tensor>& cpu_in,
           const std::vector<ir::Attribute>& attrs, int opset, const std::string& domain,
           const std::vector<size_t>& constants, const std::string& impl, double tol = 1e-5) {
  SCOPED_TRACE(op + " " + shape_str(in[0].shape()) + (cpu_in[0].is_plain() ? " plain" : " " + cpu_in[0].layout()->name()));
  auto ref = testing::run_ref_op(op, in, attrs, opset, 1, domain);
  ASSERT_TRUE(ref.error.empty()) << ref.error;
  auto cpu = testing::run_backend_op("cpu", op, cpu_in, attrs, opset, 1, domain, constants);
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  ASSERT_EQ(cpu.implementation, impl);
  expect_matches(cpu.out(), ref.out(), tol);
}

TEST(CpuNorm, BatchNormalizationMatchesReference) {
  uint32_t seed = 1;
  for (const Shape& s : {Shape{2, 16, 5, 5}, Shape{1, 19, 7, 3}, Shape{3, 8}, Shape{2, 5, 11}, Shape{1, 4, 3, 5, 6}}) {
    const int64_t c = s[1];
    Tensor x = random_tensor(s, seed++);
    std::vector<Tensor> in = {x, random_tensor({c}, seed++), random_tensor({c}, seed++), random_tensor({c}, seed++),
                              random_tensor({c}, seed++, 0.1f, 2.f)};
    for (int opset : {9, 15}) {
      std::vector<ir::Attribute> attrs = {testing::attr_f("epsilon", 1e-3f)};
      check("BatchNormalization", in, in, attrs, opset, "", {1, 2, 3, 4}, "cpu:onednn:batch_norm");
      check("BatchNormalization", in, in, {}, opset, "", {}, "cpu:onednn:batch_norm");
      if (s.size() == 4) {
        std::vector<Tensor> bin = in;
        bin[0] = blocked(x, tag::nChw16c);
        check("BatchNormalization", in, bin, attrs, opset, "", {1, 2, 3, 4}, "cpu:onednn:batch_norm");
        bin[0] = blocked(x, tag::nhwc);
        check("BatchNormalization", in, bin, attrs, opset, "", {1, 2, 3, 4}, "cpu:onednn:batch_norm");
      }
    }
  }
  SingleOp op;
  op.op_type = "BatchNormalization";
  op.opset = 15;
  op.inputs = {blocked(random_tensor({1, 32, 4, 4}, 1), tag::nChw16c), random_tensor({32}, 2), random_tensor({32}, 3),
               random_tensor({32}, 4), random_tensor({32}, 5, 0.5f, 1.f)};
  op.constant_inputs = {1, 2, 3, 4};
  SingleOpRunner runner("cpu", op, 2);
  auto r = runner.run(/*plain=*/false);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_FALSE(r.out().is_plain());
}

TEST(CpuNorm, LayerNormalizationMatchesReference) {
  uint32_t seed = 100;
  struct Case {
    Shape x;
    int64_t axis;
    Shape param;
  };
  const std::vector<Case> cases = {
      {{2, 7, 64}, -1, {64}},    {{3, 33}, 1, {33}},       {{2, 3, 4, 5}, 2, {4, 5}}, {{2, 3, 4, 5}, -3, {3, 4, 5}},
      {{5, 17}, 0, {5, 17}},     {{4, 8}, -1, {1, 8}},     {{2, 3, 10}, -1, {1}},     {{1, 1, 768}, -1, {768}},
  };
  for (const auto& c : cases) {
    Tensor x = random_tensor(c.x, seed++, -3.f, 5.f);
    Tensor scale = random_tensor(c.param, seed++), bias = random_tensor(c.param, seed++);
    std::vector<ir::Attribute> attrs = {testing::attr_i("axis", c.axis), testing::attr_f("epsilon", 1e-5f)};
    for (const auto& [domain, opset] : {std::pair<std::string, int>{"", 17}, {"ai.hwopt", 1}}) {
      check("LayerNormalization", {x, scale, bias}, {x, scale, bias}, attrs, opset, domain, {1, 2},
            "cpu:onednn:layer_norm", 1e-4);
      check("LayerNormalization", {x, scale}, {x, scale}, attrs, opset, domain, {1}, "cpu:onednn:layer_norm", 1e-4);
      check("LayerNormalization", {x, scale, bias}, {x, scale, bias}, attrs, opset, domain, {}, "cpu:onednn:layer_norm",
            1e-4);
    }
  }
}

TEST(CpuNorm, InstanceNormalizationMatchesReference) {
  uint32_t seed = 200;
  for (const Shape& s : {Shape{2, 3, 5, 7}, Shape{1, 16, 33}, Shape{2, 4, 3, 2, 5}, Shape{1, 1, 1, 1}}) {
    const int64_t c = s[1];
    Tensor x = random_tensor(s, seed++, -1.f, 3.f);
    std::vector<Tensor> in = {x, random_tensor({c}, seed++), random_tensor({c}, seed++)};
    check("InstanceNormalization", in, in, {testing::attr_f("epsilon", 1e-4f)}, 6, "", {1, 2},
          "cpu:own:instance_norm");
  }
}

TEST(CpuNorm, DeclinesWithReasons) {
  Tensor x = random_tensor({2, 3, 4}, 1);
  Tensor p = random_tensor({3}, 2, 0.5f, 1.f);
  auto r = testing::run_backend_op("cpu", "BatchNormalization", {x, p, p, p, p}, {testing::attr_i("training_mode", 1)},
                                   15, 3);
  EXPECT_NE(r.implementation, "cpu:onednn:batch_norm");
  ASSERT_FALSE(r.declined.empty());

  Tensor s = random_tensor({4}, 3);
  r = testing::run_backend_op("cpu", "LayerNormalization", {x, s}, {}, 17, 3);
  EXPECT_NE(r.implementation, "cpu:onednn:layer_norm");
  ASSERT_FALSE(r.declined.empty());
  EXPECT_NE(r.declined[0].find("Mean/InvStdDev"), std::string::npos);

  r = testing::run_backend_op("cpu", "LayerNormalization", {x, s}, {testing::attr_i("stash_type", 11)}, 17);
  EXPECT_NE(r.implementation, "cpu:onednn:layer_norm");
}

}  // namespace
}  // namespace hwopt
