// fuse_conv_transpose_activation: ConvTranspose followed by an activation that keeps zero at zero
// (Relu, LeakyRelu, Clip with min <= 0 <= max, Relu6 among them) becomes one ai.hwopt
// FusedConvTranspose node
//   Y = activation(ConvTranspose(X, W, B))
// with ConvTranspose's attributes plus `activation` and `activation_params` (as FusedConv's). A
// decoder's or segmentation head's upsampling (PP-OCRv4 det: ConvTranspose, BatchNormalization,
// Relu) then writes its activated output once instead of a second pass over the largest tensor
// of the network. Activations with f(0) != 0 are left alone: the CPU kernels write channel-blocked
// outputs whose padding lanes must stay zero. The intermediate must have no other reader.
#include "passes/activation_match.h"
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

// The activations the CPU kernels apply in place (conv_transpose.cpp), all with f(0) = 0.
bool keeps_zero(const ActivationMatch& a) {
  if (a.name == "Relu" || a.name == "LeakyRelu") return true;
  return a.name == "Clip" && a.params.size() == 2 && a.params[0] <= 0.f && a.params[1] >= 0.f;
}

class FuseConvTransposeActivation final : public Pass {
 public:
  std::string name() const override { return "fuse_conv_transpose_activation"; }
  std::string description() const override {
    return "fuse ConvTranspose + Relu/LeakyRelu/Clip into ai.hwopt FusedConvTranspose";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    Claims claims;
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& deconv = view.node(i);
      if (!deconv.domain.empty() || deconv.op_type != "ConvTranspose" || deconv.inputs.size() < 2 ||
          deconv.outputs.size() != 1 || deconv.outputs[0].empty() || claims.has(i))
        continue;
      if (!dtype_is_float(view.dtype(deconv.outputs[0]))) continue;
      auto act = match_activation(view, deconv.outputs[0]);
      if (!act || !keeps_zero(*act)) continue;
      std::vector<size_t> nodes = {i};
      nodes.insert(nodes.end(), act->nodes.begin(), act->nodes.end());
      if (claims.any(nodes)) continue;
      ir::Node fused;
      fused.name = deconv.name;
      fused.op_type = "FusedConvTranspose";
      fused.domain = kHwoptDomain;
      fused.opset = ctx.use_domain(kHwoptDomain);
      fused.inputs = deconv.inputs;
      fused.outputs = {act->output};
      fused.attributes = deconv.attributes;
      add_activation_attrs(fused, *act);
      patch.replace_nodes(nodes, std::move(fused));
      claims.take(nodes);
      ++count;
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_conv_transpose_activation() { return std::make_unique<FuseConvTransposeActivation>(); }

}  // namespace hwopt::passes
