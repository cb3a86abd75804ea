// The CPU backend's oneDNN Gemm / FusedGemm against the reference kernels.
#include <algorithm>
#include <random>

#include "backends/cpu/own_util.h"

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::random_tensor;

using testing::expect_same;

struct GemmCase {
  int64_t M, K, N;
  bool ta, tb;
  float alpha, beta;
  Shape c;  // empty vector with has_c=false: no C
  bool has_c;
};

void run_gemm_case(const GemmCase& g, const std::string& op, const std::string& domain,
                   const std::vector<ir::Attribute>& extra, const std::vector<size_t>& constants, uint32_t seed) {
  SCOPED_TRACE(::testing::Message() << op << " M=" << g.M << " K=" << g.K << " N=" << g.N << " ta=" << g.ta
                                    << " tb=" << g.tb << " alpha=" << g.alpha << " beta=" << g.beta
                                    << " C=" << (g.has_c ? shape_str(g.c) : "none") << " constants="
                                    << constants.size());
  std::vector<ir::Attribute> attrs = {testing::attr_i("transA", g.ta), testing::attr_i("transB", g.tb),
                                      testing::attr_f("alpha", g.alpha), testing::attr_f("beta", g.beta)};
  attrs.insert(attrs.end(), extra.begin(), extra.end());
  std::vector<Tensor> inputs = {random_tensor(g.ta ? Shape{g.K, g.M} : Shape{g.M, g.K}, seed),
                                random_tensor(g.tb ? Shape{g.N, g.K} : Shape{g.K, g.N}, seed + 1)};
  if (g.has_c) inputs.push_back(random_tensor(g.c, seed + 2));
  auto ref = testing::run_ref_op(op, inputs, attrs, 13, 1, domain);
  auto cpu = testing::run_backend_op("cpu", op, inputs, attrs, 13, 1, domain, constants);
  EXPECT_EQ(cpu.implementation, "cpu:onednn:gemm");
  // What ran, as profiles show it: one row times constant B without activation on the own
  // matrix-vector kernel (AVX-512 machines), else oneDNN's inner product (constant B) or matmul.
  const bool const_b = std::find(constants.begin(), constants.end(), size_t{1}) != constants.end();
  const std::string ran = g.M == 1 && const_b && extra.empty() && cpu::own::use_avx512() ? "own gemv"
                          : const_b                                                     ? "inner_product "
                                                                                        : "matmul ";
  EXPECT_EQ(cpu.kernel.rfind(ran, 0), 0u) << cpu.kernel;
  expect_same(cpu, ref);
}

const std::vector<GemmCase> kCases = {
    {1, 1, 1, false, false, 1.f, 1.f, {}, false},
    {3, 5, 7, false, false, 1.f, 1.f, {7}, true},
    {17, 33, 9, true, false, 0.5f, 2.f, {1, 9}, true},
    {17, 33, 9, false, true, 1.f, 1.f, {17, 9}, true},
    {16, 64, 48, true, true, -1.25f, 0.75f, {16, 1}, true},
    {5, 300, 11, false, true, 1.f, 0.5f, {11}, true},
    {8, 16, 12, false, false, 2.f, 1.f, {}, true},  // scalar C
    {8, 16, 12, false, true, 1.f, -1.f, {1}, true},
    {8, 16, 12, true, false, 1.f, 1.f, {1, 1}, true},
    {64, 128, 96, false, true, 1.f, 1.f, {96}, true},
    {2, 7, 3, false, false, 1.f, 0.f, {2, 3}, true},
};

// One row of A times constant B without activation runs the own matrix-vector kernels (gemm.cpp):
// both orientations of B, K and N that are and are not multiples of the vector widths (masked
// tails), a transposed [K, 1] A, alpha and beta, C as a scalar, [N], [1, N], [1, 1], or absent,
// constant or not. A classifier head's size (1280 -> 1000) among them.
TEST(CpuGemm, OneRowMatchesReference) {
  std::vector<GemmCase> cases;
  for (bool tb : {false, true})
    for (auto [K, N] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {5, 3}, {16, 17}, {37, 100}, {64, 64},
                                                                {1280, 1000}})
      cases.push_back({1, K, N, false, tb, 1.f, 1.f, {N}, true});
  cases.push_back({1, 33, 70, true, true, 0.5f, 2.f, {1, 70}, true});
  cases.push_back({1, 33, 70, true, false, -1.25f, 0.75f, {}, true});   // scalar C
  cases.push_back({1, 48, 20, false, false, 2.f, -1.f, {1, 1}, true});
  cases.push_back({1, 48, 20, false, true, 1.f, 1.f, {}, false});       // no C
  uint32_t seed = 700;
  for (const auto& g : cases) {
    run_gemm_case(g, "Gemm", "", {}, {1, 2}, seed += 3);
    run_gemm_case(g, "Gemm", "", {}, {1}, seed += 3);
  }
}

TEST(CpuGemm, MatchesReferenceWithConstantWeightsAndBias) {
  uint32_t seed = 1;
  for (const auto& g : kCases) run_gemm_case(g, "Gemm", "", {}, {1, 2}, seed += 3);
}

TEST(CpuGemm, MatchesReferenceWithConstantWeightsAndRuntimeC) {
  uint32_t seed = 100;
  for (const auto& g : kCases) run_gemm_case(g, "Gemm", "", {}, {1}, seed += 3);
}

TEST(CpuGemm, MatchesReferenceWithRuntimeOperands) {
  uint32_t seed = 200;
  for (const auto& g : kCases) {
    run_gemm_case(g, "Gemm", "", {}, {}, seed += 3);
    run_gemm_case(g, "Gemm", "", {}, {2}, seed += 3);
  }
}

// BF16 and INT8 Gemm with constant weights (alpha folded into them, C as bias) against the
// FP32 reference.
TEST(CpuGemm, ReducedPrecisionMatchesReference) {
  const std::vector<GemmCase> cases = {{4, 64, 10, false, true, 1.f, 1.f, {10}, true},
                                       {3, 50, 20, false, false, 0.5f, 2.f, {1, 20}, true},
                                       {8, 40, 12, true, true, 1.f, 1.f, {}, false}};
  uint32_t seed = 700;
  for (const std::string precision : {"bf16", "int8", "int8-dynamic"})
    for (const auto& g : cases) {
      seed += 3;
      std::vector<ir::Attribute> attrs = {testing::attr_i("transA", g.ta), testing::attr_i("transB", g.tb),
                                          testing::attr_f("alpha", g.alpha), testing::attr_f("beta", g.beta)};
      std::vector<Tensor> inputs = {random_tensor(g.ta ? Shape{g.K, g.M} : Shape{g.M, g.K}, seed),
                                    random_tensor(g.tb ? Shape{g.N, g.K} : Shape{g.K, g.N}, seed + 1)};
      if (g.has_c) inputs.push_back(random_tensor(g.c, seed + 2));
      const std::string what = precision + " M=" + std::to_string(g.M) + " K=" + std::to_string(g.K);
      auto ref = testing::run_ref_op("Gemm", inputs, attrs, 13);
      auto cpu = testing::run_backend_op("cpu", "Gemm", inputs, attrs, 13, 1, "", {1, 2}, 2, precision,
                                         {{"in0", testing::range_of(inputs[0])}});
      ASSERT_TRUE(cpu.error.empty()) << cpu.error;
      EXPECT_EQ(cpu.implementation, precision == "bf16"           ? "cpu:onednn:gemm[bf16(->f32)]"
                                    : precision == "int8-dynamic" ? "cpu:onednn:gemm[int8-dynamic]"
                                                                  : "cpu:onednn:gemm[int8(s8->f32)]")
          << what;
      testing::expect_within_precision(cpu.out(), ref.out(), precision == "bf16" ? 0.01 : 0.03,
                                       testing::max_abs(ref.out()), 0.998, what);
    }
}

TEST(CpuGemm, StridedInputsMatchReference) {
  // A and B arrive as transposed views (no copy): the kernel reads them through strides.
  const int64_t M = 9, K = 21, N = 13;
  Tensor a = random_tensor({K, M}, 7).permute({1, 0});
  Tensor b = random_tensor({N, K}, 8).permute({1, 0});
  Tensor c = random_tensor({N}, 9);
  for (bool const_b : {false, true}) {
    auto ref = testing::run_ref_op("Gemm", {a, b, c}, {}, 13);
    auto cpu = testing::run_backend_op("cpu", "Gemm", {a, b, c}, {}, 13, 1, "",
                                       const_b ? std::vector<size_t>{1, 2} : std::vector<size_t>{});
    EXPECT_EQ(cpu.implementation, "cpu:onednn:gemm");
    expect_same(cpu, ref);
  }
}

TEST(CpuGemm, FusedGemmActivationsMatchReference) {
  const std::vector<std::vector<ir::Attribute>> acts = {
      {testing::attr_s("activation", "Relu")},
      {testing::attr_s("activation", "LeakyRelu"), testing::attr_f("activation_alpha", 0.2f)},
      {testing::attr_s("activation", "Clip"), testing::attr_f("activation_alpha", -0.5f),
       testing::attr_f("activation_beta", 0.7f)},
      {testing::attr_s("activation", "Sigmoid")},
      {testing::attr_s("activation", "Tanh")},
      {testing::attr_s("activation", "HardSigmoid"), testing::attr_f("activation_alpha", 0.3f),
       testing::attr_f("activation_beta", 0.4f)},
      {testing::attr_s("activation", "HardSwish")},
      {testing::attr_s("activation", "Silu")},
      {testing::attr_s("activation", "Gelu")},
      {testing::attr_s("activation", "FastGelu")},
  };
  uint32_t seed = 300;
  for (const auto& act : acts)
    for (size_t k : {1, 3, 4, 5}) {
      run_gemm_case(kCases[k], "FusedGemm", "com.microsoft", act, {1, 2}, seed += 3);
      run_gemm_case(kCases[k], "FusedGemm", "com.microsoft", act, {}, seed += 3);
    }
}

TEST(CpuGemm, ShapeErrorsComeFromTheReference) {
  auto cpu = testing::run_backend_op("cpu", "Gemm", {random_tensor({3, 4}, 1), random_tensor({5, 6}, 2)}, {}, 13, 1,
                                     "", {1});
  EXPECT_EQ(cpu.implementation, "cpu:onednn:gemm");
  EXPECT_NE(cpu.error.find("inner dimensions differ"), std::string::npos) << cpu.error;
}

TEST(CpuGemm, DeclinesWithReasons) {
  Tensor a = Tensor::from_vector<double>({2, 2}, {1, 2, 3, 4});
  auto cpu = testing::run_backend_op("cpu", "Gemm", {a, a}, {}, 13, 1, "", {1});
  EXPECT_EQ(cpu.implementation, "ref:Gemm");
  ASSERT_FALSE(cpu.declined.empty());
  EXPECT_NE(cpu.declined[0].find("not known to be float32"), std::string::npos);

  auto elu = testing::run_backend_op("cpu", "FusedGemm", {random_tensor({2, 3}, 1), random_tensor({3, 4}, 2)},
                                     {testing::attr_s("activation", "Elu")}, 1, 1, "com.microsoft", {1});
  EXPECT_EQ(elu.implementation, "ref:FusedGemm");
  ASSERT_FALSE(elu.declined.empty());
  EXPECT_NE(elu.declined[0].find("activation 'Elu'"), std::string::npos);
}

/// One kernel (as a plan makes it) run on several shapes of A: each shape gets its primitive,
/// the constant weights are reordered once per format.
TEST(CpuGemm, OneKernelServesSeveralShapes) {
  const int64_t K = 40, N = 24;
  Tensor b = random_tensor({K, N}, 5), c = random_tensor({N}, 6);
  ir::Graph graph;
  graph.initializers["b"] = b;
  graph.initializers["c"] = c;
  ir::ValueInfo vi;
  vi.name = "a";
  vi.dtype = DType::float32;
  graph.inputs.push_back(vi);
  ir::Node node;
  node.name = "gemm";
  node.op_type = "Gemm";
  node.opset = 13;
  node.inputs = {"a", "b", "c"};
  node.outputs = {"y"};
  const auto* ref_def = reference::KernelRegistry::instance().find("Gemm", "", 13);
  ASSERT_NE(ref_def, nullptr);
  auto cands = CandidateRegistry::instance().find("cpu", "Gemm", "", 13);
  ASSERT_FALSE(cands.empty());
  NodeContext nc{node, graph, 2};
  ASSERT_EQ(cands[0]->check(nc), "");
  KernelFn fn = cands[0]->make(nc, ref_def->fn);
  for (int64_t M : {1, 7, 32, 7, 1}) {
    Tensor a = random_tensor({M, K}, static_cast<uint32_t>(M));
    RtValue va = RtValue::of(a), vb = RtValue::of(b), vc = RtValue::of(c);
    KernelContext ctx(node, {&va, &vb, &vc}, {});
    fn(ctx);
    auto ref = testing::run_ref_op("Gemm", {a, b, c}, {}, 13);
    ASSERT_TRUE(ref.error.empty());
    std::vector<double> want;
    for (int64_t i = 0; i < ref.out().numel(); ++i) want.push_back(ref.out().element_as_double(i));
    testing::expect_tensor_near(ctx.outputs()[0].tensor, {M, N}, want, 1e-4, 1e-4);
  }
}

}  // namespace
}  // namespace hwopt
