// Read-only analysis of one graph for the passes: who produces and who reads each value, which
// values are constants, and what shape inference knows about each value's type and shape.
// Built once before a pass walks the graph; the pass then records its changes in a GraphPatch.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "hwopt/tensor.h"
#include "ir/graph.h"

namespace hwopt::passes {

/// One read of a value: node `node` reads it as its input `input`.
struct Use {
  size_t node = 0;
  size_t input = 0;
};

class GraphView {
 public:
  explicit GraphView(const ir::Graph& graph);

  const ir::Graph& graph() const { return graph_; }
  const ir::Node& node(size_t i) const { return graph_.nodes[i]; }
  size_t num_nodes() const { return graph_.nodes.size(); }

  /// Index of the node producing `name`, or -1 (graph input, initializer, outer scope, unknown).
  int producer(const std::string& name) const;
  /// Reads of `name` by node inputs of this graph (not counting reads from subgraphs).
  const std::vector<Use>& uses(const std::string& name) const;
  bool is_graph_output(const std::string& name) const { return outputs_.count(name) > 0; }
  bool is_graph_input(const std::string& name) const { return inputs_.count(name) > 0; }
  /// True if a subgraph of some node of this graph reads `name` from this scope.
  bool read_by_subgraph(const std::string& name) const { return subgraph_reads_.count(name) > 0; }
  /// A value that must keep its name and producer: a graph output or a value a subgraph reads.
  bool pinned(const std::string& name) const { return is_graph_output(name) || read_by_subgraph(name); }
  /// The index of the only node that reads `name`, if `name` has exactly one reading node input
  /// and is not pinned; -1 otherwise. A pattern's intermediate must pass this to be fused away.
  int sole_user(const std::string& name) const;
  /// Number of node inputs reading `name`, plus one if it is pinned.
  size_t use_count(const std::string& name) const;

  /// The value of `name` if it is a constant: an initializer that is not also a graph input (an
  /// input may override it), or the output of a Constant node with a tensor value. nullptr otherwise.
  const Tensor* constant(const std::string& name) const;
  /// A constant holding exactly one element, converted to double.
  std::optional<double> scalar(const std::string& name) const;

  /// Type and shape of `name` from inputs, outputs, value_info, initializers or constants.
  const ir::ValueInfo* info(const std::string& name) const;
  DType dtype(const std::string& name) const;
  std::optional<int64_t> rank(const std::string& name) const;
  /// Every dim known.
  std::optional<Shape> static_shape(const std::string& name) const;
  /// True if both shapes are known, have the same rank, and every dim is provably equal (both
  /// known and equal, or the same symbolic name).
  bool same_shape(const std::string& a, const std::string& b) const;

 private:
  const ir::Graph& graph_;
  std::unordered_map<std::string, int> producer_;
  std::unordered_map<std::string, std::vector<Use>> uses_;
  std::set<std::string> outputs_, inputs_, subgraph_reads_;
  std::map<std::string, Tensor> constants_;
  std::map<std::string, ir::ValueInfo> const_info_;
};

/// Names a subgraph reads from enclosing scopes (node inputs and graph outputs it does not define,
/// recursively through its own subgraphs).
std::set<std::string> outer_reads(const ir::Graph& graph);

/// Every subgraph held by a node's attributes.
std::vector<ir::Graph*> subgraphs_of(ir::Node& node);
std::vector<const ir::Graph*> subgraphs_of(const ir::Node& node);

// ---- attribute helpers ----
int64_t attr_int(const ir::Node& node, const std::string& name, int64_t def);
float attr_float(const ir::Node& node, const std::string& name, float def);
std::string attr_string(const ir::Node& node, const std::string& name, const std::string& def);
std::optional<std::vector<int64_t>> attr_ints(const ir::Node& node, const std::string& name);
ir::Attribute make_attr(const std::string& name, int64_t v);
ir::Attribute make_attr(const std::string& name, float v);
ir::Attribute make_attr(const std::string& name, const std::string& v);
ir::Attribute make_attr(const std::string& name, std::vector<int64_t> v);
ir::Attribute make_attr(const std::string& name, std::vector<float> v);

/// True if |a - b| <= rtol * |b| (for recognizing constants such as sqrt(2) written with few digits).
bool near(double a, double b, double rtol = 1e-6);

}  // namespace hwopt::passes
