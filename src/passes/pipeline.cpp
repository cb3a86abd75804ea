#include "passes/pipeline.h"

#include <fmt/format.h>

#include <chrono>

#include "passes/graph_view.h"
#include "passes/passes.h"

namespace hwopt::passes {

// Why this order:
//  0. decompose_qlinear first: QLinearConv/QLinearMatMul become QuantizeLinear/DequantizeLinear
//     around float Conv/MatMul (float weights), which fold_qdq then imports like any QDQ model.
//     decompose_integer right after: ONNX Runtime's dynamic quantization (DynamicQuantizeLinear ->
//     MatMulInteger/ConvInteger -> Cast -> Mul by the scales) becomes the float MatMul/Conv it was
//     quantized from, before fold_constants and the fusions, which then treat it like any float
//     MatMul/Conv (bias Add fusion, int8-dynamic's run-time quantization).
//     fold_qdq (off by default; the session runs it at precision int8) before everything: it
//     turns a QDQ model's DequantizeLinear weights into float constants and its Q/DQ pairs into
//     recorded ranges, so every later pass sees the plain float graph it knows how to fuse.
//  1. fold_constants first: Constant nodes become initializers and shape computations collapse to
//     constants, so every later pass sees weights, biases and shapes as constants.
//  2. infer_shapes right after folding: with shape computations folded or propagated, it fills in
//     the shapes ONNX inference lost (e.g. after a Reshape to a computed shape); the eliminations
//     and fusions below only rewrite what they can prove from shapes.
//  3. The eliminations next (identity, no-op reshape, transpose pairs, cast chains): they remove
//     nodes that sit between the ops the fusions look for (e.g. an Identity or a no-op Reshape
//     between a MatMul and its bias Add) and expose static shapes the fusions need.
//  4. fuse_conv_batchnorm / fuse_gemm_batchnorm before any other Conv/Gemm fusion: the
//     BatchNormalization sits between the Conv and its activation, and a FusedConv could no longer
//     absorb it.
//  5. fuse_conv_scale, then fuse_conv_add_bias, before fuse_conv_activation: a per-channel Mul and
//     bias Add (in that order, as a decomposed BatchNormalization or affine layer writes them) sit
//     between the Conv and its activation, and the Add must not be mistaken for a residual Add.
//     fuse_conv_transpose_activation beside fuse_conv_activation, for the same reason (a
//     ConvTranspose's BatchNormalization and bias Add sit before its activation).
//  6. fuse_gelu before fuse_matmul_add and fuse_conv_activation: a GELU must already be one node
//     to be absorbed as their activation. fuse_layer_norm runs beside it (it depends on no other
//     fusion; running it before fuse_matmul_add keeps the MatMul + bias that feeds it a plain value).
//  7. fuse_attention before fuse_matmul_add: the attention's MatMuls must still be MatMuls (its
//     Q/K/V projections, which have constant weights, are fused afterwards).
//  8. fuse_conv_depthwise after fuse_conv_activation and fuse_pad_conv: both convolutions must
//     already carry their activations and pads, so that the pair is two FusedConv/Conv nodes.
//  9. fuse_conv_post_linear after fuse_pad_conv and fuse_conv_depthwise: it turns a
//     com.microsoft FusedConv into an ai.hwopt one, which those two no longer recognize; a
//     convolution followed by a scalar affine is then at least one step.
// 10. fuse_elementwise_chain after all the fusions above: an activation or scalar affine that a
//     convolution or matrix product can take as a post-op is better there, and the runs of
//     element-wise ops those passes left are what remains to fuse.
// 11. eliminate_common_subexpressions after the fusions: merging two equal nodes gives their
//     value a second reader, which would stop a fusion that needs its intermediates to have one
//     (and the fusions leave fewer nodes to compare). What it merges in practice is shape
//     arithmetic that fold_constants could not fold (a dynamic dim read twice from one value).
// 12. eliminate_dead_nodes last: removes whatever the others left unread (constants that fed
//     folded or fused nodes, dropout masks, shape computations).
std::vector<std::unique_ptr<Pass>> default_passes() {
  std::vector<std::unique_ptr<Pass>> p;
  p.push_back(make_decompose_qlinear());
  p.push_back(make_decompose_integer());
  p.push_back(make_fold_qdq());
  p.push_back(make_fold_constants());
  p.push_back(make_infer_shapes());
  p.push_back(make_eliminate_identity());
  p.push_back(make_eliminate_noop_reshape());
  p.push_back(make_eliminate_transpose_pairs());
  p.push_back(make_eliminate_cast_chains());
  p.push_back(make_fuse_conv_batchnorm());
  p.push_back(make_fuse_gemm_batchnorm());
  p.push_back(make_fuse_conv_scale());
  p.push_back(make_fuse_conv_add_bias());
  p.push_back(make_fuse_layer_norm());
  p.push_back(make_fuse_gelu());
  p.push_back(make_fuse_attention());
  p.push_back(make_fuse_matmul_add());
  p.push_back(make_fuse_conv_activation());
  p.push_back(make_fuse_conv_transpose_activation());
  p.push_back(make_fuse_pad_conv());  // after the fusions so FusedConv absorbs its Pad too
  p.push_back(make_fuse_conv_depthwise());
  p.push_back(make_fuse_conv_post_linear());
  p.push_back(make_fuse_elementwise_chain());
  p.push_back(make_eliminate_common_subexpressions());
  p.push_back(make_eliminate_dead_nodes());
  return p;
}

std::vector<std::string> value_hiding_passes() { return {"fuse_conv_depthwise"}; }

std::vector<std::pair<std::string, std::string>> tunable_passes() {
  return {{"fuse_conv_depthwise", "FusedConvDepthwise"}};
}

std::vector<std::string> pass_names() {
  std::vector<std::string> names;
  for (const auto& p : default_passes()) names.push_back(p->name());
  return names;
}

Expected<int> run_pass_recursive(Pass& pass, ir::Graph& graph, PassContext& ctx) {
  auto r = pass.run(graph, ctx);
  if (!r.ok()) return r.status();
  int total = *r;
  for (auto& node : graph.nodes)
    for (ir::Graph* sg : subgraphs_of(node)) {
      auto s = run_pass_recursive(pass, *sg, ctx);
      if (!s.ok()) return s.status();
      total += *s;
    }
  return total;
}

Status run_pipeline(onnx_import::Model& model, const PipelineOptions& options, PipelineReport* report) {
  if (!model.graph) return Status(StatusCode::invalid_argument, "the model has no graph");
  auto passes = default_passes();
  for (const auto* names : {&options.disabled, &options.enabled})
    for (const auto& name : *names) {
      bool known = false;
      for (const auto& p : passes) known |= p->name() == name;
      if (!known) {
        std::string valid;
        for (const auto& p : passes) valid += (valid.empty() ? "" : ", ") + p->name();
        return Status(StatusCode::invalid_argument, fmt::format("unknown pass '{}' (passes: {})", name, valid));
      }
    }
  PassContext ctx(model, options.fold_limit_bytes);
  PipelineReport local;
  PipelineReport& rep = report ? *report : local;
  rep = PipelineReport{};
  rep.nodes_before = model.graph->total_nodes();
  for (auto& pass : passes) {
    PassResult r;
    r.name = pass->name();
    r.enabled = !options.disabled.count(r.name) && (pass->on_by_default() || options.enabled.count(r.name));
    if (r.enabled) {
      const size_t before = model.graph->total_nodes();
      const auto t0 = std::chrono::steady_clock::now();
      auto n = run_pass_recursive(*pass, *model.graph, ctx);
      r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (!n.ok()) return Status(n.status().code(), fmt::format("pass {}: {}", r.name, n.status().message()));
      r.rewrites = *n;
      r.nodes_removed = static_cast<int>(before) - static_cast<int>(model.graph->total_nodes());
      // A pass must leave a valid graph; catching a broken one here names the pass at fault.
      Status st = ir::validate_graph(*model.graph);
      if (!st.ok())
        return Status(StatusCode::internal, fmt::format("pass {} produced an invalid graph: {}", r.name, st.message()));
    }
    rep.passes.push_back(r);
  }
  rep.notes = ctx.notes();
  rep.activation_ranges = ctx.ranges();
  rep.nodes_after = model.graph->total_nodes();
  return Status::OK();
}

}  // namespace hwopt::passes
