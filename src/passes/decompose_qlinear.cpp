// decompose_qlinear: the QOperator quantization format (QLinearConv, QLinearMatMul: ONNX
// Runtime's quantize_static with QuantFormat.QOperator, TFLite converters) becomes the QDQ format
// hwopt's INT8 kernels import:
//   QLinearConv(x, xs, xzp, w, ws, wzp, ys, yzp, B)
//     -> QuantizeLinear(Conv(DequantizeLinear(x, xs, xzp), W, Bf), ys, yzp)
//   QLinearMatMul(a, as, azp, b, bs, bzp, ys, yzp)
//     -> QuantizeLinear(MatMul(DequantizeLinear(a, as, azp), Bf), ys, yzp)
// with the constant integer weights dequantized here into float initializers,
// W[o, ...] = (w[o, ...] - wzp[o]) * ws[o] (per tensor or per output channel; MatMul's per
// column), and the int32 bias as Bf[o] = B[o] * xs * ws[o]. What the graph computes is the same
// quantized result up to float rounding of the accumulation (the integer op accumulates exactly
// in int32; a float sum of up to 2^24-sized terms may round differently, so an output can differ
// by one quantization step where the exact value sits at a rounding boundary).
//
// Then, at precision int8, fold_qdq turns each QuantizeLinear -> DequantizeLinear pair between two
// decomposed ops into a recorded range and the Conv/MatMul run on oneDNN's INT8 kernels; at fp32
// the pairs run as written (float math with exact quantize/dequantize steps), on the fast float
// kernels instead of the reference integer ones. Runs before fold_qdq. Needs constant scales and
// zero points (scalar for activations), constant integer weights and bias.
#include <cmath>
#include <optional>

#include "passes/fold_util.h"
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

bool is_int8_type(DType t) { return t == DType::int8 || t == DType::uint8; }

// An activation's quantization: a constant scalar float32 scale > 0 and a constant scalar
// int8/uint8 zero point (required: it fixes the quantized type). Returns the scale.
std::optional<float> activation_scale(const GraphView& view, const ir::Node& n, size_t scale, size_t zero_point) {
  const Tensor* s = scale < n.inputs.size() && !n.inputs[scale].empty() ? view.constant(n.inputs[scale]) : nullptr;
  const Tensor* z =
      zero_point < n.inputs.size() && !n.inputs[zero_point].empty() ? view.constant(n.inputs[zero_point]) : nullptr;
  if (!s || !z || s->dtype() != DType::float32 || s->numel() != 1 || !is_int8_type(z->dtype()) || z->numel() != 1)
    return std::nullopt;
  const float v = s->contiguous().data<float>()[0];
  if (!std::isfinite(v) || !(v > 0)) return std::nullopt;
  return v;
}

class DecomposeQLinear final : public Pass {
 public:
  std::string name() const override { return "decompose_qlinear"; }
  std::string description() const override {
    return "rewrite QLinearConv/QLinearMatMul as DequantizeLinear -> Conv/MatMul (float weights) -> QuantizeLinear";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    int count = 0;
    const int opset = ctx.opset("");
    if (opset < 10) return 0;  // QLinear ops and DequantizeLinear/QuantizeLinear exist from opset 10
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& q = view.node(i);
      if (!q.domain.empty() || q.outputs.size() != 1 || q.outputs[0].empty()) continue;
      const bool conv = q.op_type == "QLinearConv";
      if ((!conv && q.op_type != "QLinearMatMul") || q.inputs.size() < 8) continue;
      // The activations' Q/DQ use only scalar parameters, valid at every opset from 10; the
      // weights are dequantized here (per tensor or per channel).
      // Weights: a constant int8/uint8 tensor; per-channel along dim 0 (Conv) or the last dim (MatMul).
      const Tensor* w = view.constant(q.inputs[3]);
      if (!w || !is_int8_type(w->dtype()) || w->rank() < 2) continue;
      if (!conv && w->rank() != 2) continue;
      const int64_t channels = conv ? w->dim(0) : w->dim(1);
      const auto xs = activation_scale(view, q, 1, 2);
      if (!xs || !activation_scale(view, q, 6, 7)) continue;
      const Tensor* ws = view.constant(q.inputs[4]);
      const Tensor* wzp = q.inputs[5].empty() ? nullptr : view.constant(q.inputs[5]);
      if (!ws || (!q.inputs[5].empty() && !wzp)) continue;
      const std::string bias_name = conv && q.inputs.size() > 8 ? q.inputs[8] : "";
      const Tensor* bias = bias_name.empty() ? nullptr : view.constant(bias_name);
      if (!bias_name.empty() && (!bias || bias->dtype() != DType::int32 || bias->numel() != channels)) continue;

      // The float weights, (w - wzp) * ws per tensor or per output channel, and the bias in the
      // accumulator's units, B * xs * ws.
      auto wf = dequantize_tensor(*w, *ws, wzp, conv ? 0 : 1);
      if (!wf) continue;
      std::optional<Tensor> bf;
      if (bias) {
        Tensor bias_scale(DType::float32, {channels});
        const Tensor wsc = ws->contiguous();
        for (int64_t o = 0; o < channels; ++o)
          bias_scale.data<float>()[o] = *xs * wsc.data<float>()[wsc.numel() == 1 ? 0 : o];
        bf = dequantize_tensor(bias->reshape({channels}), bias_scale, nullptr, 0);
        if (!bf) continue;
      }
      const std::string wf_name = ctx.unique_name(q.inputs[3] + "_dequantized");
      patch.add_initializer(wf_name, *wf);
      std::string bf_name;
      if (bf) {
        bf_name = ctx.unique_name(bias_name + "_dequantized");
        patch.add_initializer(bf_name, *bf);
      }

      const std::string xf = ctx.unique_name(q.inputs[0] + "_float");
      const std::string yf = ctx.unique_name(q.outputs[0] + "_float");
      ir::Node dq;
      dq.name = ctx.unique_name(q.name + "/dequantize");
      dq.op_type = "DequantizeLinear";
      dq.opset = opset;
      dq.inputs = {q.inputs[0], q.inputs[1], q.inputs[2]};
      dq.outputs = {xf};
      ir::Node op;
      op.name = q.name;
      op.op_type = conv ? "Conv" : "MatMul";
      op.opset = opset;
      op.inputs = {xf, wf_name};
      if (!bf_name.empty()) op.inputs.push_back(bf_name);
      op.outputs = {yf};
      if (conv) op.attributes = q.attributes;  // auto_pad, dilations, group, kernel_shape, pads, strides
      ir::Node qo;
      qo.name = ctx.unique_name(q.name + "/quantize");
      qo.op_type = "QuantizeLinear";
      qo.opset = opset;
      qo.inputs = {yf, q.inputs[6], q.inputs[7]};
      qo.outputs = q.outputs;
      // The float values have the shapes of the quantized ones they stand for.
      for (const auto& [from, to] : {std::pair{q.inputs[0], xf}, std::pair{q.outputs[0], yf}}) {
        ir::ValueInfo vi;
        if (const ir::ValueInfo* known = view.info(from)) vi = *known;
        vi.name = to;
        vi.dtype = DType::float32;
        patch.set_value_info(vi);
      }
      patch.remove_node(i);
      patch.add_node(i, std::move(dq), {i});
      patch.add_node(i, std::move(op), {i});
      patch.add_node(i, std::move(qo), {i});
      ++count;
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }
};

}  // namespace

std::unique_ptr<Pass> make_decompose_qlinear() { return std::make_unique<DecomposeQLinear>(); }

}  // namespace hwopt::passes
