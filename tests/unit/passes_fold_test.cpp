// fold_constants, infer_shapes and eliminate_dead_nodes: structure and numerics.
#include "passes_test_util.h"

namespace hwopt::passes::testing {
namespace {

TEST(PassFoldConstants, FoldsConstantSubgraphsAndConstantNodes) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 3] x, float[3] a, float[3] b) => (float[2, 3] y) {
      two = Constant <value = float {2.0}> ()
      s = Add(a, b)
      t = Mul(s, two)
      e = Exp(t)
      y = Add(x, e)
    }
  )";
  c.random = {"a", "b"};
  auto r = check_pass(c, "fold_constants");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 4);  // Constant, Add, Mul, Exp
  const auto& g = *r.after->graph;
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op_type, "Add");
  EXPECT_TRUE(g.initializers.count("e"));
  EXPECT_FALSE(g.initializers.count("a")) << "inputs of folded nodes are dropped when unused";
  EXPECT_FALSE(g.initializers.count("s"));
}

TEST(PassFoldConstants, FoldsShapeOfStaticShapesAndTheReshapeChain) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 3, 4] x) => (float[6, 4] y) {
      s = Shape(x)
      i = Constant <value = int64[1] {2}> ()
      last = Gather(s, i)
      m1 = Constant <value = int64[1] {-1}> ()
      shp = Concat <axis = 0> (m1, last)
      y = Reshape(x, shp)
    }
  )";
  auto r = check_pass(c, "fold_constants");
  ASSERT_TRUE(r.after);
  const auto& g = *r.after->graph;
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op_type, "Reshape");
  const Tensor& shp = g.initializers.at(g.nodes[0].inputs[1]);
  ASSERT_EQ(shp.numel(), 2);
  EXPECT_EQ(shp.data<int64_t>()[0], -1);
  EXPECT_EQ(shp.data<int64_t>()[1], 4);
}

TEST(PassFoldConstants, ShapeWithSymbolicDimsIsNotFolded) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[N, 3] x) => (int64[2] y) {
      y = Shape(x)
    }
  )";
  c.inputs["x"] = floats({2, 3}, {1, 2, 3, 4, 5, 6});
  auto r = check_pass(c, "fold_constants");
  EXPECT_EQ(r.rewrites, 0);
}

TEST(PassFoldConstants, LeavesResultsOverTheCapUnfoldedAndSaysSo) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 8] x) => (float[1024, 8] y) {
      shape = Constant <value = int64[2] {1024, 8}> ()
      big = ConstantOfShape <value = float[1] {1.5}> (shape)
      y = Add(x, big)
    }
  )";
  auto r = check_pass(c, "fold_constants", 1e-5, /*fold_limit=*/1024);  // 1 KiB cap: 32 KiB result stays
  ASSERT_TRUE(r.after);
  EXPECT_EQ(count_op(*r.after->graph, "ConstantOfShape"), 1);
  EXPECT_EQ(count_op(*r.after->graph, "Constant"), 0) << "the small Constant is still folded";
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("unfolded"), std::string::npos) << r.notes[0];
}

TEST(PassFoldConstants, NeverFoldsRandomOpsOrGraphOutputs) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2] x) => (float[2] y, float[2] k) {
      r = RandomUniform <shape = [2], seed = 1.0> ()
      y = Add(x, r)
      k = Constant <value = float[2] {1.0, 2.0}> ()
    }
  )";
  auto r = check_pass(c, "fold_constants");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 0);
  EXPECT_EQ(count_op(*r.after->graph, "RandomUniform"), 1);
  EXPECT_EQ(count_op(*r.after->graph, "Constant"), 1) << "a graph output keeps its producer";
}

TEST(PassFoldConstants, FoldsInsideSubgraphs) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (bool cond, float[2] x) => (float[2] y) {
      y = If (cond) <
        then_branch = t () => (float[2] a) {
          one = Constant <value = float[2] {1.0, 2.0}> ()
          two = Mul(one, one)
          a = Add(x, two)
        },
        else_branch = e () => (float[2] b) {
          b = Neg(x)
        }
      >
    }
  )";
  Tensor cond(DType::boolean, {});
  cond.data<bool>()[0] = true;
  c.inputs["cond"] = cond;
  auto r = check_pass(c, "fold_constants");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 2);
  const auto& then_graph = *r.after->graph->nodes[0].attr("then_branch")->g;
  EXPECT_EQ(then_graph.nodes.size(), 1u);
  EXPECT_EQ(then_graph.initializers.count("two"), 1u);
}

TEST(PassInferShapes, RecoversRanksAfterAReshapeToAComputedShape) {
  // ONNX shape inference loses the rank of r (its shape comes from Shape/Slice/Concat of a dynamic
  // input); infer_shapes propagates the shape value symbolically.
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 9]>
    g (float[N, 4, 3] x) => (float[N, ?, ?] y) {
      s = Shape(x)
      head = Slice <axes = [0], starts = [0], ends = [2]> (s)
      m1 = Constant <value = int64[1] {-1}> ()
      shp = Concat <axis = 0> (head, m1)
      r = Reshape(x, shp)
      t = Transpose <perm = [0, 2, 1]> (r)
      y = Relu(t)
    }
  )";
  std::mt19937 rng(5);
  c.inputs["x"] = random_tensor({2, 4, 3}, rng);
  auto r = check_pass(c, "infer_shapes");
  ASSERT_TRUE(r.after);
  EXPECT_GT(r.rewrites, 0);
  const ir::ValueInfo* t = r.after->graph->find_value("t");
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->has_shape);
  ASSERT_EQ(t->shape.size(), 3u);
  EXPECT_EQ(t->shape[0].param, "N");
  EXPECT_FALSE(t->shape[1].known());
  EXPECT_EQ(t->shape[2].value, 4);
}

TEST(PassEliminateDeadNodes, RemovesUnreadChainsAndTheirInitializers) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 3] x, float[3] w) => (float[2, 3] y) {
      d1 = Mul(x, w)
      d2 = Exp(d1)
      y = Relu(x)
    }
  )";
  c.random = {"w"};
  auto r = check_pass(c, "eliminate_dead_nodes");
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 2);
  EXPECT_EQ(r.after->graph->nodes.size(), 1u);
  EXPECT_TRUE(r.after->graph->initializers.empty());
}

TEST(PassEliminateDeadNodes, KeepsValuesReadBySubgraphs) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (bool cond, float[2] x) => (float[2] y) {
      used_inside = Exp(x)
      y = If (cond) <
        then_branch = t () => (float[2] a) { a = Neg(used_inside) },
        else_branch = e () => (float[2] b) { b = Neg(x) }
      >
    }
  )";
  Tensor cond(DType::boolean, {});
  cond.data<bool>()[0] = true;
  c.inputs["cond"] = cond;
  auto r = check_pass(c, "eliminate_dead_nodes");
  EXPECT_EQ(r.rewrites, 0);
}

}  // namespace
}  // namespace hwopt::passes::testing
