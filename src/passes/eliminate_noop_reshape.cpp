// eliminate_noop_reshape: removes Reshape, Flatten and Squeeze nodes whose output provably has the
// input's shape (Unsqueeze always adds a dim, so it never qualifies). Dims are compared as shape
// inference knows them: equal known sizes, the same symbolic name, or dims a Reshape copies (0).
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

bool reshape_is_noop(const GraphView& view, const ir::Node& n) {
  if (n.inputs.size() != 2) return false;
  const Tensor* shape = view.constant(n.inputs[1]);
  const ir::ValueInfo* in = view.info(n.inputs[0]);
  if (!shape || shape->dtype() != DType::int64 || shape->rank() != 1 || !in || !in->has_shape) return false;
  if (static_cast<size_t>(shape->numel()) != in->shape.size()) return false;
  const bool allowzero = n.opset >= 14 && attr_int(n, "allowzero", 0) != 0;
  int inferred = 0;
  for (int64_t i = 0; i < shape->numel(); ++i) {
    const int64_t s = shape->data<int64_t>()[i];
    const ir::Dim& d = in->shape[i];
    if (s == 0 && !allowzero) continue;  // copies the input dim
    if (s == -1) {
      // The inferred dim equals the input's once every other dim matches (same element count).
      if (++inferred > 1) return false;
      continue;
    }
    if (!d.known() || d.value != s) return false;
  }
  return true;
}

bool flatten_is_noop(const GraphView& view, const ir::Node& n) {
  auto r = view.rank(n.inputs[0]);
  if (!r || *r != 2) return false;
  int64_t axis = attr_int(n, "axis", 1);
  if (axis < 0) axis += 2;
  return axis == 1;
}

bool squeeze_is_noop(const GraphView& view, const ir::Node& n) {
  // With axes given a valid Squeeze removes at least one dim; without, it removes every dim of
  // size 1, so it is a no-op when no dim can be 1.
  if (n.opset < 13 ? n.attr("axes") != nullptr : (n.inputs.size() > 1 && !n.inputs[1].empty())) return false;
  const ir::ValueInfo* in = view.info(n.inputs[0]);
  if (!in || !in->has_shape || in->kind != ir::ValueKind::tensor) return false;
  for (const auto& d : in->shape)
    if (!d.known() || d.value == 1) return false;
  return true;
}

class EliminateNoopReshape final : public Pass {
 public:
  std::string name() const override { return "eliminate_noop_reshape"; }
  std::string description() const override {
    return "remove Reshape/Flatten/Squeeze whose output has the input's shape";
  }

  Expected<int> run(ir::Graph& graph, PassContext&) override {
    int total = 0;
    for (int round = 0; round < 8; ++round) {
      GraphView view(graph);
      GraphPatch patch;
      Claims claims;
      int count = 0;
      for (size_t i = 0; i < view.num_nodes(); ++i) {
        const ir::Node& n = view.node(i);
        if (!n.domain.empty() || n.inputs.empty() || n.inputs[0].empty() || n.outputs.size() != 1) continue;
        bool noop = false;
        if (n.op_type == "Reshape") noop = reshape_is_noop(view, n);
        else if (n.op_type == "Flatten") noop = flatten_is_noop(view, n);
        else if (n.op_type == "Squeeze") noop = squeeze_is_noop(view, n);
        if (noop && bypass_node(view, patch, claims, i, n.inputs[0], n.outputs[0])) ++count;
      }
      if (count == 0) break;
      HWOPT_RETURN_IF_ERROR(patch.apply(graph));
      total += count;
    }
    return total;
  }
};

}  // namespace

std::unique_ptr<Pass> make_eliminate_noop_reshape() { return std::make_unique<EliminateNoopReshape>(); }

}  // namespace hwopt::passes
