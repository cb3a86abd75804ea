// The contract between the executor and an op's kernel: a KernelContext gives a kernel its node,
// attributes and inputs, takes its outputs, and runs subgraphs for control-flow ops.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hwopt/tensor.h"
#include "ir/graph.h"

namespace hwopt {

/// A runtime value: a tensor, a sequence of tensors, or nothing (an empty optional).
struct RtValue {
  enum class Kind { none, tensor, sequence };
  Kind kind = Kind::none;
  Tensor tensor;
  std::vector<Tensor> sequence;
  // The declared element type of an empty sequence / optional (SequenceEmpty, Optional).
  DType elem_dtype = DType::undefined;

  static RtValue of(Tensor t) {
    RtValue v;
    v.kind = Kind::tensor;
    v.tensor = std::move(t);
    return v;
  }
  static RtValue of_sequence(std::vector<Tensor> s, DType elem = DType::undefined) {
    RtValue v;
    v.kind = Kind::sequence;
    v.sequence = std::move(s);
    v.elem_dtype = elem;
    return v;
  }
  bool is_tensor() const { return kind == Kind::tensor; }
  bool is_sequence() const { return kind == Kind::sequence; }
  bool is_none() const { return kind == Kind::none; }
};

/// Thrown by kernels for invalid inputs or attributes; the executor turns it into a Status that
/// names the node. Kernels never abort and never read out of bounds on bad input.
class KernelError : public std::runtime_error {
 public:
  explicit KernelError(const std::string& msg) : std::runtime_error(msg) {}
};

/// Throws KernelError with a formatted message unless `cond` holds.
#define HWOPT_KCHECK(cond, ...)                                         \
  do {                                                                  \
    if (!(cond)) throw ::hwopt::KernelError(fmt::format(__VA_ARGS__)); \
  } while (0)

/// Runs a subgraph (If/Loop/Scan body) with the given inputs in the current scope.
using SubgraphRunner = std::function<std::vector<RtValue>(const ir::Graph&, std::vector<RtValue>)>;

class KernelContext {
 public:
  KernelContext(const ir::Node& node, std::vector<const RtValue*> inputs, SubgraphRunner runner)
      : node_(node), inputs_(std::move(inputs)), outputs_(node.outputs.size()), runner_(std::move(runner)) {}

  const ir::Node& node() const { return node_; }
  /// Opset version of the node's domain imported by the model.
  int opset() const { return node_.opset; }

  // ---- inputs ----
  size_t num_inputs() const { return inputs_.size(); }
  /// True if input i is given (present, non-empty name, not an empty optional).
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i] && !inputs_[i]->is_none(); }
  /// Input i as a tensor; throws KernelError if it is missing or not a tensor.
  const Tensor& input(size_t i) const;
  const std::vector<Tensor>& input_sequence(size_t i) const;
  /// Input i as a runtime value (nullptr when absent).
  const RtValue* input_value(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }

  // ---- outputs ----
  size_t num_outputs() const { return outputs_.size(); }
  /// False for an omitted optional output (empty name): the kernel may skip computing it.
  bool wants_output(size_t i) const { return i < node_.outputs.size() && !node_.outputs[i].empty(); }
  /// Allocates output i (zero-filled, contiguous) and returns it for the kernel to fill.
  Tensor& allocate_output(size_t i, DType dtype, const Shape& shape);
  /// Like allocate_output, without the zero-fill: for kernels that write every element (a
  /// single-threaded memset of a large output costs as much as a memory-bound kernel).
  Tensor& allocate_uninitialized_output(size_t i, DType dtype, const Shape& shape);
  /// Sets output i to an existing tensor (a view or a forwarded input; no copy).
  void set_output(size_t i, Tensor t);
  void set_output_sequence(size_t i, std::vector<Tensor> seq, DType elem = DType::undefined);
  void set_output_value(size_t i, RtValue v);
  std::vector<RtValue>& outputs() { return outputs_; }

  // ---- attributes (missing -> default) ----
  bool has_attr(const std::string& name) const { return node_.attr(name) != nullptr; }
  int64_t attr_int(const std::string& name, int64_t def) const;
  float attr_float(const std::string& name, float def) const;
  std::string attr_string(const std::string& name, const std::string& def) const;
  std::vector<int64_t> attr_ints(const std::string& name, std::vector<int64_t> def = {}) const;
  std::vector<float> attr_floats(const std::string& name, std::vector<float> def = {}) const;
  std::vector<std::string> attr_strings(const std::string& name, std::vector<std::string> def = {}) const;
  /// Tensor attribute or nullptr.
  const Tensor* attr_tensor(const std::string& name) const;
  /// Graph attribute or nullptr.
  const ir::Graph* attr_graph(const std::string& name) const;

  /// Runs `graph` with `inputs` bound to its declared inputs, in the enclosing scope.
  std::vector<RtValue> run_subgraph(const ir::Graph& graph, std::vector<RtValue> inputs) const {
    return runner_(graph, std::move(inputs));
  }
  const SubgraphRunner& subgraph_runner() const { return runner_; }

  // ---- what ran ----
  /// What the kernel ran as for these inputs where that is decided at run time: oneDNN's
  /// implementation ("jit_wino_4x3:avx512_core"), an own kernel's path ("gemv"), or
  /// kReferenceFallback. Profiles show it beside the planned implementation. `detail` must outlive
  /// the run: a string literal or a string the kernel keeps (e.g. in its primitive cache).
  void set_kernel_detail(std::string_view detail) { detail_ = detail; }
  std::string_view kernel_detail() const { return detail_; }

 private:
  const ir::Node& node_;
  std::vector<const RtValue*> inputs_;
  std::vector<RtValue> outputs_;
  SubgraphRunner runner_;
  std::string_view detail_;

  Tensor& allocate(size_t i, DType dtype, const Shape& shape, bool zero);
};

using KernelFn = std::function<void(KernelContext&)>;

/// The kernel detail of a backend kernel that handed these inputs to the reference kernel.
inline constexpr std::string_view kReferenceFallback = "ref fallback";

}  // namespace hwopt
