// The op cost model: multiply-accumulates, arithmetic and minimum bytes moved of one node at given
// shapes, and of a whole graph. The profiler and `hwopt inspect` put these next to measured times
// and the machine's measured ceilings (roofline) to say whether a step is compute- or memory-bound.
// What counts as a flop and a byte for each op class, and why: docs/cost_model.md.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "hwopt/session.h"
#include "hwopt/status.h"
#include "hwopt/tensor.h"
#include "ir/graph.h"

namespace hwopt::profile {

enum class OpClass { conv, matmul, attention, elementwise, normalization, pooling, reduction, data_movement, control_flow, other };

/// "conv", "matmul", ..., "data_movement", "control_flow", "other".
std::string_view op_class_name(OpClass op_class);

struct OpCost {
  /// Multiply-accumulates of the op's contractions (conv, matmul, attention, recurrent cells);
  /// 0 for every other op.
  double macs = 0;
  /// 2 * macs plus the other arithmetic (bias, activation, softmax, normalization, pooling, element-
  /// wise), each op counted with the per-element constant documented in docs/cost_model.md.
  /// With `integer_math`, these are integer operations rather than floating-point ones.
  double flops = 0;
  /// Minimum bytes moved: every present input and output read or written once (weights included,
  /// no cache misses counted). Ops the runtime performs as views (Reshape, Squeeze, Identity, ...)
  /// move 0 bytes; Gather reads only the rows it gathers.
  double bytes = 0;
  OpClass op_class = OpClass::other;
  /// false: the op is not modelled (or its shapes are unknown); `bytes` is then the size of its
  /// known inputs and outputs and `macs`/`flops` are 0.
  bool known = true;
  /// The contraction runs on integers (MatMulInteger, ConvInteger, QLinearConv, QLinearMatMul):
  /// compare with the machine's integer peak, not its floating-point one.
  bool integer_math = false;
};

/// Cost of `node` run on inputs and outputs of the given dtypes and shapes (as a step saw them: one
/// ValueDesc per node input and output, `present` false for omitted optional ones). Reads shapes
/// and attributes only, never tensor data. Never fails: what it cannot model it reports with
/// `known` false.
OpCost op_cost(const ir::Node& node, const std::vector<ValueDesc>& inputs, const std::vector<ValueDesc>& outputs);

struct NodeCost {
  size_t node_index = 0;  // index into the graph's nodes
  OpCost cost;
};

struct ModelCost {
  double macs = 0, flops = 0, bytes = 0;
  /// Elements and bytes of the graph's constant weights (initializers and Constant nodes).
  double param_count = 0, param_bytes = 0;
  std::vector<NodeCost> nodes;  // in execution (topological) order
  size_t unknown_nodes = 0;     // nodes with `known` false (unmodelled op or unknown shapes)
};

/// Static estimate for the main graph at the given input shapes: graph inputs not named in
/// `input_shapes` must have static declared shapes. Symbolic dims are substituted, the project's
/// shape propagation (the infer_shapes pass, plus the rules for pooling, fused ops and other ops
/// it does not cover) fills in the rest, and each node is costed from the resulting shapes. Nodes
/// whose shapes stay unknown count as unknown. Subgraphs (If/Loop/Scan bodies) are not costed:
/// their nodes count as unknown control flow.
/// Errors: invalid_argument for an input name the graph does not have, a shape whose rank or static
/// dims contradict the declared ones, or an input left with an unknown dim.
Expected<ModelCost> model_cost(const ir::Graph& graph, const std::map<std::string, Shape>& input_shapes);

/// The cost of a profiled run from the shapes its steps saw (`StepStat::node_index` indexes
/// `graph.nodes`; a step whose index is out of range counts as unknown).
ModelCost cost_of_steps(const ir::Graph& graph, const std::vector<StepStat>& steps);

}  // namespace hwopt::profile
