// fuse_conv_add_bias: Add(Conv(x, W, B), c) with a constant c that varies only along the channel
// axis ([C,1,1], [1,C,1,1], a scalar, ...) and does not widen the result's rank becomes
// Conv(x, W, B + c); the same for ConvTranspose (PaddlePaddle exports write its bias that way).
#include "passes/fold_util.h"
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

class FuseConvAddBias final : public Pass {
 public:
  std::string name() const override { return "fuse_conv_add_bias"; }
  std::string description() const override {
    return "fold an Add of a constant per-channel tensor after a Conv/ConvTranspose into its bias";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    Claims claims;
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& add = view.node(i);
      if (!add.domain.empty() || add.op_type != "Add" || add.inputs.size() != 2 || add.outputs.size() != 1 ||
          add.opset < 7)  // before opset 7 Add broadcast only with the 'broadcast' attribute
        continue;
      for (int side = 0; side < 2; ++side) {
        const std::string& y = add.inputs[side];
        const Tensor* c = view.constant(add.inputs[1 - side]);
        const int p = view.producer(y);
        if (!c || p < 0 || view.sole_user(y) != static_cast<int>(i) || claims.any({static_cast<size_t>(p), i})) continue;
        const ir::Node& conv = view.node(p);
        const bool transposed = conv.op_type == "ConvTranspose";
        if (!conv.domain.empty() || (conv.op_type != "Conv" && !transposed) || conv.inputs.size() < 2 ||
            conv.outputs.size() != 1)
          continue;
        const ir::ValueInfo* w = view.info(conv.inputs[1]);
        if (!w || !w->has_shape || w->shape.size() < 3 || !w->shape[0].known() || !w->shape[1].known()) continue;
        if (w->dtype != c->dtype() || view.dtype(y) != c->dtype()) continue;
        // Output channels: W is [M, C/group, k...] for Conv, [C, M/group, k...] for ConvTranspose.
        const int64_t group = attr_int(conv, "group", 1);
        if (transposed && group < 1) continue;
        const int64_t M = transposed ? w->shape[1].value * group : w->shape[0].value;
        auto add_values = channel_values(*c, static_cast<int64_t>(w->shape.size()), M);
        if (!add_values) continue;
        std::vector<double> bias(static_cast<size_t>(M), 0.0);
        if (conv.inputs.size() > 2 && !conv.inputs[2].empty()) {
          const Tensor* b = view.constant(conv.inputs[2]);
          if (!b || b->dtype() != c->dtype() || b->numel() != M) continue;
          bias = *float_values(*b);
        }
        for (int64_t m = 0; m < M; ++m) bias[m] += (*add_values)[m];
        const std::string b_name = ctx.unique_name(add.outputs[0] + "_conv_bias");
        patch.add_initializer(b_name, float_tensor(c->dtype(), {M}, bias));
        ir::Node fused = conv;
        fused.inputs = {conv.inputs[0], conv.inputs[1], b_name};
        fused.outputs = {add.outputs[0]};
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

std::unique_ptr<Pass> make_fuse_conv_add_bias() { return std::make_unique<FuseConvAddBias>(); }

}  // namespace hwopt::passes
