// eliminate_identity: removes nodes that return their input unchanged: Identity, Dropout in
// inference (its mask output unused), Cast/CastLike to the dtype the input already has, and
// Mul/Div by a constant scalar 1 (exact in IEEE arithmetic, NaN included). Readers of the removed
// node's output read its input; a graph output keeps its name (the input's producer writes it).
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

/// If node `n` passes its input `in` through unchanged as output 0, returns the input's name.
std::optional<std::string> passthrough_input(const GraphView& view, const ir::Node& n) {
  if (!n.domain.empty() || n.outputs.empty() || n.outputs[0].empty() || n.inputs.empty() || n.inputs[0].empty())
    return std::nullopt;
  const std::string& x = n.inputs[0];
  if (n.op_type == "Identity") return n.inputs.size() == 1 && n.outputs.size() == 1 ? std::optional(x) : std::nullopt;
  if (n.op_type == "Dropout") {
    // The mask output, if any, must be unused: it is not the input.
    for (size_t k = 1; k < n.outputs.size(); ++k)
      if (!n.outputs[k].empty() && view.use_count(n.outputs[k]) > 0) return std::nullopt;
    if (n.opset < 7) return attr_int(n, "is_test", 0) != 0 ? std::optional(x) : std::nullopt;
    if (n.opset >= 12 && n.inputs.size() >= 3 && !n.inputs[2].empty()) {
      auto training = view.scalar(n.inputs[2]);
      if (!training || *training != 0) return std::nullopt;
    }
    return x;
  }
  if (n.op_type == "Cast" || n.op_type == "CastLike") {
    if (n.outputs.size() != 1) return std::nullopt;
    const DType from = view.dtype(x);
    if (from == DType::undefined) return std::nullopt;
    DType to = DType::undefined;
    if (n.op_type == "Cast") {
      const ir::Attribute* a = n.attr("to");
      if (!a || a->type != ir::AttrType::i) return std::nullopt;
      to = static_cast<DType>(a->i);
    } else if (n.inputs.size() == 2) {
      to = view.dtype(n.inputs[1]);
    }
    // Cast to the same dtype is a copy, except for string -> string (still a copy) and float8
    // saturation modes, which hwopt does not import.
    return to == from ? std::optional(x) : std::nullopt;
  }
  if ((n.op_type == "Mul" || n.op_type == "Div") && n.inputs.size() == 2 && n.outputs.size() == 1) {
    for (int side = 0; side < 2; ++side) {
      if (n.op_type == "Div" && side == 0) continue;  // 1 / x is not x
      const std::string& c = n.inputs[side];
      const std::string& other = n.inputs[1 - side];
      const Tensor* t = view.constant(c);
      auto one = view.scalar(c);
      if (!t || !one || *one != 1.0) continue;
      const DType dt = view.dtype(other);
      if (dt != t->dtype() || !(dtype_is_float(dt) || dtype_is_integer(dt))) continue;
      // The result's shape is the broadcast of both: it equals x's only if the constant's rank
      // does not exceed x's.
      auto r = view.rank(other);
      if (t->rank() > 0 && (!r || *r < t->rank())) continue;
      return other;
    }
  }
  return std::nullopt;
}

class EliminateIdentity final : public Pass {
 public:
  std::string name() const override { return "eliminate_identity"; }
  std::string description() const override {
    return "remove Identity, inference Dropout, Cast to the same dtype and Mul/Div by 1";
  }

  Expected<int> run(ir::Graph& graph, PassContext&) override {
    int total = 0;
    // A chain ending in a graph output may need a second round (its producer was claimed).
    for (int round = 0; round < 8; ++round) {
      GraphView view(graph);
      GraphPatch patch;
      Claims claims;
      int count = 0;
      for (size_t i = 0; i < view.num_nodes(); ++i) {
        auto in = passthrough_input(view, view.node(i));
        if (in && bypass_node(view, patch, claims, i, *in, view.node(i).outputs[0])) ++count;
      }
      if (count == 0) break;
      HWOPT_RETURN_IF_ERROR(patch.apply(graph));
      total += count;
    }
    return total;
  }
};

}  // namespace

std::unique_ptr<Pass> make_eliminate_identity() { return std::make_unique<EliminateIdentity>(); }

}  // namespace hwopt::passes
