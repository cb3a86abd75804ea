// fuse_conv_activation: Conv, optionally followed by a residual Add of another tensor of the same
// shape, followed by an activation, becomes one com.microsoft FusedConv node
//   Y = activation(Conv(X, W, B) + Z)
// (ONNX Runtime's contrib op: inputs X, W, B?, Z?; Conv's attributes plus `activation` and
// `activation_params`). Conv + residual Add without an activation is fused too (no `activation`
// attribute). Every intermediate must have no other reader.
#include <algorithm>

#include "passes/activation_match.h"
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

class FuseConvActivation final : public Pass {
 public:
  std::string name() const override { return "fuse_conv_activation"; }
  std::string description() const override {
    return "fuse Conv (+ residual Add) + activation into com.microsoft FusedConv";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    Claims claims;
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& conv = view.node(i);
      if (!conv.domain.empty() || conv.op_type != "Conv" || conv.inputs.size() < 2 || conv.outputs.size() != 1 ||
          conv.outputs[0].empty() || claims.has(i))
        continue;
      const std::string& y = conv.outputs[0];
      if (!dtype_is_float(view.dtype(y))) continue;
      std::vector<size_t> nodes = {i};
      std::string z, value = y;
      const int a = view.sole_user(y);
      if (a >= 0) {
        const ir::Node& add = view.node(a);
        if (add.domain.empty() && add.op_type == "Add" && add.opset >= 7 && add.inputs.size() == 2 &&
            add.outputs.size() == 1 && add.inputs[0] != add.inputs[1]) {
          const std::string& other = add.inputs[0] == y ? add.inputs[1] : add.inputs[0];
          if (view.same_shape(y, other) && view.dtype(other) == view.dtype(y) && !claims.has(static_cast<size_t>(a))) {
            z = other;
            value = add.outputs[0];
            nodes.push_back(static_cast<size_t>(a));
          }
        }
      }
      auto act = match_activation(view, value);
      if (!act && z.empty()) continue;
      if (act) nodes.insert(nodes.end(), act->nodes.begin(), act->nodes.end());
      if (claims.any(nodes)) continue;
      ir::Node fused;
      fused.name = conv.name;
      fused.op_type = "FusedConv";
      fused.domain = kMicrosoftDomain;
      fused.opset = ctx.use_domain(kMicrosoftDomain);
      fused.inputs = {conv.inputs[0], conv.inputs[1]};
      const std::string b = conv.inputs.size() > 2 ? conv.inputs[2] : "";
      if (!b.empty() || !z.empty()) fused.inputs.push_back(b);
      if (!z.empty()) fused.inputs.push_back(z);
      fused.outputs = {act ? act->output : value};
      fused.attributes = conv.attributes;
      if (act) add_activation_attrs(fused, *act);
      patch.replace_nodes(nodes, std::move(fused));
      claims.take(nodes);
      ++count;
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_conv_activation() { return std::make_unique<FuseConvActivation>(); }

}  // namespace hwopt::passes
