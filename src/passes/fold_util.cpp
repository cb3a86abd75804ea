#include "passes/fold_util.h"

#include <algorithm>
#include <cmath>

namespace hwopt::passes {

std::optional<std::vector<double>> float_values(const Tensor& t) {
  if (t.dtype() != DType::float32 && t.dtype() != DType::float64) return std::nullopt;
  const Tensor c = t.contiguous();
  std::vector<double> v(static_cast<size_t>(c.numel()));
  if (c.dtype() == DType::float32) {
    for (int64_t i = 0; i < c.numel(); ++i) v[i] = c.data<float>()[i];
  } else {
    for (int64_t i = 0; i < c.numel(); ++i) v[i] = c.data<double>()[i];
  }
  return v;
}

std::optional<Tensor> dequantize_tensor(const Tensor& q, const Tensor& scale, const Tensor* zero_point, int64_t axis) {
  if (scale.dtype() != DType::float32) return std::nullopt;
  if (zero_point && (zero_point->dtype() != q.dtype() || zero_point->shape() != scale.shape())) return std::nullopt;
  // Element e's parameter index: 0 per tensor, else its coordinate along `axis`.
  int64_t axis_dim = 1, inner = 1;
  if (scale.numel() != 1 || scale.rank() > 1) {
    if (axis < 0) axis += q.rank();
    if (scale.rank() != 1 || axis < 0 || axis >= q.rank() || q.dim(axis) != scale.dim(0)) return std::nullopt;
    axis_dim = q.dim(axis);
    for (int64_t d = axis + 1; d < q.rank(); ++d) inner *= q.dim(d);
  }
  const Tensor qc = q.contiguous(), sc = scale.contiguous();
  const Tensor zc = zero_point ? zero_point->contiguous() : Tensor();
  const float* sp = sc.data<float>();
  auto created = Tensor::create(DType::float32, q.shape());
  if (!created.ok()) return std::nullopt;
  Tensor w = std::move(created).value();
  float* wp = w.data<float>();
  // Element e's parameters: index (e / inner) % axis_dim. int8/uint8 (every weight of a quantized
  // model, tens of millions of elements for a transformer) are read directly, in blocks of
  // axis_dim x inner elements; other types per element.
  std::vector<int64_t> zps(static_cast<size_t>(axis_dim), 0);
  if (zero_point)
    for (int64_t k = 0; k < axis_dim; ++k) zps[static_cast<size_t>(k)] = static_cast<int64_t>(zc.element_as_double(k));
  const int64_t n = qc.numel();
  if (axis_dim == 1) inner = std::max<int64_t>(n, 1);  // per tensor: one block
  const int64_t block = axis_dim * inner;
  auto typed = [&](auto* qp) {  // int8/uint8 values and zero points are exact in float
    for (int64_t b = 0; b < n; b += block)
      for (int64_t k = 0; k < axis_dim; ++k) {
        const float scale = sp[k], zp = static_cast<float>(zps[static_cast<size_t>(k)]);
        const auto* in = qp + b + k * inner;
        float* out = wp + b + k * inner;
        for (int64_t i = 0; i < inner; ++i) out[i] = (static_cast<float>(in[i]) - zp) * scale;
      }
  };
  if (qc.dtype() == DType::int8) {
    typed(qc.data<int8_t>());
  } else if (qc.dtype() == DType::uint8) {
    typed(qc.data<uint8_t>());
  } else {
    for (int64_t e = 0; e < n; ++e) {
      const int64_t k = (e / inner) % axis_dim;
      wp[e] = static_cast<float>(static_cast<int64_t>(qc.element_as_double(e)) - zps[static_cast<size_t>(k)]) * sp[k];
    }
  }
  return w;
}

Tensor float_tensor(DType dtype, const Shape& shape, const std::vector<double>& values) {
  Tensor t(dtype, shape);
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (dtype == DType::float32)
      t.data<float>()[i] = static_cast<float>(values[i]);
    else
      t.data<double>()[i] = values[i];
  }
  return t;
}

std::optional<std::vector<double>> channel_values(const Tensor& c, int64_t rank, int64_t channels) {
  if (c.rank() > rank) return std::nullopt;
  auto v = float_values(c);
  if (!v) return std::nullopt;
  bool per_channel = false;
  for (int64_t j = 0; j < c.rank(); ++j) {
    const int64_t axis = rank - c.rank() + j;
    if (axis == 1 && c.dim(j) == channels) {
      per_channel = true;
    } else if (c.dim(j) != 1) {
      return std::nullopt;
    }
  }
  std::vector<double> out(static_cast<size_t>(channels));
  for (int64_t m = 0; m < channels; ++m) out[m] = (*v)[per_channel ? m : 0];
  return out;
}

std::optional<Affine> batchnorm_affine(const GraphView& view, const ir::Node& bn, int64_t channels) {
  if (!bn.domain.empty() || bn.op_type != "BatchNormalization" || bn.inputs.size() != 5) return std::nullopt;
  if (bn.outputs.empty() || bn.outputs[0].empty()) return std::nullopt;
  // Extra outputs select training mode before opset 14 (and are only defined in training mode).
  for (size_t k = 1; k < bn.outputs.size(); ++k)
    if (!bn.outputs[k].empty()) return std::nullopt;
  if (bn.opset >= 14 && attr_int(bn, "training_mode", 0) != 0) return std::nullopt;
  if (bn.opset < 9 && attr_int(bn, "spatial", 1) == 0) return std::nullopt;
  std::vector<double> p[4];
  for (int k = 0; k < 4; ++k) {
    const Tensor* t = view.constant(bn.inputs[k + 1]);
    if (!t || t->numel() != channels || t->rank() != 1) return std::nullopt;
    auto v = float_values(*t);
    if (!v) return std::nullopt;
    p[k] = std::move(*v);
  }
  const double eps = attr_float(bn, "epsilon", 1e-5f);
  Affine a;
  a.scale.resize(static_cast<size_t>(channels));
  a.shift.resize(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    const double var = p[3][c] + eps;
    if (!(var > 0)) return std::nullopt;  // the unfused graph would produce inf/NaN: leave it
    a.scale[c] = p[0][c] / std::sqrt(var);
    a.shift[c] = p[1][c] - p[2][c] * a.scale[c];
  }
  return a;
}

}  // namespace hwopt::passes
