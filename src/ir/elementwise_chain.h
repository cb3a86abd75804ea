// The ai.hwopt ElementwiseChain op: a run of ai.onnx element-wise ops where each one after the
// first reads the one before (passes/fuse_elementwise_chain.cpp makes it), computed in one pass
// over memory instead of one pass per op.
//
//   ElementwiseChain(X0, X1, ...) -> Y      (float32; Y has the broadcast shape of all inputs)
//   ops          strings  the steps' ai.onnx op types, in order
//   step_arity   ints     how many ONNX inputs each step has
//   step_inputs  ints     for each step, its ONNX inputs in order (step_arity[i] entries each):
//                         an index into the node's inputs, -1 for the previous step's result
//                         (exactly once in every step but the first, never in the first), or
//                         -2 for an omitted optional input (Clip's min)
//   alpha, beta  floats   per step: LeakyRelu/Elu alpha; HardSigmoid alpha, beta; Clip before
//                         opset 11: min, max (0 otherwise)
//   onnx_opset   int      the ai.onnx opset the steps were imported at
//
// Element-wise ops commute with broadcasting, so computing every step at Y's shape gives what the
// separate nodes gave. The reference kernel runs the steps' own reference kernels one by one.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace hwopt::ir {

constexpr int kChainRunning = -1;
constexpr int kChainAbsent = -2;
/// Most steps in one chain.
constexpr size_t kMaxChainSteps = 16;

struct ChainStep {
  std::string op;
  std::vector<int> inputs;
  float alpha = 0.f, beta = 0.f;
};

struct ElementwiseChain {
  int onnx_opset = 0;
  std::vector<ChainStep> steps;
};

/// True for the ai.onnx ops a chain may hold: Relu, LeakyRelu, Elu, Sigmoid, HardSigmoid, HardSwish,
/// Softplus, Tanh, Exp, Log, Sqrt, Abs, Neg, Reciprocal, Erf, Clip (one input read per element) and
/// Add, Sub, Mul, Div, Max, Min, Pow (two).
bool is_chain_op(const std::string& op);
/// True for the two-input ones (Add ... Pow).
bool is_chain_binary_op(const std::string& op);

/// The node attributes that encode `chain`.
std::vector<Attribute> chain_attributes(const ElementwiseChain& chain);
/// Reads and checks an ElementwiseChain node's attributes against its input count; "" or what is
/// wrong with them.
std::string parse_chain(const Node& node, ElementwiseChain& chain);
/// The ai.onnx attributes of one step (alpha/beta/min/max where the op has them).
std::vector<Attribute> step_attributes(const ChainStep& step, int onnx_opset);

}  // namespace hwopt::ir
