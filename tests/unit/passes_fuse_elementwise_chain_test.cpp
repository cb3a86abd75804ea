// fuse_elementwise_chain: structure and numerics (the fused node runs on its reference kernel,
// the steps' own reference kernels, so the outputs are bit for bit the unfused graph's).
#include "ir/elementwise_chain.h"
#include "passes_test_util.h"

namespace hwopt::passes::testing {
namespace {

ir::ElementwiseChain chain_of(const ir::Node& n) {
  ir::ElementwiseChain c;
  EXPECT_EQ(ir::parse_chain(n, c), "");
  return c;
}

std::vector<std::string> ops_of(const ir::Node& n) {
  std::vector<std::string> ops;
  for (const auto& s : chain_of(n).steps) ops.push_back(s.op);
  return ops;
}

// A YOLO detection head's box decoding: five steps, scalars and a broadcast grid.
TEST(PassFuseElementwiseChain, YoloHeadBecomesOneNode) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 3, 8, 8, 2] x, float[1, 1, 8, 8, 2] grid) => (float[1, 3, 8, 8, 2] y) {
      two = Constant <value = float {2.0}> ()
      half = Constant <value = float {0.5}> ()
      stride = Constant <value = float {8.0}> ()
      s = Sigmoid(x)
      m = Mul(s, two)
      d = Sub(m, half)
      a = Add(d, grid)
      y = Mul(a, stride)
    }
  )";
  auto r = check_pass(c, "fuse_elementwise_chain", 0.0);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const auto& g = *r.after->graph;
  const ir::Node* f = find_op(g, "ElementwiseChain", "ai.hwopt");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(count_op(g, "Sigmoid") + count_op(g, "Mul") + count_op(g, "Sub") + count_op(g, "Add"), 0);
  EXPECT_EQ(f->outputs, (std::vector<std::string>{"y"}));
  EXPECT_EQ(f->inputs, (std::vector<std::string>{"x", "two", "half", "grid", "stride"}));
  EXPECT_EQ(ops_of(*f), (std::vector<std::string>{"Sigmoid", "Mul", "Sub", "Add", "Mul"}));
  EXPECT_EQ(f->fused_from.size(), 5u);
}

// Mish written op by op reads x twice: x is the chain's input for the first and the last step.
TEST(PassFuseElementwiseChain, MishReadsItsInputTwice) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 16, 5, 5] x) => (float[2, 16, 5, 5] y) {
      s = Softplus(x)
      t = Tanh(s)
      y = Mul(x, t)
    }
  )";
  auto r = check_pass(c, "fuse_elementwise_chain", 0.0);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const ir::Node* f = find_op(*r.after->graph, "ElementwiseChain", "ai.hwopt");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->inputs, (std::vector<std::string>{"x"}));
  const auto chain = chain_of(*f);
  ASSERT_EQ(chain.steps.size(), 3u);
  EXPECT_EQ(chain.steps[2].inputs, (std::vector<int>{0, ir::kChainRunning}));  // Mul(x, running)
}

// BERT's attention mask: (1 - mask) * -10000 added to the scores widens [N,1,1,S] to [N,H,S,S];
// then Clip with a constant max only, a LeakyRelu and a Pow by 2 carry their attributes.
TEST(PassFuseElementwiseChain, BroadcastingStepsAndAttributes) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2, 1, 1, 6] mask, float[2, 3, 6, 6] scores) => (float[2, 3, 6, 6] y) {
      one = Constant <value = float {1.0}> ()
      big = Constant <value = float {-10000.0}> ()
      hi = Constant <value = float {0.5}> ()
      two = Constant <value = float {2.0}> ()
      inv = Sub(one, mask)
      m = Mul(inv, big)
      s = Add(scores, m)
      cl = Clip(s, , hi)
      l = LeakyRelu <alpha = 0.3> (cl)
      y = Pow(l, two)
    }
  )";
  c.inputs = {{"mask", floats({2, 1, 1, 6}, {1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0})}};
  auto r = check_pass(c, "fuse_elementwise_chain", 0.0);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const auto& g = *r.after->graph;
  EXPECT_EQ(g.nodes.size(), 5u);  // the four Constant nodes (the pass ran alone) and the chain
  const ir::Node* f = find_op(g, "ElementwiseChain", "ai.hwopt");
  ASSERT_NE(f, nullptr);
  const auto chain = chain_of(*f);
  ASSERT_EQ(chain.steps.size(), 6u);
  EXPECT_EQ(chain.steps[0].inputs, (std::vector<int>{0, 1}));  // Sub(one, mask)
  EXPECT_EQ(chain.steps[2].inputs, (std::vector<int>{3, ir::kChainRunning}));  // Add(scores, running)
  EXPECT_EQ(chain.steps[3].inputs, (std::vector<int>{ir::kChainRunning, ir::kChainAbsent, 4}));
  EXPECT_FLOAT_EQ(chain.steps[4].alpha, 0.3f);
  EXPECT_EQ(chain.onnx_opset, 13);
}

// Clip before opset 11 keeps its bounds as alpha/beta.
TEST(PassFuseElementwiseChain, ClipAttributesBeforeOpset11) {
  Case c;
  c.text = R"(
    <ir_version: 4, opset_import: ["" : 9]>
    g (float[4, 7] x) => (float[4, 7] y) {
      a = Abs(x)
      y = Clip <min = 0.2, max = 0.9> (a)
    }
  )";
  auto r = check_pass(c, "fuse_elementwise_chain", 0.0);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 1);
  const ir::Node* f = find_op(*r.after->graph, "ElementwiseChain", "ai.hwopt");
  ASSERT_NE(f, nullptr);
  const auto chain = chain_of(*f);
  EXPECT_FLOAT_EQ(chain.steps[1].alpha, 0.2f);
  EXPECT_FLOAT_EQ(chain.steps[1].beta, 0.9f);
}

// What ends a chain: a value read twice, a graph output, a non-float op, a Pow by 3, a Clip
// bound that is not a constant. Nothing with fewer than two steps is rewritten.
TEST(PassFuseElementwiseChain, ChainsStopWhereTheyMust) {
  Case c;
  c.text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[3, 5] x, float lo, int64[3, 5] k) => (float[3, 5] y, float[3, 5] e, float[3, 5] p, float[3, 5] q,
                                                  int64[3, 5] kk) {
      three = Constant <value = float {3.0}> ()
      s = Sigmoid(x)
      t = Tanh(s)
      u = Exp(t)
      v = Neg(t)
      y = Add(u, v)
      e = Exp(y)
      p = Pow(x, three)
      c = Clip(x, lo)
      q = Relu(c)
      kk = Neg(k)
    }
  )";
  auto r = check_pass(c, "fuse_elementwise_chain", 0.0);
  ASSERT_TRUE(r.after);
  // Sigmoid -> Tanh (t is read twice: the chain ends there), and Exp -> Add ending at the graph
  // output y (which no chain reads on from: e's Exp stays); Pow by 3, the Clip with a variable
  // bound and the int64 Neg stay.
  EXPECT_EQ(r.rewrites, 2);
  const auto& g = *r.after->graph;
  std::vector<std::vector<std::string>> chains;
  for (const auto& n : g.nodes)
    if (n.op_type == "ElementwiseChain") chains.push_back(ops_of(n));
  EXPECT_EQ(chains, (std::vector<std::vector<std::string>>{{"Sigmoid", "Tanh"}, {"Exp", "Add"}}));
  EXPECT_EQ(count_op(g, "Pow"), 1);
  EXPECT_EQ(count_op(g, "Clip"), 1);
  EXPECT_EQ(count_op(g, "Relu"), 1);
  EXPECT_EQ(count_op(g, "Neg"), 2);
  EXPECT_EQ(count_op(g, "Exp"), 1);
}

// A chain longer than kMaxChainSteps is cut into pieces of at most that many steps.
TEST(PassFuseElementwiseChain, LongChainsAreSplit) {
  Case c;
  std::string body;
  std::string prev = "x";
  for (int i = 0; i < 20; ++i) {
    const std::string out = i == 19 ? "y" : "v" + std::to_string(i);
    body += "      " + out + " = " + (i % 2 ? "Neg(" : "Abs(") + prev + ")\n";
    prev = out;
  }
  c.text = "<ir_version: 8, opset_import: [\"\" : 13]>\n g (float[4] x) => (float[4] y) {\n" + body + "}\n";
  auto r = check_pass(c, "fuse_elementwise_chain", 0.0);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(r.rewrites, 2);
  EXPECT_EQ(count_op(*r.after->graph, "ElementwiseChain", "ai.hwopt"), 2);
  EXPECT_EQ(r.after->graph->nodes.size(), 2u);
}

}  // namespace
}  // namespace hwopt::passes::testing
