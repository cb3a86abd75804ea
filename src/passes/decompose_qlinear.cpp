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

#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

bool is_int8_type(DType t) { return t == DType::int8 || t == DType::uint8; }

// A constant float32 scale with 1 element (or `per` elements when per > 0) and all entries > 0.
std::optional<std::vector<float>> scales(const GraphView& view, const std::string& name, int64_t per) {
  const Tensor* s = name.empty() ? nullptr : view.constant(name);
  if (!s || s->dtype() != DType::float32 || s->rank() > 1) return std::nullopt;
  if (s->numel() != 1 && (per <= 0 || s->numel() != per)) return std::nullopt;
  const Tensor c = s->contiguous();
  std::vector<float> v(c.data<float>(), c.data<float>() + c.numel());
  for (float x : v)
    if (!std::isfinite(x) || !(x > 0)) return std::nullopt;
  return v;
}

// A constant int8/uint8 zero point of 1 (or `per`) elements, as int64; absent means 0.
std::optional<std::vector<int64_t>> zero_points(const GraphView& view, const std::string& name, int64_t per) {
  if (name.empty()) return std::vector<int64_t>{0};
  const Tensor* z = view.constant(name);
  if (!z || !is_int8_type(z->dtype()) || z->rank() > 1) return std::nullopt;
  if (z->numel() != 1 && (per <= 0 || z->numel() != per)) return std::nullopt;
  std::vector<int64_t> v;
  for (int64_t i = 0; i < z->numel(); ++i) v.push_back(static_cast<int64_t>(z->element_as_double(i)));
  return v;
}

std::string input(const ir::Node& n, size_t i) { return i < n.inputs.size() ? n.inputs[i] : ""; }

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
    if (opset < 13) return 0;  // per-axis DequantizeLinear/QuantizeLinear semantics as of opset 13
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& q = view.node(i);
      if (!q.domain.empty() || q.outputs.size() != 1 || q.outputs[0].empty()) continue;
      const bool conv = q.op_type == "QLinearConv";
      if ((!conv && q.op_type != "QLinearMatMul") || q.inputs.size() < 8) continue;
      // Weights: a constant int8/uint8 tensor; per-channel along dim 0 (Conv) or the last dim (MatMul).
      const Tensor* w = view.constant(q.inputs[3]);
      if (!w || !is_int8_type(w->dtype()) || w->rank() < 2) continue;
      if (!conv && w->rank() != 2) continue;
      const int64_t channels = conv ? w->dim(0) : w->dim(1);
      auto xs = scales(view, q.inputs[1], 0);
      auto xzp = zero_points(view, q.inputs[2], 0);
      auto ws = scales(view, q.inputs[4], channels);
      auto wzp = zero_points(view, q.inputs[5], channels);
      auto ys = scales(view, q.inputs[6], 0);
      auto yzp = zero_points(view, q.inputs[7], 0);
      if (!xs || !xzp || !ws || !wzp || !ys || !yzp || input(q, 2).empty() || input(q, 7).empty()) continue;
      const std::string bias_name = conv ? input(q, 8) : "";
      const Tensor* bias = bias_name.empty() ? nullptr : view.constant(bias_name);
      if (!bias_name.empty() && (!bias || bias->dtype() != DType::int32 || bias->numel() != channels)) continue;

      // The float weights and bias.
      Tensor wf(DType::float32, w->shape());
      const Tensor wc = w->contiguous();
      const int64_t inner = wc.numel() / w->dim(0);
      for (int64_t e = 0; e < wc.numel(); ++e) {
        const int64_t ch = conv ? e / inner : e % channels;
        const size_t k = ws->size() == 1 ? 0 : static_cast<size_t>(ch);
        const size_t kz = wzp->size() == 1 ? 0 : static_cast<size_t>(ch);
        wf.data<float>()[e] = static_cast<float>(wc.element_as_double(e) - static_cast<double>((*wzp)[kz])) * (*ws)[k];
      }
      const std::string wf_name = ctx.unique_name(q.inputs[3] + "_dequantized");
      patch.add_initializer(wf_name, wf);
      std::string bf_name;
      if (bias) {
        Tensor bf(DType::float32, {channels});
        const Tensor bc = bias->contiguous();
        for (int64_t o = 0; o < channels; ++o)
          bf.data<float>()[o] = static_cast<float>(static_cast<double>(bc.data<int32_t>()[o]) * (*xs)[0] *
                                                   (*ws)[ws->size() == 1 ? 0 : static_cast<size_t>(o)]);
        bf_name = ctx.unique_name(bias_name + "_dequantized");
        patch.add_initializer(bf_name, bf);
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
