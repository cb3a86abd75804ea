#include "backends/cpu/precision.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace hwopt::cpu {

QuantType quant_type_of(const ActivationRange& r) {
  QuantType q;
  const bool non_negative = r.min >= 0.f;
  q.dt = non_negative ? dnnl::memory::data_type::u8 : dnnl::memory::data_type::s8;
  // An all-zero value still needs a positive scale; any will do.
  q.scale = r.threshold > 0.f ? r.threshold / (non_negative ? kU8Levels : kS8Levels) : 1.f;
  return q;
}

std::string KernelPrecision::label() const {
  auto name = [](dt t) {
    switch (t) {
      case dt::u8: return "u8";
      case dt::s8: return "s8";
      case dt::bf16: return "bf16";
      default: return "f32";
    }
  };
  if (int8() && dynamic) return "int8-dynamic";
  if (int8()) return fmt::format("int8({}->{})", name(src), name(dst));
  if (bf16()) return fmt::format("bf16(->{})", name(dst));
  return "";
}

bool bf16_output_ok(const NodeContext& nc, const std::string& value) {
  if (nc.is_graph_output(value)) return false;
  const auto consumers = nc.consumers_of(value);
  if (consumers.empty()) return false;
  for (const ir::Node* n : consumers) {
    const std::string& op = n->op_type;
    if (nc.kept_fp32(n)) return false;
    const bool ok = op == "Conv" || op == "FusedConv" || op == "MaxPool" || op == "AveragePool" || op == "Relu" ||
                    op == "Clip" || op == "Add" || op == "Concat";
    if (!ok) return false;
  }
  return true;
}

KernelPrecision choose_precision(const NodeContext& nc, bool (*int8_consumer)(const NodeContext&, const ir::Node&),
                                 bool dynamic_ok) {
  using dt = dnnl::memory::data_type;
  KernelPrecision p;
  const KernelPrecision fp32{};
  const std::string& x = nc.node.inputs.at(0);
  const std::string& y = nc.node.outputs.at(0);
  if (nc.precision != "fp32" && nc.kept_fp32()) return fp32;
  if (nc.precision == "bf16") {
    p.src = p.weights = dt::bf16;
    p.dst = bf16_output_ok(nc, y) ? dt::bf16 : dt::f32;
    return p;
  }
  if (nc.precision == "int8-dynamic") {
    if (!dynamic_ok) return fp32;
    p.src = p.weights = dt::s8;
    p.dynamic = true;
    return p;
  }
  if (nc.precision != "int8") return p;
  const ActivationRange* rx = nc.range_of(x);
  if (!rx) return fp32;
  const QuantType qx = quant_type_of(*rx);
  p.src = qx.dt;
  p.src_scale = qx.scale;
  p.weights = dt::s8;
  p.dst = dt::f32;
  const ActivationRange* ry = nc.range_of(y);
  if (ry && int8_consumer && !nc.is_graph_output(y)) {
    const auto consumers = nc.consumers_of(y);
    bool all = !consumers.empty();
    for (const ir::Node* n : consumers) all = all && int8_consumer(nc, *n);
    if (all) {
      const QuantType qy = quant_type_of(*ry);
      p.dst = qy.dt;
      p.dst_scale = qy.scale;
    }
  }
  return p;
}

QuantizedWeights quantize_per_channel(const Tensor& w) {
  Tensor src = w.contiguous();
  const int64_t outs = src.dim(0);
  const int64_t per = outs > 0 ? src.numel() / outs : 0;
  const float* s = src.data<float>();
  QuantizedWeights q;
  q.values = Tensor(DType::int8, src.shape());
  int8_t* d = q.values.data<int8_t>();
  q.scales.assign(static_cast<size_t>(outs), 1.f);
  for (int64_t o = 0; o < outs; ++o) {
    float m = 0.f;
    for (int64_t i = 0; i < per; ++i) m = std::max(m, std::fabs(s[o * per + i]));
    // A dead channel (PP-OCRv4's recognizer has one at 7e-39, a denormal) is all zeros: a scale
    // that small makes the accumulator's unit (source scale x weight scale) underflow, and the bias
    // divided by it infinite, which oneDNN then turns into NaN for the whole channel.
    const float scale = m >= kMinWeightScale * kS8Levels ? m / kS8Levels : 1.f;
    q.scales[o] = scale;
    for (int64_t i = 0; i < per; ++i) {
      const float v = std::nearbyint(s[o * per + i] / scale);
      d[o * per + i] = static_cast<int8_t>(std::clamp(v, -kS8Levels, kS8Levels));
    }
  }
  return q;
}

}  // namespace hwopt::cpu
