// fuse_conv_batchnorm, fuse_gemm_batchnorm, fuse_conv_scale, fuse_conv_add_bias, fuse_conv_activation.
//
// Tolerance: folding BatchNormalization (or a scale) into the weights reassociates float math
// (conv(x, W) * s rounds differently from conv(x, W * s)); outputs near zero after the bias then
// differ by a few float ulps of the larger intermediate terms, so those tests use 1e-4.
#include "passes_test_util.h"

namespace hwopt::passes::testing {
namespace {

constexpr double kFoldTol = 1e-4;

TEST(PassFuseConvBatchnorm, FoldsIntoConvWeightsAndBias) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 3, 8, 8] x, float[4, 3, 3, 3] w, float[4] b, float[4] s, float[4] beta, float[4] mean, float[4] var)
      => (float[2, 4, 8, 8] y) {
      t = Conv <pads = [1, 1, 1, 1]> (x, w, b)
      u = BatchNormalization <epsilon = 0.001> (t, s, beta, mean, var)
      y = Relu(u)
    }
  )";
  c.random = {"w", "b", "s", "beta", "mean"};
  c.positive = {"var"};
  auto r = check_pass(c, "fuse_conv_batchnorm", kFoldTol);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const auto& g = *r.after->graph;
  EXPECT_EQ(count_op(g, "BatchNormalization"), 0);
  ASSERT_EQ(count_op(g, "Conv"), 1);
  EXPECT_EQ(find_op(g, "Conv")->outputs[0], "u");
  EXPECT_EQ(find_op(g, "Conv")->inputs.size(), 3u);
}

TEST(PassFuseConvBatchnorm, GroupedConvWithoutBias) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 11]>
    g (float[1, 4, 6, 6] x, float[6, 2, 3, 3] w, float[6] s, float[6] beta, float[6] mean, float[6] var)
      => (float[1, 6, 2, 2] y) {
      t = Conv <group = 2, strides = [2, 2]> (x, w)
      y = BatchNormalization(t, s, beta, mean, var)
    }
  )";
  c.random = {"w", "s", "beta", "mean"};
  c.positive = {"var"};
  auto r = check_pass(c, "fuse_conv_batchnorm", kFoldTol);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  EXPECT_EQ(count_op(*r.after->graph, "BatchNormalization"), 0);
}

TEST(PassFuseConvBatchnorm, FoldsIntoGroupedConvTranspose) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 4, 5, 5] x, float[4, 3, 3, 3] w, float[6] b, float[6] s, float[6] beta, float[6] mean, float[6] var)
      => (float[1, 6, 11, 11] y) {
      t = ConvTranspose <group = 2, strides = [2, 2]> (x, w, b)
      y = BatchNormalization(t, s, beta, mean, var)
    }
  )";
  c.random = {"w", "b", "s", "beta", "mean"};
  c.positive = {"var"};
  auto r = check_pass(c, "fuse_conv_batchnorm", kFoldTol);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  EXPECT_EQ(count_op(*r.after->graph, "BatchNormalization"), 0);
  EXPECT_EQ(count_op(*r.after->graph, "ConvTranspose"), 1);
}

// PaddlePaddle writes a convolution's bias as an Add of a [1, M, 1, 1] constant: folded into B
// on the way (PP-OCRv4's detection head: ConvTranspose -> Add -> BatchNormalization).
TEST(PassFuseConvBatchnorm, FoldsTheConstantAddBetweenThem) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 4, 5, 5] x, float[4, 3, 2, 2] w, float[1, 3, 1, 1] a, float[3] s, float[3] beta, float[3] mean,
       float[3] var, float[6, 4, 3, 3] w2, float[6] b2, float[6, 1, 1] a2, float[6] s2, float[6] beta2, float[6] mean2,
       float[6] var2) => (float[1, 3, 10, 10] y, float[1, 6, 5, 5] y2) {
      t = ConvTranspose <strides = [2, 2]> (x, w)
      u = Add(a, t)
      y = BatchNormalization(u, s, beta, mean, var)
      t2 = Conv <pads = [1, 1, 1, 1]> (x, w2, b2)
      u2 = Add(t2, a2)
      y2 = BatchNormalization(u2, s2, beta2, mean2, var2)
    }
  )";
  c.random = {"w", "a", "s", "beta", "mean", "w2", "b2", "a2", "s2", "beta2", "mean2"};
  c.positive = {"var", "var2"};
  auto r = check_pass(c, "fuse_conv_batchnorm", kFoldTol);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 2);
  const auto& g = *r.after->graph;
  EXPECT_EQ(count_op(g, "BatchNormalization"), 0);
  EXPECT_EQ(count_op(g, "Add"), 0);
  ASSERT_NE(find_op(g, "ConvTranspose"), nullptr);
  EXPECT_EQ(find_op(g, "ConvTranspose")->outputs[0], "y");
  EXPECT_EQ(find_op(g, "ConvTranspose")->inputs.size(), 3u);
  EXPECT_EQ(find_op(g, "Conv")->outputs[0], "y2");
}

// A residual Add (another tensor, not a constant) or an Add whose convolution output is read
// elsewhere stays, and so does the BatchNormalization after it.
TEST(PassFuseConvBatchnorm, KeepsANonConstantOrSharedAdd) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 2, 4, 4] x, float[2, 2, 1, 1] w, float[1, 2, 4, 4] z, float[2, 1, 1] a, float[2] s, float[2] beta,
       float[2] mean, float[2] var) => (float[1, 2, 4, 4] y, float[1, 2, 4, 4] y2, float[1, 2, 4, 4] t2) {
      t = Conv(x, w)
      u = Add(t, z)
      y = BatchNormalization(u, s, beta, mean, var)
      t2 = Conv(x, w)
      u2 = Add(t2, a)
      y2 = BatchNormalization(u2, s, beta, mean, var)
    }
  )";
  c.random = {"w", "a", "s", "beta", "mean"};
  c.positive = {"var"};
  auto r = check_pass(c, "fuse_conv_batchnorm", kFoldTol);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 0);
  EXPECT_EQ(count_op(*r.after->graph, "BatchNormalization"), 2);
}

TEST(PassFuseConvBatchnorm, SkipsWhenTheConvOutputIsReadElsewhere) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 3, 4, 4] x, float[2, 3, 1, 1] w, float[2] s, float[2] beta, float[2] mean, float[2] var)
      => (float[1, 2, 4, 4] y, float[1, 2, 4, 4] t) {
      t = Conv(x, w)
      y = BatchNormalization(t, s, beta, mean, var)
    }
  )";
  c.random = {"w", "s", "beta", "mean"};
  c.positive = {"var"};
  EXPECT_EQ(check_pass(c, "fuse_conv_batchnorm").rewrites, 0);
}

TEST(PassFuseGemmBatchnorm, FoldsIntoTransposedBAndBroadcastC) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[3, 5] a, float[4, 5] b, float[4] cc, float[4] s, float[4] beta, float[4] mean, float[4] var)
      => (float[3, 4] y) {
      t = Gemm <transB = 1, alpha = 0.5, beta = 2.0> (a, b, cc)
      y = BatchNormalization(t, s, beta, mean, var)
    }
  )";
  c.random = {"b", "cc", "s", "beta", "mean"};
  c.positive = {"var"};
  auto r = check_pass(c, "fuse_gemm_batchnorm", kFoldTol);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  EXPECT_EQ(count_op(*r.after->graph, "BatchNormalization"), 0);
  ASSERT_NE(find_op(*r.after->graph, "Gemm"), nullptr);
  EXPECT_EQ(find_op(*r.after->graph, "Gemm")->attr("beta")->f, 1.0f);
}

TEST(PassFuseGemmBatchnorm, FoldsWithoutCAndWithFullC) {
  for (const char* gemm : {"t = Gemm(a, b)", "t = Gemm <beta = 0.5> (a, b, cfull)"}) {
    Case c;
    c.text = std::string(R"(
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[3, 5] a, float[5, 4] b, float[3, 4] cfull, float[4] s, float[4] beta, float[4] mean, float[4] var)
        => (float[3, 4] y) {
        )") + gemm + R"(
        y = BatchNormalization(t, s, beta, mean, var)
      }
    )";
    c.random = {"b", "cfull", "s", "beta", "mean"};
    c.positive = {"var"};
    auto r = check_pass(c, "fuse_gemm_batchnorm", kFoldTol);
    EXPECT_EQ(r.rewrites, 1) << gemm;
  }
}

TEST(PassFuseConvScale, FoldsPerChannelMulIntoWeights) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 3, 6, 6] x, float[4, 3, 3, 3] w, float[4] b, float[1, 4, 1, 1] k, float[1] k1) => (float[1, 4, 4, 4] y) {
      t = Conv(x, w, b)
      u = Mul(k, t)
      y = Mul(u, k1)
    }
  )";
  c.random = {"w", "b", "k", "k1"};
  auto r = check_pass(c, "fuse_conv_scale", kFoldTol);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1) << "one Mul per walk: the second folds on the next run";
  EXPECT_EQ(count_op(*r.after->graph, "Mul"), 1);
}

TEST(PassFuseConvAddBias, FoldsChannelConstantsIntoTheBias) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 3, 6, 6] x, float[4, 3, 3, 3] w, float[4, 1, 1] b1, float[1, 4, 1, 1] b2)
      => (float[1, 4, 4, 4] y, float[1, 4, 4, 4] z) {
      t = Conv(x, w)
      y = Add(t, b1)
      t2 = Conv(x, w)
      z = Add(b2, t2)
    }
  )";
  c.random = {"w", "b1", "b2"};
  auto r = check_pass(c, "fuse_conv_add_bias");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 2);
  EXPECT_EQ(count_op(*r.after->graph, "Add"), 0);
}

// ConvTranspose: W is [C, M/group, k...], so the bias has M = W dim 1 x group channels (a grouped
// one with a bias, and PP-OCRv4's last upsampling to one channel with a scalar Add).
TEST(PassFuseConvAddBias, FoldsIntoConvTransposeBias) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 4, 5, 5] x, float[4, 3, 2, 2] w, float[6] b, float[1, 6, 1, 1] a, float[4, 1, 2, 2] w1, float[1] s)
      => (float[1, 6, 10, 10] y, float[1, 1, 10, 10] z) {
      t = ConvTranspose <strides = [2, 2], group = 2> (x, w, b)
      y = Add(t, a)
      t1 = ConvTranspose <strides = [2, 2]> (x, w1)
      z = Add(t1, s)
    }
  )";
  c.random = {"w", "b", "a", "w1", "s"};
  auto r = check_pass(c, "fuse_conv_add_bias");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 2);
  EXPECT_EQ(count_op(*r.after->graph, "Add"), 0);
  EXPECT_EQ(count_op(*r.after->graph, "ConvTranspose"), 2);
}

TEST(PassFuseConvAddBias, SkipsSpatiallyVaryingConstants) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 3, 6, 6] x, float[4, 3, 3, 3] w, float[1, 4, 4, 4] b) => (float[1, 4, 4, 4] y) {
      t = Conv(x, w)
      y = Add(t, b)
    }
  )";
  c.random = {"w", "b"};
  EXPECT_EQ(check_pass(c, "fuse_conv_add_bias").rewrites, 0);
}

struct ActivationCase {
  const char* name;      // expected `activation` attribute
  const char* nodes;     // the activation, reading t and writing y
  int opset;
};

class PassFuseConvActivation : public ::testing::TestWithParam<ActivationCase> {};

TEST_P(PassFuseConvActivation, FusesIntoFusedConv) {
  const ActivationCase& a = GetParam();
  Case c;
  c.text = "<ir_version: 8, opset_import: [\"\" : " + std::to_string(a.opset) + R"(, "com.microsoft" : 1]>
    g (float[1, 3, 6, 6] x, float[4, 3, 3, 3] w, float[4] b) => (float[1, 4, 6, 6] y) {
      t = Conv <pads = [1, 1, 1, 1]> (x, w, b)
      )" + a.nodes + R"(
    }
  )";
  c.random = {"w", "b"};
  auto r = check_pass(c, "fuse_conv_activation");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const auto& g = *r.after->graph;
  ASSERT_EQ(g.nodes.size(), 1u + count_op(g, "Constant")) << a.name;
  ASSERT_NE(find_op(g, "FusedConv", "com.microsoft"), nullptr);
  const ir::Node& f = *find_op(g, "FusedConv", "com.microsoft");
  EXPECT_EQ(f.op_type, "FusedConv");
  EXPECT_EQ(f.domain, "com.microsoft");
  EXPECT_EQ(f.outputs[0], "y");
  ASSERT_NE(f.attr("activation"), nullptr);
  EXPECT_EQ(f.attr("activation")->s, a.name);
  EXPECT_EQ(f.attr("pads")->ints, (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(r.after->opsets.at("com.microsoft"), 1);
}

INSTANTIATE_TEST_SUITE_P(
    PassActivations, PassFuseConvActivation,
    ::testing::Values(
        ActivationCase{"Relu", "y = Relu(t)", 13}, ActivationCase{"LeakyRelu", "y = LeakyRelu <alpha = 0.2> (t)", 13},
        ActivationCase{"Clip", "lo = Constant <value = float {0.0}> ()\n hi = Constant <value = float {6.0}> ()\n "
                               "y = Clip(t, lo, hi)",
                       13},
        ActivationCase{"Clip", "y = Clip <min = -0.5, max = 0.5> (t)", 9},
        ActivationCase{"Clip", "hi = Constant <value = float {0.3}> ()\n y = Clip(t, , hi)", 13},
        ActivationCase{"Sigmoid", "y = Sigmoid(t)", 13}, ActivationCase{"Tanh", "y = Tanh(t)", 13},
        ActivationCase{"HardSigmoid", "y = HardSigmoid <alpha = 0.3, beta = 0.4> (t)", 13},
        ActivationCase{"HardSwish", "y = HardSwish(t)", 14},
        ActivationCase{"Silu", "s = Sigmoid(t)\n y = Mul(t, s)", 13},
        ActivationCase{"Silu", "s = Sigmoid(t)\n y = Mul(s, t)", 13},
        ActivationCase{"Mish", "p = Softplus(t)\n h = Tanh(p)\n y = Mul(t, h)", 13},
        ActivationCase{"Mish", "p = Softplus(t)\n h = Tanh(p)\n y = Mul(h, t)", 13},
        ActivationCase{"HardSwish", "three = Constant <value = float {3.0}> ()\n zero = Constant <value = float {0.0}> ()\n"
                                    " six = Constant <value = float {6.0}> ()\n p = Add(t, three)\n"
                                    " q = Clip(p, zero, six)\n m = Mul(t, q)\n y = Div(m, six)",
                       13},
        ActivationCase{"HardSwish", "h = HardSigmoid <alpha = 0.16666667, beta = 0.5> (t)\n y = Mul(t, h)", 13},
        ActivationCase{"Gelu", "y = com.microsoft.Gelu(t)", 13}));

TEST(PassFuseConvActivationResidual, FusesResidualAddAndActivation) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 4, 6, 6] x, float[4, 4, 3, 3] w, float[4] b) => (float[1, 4, 6, 6] y, float[1, 4, 6, 6] z) {
      t = Conv <pads = [1, 1, 1, 1]> (x, w, b)
      s = Add(x, t)
      y = Relu(s)
      t2 = Conv <pads = [1, 1, 1, 1]> (y, w)
      z = Add(t2, y)
    }
  )";
  c.random = {"w", "b"};
  auto r = check_pass(c, "fuse_conv_activation");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 2);
  const auto& g = *r.after->graph;
  ASSERT_EQ(count_op(g, "FusedConv", "com.microsoft"), 2);
  EXPECT_EQ(g.nodes.size(), 2u);
  const ir::Node& first = g.nodes[0];
  EXPECT_EQ(first.inputs, (std::vector<std::string>{"x", "w", "b", "x"}));
  EXPECT_EQ(first.attr("activation")->s, "Relu");
  const ir::Node& second = g.nodes[1];
  EXPECT_EQ(second.inputs, (std::vector<std::string>{"y", "w", "", "y"}));
  EXPECT_EQ(second.attr("activation"), nullptr) << "a residual Add alone is fused without activation";
  // Profiles map time back to the imported nodes (named by their first output when unnamed).
  EXPECT_EQ(first.fused_from, (std::vector<std::string>{"t", "s", "y"}));
  EXPECT_EQ(second.fused_from, (std::vector<std::string>{"t2", "z"}));
}

TEST(PassFuseConvActivationResidual, SkipsUnprovableShapesAndSharedIntermediates) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 4, 6, 6] x, float[4, 4, 3, 3] w, float[1, 4, 1, 1] z) => (float[1, 4, 6, 6] y, float[1, 4, 6, 6] v) {
      t = Conv <pads = [1, 1, 1, 1]> (x, w)
      s = Add(t, z)
      y = Relu(s)
      t2 = Conv <pads = [1, 1, 1, 1]> (x, w)
      v = Relu(t2)
      extra = Sigmoid(t2)
      unused = Add(extra, v)
    }
  )";
  c.random = {"w"};
  auto r = check_pass(c, "fuse_conv_activation");
  EXPECT_EQ(r.rewrites, 0) << "z broadcasts (not a residual of the same shape); t2 has two readers";
}

}  // namespace
}  // namespace hwopt::passes::testing
