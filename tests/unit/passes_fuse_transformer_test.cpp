// fuse_layer_norm, fuse_gelu, fuse_attention, fuse_matmul_add.
#include "passes_test_util.h"

namespace hwopt::passes::testing {
namespace {

std::string layer_norm_text(int opset, const char* reduce1, const char* square, const char* reduce2) {
  return "<ir_version: 8, opset_import: [\"\" : " + std::to_string(opset) + R"(]>
    g (float[2, 5, 8] x, float[8] gamma, float[8] beta) => (float[2, 5, 8] y) {
      axes = Constant <value = int64[1] {-1}> ()
      two = Constant <value = float {2.0}> ()
      eps = Constant <value = float {1e-5}> ()
      )" + reduce1 + R"(
      d = Sub(x, m)
      )" + square + R"(
      )" + reduce2 + R"(
      e = Add(v, eps)
      s = Sqrt(e)
      n = Div(d, s)
      g1 = Mul(n, gamma)
      y = Add(beta, g1)
    }
  )";
}

TEST(PassFuseLayerNorm, Opset13BecomesHwoptLayerNormalization) {
  Case c;
  c.text = layer_norm_text(13, "m = ReduceMean <axes = [-1]> (x)", "p = Pow(d, two)", "v = ReduceMean <axes = [2]> (p)");
  c.random = {"gamma", "beta"};
  auto r = check_pass(c, "fuse_layer_norm");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const auto& g = *r.after->graph;
  const ir::Node* ln = find_op(g, "LayerNormalization", "ai.hwopt");
  ASSERT_NE(ln, nullptr);
  EXPECT_EQ(ln->inputs.size(), 3u);
  EXPECT_EQ(ln->outputs[0], "y");
  EXPECT_FLOAT_EQ(ln->attr("epsilon")->f, 1e-5f);
  for (const char* op : {"ReduceMean", "Sub", "Pow", "Sqrt", "Div", "Mul", "Add"}) EXPECT_EQ(count_op(g, op), 0) << op;
  EXPECT_EQ(r.after->opsets.at("ai.hwopt"), 1);
}

TEST(PassFuseLayerNorm, Opset17BecomesOnnxLayerNormalizationAndMulSquareWorks) {
  Case c;
  c.text = layer_norm_text(17, "m = ReduceMean <axes = [2]> (x)", "p = Mul(d, d)", "v = ReduceMean <axes = [-1]> (p)");
  c.random = {"gamma", "beta"};
  auto r = check_pass(c, "fuse_layer_norm");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const ir::Node* ln = find_op(*r.after->graph, "LayerNormalization");
  ASSERT_NE(ln, nullptr);
  EXPECT_EQ(ln->opset, 17);
  EXPECT_EQ(r.after->opsets.count("ai.hwopt"), 0u);
}

TEST(PassFuseLayerNorm, Opset18AxesInput) {
  Case c;
  c.text = layer_norm_text(18, "m = ReduceMean(x, axes)", "p = Pow(d, two)", "v = ReduceMean(p, axes)");
  c.random = {"gamma", "beta"};
  auto r = check_pass(c, "fuse_layer_norm");
  EXPECT_EQ(r.rewrites, 1);
}

TEST(PassFuseLayerNorm, SkipsOtherAxesAndSharedIntermediates) {
  Case c;
  c.text = layer_norm_text(13, "m = ReduceMean <axes = [1]> (x)", "p = Pow(d, two)", "v = ReduceMean <axes = [1]> (p)");
  c.random = {"gamma", "beta"};
  EXPECT_EQ(check_pass(c, "fuse_layer_norm").rewrites, 0);
  Case shared;
  shared.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 8] x) => (float[2, 8] y, float[2, 1] v) {
      m = ReduceMean <axes = [-1]> (x)
      d = Sub(x, m)
      p = Mul(d, d)
      v = ReduceMean <axes = [-1]> (p)
      eps = Constant <value = float {1e-5}> ()
      e = Add(v, eps)
      s = Sqrt(e)
      y = Div(d, s)
    }
  )";
  EXPECT_EQ(check_pass(shared, "fuse_layer_norm").rewrites, 0) << "the variance is a graph output";
}

std::string gelu_text(const char* body) {
  return std::string(R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[3, 7] x) => (float[3, 7] y) {
      half = Constant <value = float {0.5}> ()
      one = Constant <value = float {1.0}> ()
      )") + body + R"(
    }
  )";
}

TEST(PassFuseGelu, ErfFormsInEveryGrouping) {
  const char* bodies[] = {
      // (x * 0.5) * (1 + erf(x / sqrt2))
      "r2 = Constant <value = float {1.4142135}> ()\n t = Div(x, r2)\n e = Erf(t)\n a = Add(e, one)\n"
      "h = Mul(x, half)\n y = Mul(h, a)",
      // (x * (1 + erf(x * 0.7071))) * 0.5
      "r2 = Constant <value = float {0.70710677}> ()\n t = Mul(r2, x)\n e = Erf(t)\n a = Add(one, e)\n"
      "m = Mul(a, x)\n y = Mul(m, half)",
      // x * ((1 + erf(x / 1.4142)) * 0.5), sqrt(2) written with 4 decimals
      "r2 = Constant <value = float {1.4142}> ()\n t = Div(x, r2)\n e = Erf(t)\n a = Add(e, one)\n"
      "h = Mul(half, a)\n y = Mul(x, h)",
  };
  for (const char* body : bodies) {
    Case c;
    c.text = gelu_text(body);
    auto r = check_pass(c, "fuse_gelu");
    ASSERT_TRUE(r.after) << body;
    EXPECT_EQ(r.rewrites, 1) << body;
    const auto& g = *r.after->graph;
    EXPECT_EQ(count_op(g, "Gelu", "com.microsoft"), 1) << body;
    EXPECT_EQ(count_op(g, "Erf") + count_op(g, "Mul") + count_op(g, "Add") + count_op(g, "Div"), 0) << body;
  }
}

TEST(PassFuseGelu, TanhFormsBecomeFastGelu) {
  const char* cubes[] = {"c3 = Pow(x, three)", "sq = Mul(x, x)\n c3 = Mul(sq, x)"};
  for (const char* cube : cubes) {
    Case c;
    c.text = gelu_text((std::string("three = Constant <value = float {3.0}> ()\n k = Constant <value = float {0.044715}> ()\n"
                                     "r = Constant <value = float {0.7978846}> ()\n") +
                        cube +
                        "\n kc = Mul(k, c3)\n s = Add(x, kc)\n u = Mul(s, r)\n th = Tanh(u)\n a = Add(th, one)\n"
                        "h = Mul(half, x)\n y = Mul(h, a)")
                           .c_str());
    auto r = check_pass(c, "fuse_gelu");
    ASSERT_TRUE(r.after) << cube;
    EXPECT_EQ(r.rewrites, 1) << cube;
    EXPECT_EQ(count_op(*r.after->graph, "FastGelu", "com.microsoft"), 1) << cube;
    EXPECT_EQ(r.after->graph->nodes.size(), 1u + count_op(*r.after->graph, "Constant")) << cube;
  }
}

TEST(PassFuseGelu, SkipsWrongConstants) {
  Case c;
  c.text = gelu_text(
      "r2 = Constant <value = float {1.5}> ()\n t = Div(x, r2)\n e = Erf(t)\n a = Add(e, one)\n"
      "h = Mul(x, half)\n y = Mul(h, a)");
  EXPECT_EQ(check_pass(c, "fuse_gelu").rewrites, 0);
}

TEST(PassFuseAttention, TransposedKeyScaleAndMask) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 3, 4, 8] q, float[2, 3, 5, 8] k, float[2, 3, 5, 6] v, float[2, 1, 1, 5] mask) => (float[2, 3, 4, 6] y) {
      kt = Transpose <perm = [0, 1, 3, 2]> (k)
      s = MatMul(q, kt)
      c = Constant <value = float {2.828427}> ()
      sc = Div(s, c)
      sm = Add(sc, mask)
      p = Softmax <axis = -1> (sm)
      y = MatMul(p, v)
    }
  )";
  auto r = check_pass(c, "fuse_attention");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const auto& g = *r.after->graph;
  ASSERT_EQ(g.nodes.size(), 1u + count_op(g, "Constant"));
  const ir::Node& n = *find_op(g, "ScaledDotProductAttention", "ai.hwopt");
  EXPECT_EQ(n.domain, "ai.hwopt");
  EXPECT_EQ(n.inputs, (std::vector<std::string>{"q", "k", "v", "mask"}));
  EXPECT_NEAR(n.attr("scale")->f, 1.0 / 2.828427, 1e-7);
  EXPECT_EQ(n.attr("k_transposed"), nullptr);
}

TEST(PassFuseAttention, PreTransposedKeyScaledQueryOldSoftmax) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 11]>
    g (float[1, 2, 4, 8] q, float[1, 2, 8, 6] kt, float[1, 2, 6, 8] v) => (float[1, 2, 4, 8] y) {
      c = Constant <value = float {0.35}> ()
      qs = Mul(q, c)
      s = MatMul(qs, kt)
      p = Softmax <axis = 3> (s)
      y = MatMul(p, v)
    }
  )";
  auto r = check_pass(c, "fuse_attention");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const ir::Node* n = find_op(*r.after->graph, "ScaledDotProductAttention", "ai.hwopt");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->inputs, (std::vector<std::string>{"q", "kt", "v"}));
  EXPECT_FLOAT_EQ(n->attr("scale")->f, 0.35f);
  ASSERT_NE(n->attr("k_transposed"), nullptr);
  EXPECT_EQ(n->attr("k_transposed")->i, 1);
}

TEST(PassFuseAttention, SkipsOtherAxesAndUnprovableMasks) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 2, 4, 8] q, float[1, 2, 8, 4] kt, float[1, 2, 4, 8] v, float[1, 1, 1, L] mask)
      => (float[1, 2, 4, 8] y, float[1, 2, 4, 8] z) {
      s = MatMul(q, kt)
      p = Softmax <axis = 2> (s)
      y = MatMul(p, v)
      s2 = MatMul(q, kt)
      m2 = Add(s2, mask)
      p2 = Softmax(m2)
      z = MatMul(p2, v)
    }
  )";
  std::mt19937 rng(9);
  c.inputs["mask"] = random_tensor({1, 1, 1, 4}, rng);
  EXPECT_EQ(check_pass(c, "fuse_attention").rewrites, 0);
}

TEST(PassFuseMatmulAdd, Rank2BecomesGemmOrFusedGemm) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[3, 5] a, float[5, 4] w, float[4] b) => (float[3, 4] y, float[3, 4] z) {
      t = MatMul(a, w)
      y = Add(t, b)
      t2 = MatMul(a, w)
      u2 = Add(b, t2)
      z = Relu(u2)
    }
  )";
  c.random = {"w", "b"};
  auto r = check_pass(c, "fuse_matmul_add");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 2);
  const auto& g = *r.after->graph;
  EXPECT_EQ(count_op(g, "Gemm"), 1);
  const ir::Node* f = find_op(g, "FusedGemm", "com.microsoft");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->attr("activation")->s, "Relu");
  EXPECT_EQ(g.nodes.size(), 2u);
}

TEST(PassFuseMatmulAdd, HigherRankBecomesFusedMatMulWithActivation) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 3, 5] a, float[5, 4] w, float[1, 1, 4] b) => (float[2, 3, 4] y, float[2, 3, 4] z) {
      t = MatMul(a, w)
      u = Add(t, b)
      y = LeakyRelu <alpha = 0.1> (u)
      t2 = MatMul(a, w)
      u2 = Add(t2, b)
      s2 = Sigmoid(u2)
      z = Mul(u2, s2)
    }
  )";
  c.random = {"w", "b"};
  auto r = check_pass(c, "fuse_matmul_add");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 2);
  const auto& g = *r.after->graph;
  ASSERT_EQ(count_op(g, "FusedMatMul", "ai.hwopt"), 2);
  EXPECT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].attr("activation")->s, "LeakyRelu");
  EXPECT_EQ(g.nodes[0].attr("activation_params")->floats, (std::vector<float>{0.1f}));
  EXPECT_EQ(g.nodes[1].attr("activation")->s, "Silu");
  EXPECT_EQ(r.after->graph->initializers.at(g.nodes[0].inputs[2]).shape(), (Shape{4}));
}

TEST(PassFuseMatmulAdd, GemmPlusActivationBecomesFusedGemm) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[3, 5] a, float[4, 5] w, float[4] b) => (float[3, 4] y) {
      t = Gemm <transB = 1, alpha = 0.7> (a, w, b)
      lo = Constant <value = float {-0.25}> ()
      hi = Constant <value = float {0.25}> ()
      y = Clip(t, lo, hi)
    }
  )";
  c.random = {"w", "b"};
  auto r = check_pass(c, "fuse_matmul_add");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const ir::Node* f = find_op(*r.after->graph, "FusedGemm", "com.microsoft");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->attr("activation")->s, "Clip");
  EXPECT_FLOAT_EQ(f->attr("activation_alpha")->f, -0.25f);
  EXPECT_FLOAT_EQ(f->attr("activation_beta")->f, 0.25f);
  EXPECT_EQ(f->attr("transB")->i, 1);
}

TEST(PassFuseMatmulAdd, SkipsFullSizedBiasAndNonConstantWeights) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[3, 5] a, float[5, 4] w, float[3, 4] b, float[5, 4] wv, float[4] b1) => (float[3, 4] y, float[3, 4] z) {
      t = MatMul(a, w)
      y = Add(t, b)
      t2 = MatMul(a, wv)
      z = Add(t2, b1)
    }
  )";
  c.random = {"w", "b", "b1"};
  EXPECT_EQ(check_pass(c, "fuse_matmul_add").rewrites, 0);
}

}  // namespace
}  // namespace hwopt::passes::testing
