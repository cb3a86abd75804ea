// fuse_conv_batchnorm: an inference BatchNormalization after a Conv or ConvTranspose with constant
// weights is folded into those weights: with s = scale / sqrt(var + eps),
//   W'[oc, ...] = W[oc, ...] * s[oc],   B'[oc] = (B[oc] - mean[oc]) * s[oc] + beta[oc]
// (for ConvTranspose the output channel of W[c, j, ...] is group(c) * M/group + j). The new
// weights are computed in double and stored in the weights' dtype; the BatchNormalization goes.
// An Add of a constant per-channel tensor between the two (PaddlePaddle exports write a
// convolution's bias that way) is folded into B first: fuse_conv_add_bias runs after this pass,
// for the Mul/Add pairs that follow a BatchNormalization.
#include <algorithm>

#include "passes/fold_util.h"
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

class FuseConvBatchnorm final : public Pass {
 public:
  std::string name() const override { return "fuse_conv_batchnorm"; }
  std::string description() const override {
    return "fold an inference BatchNormalization into the constant weights and bias of the Conv/ConvTranspose before it";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    Claims claims;
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& bn = view.node(i);
      if (!bn.domain.empty() || bn.op_type != "BatchNormalization" || bn.inputs.empty()) continue;
      int p = view.producer(bn.inputs[0]);
      if (p < 0 || view.sole_user(bn.inputs[0]) != static_cast<int>(i) || claims.any({static_cast<size_t>(p), i}))
        continue;
      // Conv -> Add(constant) -> BatchNormalization: the Add's constant, and the Add.
      const Tensor* add_c = nullptr;
      int add = -1;
      if (const ir::Node& a = view.node(p); a.domain.empty() && a.op_type == "Add" && a.opset >= 7 &&
                                            a.inputs.size() == 2 && a.outputs.size() == 1) {
        for (int side = 0; side < 2 && add < 0; ++side) {
          const Tensor* c = view.constant(a.inputs[1 - side]);
          const int q = view.producer(a.inputs[side]);
          if (c && q >= 0 && view.sole_user(a.inputs[side]) == p && !claims.has(static_cast<size_t>(q))) {
            add_c = c;
            add = p;
            p = q;
          }
        }
        if (add < 0) continue;
      }
      const ir::Node& conv = view.node(p);
      const bool transposed = conv.op_type == "ConvTranspose";
      if (!conv.domain.empty() || (conv.op_type != "Conv" && !transposed) || conv.inputs.size() < 2 ||
          conv.outputs.size() != 1)
        continue;
      const Tensor* w = view.constant(conv.inputs[1]);
      if (!w || w->rank() < 3) continue;
      auto wv = float_values(*w);
      if (!wv) continue;
      const int64_t group = attr_int(conv, "group", 1);
      if (group < 1 || (transposed && w->dim(0) % group != 0)) continue;
      const int64_t M = transposed ? w->dim(1) * group : w->dim(0);
      std::vector<double> bias(static_cast<size_t>(M), 0.0);
      if (conv.inputs.size() > 2 && !conv.inputs[2].empty()) {
        const Tensor* b = view.constant(conv.inputs[2]);
        if (!b || b->dtype() != w->dtype() || b->numel() != M) continue;
        bias = *float_values(*b);
      }
      if (add_c) {
        auto added = add_c->dtype() == w->dtype() ? channel_values(*add_c, w->rank(), M) : std::nullopt;
        if (!added) continue;
        for (int64_t m = 0; m < M; ++m) bias[m] += (*added)[m];
      }
      auto affine = batchnorm_affine(view, bn, M);
      if (!affine) continue;
      // Output channel of each weight element.
      const int64_t per_c = w->numel() / std::max<int64_t>(w->dim(0), 1);  // elements per W[c]
      const int64_t k_sp = per_c / std::max<int64_t>(w->dim(1), 1);        // kernel elements
      for (int64_t e = 0; e < w->numel(); ++e) {
        int64_t oc;
        if (transposed) {
          const int64_t c = e / per_c, j = (e / k_sp) % w->dim(1);
          oc = (c / (w->dim(0) / group)) * w->dim(1) + j;
        } else {
          oc = e / per_c;
        }
        (*wv)[e] *= affine->scale[oc];
      }
      for (int64_t m = 0; m < M; ++m) bias[m] = bias[m] * affine->scale[m] + affine->shift[m];
      const std::string w_name = ctx.unique_name(conv.inputs[1] + "_bn");
      const std::string b_name = ctx.unique_name((conv.inputs.size() > 2 && !conv.inputs[2].empty() ? conv.inputs[2]
                                                                                                    : conv.inputs[1]) +
                                                 "_bn_bias");
      patch.add_initializer(w_name, float_tensor(w->dtype(), w->shape(), *wv));
      patch.add_initializer(b_name, float_tensor(w->dtype(), {M}, bias));
      ir::Node fused = conv;
      fused.inputs = {conv.inputs[0], w_name, b_name};
      fused.outputs = {bn.outputs[0]};
      std::vector<size_t> nodes = {static_cast<size_t>(p), i};
      if (add >= 0) nodes.push_back(static_cast<size_t>(add));
      patch.replace_nodes(nodes, std::move(fused));
      claims.take(nodes);
      ++count;
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_conv_batchnorm() { return std::make_unique<FuseConvBatchnorm>(); }

}  // namespace hwopt::passes
