// QuantizeLinear / DequantizeLinear (per-tensor, per-axis, blocked) and DynamicQuantizeLinear.
#include <cmath>
#include <limits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

/// Maps each element of x to its scale / zero-point index (per-tensor, per-axis or blocked).
struct ParamIndex {
  int64_t mode = 0;  // 0 per-tensor, 1 per-axis, 2 blocked
  int64_t A = 1, inner = 1, block = 1, scale_A = 1;
  int64_t operator()(int64_t e) const {
    if (mode == 0) return 0;
    const int64_t i = e % inner, a = (e / inner) % A, o = e / (inner * A);
    if (mode == 1) return a;
    return (o * scale_A + a / block) * inner + i;
  }
};

ParamIndex param_index(const KernelContext& ctx, const Tensor& x, const Tensor& scale, const char* scale_name) {
  ParamIndex p;
  const int64_t block_size = ctx.opset() >= 21 ? ctx.attr_int("block_size", 0) : 0;
  HWOPT_KCHECK(block_size >= 0, "attribute 'block_size' must be non-negative, got {}", block_size);
  if (block_size == 0 && scale.numel() == 1 && scale.rank() <= 1) return p;  // per-tensor
  HWOPT_KCHECK(ctx.opset() >= 13, "{} must be a scalar before opset 13, got shape {}", scale_name,
               shape_str(scale.shape()));
  HWOPT_KCHECK(x.rank() >= 1, "{} of shape {} needs x of rank >= 1 (per-axis), got a scalar", scale_name,
               shape_str(scale.shape()));
  const int64_t axis = normalize_axis(ctx.attr_int("axis", 1), x.rank());
  p.A = x.dim(axis);
  p.inner = dims_product(x.shape(), axis + 1, x.rank());
  if (block_size == 0) {
    HWOPT_KCHECK(scale.rank() == 1 && scale.dim(0) == p.A,
                 "{} must be a scalar or a 1-D tensor of {} values (x dim {} along axis {}), got shape {}", scale_name,
                 p.A, p.A, axis, shape_str(scale.shape()));
    p.mode = 1;
    return p;
  }
  HWOPT_KCHECK(scale.rank() == x.rank(), "blocked {} must have x's rank {}, got shape {}", scale_name, x.rank(),
               shape_str(scale.shape()));
  for (int64_t d = 0; d < x.rank(); ++d) {
    const int64_t want = d == axis ? (x.dim(d) + block_size - 1) / block_size : x.dim(d);
    HWOPT_KCHECK(scale.dim(d) == want,
                 "blocked {} has shape {} but x {} with block_size {} on axis {} needs dim {} = {}", scale_name,
                 shape_str(scale.shape()), shape_str(x.shape()), block_size, axis, d, want);
  }
  p.mode = 2;
  p.block = block_size;
  p.scale_A = scale.dim(axis);
  return p;
}

bool is_quantized_type(DType dt) {
  return dt == DType::uint8 || dt == DType::int8 || dt == DType::uint16 || dt == DType::int16;
}

void ref_quantize_linear(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& scale = ctx.input(1);
  HWOPT_KCHECK(dtype_is_float(x.dtype()) || x.dtype() == DType::int32, "input x must be float or int32, got {}",
               dtype_name(x.dtype()));
  HWOPT_KCHECK(dtype_is_float(scale.dtype()), "y_scale must be a float tensor, got {}", dtype_name(scale.dtype()));
  DType ydt = DType::uint8;
  const int64_t output_dtype = ctx.opset() >= 21 ? ctx.attr_int("output_dtype", 0) : 0;
  if (output_dtype != 0) {
    HWOPT_KCHECK(dtype_is_known(static_cast<int32_t>(output_dtype)), "attribute 'output_dtype' {} is not a known type",
                 output_dtype);
    ydt = static_cast<DType>(output_dtype);
  }
  if (ctx.has_input(2)) {
    const DType zdt = ctx.input(2).dtype();
    HWOPT_KCHECK(output_dtype == 0 || zdt == ydt, "y_zero_point dtype {} differs from attribute 'output_dtype' {}",
                 dtype_name(zdt), dtype_name(ydt));
    ydt = zdt;
  }
  HWOPT_KCHECK(is_quantized_type(ydt), "output type {} is not supported (uint8, int8, uint16, int16)", dtype_name(ydt));
  const ParamIndex pi = param_index(ctx, x, scale, "y_scale");
  const std::vector<double> xv = to_double_vector(x), sv = to_double_vector(scale);
  std::vector<double> zv(sv.size(), 0.0);
  if (ctx.has_input(2)) {
    const Tensor& z = ctx.input(2);
    HWOPT_KCHECK(z.shape() == scale.shape() || (z.numel() == 1 && scale.numel() == 1),
                 "y_zero_point shape {} must match y_scale shape {}", shape_str(z.shape()), shape_str(scale.shape()));
    zv = to_double_vector(z);
  }
  visit_integer(ydt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, ydt, x.shape());
    T* yp = y.data<T>();
    const float lo = static_cast<float>(std::numeric_limits<T>::lowest());
    const float hi = static_cast<float>(std::numeric_limits<T>::max());
    for (int64_t e = 0; e < x.numel(); ++e) {
      const int64_t k = pi(e);
      // float arithmetic, round half to even, then saturate.
      float q = std::nearbyint(static_cast<float>(xv[e]) / static_cast<float>(sv[k])) + static_cast<float>(zv[k]);
      if (std::isnan(q)) q = 0;
      yp[e] = static_cast<T>(std::min(hi, std::max(lo, q)));
    }
  });
}

void ref_dequantize_linear(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& scale = ctx.input(1);
  HWOPT_KCHECK(is_quantized_type(x.dtype()) || x.dtype() == DType::int32,
               "input x must be uint8, int8, uint16, int16 or int32, got {}", dtype_name(x.dtype()));
  HWOPT_KCHECK(dtype_is_float(scale.dtype()), "x_scale must be a float tensor, got {}", dtype_name(scale.dtype()));
  const ParamIndex pi = param_index(ctx, x, scale, "x_scale");
  const std::vector<double> xv = to_double_vector(x), sv = to_double_vector(scale);
  std::vector<double> zv(sv.size(), 0.0);
  if (ctx.has_input(2)) {
    const Tensor& z = ctx.input(2);
    HWOPT_KCHECK(z.dtype() == x.dtype(), "x_zero_point dtype {} must match x dtype {}", dtype_name(z.dtype()),
                 dtype_name(x.dtype()));
    HWOPT_KCHECK(z.shape() == scale.shape() || (z.numel() == 1 && scale.numel() == 1),
                 "x_zero_point shape {} must match x_scale shape {}", shape_str(z.shape()), shape_str(scale.shape()));
    zv = to_double_vector(z);
  }
  // The output type is the scale's type (float32 before opset 19).
  visit_float(scale.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, scale.dtype(), x.shape());
    T* yp = y.data<T>();
    for (int64_t e = 0; e < x.numel(); ++e) {
      const int64_t k = pi(e);
      const float v =
          static_cast<float>(static_cast<int64_t>(xv[e]) - static_cast<int64_t>(zv[k])) * static_cast<float>(sv[k]);
      if constexpr (std::is_same_v<T, double>) {
        yp[e] = (xv[e] - zv[k]) * sv[k];
      } else {
        yp[e] = T(v);
      }
    }
  });
}

void ref_dynamic_quantize_linear(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  HWOPT_KCHECK(x.dtype() == DType::float32, "input x must be float32, got {}", dtype_name(x.dtype()));
  const float* xp = x.data<float>();
  float mn = 0, mx = 0;                      // the range always includes 0
  for (int64_t i = 0; i < x.numel(); ++i) {  // NaNs are skipped (comparisons with NaN are false)
    mn = std::min(mn, xp[i]);
    mx = std::max(mx, xp[i]);
  }
  const float scale = (mx - mn) / 255.0f;
  float zp = 0;
  if (scale != 0 && std::isfinite(scale)) zp = std::nearbyint(std::min(255.0f, std::max(0.0f, 0.0f - mn / scale)));
  Tensor& y = ctx.allocate_output(0, DType::uint8, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    float q = scale != 0 ? std::nearbyint(xp[i] / scale) + zp : zp;
    if (std::isnan(q)) q = 0;
    y.data<uint8_t>()[i] = static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, q)));
  }
  if (ctx.wants_output(1)) ctx.allocate_output(1, DType::float32, {}).data<float>()[0] = scale;
  if (ctx.wants_output(2)) ctx.allocate_output(2, DType::uint8, {}).data<uint8_t>()[0] = static_cast<uint8_t>(zp);
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("QuantizeLinear", "", 10, ref_quantize_linear);
HWOPT_REGISTER_REF_KERNEL("DequantizeLinear", "", 10, ref_dequantize_linear);
HWOPT_REGISTER_REF_KERNEL("DynamicQuantizeLinear", "", 11, ref_dynamic_quantize_linear);

}  // namespace hwopt::reference
