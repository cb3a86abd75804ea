// The CPU backend's ai.hwopt ElementwiseChain kernel (own:elementwise_chain) against the chain's
// reference kernel (the steps' own reference kernels one after another): bit for bit where the
// kernel computes what the reference does (arithmetic, Relu/LeakyRelu/Clip/HardSigmoid/HardSwish,
// Abs/Neg/Reciprocal/Sqrt, Pow 1/2/0.5), within a few ulp for the vectorised transcendental
// functions; on every ISA, broadcast patterns, blocked and channels-last layouts.
#include <cmath>
#include <limits>

#include "backends/cpu/onednn.h"
#include "cpu_own_test_util.h"
#include "ir/elementwise_chain.h"

namespace hwopt {
namespace {

using tag = dnnl::memory::format_tag;

constexpr int R = ir::kChainRunning;
constexpr const char* kImpl = "own:elementwise_chain";

ir::ChainStep step(const char* op, std::vector<int> inputs, float alpha = 0.f, float beta = 0.f) {
  return ir::ChainStep{op, std::move(inputs), alpha, beta};
}

std::vector<ir::Attribute> chain_attrs(std::vector<ir::ChainStep> steps, int opset = 17) {
  ir::ElementwiseChain c;
  c.onnx_opset = opset;
  c.steps = std::move(steps);
  return ir::chain_attributes(c);
}

struct Run {
  Tensor got, want;
};

/// The kernel's output and the reference's on the same inputs (the kernel must not fall back).
Run run_both(const std::vector<Tensor>& xs, const std::vector<ir::Attribute>& attrs, const std::string& what) {
  Run r;
  auto ref = testing::run_ref_op("ElementwiseChain", xs, attrs, 1, 1, "ai.hwopt");
  EXPECT_TRUE(ref.error.empty()) << what << ": " << ref.error;
  auto got = testing::run_candidate(kImpl, "ElementwiseChain", xs, attrs, 1, 1, {}, "ai.hwopt");
  EXPECT_TRUE(got.found) << what;
  EXPECT_EQ(got.declined, "") << what;
  EXPECT_TRUE(got.error.empty()) << what << ": " << got.error;
  EXPECT_FALSE(got.used_reference) << what << ": fell back to the reference";
  if (!ref.error.empty() || !got.error.empty() || got.outputs.empty()) return r;
  r.want = ref.out();
  r.got = got.out().to_plain();
  return r;
}

void expect_exact(const std::vector<Tensor>& xs, const std::vector<ir::Attribute>& attrs, const std::string& what) {
  Run r = run_both(xs, attrs, what);
  if (r.want.defined()) testing::expect_same(r.got, r.want, what);
}

/// Same NaNs and infinities; finite values within atol + rtol * |want|.
void expect_near(const std::vector<Tensor>& xs, const std::vector<ir::Attribute>& attrs, const std::string& what,
                 double rtol = 1e-6, double atol = 1e-6) {
  Run r = run_both(xs, attrs, what);
  if (!r.want.defined()) return;
  ASSERT_EQ(r.got.shape(), r.want.shape()) << what;
  int64_t bad = 0, first = -1;
  for (int64_t i = 0; i < r.want.numel(); ++i) {
    const double g = r.got.data<float>()[i], w = r.want.data<float>()[i];
    const bool ok = (std::isnan(g) && std::isnan(w)) || g == w || (std::isfinite(w) && std::fabs(g - w) <= atol + rtol * std::fabs(w));
    if (!ok && bad++ == 0) first = i;
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << r.want.numel() << " differ; first at " << first << ": got "
                    << (first >= 0 ? r.got.data<float>()[first] : 0.f) << ", want "
                    << (first >= 0 ? r.want.data<float>()[first] : 0.f) << " (input "
                    << (first >= 0 && xs[0].numel() == r.want.numel() ? xs[0].data<float>()[first] : 0.f) << ")";
}

/// Shapes for (x, y): the chain starts with Add(x, y), so every broadcast pattern reaches the loop,
/// including a first result smaller than the output (the third operand z widens it).
struct Shapes {
  Shape x, y, z;
};
const std::vector<Shapes> kShapes = {
    {{2, 3, 4}, {2, 3, 4}, {2, 3, 4}},       {{2, 3, 4}, {4}, {}},
    {{2, 3, 4}, {2, 3, 1}, {3, 1}},          {{}, {}, {}},
    {{3, 1}, {1, 4}, {3, 4}},                {{2, 1, 5, 1}, {1, 3, 1, 6}, {6}},
    {{17}, {1}, {17}},                       {{1, 300}, {300}, {2, 1}},
    {{8, 1, 1, 128}, {1}, {8, 12, 128, 128}}, {{4, 33, 1025}, {4, 33, 1025}, {1025}},
};

std::string shapes_name(const Shapes& s) {
  return shape_str(s.x) + " " + shape_str(s.y) + " " + shape_str(s.z);
}

TEST(CpuElementwiseChain, ExactStepsMatchBitForBit) {
  // Add(x, y) -> op -> Mul(running, z): each exact step between two broadcasting binaries.
  struct Mid {
    std::string name;
    std::vector<ir::ChainStep> steps;  // reading R; input 3 is a scalar constant where needed
    std::vector<float> extra;          // values of inputs 3.. (scalars)
  };
  const std::vector<Mid> mids = {
      {"Relu", {step("Relu", {R})}, {}},
      {"LeakyRelu", {step("LeakyRelu", {R}, 0.1f)}, {}},
      {"HardSigmoid", {step("HardSigmoid", {R}, 0.2f, 0.5f)}, {}},
      {"HardSwish", {step("HardSwish", {R})}, {}},
      {"Clip both", {step("Clip", {R, 3, 4})}, {-0.5f, 0.75f}},
      {"Clip max only", {step("Clip", {R, ir::kChainAbsent, 3})}, {0.25f}},
      {"Clip none", {step("Clip", {R})}, {}},
      {"Abs Sqrt", {step("Abs", {R}), step("Sqrt", {R})}, {}},
      {"Neg Reciprocal", {step("Neg", {R}), step("Reciprocal", {R})}, {}},
      {"Pow 2", {step("Pow", {R, 3})}, {2.f}},
      {"Pow 0.5", {step("Pow", {R, 3})}, {0.5f}},
      {"Pow 1", {step("Pow", {R, 3})}, {1.f}},
      {"Sub c-x", {step("Sub", {3, R})}, {0.5f}},
      {"Div c/x", {step("Div", {3, R})}, {-3.f}},
      {"Max Min", {step("Max", {R, 3}), step("Min", {3, R})}, {0.1f}},
      {"Max x,c", {step("Max", {3, R})}, {-0.2f}},
  };
  uint32_t seed = 1;
  testing::for_each_isa([&](cpu::own::Isa isa) {
    for (const Shapes& s : kShapes) {
      if (testing::skip_large(isa, s.z) || testing::skip_large(isa, s.x)) continue;
      for (const Mid& m : mids) {
        std::vector<Tensor> xs = {testing::random_of(DType::float32, s.x, seed++, -3, 3),
                                  testing::random_of(DType::float32, s.y, seed++, -3, 3),
                                  testing::random_of(DType::float32, s.z, seed++, -3, 3)};
        for (float v : m.extra) xs.push_back(Tensor::scalar<float>(v));
        std::vector<ir::ChainStep> steps = {step("Add", {0, 1})};
        steps.insert(steps.end(), m.steps.begin(), m.steps.end());
        steps.push_back(step("Mul", {R, 2}));
        expect_exact(xs, chain_attrs(steps), m.name + " " + shapes_name(s));
      }
    }
  });
}

TEST(CpuElementwiseChain, ClipBeforeOpset11TakesAttributes) {
  Tensor x = testing::random_of(DType::float32, {3, 50}, 7, -2, 2);
  testing::for_each_isa([&](cpu::own::Isa) {
    expect_exact({x}, chain_attrs({step("Neg", {0}), step("Clip", {R}, -0.5f, 1.f)}, 6), "Clip opset 6");
    // min > max: every element becomes max, as the reference does.
    expect_exact({x}, chain_attrs({step("Abs", {0}), step("Clip", {R}, 1.f, 0.f)}, 6), "Clip min > max");
  });
}

TEST(CpuElementwiseChain, SpecialValuesFollowTheReference) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> v = {0.f,   -0.f,   1.f,    -1.f,   inf,    -inf,   nan,     1e-40f, -1e-40f, 3e38f,
                                -3e38f, 88.5f,  88.8f,  -87.5f, -103.f, -110.f, 1e-20f,  0.3f,   -0.625f, 0.6249f,
                                20.f,   -20.f,  9.f,    -9.f,   4.f,    -4.f,   0.999f,  1e-7f,  -1e-7f,  0.5f};
  Tensor x = Tensor::from_vector<float>({static_cast<int64_t>(v.size())}, v);
  testing::for_each_isa([&](cpu::own::Isa) {
    for (const char* op : {"Relu", "HardSwish", "Abs", "Neg", "Reciprocal", "Sqrt"})
      expect_exact({x, Tensor::scalar<float>(0.25f)}, chain_attrs({step(op, {0}), step("Add", {R, 1})}), op);
    // Max/Min propagate a NaN from either side and keep the first input on ties (+0 vs -0).
    std::vector<float> r(v.rbegin(), v.rend());
    Tensor y = Tensor::from_vector<float>({static_cast<int64_t>(r.size())}, r);
    for (const char* op : {"Max", "Min"}) {
      expect_exact({x, y}, chain_attrs({step(op, {0, 1}), step("Neg", {R})}), std::string(op) + " first");
      expect_exact({x, y}, chain_attrs({step("Neg", {0}), step(op, {1, R})}), std::string(op) + " second");
    }
  });
}

/// Each vectorised transcendental step alone (then a no-op Mul by 1), on wide random inputs and
/// special values: within a few ulp of libm.
TEST(CpuElementwiseChain, TranscendentalStepsWithinAFewUlp) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> sv = {0.f,    -0.f,  1.f,   -1.f,   inf,    -inf,  nan,    1e-40f, -1e-40f, 88.5f, 88.8f,
                                 -87.5f, -103.f, -110.f, 1e-20f, 0.3f, -0.625f, 0.6249f, 20.f,   -20.f,   9.f,   -9.f,
                                 4.f,    -4.f,  0.999f, 1e-7f,  -1e-7f, 0.49f, -0.51f, 1e30f,  1e-30f};
  Tensor specials = Tensor::from_vector<float>({static_cast<int64_t>(sv.size())}, sv);
  Tensor one = Tensor::scalar<float>(1.f);
  // "Softplus Tanh": the pair the kernel computes as one function (Mish's factor).
  for (std::string op : {"Exp", "Log", "Sigmoid", "Tanh", "Softplus", "Elu", "Erf", "Softplus Tanh"}) {
    testing::for_each_isa([&](cpu::own::Isa isa) {
      std::vector<ir::ChainStep> steps;
      if (op == "Softplus Tanh") steps = {step("Softplus", {0}), step("Tanh", {R})};
      else steps = {step(op.c_str(), {0}, op == "Elu" ? 0.7f : 0.f)};
      steps.push_back(step("Mul", {R, 1}));
      const auto attrs = chain_attrs(steps);
      expect_near({specials, one}, attrs, op + " specials");
      for (auto [lo, hi] : {std::pair{-1.0, 1.0}, {-30.0, 30.0}, {-100.0, 89.0}, {1e-3, 1e3}}) {
        const Shape s = isa == cpu::own::Isa::avx512 ? Shape{3, 70001} : Shape{1000};
        Tensor x = testing::random_of(DType::float32, s, 11, lo, hi);
        expect_near({x, one}, attrs, fmt::format("{} in [{}, {}]", op, lo, hi));
      }
    });
  }
}

/// Computes what the separate ops would: a YOLO head and Mish written op by op.
TEST(CpuElementwiseChain, ModelChains) {
  testing::for_each_isa([&](cpu::own::Isa) {
    Tensor x = testing::random_of(DType::float32, {1, 3, 20, 20, 2}, 3, -6, 6);
    Tensor grid = testing::random_of(DType::float32, {1, 1, 20, 20, 2}, 4, 0, 19);
    const auto yolo = chain_attrs({step("Sigmoid", {0}), step("Mul", {R, 1}), step("Sub", {R, 2}), step("Add", {R, 3}),
                                   step("Mul", {R, 4})});
    expect_near({x, Tensor::scalar<float>(2.f), Tensor::scalar<float>(0.5f), grid, Tensor::scalar<float>(8.f)}, yolo,
                "yolo head");
    const auto mish = chain_attrs({step("Softplus", {0}), step("Tanh", {R}), step("Mul", {0, R})});
    expect_near({testing::random_of(DType::float32, {2, 64, 9, 9}, 5, -8, 8)}, mish, "mish");
  });
}

Tensor layout(const Tensor& t, tag tg) { return cpu::reorder_to(t, cpu::tagged_desc(t.shape(), DType::float32, tg)); }

/// Blocked and channels-last inputs: the kernel runs on the layout (the output keeps it, padding
/// lanes zero) with scalar, per-channel and same-layout operands, and plain otherwise.
TEST(CpuElementwiseChain, BlockedLayouts) {
  uint32_t seed = 100;
  // Sigmoid(x) * a + b: f(0) != 0, so unzeroed padding would show.
  const auto attrs = chain_attrs({step("Sigmoid", {0}), step("Mul", {R, 1}), step("Add", {R, 2})});
  for (int64_t c : {16, 19, 5, 32}) {
    for (tag tg : {tag::nChw16c, tag::nChw8c, tag::nhwc}) {
      const Shape xs{2, c, 5, 3};
      Tensor x = testing::random_of(DType::float32, xs, seed++, -4, 4);
      const std::vector<std::pair<std::string, Shape>> operands = {
          {"scalar", {}}, {"[C,1,1]", {c, 1, 1}}, {"[1,C,1,1]", {1, c, 1, 1}}, {"[N,C,1,1]", {2, c, 1, 1}},
          {"same", xs},   {"row", {3}}};
      for (const auto& [name, shape] : operands) {
        SCOPED_TRACE(fmt::format("C={} {} operand {}", c, cpu::format_name(cpu::tagged_desc(xs, DType::float32, tg)), name));
        Tensor a = testing::random_of(DType::float32, shape, seed++);
        Tensor b = testing::random_of(DType::float32, shape == xs ? Shape{} : shape, seed++);
        Tensor a_in = name == "same" ? layout(a, tg) : a;
        std::vector<Tensor> plain = {x, a, b}, in = {layout(x, tg), a_in, b};
        auto ref = testing::run_ref_op("ElementwiseChain", plain, attrs, 1, 1, "ai.hwopt");
        ASSERT_TRUE(ref.error.empty()) << ref.error;
        auto got = testing::run_candidate(kImpl, "ElementwiseChain", in, attrs, 1, 1, {}, "ai.hwopt");
        ASSERT_TRUE(got.error.empty()) << got.error;
        ASSERT_FALSE(got.used_reference);
        const Tensor y = got.out();
        // On the layout where the operands allow it (a [N,C,1,1] operand or a row does not).
        const bool keeps = name != "row";
        EXPECT_EQ(!y.is_plain(), keeps);
        const Tensor yp = y.to_plain();
        for (int64_t i = 0; i < yp.numel(); ++i)
          ASSERT_NEAR(yp.data<float>()[i], ref.out().data<float>()[i], 1e-6 + 1e-6 * std::fabs(ref.out().data<float>()[i])) << i;
        if (!y.is_plain() && tg != tag::nhwc) {
          const int64_t B = tg == tag::nChw16c ? 16 : 8, CB = (c + B - 1) / B;
          const float* raw = static_cast<const float*>(y.raw_data());
          for (int64_t n = 0; n < 2; ++n)
            for (int64_t p = 0; p < 15; ++p)
              for (int64_t l = c - (CB - 1) * B; l < B; ++l)
                ASSERT_EQ(raw[((n * CB + CB - 1) * 15 + p) * B + l], 0.f) << "padding lane " << l;
        }
      }
    }
  }
}

TEST(CpuElementwiseChain, BadShapesAndDtypes) {
  const auto attrs = chain_attrs({step("Add", {0, 1}), step("Relu", {R})});
  // Shapes that do not broadcast: the reference's error, not a crash.
  auto got = testing::run_candidate(kImpl, "ElementwiseChain",
                                    {testing::random_tensor({2, 3}, 1), testing::random_tensor({4}, 2)}, attrs, 1, 1,
                                    {}, "ai.hwopt");
  EXPECT_FALSE(got.error.empty());
  // Malformed attributes are declined with the reason.
  auto bad = testing::run_candidate(kImpl, "ElementwiseChain", {testing::random_tensor({2}, 1)},
                                    chain_attrs({step("Relu", {0}), step("Relu", {0})}), 1, 1, {}, "ai.hwopt");
  EXPECT_NE(bad.declined.find("previous result"), std::string::npos) << bad.declined;
  auto unknown = testing::run_candidate(kImpl, "ElementwiseChain", {testing::random_tensor({2}, 1)},
                                        chain_attrs({step("Cos", {0})}), 1, 1, {}, "ai.hwopt");
  EXPECT_NE(unknown.declined.find("Cos"), std::string::npos) << unknown.declined;
  // A Pow exponent the kernel does not take: the reference runs it.
  auto pow3 = testing::run_candidate(kImpl, "ElementwiseChain", {testing::random_tensor({9}, 1), Tensor::scalar<float>(3.f)},
                                     chain_attrs({step("Abs", {0}), step("Pow", {R, 1})}), 1, 1, {}, "ai.hwopt");
  EXPECT_TRUE(pow3.error.empty()) << pow3.error;
  EXPECT_TRUE(pow3.used_reference);
}

}  // namespace
}  // namespace hwopt
