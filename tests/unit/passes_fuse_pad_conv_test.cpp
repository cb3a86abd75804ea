// fuse_pad_conv: structure and numerics.
#include "passes_test_util.h"

namespace hwopt::passes::testing {
namespace {

TEST(PassFusePadConv, FoldsSpatialZeroPadIntoConvPads) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 4, 7, 7] x, float[4, 1, 3, 3] w, int64[8] p) => (float[1, 4, 4, 4] y) {
      t = Pad(x, p)
      y = Conv<group = 4, strides = [2, 2], pads = [0, 0, 1, 1]>(t, w)
    }
  )";
  c.random = {"w"};
  c.values["p"] = ints({8}, {0, 0, 1, 0, 0, 0, 0, 1});
  auto r = check_pass(c, "fuse_pad_conv");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  EXPECT_EQ(count_op(*r.after->graph, "Pad"), 0);
  const ir::Node* conv = find_op(*r.after->graph, "Conv");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->attr("pads")->ints, (std::vector<int64_t>{1, 0, 1, 2}));
}

TEST(PassFusePadConv, KeepsPadsThatAreNotZeroConstantSpatial) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 4, 7, 7] x, float[4, 4, 3, 3] w, int64[8] p, float v) => (float[1, 4, 5, 7] y, float[1, 4, 7, 5] z) {
      t = Pad(x, p)
      y = Conv(t, w)
      t2 = Pad<mode = "reflect">(x, p)
      z = Conv(t2, w)
    }
  )";
  c.random = {"w"};
  c.values["p"] = ints({8}, {0, 0, 0, 1, 0, 0, 0, 1});
  c.values["v"] = scalar_f(0.5f);
  // The first Pad is fusable; the reflect one is not.
  auto r = check_pass(c, "fuse_pad_conv");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  EXPECT_EQ(count_op(*r.after->graph, "Pad"), 1);
}

TEST(PassFusePadConv, KeepsNonZeroConstantValueAndChannelPads) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 4, 7, 7] x, float[4, 4, 3, 3] w, float[4, 6, 3, 3] w2, int64[8] p, int64[8] q, float v)
      => (float[1, 4, 7, 7] y, float[1, 4, 5, 5] z) {
      t = Pad(x, p, v)
      y = Conv(t, w)
      t2 = Pad(x, q)
      z = Conv(t2, w2)
    }
  )";
  c.random = {"w", "w2"};
  c.values["p"] = ints({8}, {0, 0, 1, 1, 0, 0, 1, 1});
  c.values["q"] = ints({8}, {0, 1, 0, 0, 0, 1, 0, 0});
  c.values["v"] = scalar_f(0.5f);
  EXPECT_EQ(check_pass(c, "fuse_pad_conv").rewrites, 0);
}

}  // namespace
}  // namespace hwopt::passes::testing
