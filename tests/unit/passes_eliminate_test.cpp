// eliminate_identity, eliminate_noop_reshape, eliminate_transpose_pairs, eliminate_cast_chains.
#include "passes_test_util.h"

namespace hwopt::passes::testing {
namespace {

TEST(PassEliminateIdentity, RemovesIdentityDropoutCastAndMulByOne) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 3] x) => (float[2, 3] y) {
      a = Identity(x)
      b = Dropout(a)
      d = Cast <to = 1> (b)
      one = Constant <value = float {1.0}> ()
      e = Mul(d, one)
      f = Div(e, one)
      y = Relu(f)
    }
  )";
  auto r = check_pass(c, "eliminate_identity");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 5);
  const auto& g = *r.after->graph;
  EXPECT_EQ(count_op(g, "Identity") + count_op(g, "Dropout") + count_op(g, "Cast") + count_op(g, "Mul") +
                count_op(g, "Div"),
            0);
  ASSERT_NE(find_op(g, "Relu"), nullptr);
  EXPECT_EQ(find_op(g, "Relu")->inputs[0], "x");
}

TEST(PassEliminateIdentity, KeepsDropoutWhoseMaskIsUsedAndRealCasts) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 3] x) => (float[2, 3] y, bool[2, 3] m, double[2, 3] z) {
      y, m = Dropout(x)
      z = Cast <to = 11> (x)
    }
  )";
  auto r = check_pass(c, "eliminate_identity");
  EXPECT_EQ(r.rewrites, 0);
}

TEST(PassEliminateIdentity, KeepsMulByOneThatWidensTheRank) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[3] x) => (float[1, 3] y) {
      one = Constant <value = float[1, 1] {1.0}> ()
      y = Mul(x, one)
    }
  )";
  EXPECT_EQ(check_pass(c, "eliminate_identity").rewrites, 0);
}

TEST(PassEliminateIdentity, GraphOutputKeepsItsName) {
  // y = Identity(t): t's producer is renamed to write y directly.
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 3] x) => (float[2, 3] y, float[2, 3] x2) {
      t = Relu(x)
      y = Identity(t)
      x2 = Identity(x)
    }
  )";
  auto r = check_pass(c, "eliminate_identity");
  ASSERT_TRUE(r.after);
  const auto& g = *r.after->graph;
  EXPECT_EQ(r.rewrites, 1) << "x2 = Identity(x) must stay: x is a graph input";
  ASSERT_NE(find_op(g, "Relu"), nullptr);
  EXPECT_EQ(find_op(g, "Relu")->outputs[0], "y");
  EXPECT_EQ(count_op(g, "Identity"), 1);
  EXPECT_EQ(g.outputs[0].name, "y");
  EXPECT_EQ(g.outputs[1].name, "x2");
}

TEST(PassEliminateNoopReshape, RemovesReshapeFlattenSqueezeToTheSameShape) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[N, 6] x) => (float[N, 6] y) {
      s = Constant <value = int64[2] {0, -1}> ()
      a = Reshape(x, s)
      b = Flatten <axis = 1> (a)
      y = Squeeze(b)
    }
  )";
  std::mt19937 rng(3);
  c.inputs["x"] = random_tensor({4, 6}, rng);
  // Squeeze without axes is a no-op only when no dim can be 1: N is unknown, so it stays.
  auto r = check_pass(c, "eliminate_noop_reshape");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 2);
  EXPECT_EQ(count_op(*r.after->graph, "Reshape"), 0);
  EXPECT_EQ(count_op(*r.after->graph, "Flatten"), 0);
  EXPECT_EQ(count_op(*r.after->graph, "Squeeze"), 1);
}

TEST(PassEliminateNoopReshape, KeepsRealReshapes) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 6] x) => (float[3, 4] y) {
      s = Constant <value = int64[2] {3, -1}> ()
      y = Reshape(x, s)
    }
  )";
  EXPECT_EQ(check_pass(c, "eliminate_noop_reshape").rewrites, 0);
}

TEST(PassEliminateTransposePairs, CancelsInversePermutations) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 3, 4] x) => (float[2, 3, 4] y) {
      a = Transpose <perm = [1, 2, 0]> (x)
      b = Transpose <perm = [2, 0, 1]> (a)
      y = Relu(b)
    }
  )";
  auto r = check_pass(c, "eliminate_transpose_pairs");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  EXPECT_EQ(count_op(*r.after->graph, "Transpose"), 0);
}

TEST(PassEliminateTransposePairs, ComposesOtherPairsAndChains) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 3, 4, 5] x) => (float[3, 2, 5, 4] y) {
      a = Transpose <perm = [0, 2, 3, 1]> (x)
      b = Transpose <perm = [2, 3, 0, 1]> (a)
      y = Transpose <perm = [1, 2, 0, 3]> (b)
    }
  )";
  auto r = check_pass(c, "eliminate_transpose_pairs");
  ASSERT_TRUE(r.after);
  const auto& g = *r.after->graph;
  ASSERT_EQ(count_op(g, "Transpose"), 1);
  EXPECT_EQ(g.nodes[0].outputs[0], "y");
}

TEST(PassEliminateTransposePairs, KeepsAPairWhoseMiddleIsReadElsewhere) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 3] x) => (float[2, 3] y, float[3, 2] a) {
      a = Transpose <perm = [1, 0]> (x)
      y = Transpose <perm = [1, 0]> (a)
    }
  )";
  EXPECT_EQ(check_pass(c, "eliminate_transpose_pairs").rewrites, 0);
}

TEST(PassEliminateCastChains, MergesWideningChains) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 3] x, int32[4] i) => (int32[2, 3] y, int32[4] j) {
      d = Cast <to = 11> (x)
      y = Cast <to = 6> (d)
      w = Cast <to = 7> (i)
      k = Cast <to = 6> (w)
      j = Neg(k)
    }
  )";
  c.inputs["i"] = Tensor::from_vector<int32_t>({4}, {-7, 0, 3, 100000});
  auto r = check_pass(c, "eliminate_cast_chains");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 2);
  const auto& g = *r.after->graph;
  EXPECT_EQ(count_op(g, "Cast"), 1) << "float->double->int32 is one Cast; int32->int64->int32 is none";
  EXPECT_EQ(find_op(g, "Neg")->inputs[0], "i");
}

TEST(PassEliminateCastChains, KeepsNarrowingChains) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 3] x) => (float[2, 3] y) {
      h = Cast <to = 10> (x)
      y = Cast <to = 1> (h)
    }
  )";
  EXPECT_EQ(check_pass(c, "eliminate_cast_chains").rewrites, 0);
}

}  // namespace
}  // namespace hwopt::passes::testing
