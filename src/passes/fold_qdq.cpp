// fold_qdq: imports a QDQ model (ONNX Runtime's quantization format: QuantizeLinear ->
// DequantizeLinear pairs on activations, DequantizeLinear on integer constant weights) as the
// float graph hwopt's INT8 kernels quantize themselves, keeping the quantization it carries:
//  - DequantizeLinear of a constant integer tensor (int8, uint8, int16, uint16, int32; per-tensor
//    or per-axis float32 scale, optional zero point) becomes a float32 initializer of the same name,
//    computed as the DequantizeLinear kernel computes it, w = float(q - zp) * scale (exact: one
//    rounding of an exact product);
//  - QuantizeLinear(x) with a scalar float32 scale and a scalar uint8/int8 zero point records x's
//    range (PassContext::record_range, reported as PipelineReport::activation_ranges):
//      zero point 0:  uint8 -> [0, 255 s], threshold 255 s;  int8 -> [-128 s, 127 s], threshold 127 s
//      otherwise:     [(qmin - zp) s, (qmax - zp) s], threshold max(|min|, |max|)
//    so that hwopt's symmetric quantization (u8 with scale threshold / 255 when min >= 0, else s8
//    with threshold / 127) uses the model's own scale when its zero point is 0. When every reader
//    of the QuantizeLinear is a DequantizeLinear with the same scale and zero point, the pair goes
//    and their readers read x. It stays (the range is still recorded) when a DequantizeLinear
//    output is a graph output or read by a subgraph, or when something else reads the quantized
//    value (ConvInteger, MatMulInteger, ...: those run on their reference kernels; QLinearConv
//    and QLinearMatMul were already rewritten to QDQ by decompose_qlinear).
// A QuantizeLinear of a constant (fake-quantized weights) is left to fold_constants.
// Off by default: the pairs simulate quantization in float, so removing them changes what the
// graph computes; the session runs this pass only at precision int8, where hwopt's kernels
// quantize for real. At fp32 a QDQ model runs as written.
#include <fmt/format.h>

#include <cmath>
#include <optional>

#include "passes/fold_util.h"
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

/// A scalar quantization: storage type (uint8 or int8), scale and zero point.
struct QuantParams {
  DType dtype = DType::uint8;
  float scale = 0;
  int64_t zero_point = 0;
  bool operator==(const QuantParams&) const = default;
};

bool is_op(const ir::Node& n, const char* op) { return n.domain.empty() && n.op_type == op; }

bool block_wise(const ir::Node& n) { return n.opset >= 21 && attr_int(n, "block_size", 0) != 0; }

/// The scalar parameters of QuantizeLinear/DequantizeLinear `n` when its scale and zero point are
/// constants of one element (the zero point absent: 0 of `default_dtype`); nullopt otherwise.
std::optional<QuantParams> scalar_params(const GraphView& view, const ir::Node& n, DType default_dtype) {
  if (n.inputs.size() < 2 || n.outputs.size() != 1 || block_wise(n)) return std::nullopt;
  const Tensor* s = view.constant(n.inputs[1]);
  if (!s || s->dtype() != DType::float32 || s->numel() != 1 || s->rank() > 1) return std::nullopt;
  QuantParams q;
  q.scale = s->contiguous().data<float>()[0];
  if (!std::isfinite(q.scale) || !(q.scale > 0)) return std::nullopt;
  q.dtype = default_dtype;
  if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
    const Tensor* z = view.constant(n.inputs[2]);
    if (!z || z->numel() != 1 || z->rank() > 1) return std::nullopt;
    q.dtype = z->dtype();
    if (q.dtype == DType::uint8 || q.dtype == DType::int8)
      q.zero_point = static_cast<int64_t>(z->contiguous().element_as_double(0));
  }
  if (q.dtype != DType::uint8 && q.dtype != DType::int8) return std::nullopt;
  return q;
}

/// The type QuantizeLinear `q` writes when it has no zero point: uint8, or its output_dtype.
DType quantize_default_dtype(const ir::Node& q) {
  const int64_t od = q.opset >= 21 ? attr_int(q, "output_dtype", 0) : 0;
  if (od == static_cast<int64_t>(DType::int8)) return DType::int8;
  return od == 0 || od == static_cast<int64_t>(DType::uint8) ? DType::uint8 : DType::undefined;
}

ActivationRange range_of(const QuantParams& q) {
  const bool u8 = q.dtype == DType::uint8;
  const double qmin = u8 ? 0 : -128, qmax = u8 ? 255 : 127;
  const double lo = (qmin - static_cast<double>(q.zero_point)) * q.scale;
  const double hi = (qmax - static_cast<double>(q.zero_point)) * q.scale;
  ActivationRange r;
  r.min = static_cast<float>(lo);
  r.max = static_cast<float>(hi);
  r.threshold = q.zero_point == 0 ? static_cast<float>(static_cast<double>(q.scale) * (u8 ? 255.0 : 127.0))
                                  : static_cast<float>(std::max(std::fabs(lo), std::fabs(hi)));
  return r;
}

bool integer_storage(DType dt) {
  return dt == DType::int8 || dt == DType::uint8 || dt == DType::int16 || dt == DType::uint16 || dt == DType::int32;
}

/// DequantizeLinear `n` of a constant integer tensor as a float32 tensor; nullopt when its inputs
/// are not constants of the supported kinds (the kernel, or fold_constants, then handles it).
std::optional<Tensor> dequantize_constant(const GraphView& view, const ir::Node& n) {
  if (n.inputs.size() < 2 || n.outputs.size() != 1 || block_wise(n)) return std::nullopt;
  const Tensor* x = view.constant(n.inputs[0]);
  const Tensor* s = view.constant(n.inputs[1]);
  if (!x || !s || !integer_storage(x->dtype()) || s->dtype() != DType::float32) return std::nullopt;
  const Tensor* z = nullptr;
  if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
    z = view.constant(n.inputs[2]);
    if (!z) return std::nullopt;
  }
  if ((s->numel() != 1 || s->rank() > 1) && n.opset < 13) return std::nullopt;  // per-axis from opset 13
  return dequantize_tensor(*x, *s, z, attr_int(n, "axis", 1));  // too large to fold: it runs as written
}

class FoldQdq final : public Pass {
 public:
  std::string name() const override { return "fold_qdq"; }
  std::string description() const override {
    return "QDQ models: fold DequantizeLinear of integer weights into float weights, drop Q/DQ pairs on activations "
           "and keep their ranges for INT8 (only at precision int8)";
  }
  bool on_by_default() const override { return false; }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    Claims claims;
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& n = view.node(i);
      if (claims.has(i)) continue;
      if (is_op(n, "DequantizeLinear")) {
        if (view.pinned(n.outputs.at(0))) continue;
        auto w = dequantize_constant(view, n);
        if (!w) continue;
        patch.remove_node(i);
        patch.add_initializer(n.outputs[0], std::move(*w));
        claims.take({i});
        ++count;
        continue;
      }
      if (!is_op(n, "QuantizeLinear") || n.inputs.empty()) continue;
      const std::string& x = n.inputs[0];
      if (view.constant(x)) continue;
      const DType xdt = view.dtype(x);
      if (xdt != DType::float32 && xdt != DType::undefined) continue;
      const auto q = scalar_params(view, n, quantize_default_dtype(n));
      if (!q) continue;
      const ActivationRange r = range_of(*q);
      if (!std::isfinite(r.min) || !std::isfinite(r.max) || !std::isfinite(r.threshold)) continue;
      ctx.record_range(x, r);
      const std::string& y = n.outputs[0];
      if (view.pinned(y)) continue;
      std::vector<size_t> dqs;
      bool removable = !view.uses(y).empty();
      for (const Use& u : view.uses(y)) {
        const ir::Node& d = view.node(u.node);
        std::optional<QuantParams> dq_params;
        if (is_op(d, "DequantizeLinear") && u.input == 0 && d.outputs.size() == 1 && !view.pinned(d.outputs[0]))
          dq_params = scalar_params(view, d, q->dtype);
        removable = removable && dq_params && *dq_params == *q && !claims.has(u.node);
        if (!removable) break;
        dqs.push_back(u.node);
      }
      if (!removable) continue;
      patch.remove_node(i);
      claims.take({i});
      for (size_t d : dqs) {
        patch.remove_node(d);
        patch.redirect(view.node(d).outputs[0], x);
        claims.take({d});
      }
      ++count;
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fold_qdq() { return std::make_unique<FoldQdq>(); }

}  // namespace hwopt::passes
