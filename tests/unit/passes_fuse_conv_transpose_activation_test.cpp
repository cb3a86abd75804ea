// fuse_conv_transpose_activation: ConvTranspose + Relu / LeakyRelu / Clip (keeping 0) becomes one
// ai.hwopt FusedConvTranspose; other activations, shared intermediates and non-float outputs
// are left alone. Numerics: the same outputs before and after (check_pass), on the reference
// backend; the CPU kernels are compared with the reference in tests/ops/cpu_conv_transpose_test.
#include "passes_test_util.h"

namespace hwopt::passes::testing {
namespace {

constexpr const char* kPass = "fuse_conv_transpose_activation";

Case deconv_then(const std::string& activation) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 4, 5, 5] x, float[4, 6, 2, 2] w, float[6] b) => (float[1, 6, 10, 10] y) {
      t = ConvTranspose <strides = [2, 2]> (x, w, b)
      )" + activation + R"(
    }
  )";
  c.random = {"w", "b"};
  return c;
}

TEST(PassFuseConvTransposeActivation, FusesReluLeakyReluAndClip) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"y = Relu(t)", "Relu"},
      {"y = LeakyRelu <alpha = 0.2> (t)", "LeakyRelu"},
      {"lo = Constant <value = float {0.0}> ()\n hi = Constant <value = float {6.0}> ()\n y = Clip(t, lo, hi)", "Clip"},
  };
  for (const auto& [text, name] : cases) {
    SCOPED_TRACE(name);
    auto r = check_pass(deconv_then(text), kPass);
    ASSERT_TRUE(r.after);
    EXPECT_EQ(r.rewrites, 1);
    const auto& g = *r.after->graph;
    EXPECT_EQ(count_op(g, "ConvTranspose"), 0);
    EXPECT_EQ(count_op(g, name), 0);
    const ir::Node* f = find_op(g, "FusedConvTranspose", "ai.hwopt");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->outputs[0], "y");
    EXPECT_EQ(f->inputs.size(), 3u);
    ASSERT_NE(f->attr("activation"), nullptr);
    EXPECT_EQ(f->attr("activation")->s, name);
    ASSERT_NE(f->attr("strides"), nullptr);
    EXPECT_EQ(f->attr("strides")->ints, (std::vector<int64_t>{2, 2}));
    if (name == "LeakyRelu") {
      ASSERT_NE(f->attr("activation_params"), nullptr);
      EXPECT_FLOAT_EQ(f->attr("activation_params")->floats.at(0), 0.2f);
    }
    if (name == "Clip") {
      ASSERT_NE(f->attr("activation_params"), nullptr);
      EXPECT_EQ(f->attr("activation_params")->floats, (std::vector<float>{0.f, 6.f}));
    }
  }
}

// f(0) != 0 (Sigmoid, a Clip above zero) would turn the zero padding lanes of a blocked output
// into non-zeros: not fused. Nor is a ConvTranspose whose output has another reader.
TEST(PassFuseConvTransposeActivation, LeavesOtherActivationsAndSharedOutputs) {
  for (const std::string& text :
       {std::string("y = Sigmoid(t)"),
        std::string("lo = Constant <value = float {0.5}> ()\n hi = Constant <value = float {6.0}> ()\n y = Clip(t, lo, hi)"),
        std::string("r = Relu(t)\n y = Add(r, t)")}) {
    SCOPED_TRACE(text);
    auto r = check_pass(deconv_then(text), kPass);
    ASSERT_TRUE(r.after);
    EXPECT_EQ(r.rewrites, 0);
    EXPECT_EQ(count_op(*r.after->graph, "ConvTranspose"), 1);
    EXPECT_EQ(find_op(*r.after->graph, "FusedConvTranspose", "ai.hwopt"), nullptr);
  }
}

// In the pipeline the BatchNormalization between them is folded first (PP-OCRv4 det's head:
// ConvTranspose, BatchNormalization, Relu) and the three nodes become one.
TEST(PassFuseConvTransposeActivation, AfterTheBatchNormFoldInThePipeline) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 4, 5, 5] x, float[4, 6, 2, 2] w, float[6] b, float[6] s, float[6] beta, float[6] mean, float[6] var)
      => (float[1, 6, 10, 10] y) {
      t = ConvTranspose <strides = [2, 2]> (x, w, b)
      u = BatchNormalization(t, s, beta, mean, var)
      y = Relu(u)
    }
  )";
  c.random = {"w", "b", "s", "beta", "mean"};
  c.positive = {"var"};
  auto m = build_model(c);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  PassContext ctx(*m, kDefaultFoldLimitBytes);
  for (auto& p : default_passes()) ASSERT_TRUE(p->run(*m->graph, ctx).ok()) << p->name();
  ASSERT_EQ(m->graph->nodes.size(), 1u);
  EXPECT_EQ(m->graph->nodes[0].op_type, "FusedConvTranspose");
}

}  // namespace
}  // namespace hwopt::passes::testing
