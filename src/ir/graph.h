// The portable IR: a graph of named values, nodes with typed attributes, initializers and
// subgraphs (If/Loop/Scan bodies). Mirrors ONNX closely so import and export are lossless.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hwopt/status.h"
#include "hwopt/tensor.h"

namespace hwopt::ir {

struct Graph;

/// One dimension of a value's shape: a known size, a symbolic name, or unknown.
struct Dim {
  int64_t value = -1;  // >= 0 when known
  std::string param;   // symbolic name ("batch") when not known; empty if fully unknown
  bool known() const { return value >= 0; }
  bool operator==(const Dim&) const = default;
};

/// What a value holds: a tensor, a sequence of tensors, or an optional of either.
enum class ValueKind { tensor, sequence, optional_tensor, optional_sequence, unknown };

struct ValueInfo {
  std::string name;
  ValueKind kind = ValueKind::tensor;
  DType dtype = DType::undefined;
  bool has_shape = false;  // false: rank unknown
  std::vector<Dim> shape;

  /// Static shape if every dim is known.
  std::optional<Shape> static_shape() const;
  std::string type_str() const;  // "float32[batch,3,224,224]"
};

enum class AttrType { undefined, f, i, s, t, g, floats, ints, strings, tensors, graphs, type_proto };

struct Attribute {
  std::string name;
  AttrType type = AttrType::undefined;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::shared_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<Tensor> tensors;
  std::vector<std::shared_ptr<Graph>> graphs;
  ValueInfo type_info;  // for TYPE_PROTO attributes (SequenceEmpty dtype etc.)
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;  // "" is ai.onnx
  int opset = 0;       // opset version of `domain` imported by the model
  std::vector<std::string> inputs;   // "" marks an omitted optional input
  std::vector<std::string> outputs;  // "" marks an omitted optional output
  std::vector<Attribute> attributes;
  /// Names of the imported model's nodes this node stands for, set when a pass fuses or merges
  /// nodes (empty: the node is the imported one itself). Profiles map time back through it.
  std::vector<std::string> fused_from;

  const Attribute* attr(const std::string& attr_name) const;
  /// "node 'conv1' (Conv)" for messages; falls back to the first output name.
  std::string label() const;
  /// How `fused_from` and profiles name an imported node: its name, else its first output, else
  /// its op type.
  std::string provenance_name() const;
};

struct Graph {
  std::string name;
  std::vector<Node> nodes;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::map<std::string, ValueInfo> value_info;  // inferred or declared intermediate types
  std::map<std::string, Tensor> initializers;
  std::map<std::string, int> opsets;  // domain -> version (set on the main graph)

  /// ValueInfo for a name from inputs, outputs, value_info or initializers; nullptr if unknown.
  const ValueInfo* find_value(const std::string& value_name) const;
  /// Number of nodes including those in subgraphs.
  size_t total_nodes() const;
};

/// Node indices in an order where every producer comes before its consumers.
/// `outer_names` are values visible from enclosing graphs (for subgraphs).
/// Fails on a cycle, a duplicate producer, or an input nothing produces, naming the value.
Expected<std::vector<size_t>> topological_order(const Graph& graph,
                                                const std::vector<std::string>& outer_names = {});

/// Structural checks: names unique, every input produced exactly once, no cycles; recurses into
/// subgraphs with the enclosing scope visible. `max_depth` bounds subgraph nesting.
Status validate_graph(const Graph& graph, int max_depth = 32);

}  // namespace hwopt::ir
