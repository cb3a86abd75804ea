// fuse_conv_post_linear: structure and numerics (the fused node runs on the reference kernel).
#include "passes_test_util.h"

namespace hwopt::passes::testing {
namespace {

// PP-LCNet's learnable affine block after an activation: Mul then Add by scalars, bit for bit.
TEST(PassFuseConvPostLinear, ScalarMulAndAddAfterTheActivation) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13, "com.microsoft" : 1]>
    g (float[2, 3, 7, 7] x, float[8, 3, 3, 3] w, float[8] b, float[1] s, float[1] t) => (float[2, 8, 7, 7] y) {
      u = com.microsoft.FusedConv <pads = [1, 1, 1, 1], activation = "HardSwish"> (x, w, b)
      v = Mul(u, s)
      y = Add(v, t)
    }
  )";
  c.random = {"w", "b"};
  c.values = {{"s", floats({1}, {0.75f})}, {"t", floats({1}, {-0.3f})}};
  auto r = check_pass(c, "fuse_conv_post_linear", 0.0);  // bit for bit
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const auto& g = *r.after->graph;
  EXPECT_EQ(count_op(g, "Mul"), 0);
  EXPECT_EQ(count_op(g, "Add"), 0);
  EXPECT_EQ(find_op(g, "FusedConv", "com.microsoft"), nullptr);
  const ir::Node* f = find_op(g, "FusedConv", "ai.hwopt");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->inputs, (std::vector<std::string>{"x", "w", "b"}));
  EXPECT_EQ(f->outputs[0], "y");
  EXPECT_EQ(f->attr("activation")->s, "HardSwish");
  EXPECT_EQ(f->attr("post_linear")->floats, (std::vector<float>{0.75f, -0.3f}));
  EXPECT_EQ(f->attr("pads")->ints, (std::vector<int64_t>{1, 1, 1, 1}));
}

// A residual FusedConv, then Sub and Div by scalars (x - c, x / c) and a Mul with the scalar first.
TEST(PassFuseConvPostLinear, SubDivAndScalarFirstMulAfterAResidual) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13, "com.microsoft" : 1]>
    g (float[1, 4, 5, 5] x, float[4, 4, 1, 1] w, float[4] b, float[1, 4, 5, 5] z, float s, float[1, 1, 1, 1] d,
       float m) => (float[1, 4, 5, 5] y) {
      u = com.microsoft.FusedConv <activation = "Relu"> (x, w, b, z)
      v = Sub(u, s)
      q = Div(v, d)
      y = Mul(m, q)
    }
  )";
  c.random = {"w", "b"};
  c.values = {{"s", scalar_f(0.5f)}, {"d", floats({1, 1, 1, 1}, {1.5f})}, {"m", scalar_f(-2.f)}};
  auto r = check_pass(c, "fuse_conv_post_linear");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const auto& g = *r.after->graph;
  EXPECT_EQ(g.nodes.size(), 1u);
  const ir::Node* f = find_op(g, "FusedConv", "ai.hwopt");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->inputs.size(), 4u);  // the residual stays
  const std::vector<float>& p = f->attr("post_linear")->floats;
  ASSERT_EQ(p.size(), 2u);
  EXPECT_FLOAT_EQ(p[0], -2.f / 1.5f);
  EXPECT_FLOAT_EQ(p[1], -2.f * -0.5f / 1.5f);
}

TEST(PassFuseConvPostLinear, LeavesWhatIsNotAScalarAffineOfTheConvolution) {
  Case c;
  // Per-channel scale (not a scalar), c - x, a scalar that widens the rank, an intermediate read
  // twice, and a plain Conv (fuse_conv_scale's business): nothing fuses.
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13, "com.microsoft" : 1]>
    g (float[1, 4, 5, 5] x, float[4, 4, 1, 1] w, float[1, 4, 1, 1] pc, float s, float[1, 1, 1, 1, 1] wide)
      => (float[1, 4, 5, 5] y1, float[1, 4, 5, 5] y2, float[1, 1, 4, 5, 5] y3, float[1, 4, 5, 5] y4,
          float[1, 4, 5, 5] y5, float[1, 4, 5, 5] y6) {
      a = com.microsoft.FusedConv <activation = "Relu"> (x, w)
      y1 = Mul(a, pc)
      b = com.microsoft.FusedConv <activation = "Relu"> (x, w)
      y2 = Sub(s, b)
      e = com.microsoft.FusedConv <activation = "Relu"> (x, w)
      y3 = Mul(e, wide)
      f = com.microsoft.FusedConv <activation = "Relu"> (x, w)
      y4 = Add(f, s)
      y5 = Mul(f, s)
      k = Conv(x, w)
      y6 = Mul(k, s)
    }
  )";
  c.random = {"w", "pc"};
  c.values = {{"s", scalar_f(0.5f)}, {"wide", floats({1, 1, 1, 1, 1}, {2.f})}};
  auto r = check_pass(c, "fuse_conv_post_linear");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 0);
  EXPECT_EQ(find_op(*r.after->graph, "FusedConv", "ai.hwopt"), nullptr);
}

// The chain stops where a value is also a graph output; what came before it still fuses.
TEST(PassFuseConvPostLinear, StopsAtAGraphOutput) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13, "com.microsoft" : 1]>
    g (float[1, 2, 4, 4] x, float[2, 2, 3, 3] w, float s, float t) => (float[1, 2, 4, 4] v, float[1, 2, 4, 4] y) {
      u = com.microsoft.FusedConv <pads = [1, 1, 1, 1], activation = "Sigmoid"> (x, w)
      v = Mul(u, s)
      y = Add(v, t)
    }
  )";
  c.random = {"w"};
  c.values = {{"s", scalar_f(3.f)}, {"t", scalar_f(1.f)}};
  auto r = check_pass(c, "fuse_conv_post_linear", 0.0);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const ir::Node* f = find_op(*r.after->graph, "FusedConv", "ai.hwopt");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->outputs[0], "v");
  EXPECT_EQ(f->attr("post_linear")->floats, (std::vector<float>{3.f, 0.f}));
  EXPECT_EQ(count_op(*r.after->graph, "Add"), 1);
}

}  // namespace
}  // namespace hwopt::passes::testing
