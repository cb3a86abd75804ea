// Small matchers shared by the pattern-recognizing fusions (fuse_gelu, fuse_layer_norm,
// fuse_attention).
#pragma once

#include <optional>
#include <string>

#include "passes/graph_view.h"

namespace hwopt::passes {

/// True if node `idx` is ai.onnx `op` with `inputs` inputs and one output.
bool is_node(const GraphView& view, int idx, const char* op, size_t inputs);
/// The node producing `value` if it is ai.onnx `op` with `inputs` inputs and one output; -1 otherwise.
int producer_op(const GraphView& view, const std::string& value, const char* op, size_t inputs);
/// The node that alone reads `value` if it is ai.onnx `op` with `inputs` inputs and one output; -1 otherwise.
int sole_user_op(const GraphView& view, const std::string& value, const char* op, size_t inputs);
/// For a two-input node reading `value`, the other input ("" if the node does not read it, or
/// reads it twice).
std::string other_input(const ir::Node& node, const std::string& value);
/// True if `name` is a one-element constant within relative `rtol` of `target` whose broadcast
/// against `x` cannot change x's shape (rank 0, or rank not above x's known rank), with x's dtype.
bool scalar_near(const GraphView& view, const std::string& name, double target, double rtol, const std::string& x);

}  // namespace hwopt::passes
