// fuse_conv_depthwise: structure and numerics (the fused node runs on the reference kernel).
#include "passes_test_util.h"

namespace hwopt::passes::testing {
namespace {

TEST(PassFuseConvDepthwise, FusesPointwiseAndStridedDepthwiseWithActivations) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13, "com.microsoft" : 1]>
    g (float[2, 8, 9, 9] x, float[16, 8, 1, 1] w, float[16] b, float[16, 1, 3, 3] wd, float[16] bd)
      => (float[2, 16, 5, 5] y) {
      t = com.microsoft.FusedConv <activation = "Clip", activation_params = [0.0, 6.0]> (x, w, b)
      y = com.microsoft.FusedConv <group = 16, strides = [2, 2], pads = [1, 1, 1, 1], activation = "HardSwish"> (t, wd, bd)
    }
  )";
  c.random = {"w", "b", "wd", "bd"};
  auto r = check_pass(c, "fuse_conv_depthwise");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const auto& g = *r.after->graph;
  EXPECT_EQ(count_op(g, "FusedConv"), 0);
  const ir::Node* f = find_op(g, "FusedConvDepthwise", "ai.hwopt");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->inputs, (std::vector<std::string>{"x", "w", "b", "wd", "bd"}));
  EXPECT_EQ(f->outputs[0], "y");
  EXPECT_EQ(f->attr("dw_strides")->ints, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(f->attr("activation")->s, "Clip");
  EXPECT_EQ(f->attr("dw_activation")->s, "HardSwish");
}

TEST(PassFuseConvDepthwise, PlainConvsWithoutBiases) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 4, 6, 6] x, float[8, 4, 1, 1] w, float[8, 1, 3, 3] wd) => (float[1, 8, 6, 6] y) {
      t = Conv(x, w)
      y = Conv <group = 8, pads = [1, 1, 1, 1]> (t, wd)
    }
  )";
  c.random = {"w", "wd"};
  auto r = check_pass(c, "fuse_conv_depthwise");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const ir::Node* f = find_op(*r.after->graph, "FusedConvDepthwise", "ai.hwopt");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->inputs, (std::vector<std::string>{"x", "w", "", "wd"}));
}

// TensorFlow's "SAME" padding at stride 2 ([0, 0, 1, 1], a Pad folded into the convolution) and
// no padding fuse too, their pads kept as dw_pads.
TEST(PassFuseConvDepthwise, TensorFlowSamePaddingAndNoPadding) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 4, 9, 9] x, float[8, 4, 1, 1] w, float[8, 1, 3, 3] wd) => (float[1, 8, 4, 4] y1, float[1, 8, 7, 7] y2) {
      t1 = Conv(x, w)
      y1 = Conv <group = 8, strides = [2, 2], pads = [0, 0, 1, 1]> (t1, wd)
      t2 = Conv(x, w)
      y2 = Conv <group = 8> (t2, wd)
    }
  )";
  c.random = {"w", "wd"};
  auto r = check_pass(c, "fuse_conv_depthwise");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 2);
  std::vector<std::vector<int64_t>> pads;
  for (const auto& n : r.after->graph->nodes)
    if (n.op_type == "FusedConvDepthwise") pads.push_back(n.attr("dw_pads")->ints);
  EXPECT_EQ(pads, (std::vector<std::vector<int64_t>>{{0, 0, 1, 1}, {0, 0, 0, 0}}));
}

TEST(PassFuseConvDepthwise, KeepsPairsItCannotFuse) {
  Case c;
  // Not fused: a 3x3 first convolution; a pointwise output read twice; a depthwise with padding 3;
  // a grouped (not depthwise) second convolution; a residual input on the depthwise.
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13, "com.microsoft" : 1]>
    g (float[1, 4, 6, 6] x, float[8, 4, 3, 3] w3, float[8, 4, 1, 1] w, float[8, 1, 3, 3] wd, float[8, 2, 3, 3] wg, float[8] bd)
      => (float[1, 8, 6, 6] y1, float[1, 8, 6, 6] y2, float[1, 8, 6, 6] t2, float[1, 8, 10, 10] y3,
          float[1, 8, 6, 6] y4, float[1, 8, 6, 6] y5) {
      t1 = Conv <pads = [1, 1, 1, 1]> (x, w3)
      y1 = Conv <group = 8, pads = [1, 1, 1, 1]> (t1, wd)
      t2 = Conv(x, w)
      y2 = Conv <group = 8, pads = [1, 1, 1, 1]> (t2, wd)
      t3 = Conv(x, w)
      y3 = Conv <group = 8, pads = [3, 3, 3, 3]> (t3, wd)
      t4 = Conv(x, w)
      y4 = Conv <group = 4, pads = [1, 1, 1, 1]> (t4, wg)
      t5 = Conv(x, w)
      x2 = Identity(y1)
      y5 = com.microsoft.FusedConv <group = 8, pads = [1, 1, 1, 1]> (t5, wd, bd, x2)
    }
  )";
  c.random = {"w3", "w", "wd", "wg", "bd"};
  EXPECT_EQ(check_pass(c, "fuse_conv_depthwise").rewrites, 0);
}

}  // namespace
}  // namespace hwopt::passes::testing
