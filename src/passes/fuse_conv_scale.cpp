// fuse_conv_scale: Mul(Conv(x, W, B), c) with a constant c that varies only along the channel axis
// ([C,1,1], [1,C,1,1], a scalar, ...) and does not widen the result's rank becomes
// Conv(x, W * c[oc], B * c[oc]) (W and B constant). Exporters write such per-channel scales for
// "learnable affine" layers (PP-LCNet) and for BatchNormalization split into Mul and Add.
#include <algorithm>

#include "passes/fold_util.h"
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

class FuseConvScale final : public Pass {
 public:
  std::string name() const override { return "fuse_conv_scale"; }
  std::string description() const override {
    return "fold a Mul by a constant per-channel tensor after a Conv into the Conv's weights and bias";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    Claims claims;
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& mul = view.node(i);
      if (!mul.domain.empty() || mul.op_type != "Mul" || mul.inputs.size() != 2 || mul.outputs.size() != 1 ||
          mul.opset < 7)
        continue;
      for (int side = 0; side < 2; ++side) {
        const std::string& y = mul.inputs[side];
        const Tensor* c = view.constant(mul.inputs[1 - side]);
        const int p = view.producer(y);
        if (!c || p < 0 || view.sole_user(y) != static_cast<int>(i) || claims.any({static_cast<size_t>(p), i})) continue;
        const ir::Node& conv = view.node(p);
        if (!conv.domain.empty() || conv.op_type != "Conv" || conv.inputs.size() < 2 || conv.outputs.size() != 1) continue;
        const Tensor* w = view.constant(conv.inputs[1]);
        if (!w || w->rank() < 3 || w->dtype() != c->dtype() || view.dtype(y) != c->dtype()) continue;
        const int64_t M = w->dim(0);
        auto scale = channel_values(*c, w->rank(), M);
        auto wv = float_values(*w);
        if (!scale || !wv) continue;
        const bool has_bias = conv.inputs.size() > 2 && !conv.inputs[2].empty();
        std::vector<double> bias;
        if (has_bias) {
          const Tensor* b = view.constant(conv.inputs[2]);
          if (!b || b->dtype() != c->dtype() || b->numel() != M) continue;
          bias = *float_values(*b);
          for (int64_t m = 0; m < M; ++m) bias[m] *= (*scale)[m];
        }
        const int64_t per_m = w->numel() / std::max<int64_t>(M, 1);
        for (int64_t e = 0; e < w->numel(); ++e) (*wv)[e] *= (*scale)[e / per_m];
        const std::string w_name = ctx.unique_name(conv.inputs[1] + "_scaled");
        patch.add_initializer(w_name, float_tensor(w->dtype(), w->shape(), *wv));
        ir::Node fused = conv;
        fused.inputs = {conv.inputs[0], w_name};
        if (has_bias) {
          const std::string b_name = ctx.unique_name(conv.inputs[2] + "_scaled");
          patch.add_initializer(b_name, float_tensor(w->dtype(), {M}, bias));
          fused.inputs.push_back(b_name);
        }
        fused.outputs = {mul.outputs[0]};
        patch.remove_node(static_cast<size_t>(p));
        patch.remove_node(i);
        patch.add_node(i, std::move(fused), {static_cast<size_t>(p), i});
        claims.take({static_cast<size_t>(p), i});
        ++count;
        break;
      }
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_conv_scale() { return std::make_unique<FuseConvScale>(); }

}  // namespace hwopt::passes
