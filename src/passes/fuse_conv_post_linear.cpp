// fuse_conv_post_linear: a com.microsoft FusedConv (a convolution with its activation and/or
// residual) followed by Mul/Add/Sub/Div by constant scalars becomes one ai.hwopt FusedConv with
// `post_linear` = [alpha, beta]:
//   Y = alpha * activation(Conv(X, W, B) + Z) + beta
// PP-LCNet's "learnable affine blocks" (PP-OCRv3/v4) put a scalar Mul and Add after every
// activation; fuse_conv_scale folds the ones before the activation into the weights, these ones
// become the convolution's last post-op instead of two passes over the activation in memory.
// The chain is folded in order (Mul c: alpha, beta times c; Add c: beta + c; Sub c (x - c only):
// beta - c; Div c (x / c only): alpha, beta over c); a Mul then an Add computes what the two nodes
// did bit for bit, longer chains within rounding. Each intermediate must have no other reader, and
// a scalar whose rank would widen the result is left alone.
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

constexpr size_t kMaxChain = 8;

class FuseConvPostLinear final : public Pass {
 public:
  std::string name() const override { return "fuse_conv_post_linear"; }
  std::string description() const override {
    return "fuse Mul/Add/Sub/Div by constant scalars after a FusedConv into an ai.hwopt FusedConv post_linear";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    Claims claims;
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& conv = view.node(i);
      if (conv.domain != kMicrosoftDomain || conv.op_type != "FusedConv" || conv.outputs.size() != 1 ||
          conv.outputs[0].empty() || claims.has(i))
        continue;
      // The convolution's output has its input's dtype and rank (X [N, C, spatial...]).
      const DType dt = view.dtype(conv.inputs[0]);
      const std::optional<int64_t> rank = view.rank(conv.inputs[0]);
      if (!dtype_is_float(dt) || !rank) continue;
      double alpha = 1.0, beta = 0.0;
      std::vector<size_t> nodes = {i};
      std::string value = conv.outputs[0];
      while (nodes.size() <= kMaxChain) {
        const int u = view.sole_user(value);
        if (u < 0 || claims.has(static_cast<size_t>(u))) break;
        const ir::Node& op = view.node(u);
        const bool mul = op.op_type == "Mul", add = op.op_type == "Add", sub = op.op_type == "Sub",
                   div = op.op_type == "Div";
        if (!op.domain.empty() || !(mul || add || sub || div) || op.opset < 7 || op.inputs.size() != 2 ||
            op.outputs.size() != 1 || op.outputs[0].empty() || op.inputs[0] == op.inputs[1])
          break;
        const size_t side = op.inputs[0] == value ? 1 : 0;  // the scalar's input
        if ((sub || div) && side != 1) break;                // c - x and c / x are not affine in x
        const Tensor* c = view.constant(op.inputs[side]);
        const std::optional<double> v = view.scalar(op.inputs[side]);
        if (!c || !v || c->dtype() != dt || c->rank() > *rank) break;
        if (div && *v == 0.0) break;
        if (mul) alpha *= *v, beta *= *v;
        if (add) beta += *v;
        if (sub) beta -= *v;
        if (div) alpha /= *v, beta /= *v;
        nodes.push_back(static_cast<size_t>(u));
        value = op.outputs[0];
      }
      if (nodes.size() < 2 || claims.any(nodes)) continue;
      ir::Node fused = conv;
      fused.domain = kHwoptDomain;
      fused.opset = ctx.use_domain(kHwoptDomain);
      fused.outputs = {value};
      fused.attributes.push_back(make_attr("post_linear", std::vector<float>{static_cast<float>(alpha),
                                                                            static_cast<float>(beta)}));
      patch.replace_nodes(nodes, std::move(fused));
      claims.take(nodes);
      ++count;
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_conv_post_linear() { return std::make_unique<FuseConvPostLinear>(); }

}  // namespace hwopt::passes
