// fuse_matmul_add: MatMul(A, W) + bias with a constant W [K, N] and a constant bias of N values
// (shape [N] or [1, ..., N], not widening the result), optionally followed by an activation:
//   rank-2 A, no activation  -> Gemm(A, W, bias)
//   rank-2 A, activation     -> com.microsoft FusedGemm (Gemm's attributes + activation,
//                               activation_alpha, activation_beta)
//   rank > 2 A               -> ai.hwopt FusedMatMul(A, W, bias) (activation, activation_params)
// and Gemm + activation -> FusedGemm.
#include <algorithm>

#include "passes/activation_match.h"
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

class FuseMatmulAdd final : public Pass {
 public:
  std::string name() const override { return "fuse_matmul_add"; }
  std::string description() const override {
    return "fuse MatMul + constant bias Add (+ activation) into Gemm/FusedGemm/FusedMatMul, and Gemm + activation "
           "into FusedGemm";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    Claims claims;
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& n = view.node(i);
      if (!n.domain.empty() || n.outputs.size() != 1 || n.outputs[0].empty() || claims.has(i)) continue;
      if (n.op_type == "MatMul") {
        count += fuse_matmul(view, patch, claims, ctx, i);
      } else if (n.op_type == "Gemm" && n.opset >= 7) {
        count += fuse_gemm(view, patch, claims, ctx, i);
      }
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }

 private:
  static int fuse_matmul(const GraphView& view, GraphPatch& patch, Claims& claims, PassContext& ctx, size_t i) {
    const ir::Node& mm = view.node(i);
    if (mm.inputs.size() != 2) return 0;
    const std::string& a = mm.inputs[0];
    const Tensor* w = view.constant(mm.inputs[1]);
    auto rank = view.rank(a);
    if (!w || w->rank() != 2 || !dtype_is_float(w->dtype()) || !rank || *rank < 2 || view.dtype(a) != w->dtype())
      return 0;
    const int64_t N = w->dim(1);
    const std::string& y = mm.outputs[0];
    const int ai = view.sole_user(y);
    if (ai < 0) return 0;
    const ir::Node& add = view.node(ai);
    if (!add.domain.empty() || add.op_type != "Add" || add.opset < 7 || add.inputs.size() != 2 ||
        add.outputs.size() != 1)
      return 0;
    const std::string& bias_name = add.inputs[0] == y ? add.inputs[1] : add.inputs[0];
    const Tensor* bias = view.constant(bias_name);
    if (!bias || bias->dtype() != w->dtype() || bias->numel() != N || bias->rank() < 1 || bias->rank() > *rank ||
        bias->dim(-1) != N)
      return 0;
    std::vector<size_t> nodes = {i, static_cast<size_t>(ai)};
    auto act = match_activation(view, add.outputs[0]);
    if (act) nodes.insert(nodes.end(), act->nodes.begin(), act->nodes.end());
    if (claims.any(nodes)) return 0;
    std::string b = bias_name;
    if (bias->rank() != 1) {
      b = ctx.unique_name(bias_name + "_1d");
      patch.add_initializer(b, bias->contiguous().reshape({N}).clone());
    }
    ir::Node fused;
    fused.name = mm.name;
    fused.inputs = {a, mm.inputs[1], b};
    fused.outputs = {act ? act->output : add.outputs[0]};
    if (*rank == 2 && !act && ctx.opset("") >= 7) {
      fused.op_type = "Gemm";
      fused.opset = ctx.opset("");
    } else if (*rank == 2) {
      fused.op_type = "FusedGemm";
      fused.domain = kMicrosoftDomain;
      fused.opset = ctx.use_domain(kMicrosoftDomain);
      if (act) add_activation_attrs(fused, *act, true);
    } else {
      fused.op_type = "FusedMatMul";
      fused.domain = kHwoptDomain;
      fused.opset = ctx.use_domain(kHwoptDomain);
      if (act) add_activation_attrs(fused, *act, false);
    }
    patch.replace_nodes(nodes, std::move(fused));
    claims.take(nodes);
    return 1;
  }

  static int fuse_gemm(const GraphView& view, GraphPatch& patch, Claims& claims, PassContext& ctx, size_t i) {
    const ir::Node& gemm = view.node(i);
    auto act = match_activation(view, gemm.outputs[0]);
    if (!act) return 0;
    std::vector<size_t> nodes = {i};
    nodes.insert(nodes.end(), act->nodes.begin(), act->nodes.end());
    if (claims.any(nodes)) return 0;
    ir::Node fused = gemm;
    fused.op_type = "FusedGemm";
    fused.domain = kMicrosoftDomain;
    fused.opset = ctx.use_domain(kMicrosoftDomain);
    fused.outputs = {act->output};
    add_activation_attrs(fused, *act, true);
    patch.replace_nodes(nodes, std::move(fused));
    claims.take(nodes);
    return 1;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_matmul_add() { return std::make_unique<FuseMatmulAdd>(); }

}  // namespace hwopt::passes
