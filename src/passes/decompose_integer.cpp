// decompose_integer: ONNX Runtime's dynamic quantization format (quantize_dynamic) becomes the
// float model it was quantized from. For every MatMul (Conv) with a constant weight ORT writes
//   (x_q, x_scale, x_zp) = DynamicQuantizeLinear(x)
//   y = Mul(Cast<to=FLOAT>(MatMulInteger(x_q, W_q, x_zp, W_zp)), Mul(x_scale, W_scale))
// (ConvInteger with Conv's attributes likewise; both Muls in either operand order), and this pass
// rewrites the whole chain as
//   y = MatMul(x, Wf)   or   y = Conv(x, Wf, attributes copied)
// with the constant integer weight dequantized exactly into a float initializer,
// Wf = (W_q - W_zp) * W_scale: per tensor, per column (MatMul; W_scale of shape [N]) or per output
// channel (Conv; W_scale of shape [M,1,...] broadcasting along the output's channel axis).
//
// What changes: the graph no longer quantizes the activation. The float op computes x·Wf, where the
// integer chain computed x_scale·(x_q − x_zp)·Wf, so the outputs differ by the activation's
// rounding error, at most x_scale/2 · Σ_k |Wf[k, n]| per output (the float result is the more
// accurate one). At precision int8-dynamic the CPU backend then quantizes the MatMul (or the
// Gemm/FusedMatMul it is fused into) again at run time on oneDNN's INT8 kernels (activations per
// run with their own max |x|, weights per output channel): the result equals ORT's to within the
// quantization error, not bit-exactly. Conv has no dynamic INT8 kernel: a decomposed ConvInteger
// runs as a float Conv at every precision but static int8.
//
// Needs: a constant int8/uint8 weight (rank 2 for MatMul), a constant zero point of the weight's
// type (optional; scalar or per channel), a constant float32 W_scale, and x_zp read from the same
// DynamicQuantizeLinear as x_q. Every intermediate (the integer result, the Cast, the scale
// product) has no other reader, and the DynamicQuantizeLinear's outputs are read only by rewritten
// chains (ORT shares one DynamicQuantizeLinear among the MatMuls of one input, e.g. the Q/K/V
// projections; they are rewritten together or not at all). Anything else is left as it is, and
// MatMulInteger/ConvInteger outside the pattern keep running on the reference kernels.
#include <map>
#include <optional>
#include <set>

#include "passes/fold_util.h"
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

constexpr int64_t kOnnxFloat = 1;  // TensorProto.FLOAT, Cast's `to`

// One recognized chain: node indices, the float input, the output and the dequantized weight.
struct Chain {
  size_t dql = 0, op = 0, cast = 0, scale_mul = 0, out_mul = 0;
  size_t scale_input = 0;  // which input of scale_mul reads x_scale
  bool conv = false;
  Tensor wf;
};

bool is_op(const ir::Node& n, const char* op) { return n.domain.empty() && n.op_type == op; }

std::optional<Chain> match(const GraphView& view, size_t i) {
  Chain c;
  c.op = i;
  const ir::Node& op = view.node(i);
  c.conv = is_op(op, "ConvInteger");
  if (!c.conv && !is_op(op, "MatMulInteger")) return std::nullopt;
  if (op.outputs.size() != 1 || op.outputs[0].empty() || op.inputs.size() < 3 || op.inputs[2].empty())
    return std::nullopt;

  // x_q and x_zp from one DynamicQuantizeLinear (of a float32 x, the only type it takes).
  const int d = view.producer(op.inputs[0]);
  if (d < 0) return std::nullopt;
  c.dql = static_cast<size_t>(d);
  const ir::Node& dql = view.node(c.dql);
  if (!is_op(dql, "DynamicQuantizeLinear") || dql.inputs.size() != 1 || dql.outputs.size() != 3 ||
      dql.outputs[0] != op.inputs[0] || dql.outputs[1].empty() || dql.outputs[2] != op.inputs[2])
    return std::nullopt;
  const DType xt = view.dtype(dql.inputs[0]);
  if (xt != DType::float32 && xt != DType::undefined) return std::nullopt;

  // The constant integer weight and its zero point (same type; scalar or one per channel).
  const Tensor* w = view.constant(op.inputs[1]);
  if (!w || (w->dtype() != DType::int8 && w->dtype() != DType::uint8)) return std::nullopt;
  if (c.conv ? w->rank() < 3 : w->rank() != 2) return std::nullopt;
  const int64_t channels = c.conv ? w->dim(0) : w->dim(1);
  const Tensor* wzp = nullptr;
  if (op.inputs.size() > 3 && !op.inputs[3].empty()) {
    wzp = view.constant(op.inputs[3]);
    if (!wzp || wzp->dtype() != w->dtype()) return std::nullopt;
    if (wzp->numel() != 1 && (wzp->rank() != 1 || wzp->dim(0) != channels)) return std::nullopt;
  }

  // Cast(to=FLOAT) -> Mul(cast, S) with S = Mul(x_scale, W_scale), each the sole reader.
  const int cast = view.sole_user(op.outputs[0]);
  if (cast < 0) return std::nullopt;
  c.cast = static_cast<size_t>(cast);
  const ir::Node& cn = view.node(c.cast);
  if (!is_op(cn, "Cast") || cn.outputs.size() != 1 || attr_int(cn, "to", 0) != kOnnxFloat) return std::nullopt;
  const int out_mul = view.sole_user(cn.outputs[0]);
  if (out_mul < 0) return std::nullopt;
  c.out_mul = static_cast<size_t>(out_mul);
  const ir::Node& om = view.node(c.out_mul);
  if (!is_op(om, "Mul") || om.inputs.size() != 2 || om.outputs.size() != 1) return std::nullopt;
  const std::string& s = om.inputs[0] == cn.outputs[0] ? om.inputs[1] : om.inputs[0];
  const int scale_mul = view.sole_user(s) == out_mul ? view.producer(s) : -1;
  if (scale_mul < 0) return std::nullopt;
  c.scale_mul = static_cast<size_t>(scale_mul);
  const ir::Node& sm = view.node(c.scale_mul);
  if (!is_op(sm, "Mul") || sm.inputs.size() != 2) return std::nullopt;
  c.scale_input = sm.inputs[0] == dql.outputs[1] ? 0 : 1;
  const Tensor* ws = view.constant(sm.inputs[1 - c.scale_input]);
  if (sm.inputs[c.scale_input] != dql.outputs[1] || !ws || ws->dtype() != DType::float32) return std::nullopt;

  // W_scale's value per channel, as the Mul broadcasts it over the output: along the channel axis
  // (1) of a Conv's output, along the last axis of a MatMul's (seen as rank 2, so W_scale must not
  // have more dims than x, which would widen the result).
  const auto x_rank = view.rank(dql.inputs[0]);
  if (!c.conv && ws->rank() > 1 && (!x_rank || ws->rank() > *x_rank)) return std::nullopt;
  const auto scale = channel_values(*ws, c.conv ? w->rank() : 2, channels);
  if (!scale) return std::nullopt;

  // Wf = (W_q - W_zp) * W_scale, per channel (scalars repeated), by dequantize_tensor.
  Tensor sc(DType::float32, {channels});
  Tensor zp(w->dtype(), {channels});
  const Tensor wzc = wzp ? wzp->contiguous() : Tensor();
  for (int64_t k = 0; k < channels; ++k) {
    sc.data<float>()[k] = static_cast<float>((*scale)[k]);  // exact: the values were float32
    const int64_t z = wzp ? static_cast<int64_t>(wzc.element_as_double(wzp->numel() == 1 ? 0 : k)) : 0;
    if (w->dtype() == DType::int8)
      zp.data<int8_t>()[k] = static_cast<int8_t>(z);
    else
      zp.data<uint8_t>()[k] = static_cast<uint8_t>(z);
  }
  auto wf = dequantize_tensor(*w, sc, &zp, c.conv ? 0 : 1);
  if (!wf) return std::nullopt;
  c.wf = std::move(*wf);
  return c;
}

class DecomposeInteger final : public Pass {
 public:
  std::string name() const override { return "decompose_integer"; }
  std::string description() const override {
    return "rewrite DynamicQuantizeLinear -> MatMulInteger/ConvInteger -> Cast -> Mul(scales) as MatMul/Conv "
           "with float weights";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    const int opset = ctx.opset("");
    if (opset < 11) return 0;  // DynamicQuantizeLinear exists from opset 11
    GraphView view(graph);
    std::vector<Chain> chains;
    std::map<size_t, std::vector<size_t>> by_dql;  // DynamicQuantizeLinear -> its chains
    for (size_t i = 0; i < view.num_nodes(); ++i)
      if (auto c = match(view, i)) {
        by_dql[c->dql].push_back(chains.size());
        chains.push_back(std::move(*c));
      }

    GraphPatch patch;
    int count = 0;
    for (const auto& [dql, members] : by_dql) {
      // The DynamicQuantizeLinear goes away with its chains: every read of its outputs must be
      // one of theirs (x_q and x_zp by the integer op, x_scale by the scale product).
      std::set<std::pair<size_t, size_t>> own;
      for (size_t m : members)
        own.insert({{chains[m].op, 0}, {chains[m].op, 2}, {chains[m].scale_mul, chains[m].scale_input}});
      bool alone = true;
      for (const auto& out : view.node(dql).outputs) {
        if (out.empty()) continue;
        alone &= !view.pinned(out);
        for (const Use& u : view.uses(out)) alone &= own.count({u.node, u.input}) > 0;
      }
      if (!alone) continue;
      for (size_t m : members) {
        const Chain& c = chains[m];
        const ir::Node& q = view.node(c.op);
        const std::string wf_name = ctx.unique_name(q.inputs[1] + "_dequantized");
        patch.add_initializer(wf_name, c.wf);
        ir::Node op;
        op.name = q.name;
        op.op_type = c.conv ? "Conv" : "MatMul";
        op.opset = opset;
        op.inputs = {view.node(dql).inputs[0], wf_name};
        op.outputs = view.node(c.out_mul).outputs;
        if (c.conv) op.attributes = q.attributes;  // auto_pad, dilations, group, kernel_shape, pads, strides
        std::vector<size_t> replaces = {c.op, c.cast, c.scale_mul, c.out_mul};
        if (m == members.front()) replaces.insert(replaces.begin(), dql);  // a shared one is counted once
        for (size_t r : replaces) patch.remove_node(r);
        patch.add_node(c.out_mul, std::move(op), std::move(replaces));
        ++count;
      }
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }
};

}  // namespace

std::unique_ptr<Pass> make_decompose_integer() { return std::make_unique<DecomposeInteger>(); }

}  // namespace hwopt::passes
