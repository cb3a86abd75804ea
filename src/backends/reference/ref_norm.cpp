// Normalizations: BatchNormalization, InstanceNormalization, LayerNormalization, LRN, MVN, GroupNormalization.
#include <cmath>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {


/// A float tensor's values as doubles (KernelError naming `name` for a non-float dtype).
std::vector<double> float_values(const Tensor& t, const char* name) {
  HWOPT_KCHECK(dtype_is_float(t.dtype()), "input {} must be a float tensor, got {}", name, dtype_name(t.dtype()));
  return to_double_vector(t);
}

/// Writes doubles into a new output of the given float dtype and shape.
void write_output(KernelContext& ctx, size_t idx, DType dt, const Shape& shape, const std::vector<double>& v) {
  visit_float(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& out = ctx.allocate_output(idx, dt, shape);
    T* p = out.data<T>();
    for (int64_t i = 0; i < out.numel(); ++i) p[i] = from_dbl<T>(v[i]);
  });
}

// ---------------------------------------------------------------------------------------------
// BatchNormalization

void ref_batch_normalization(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  HWOPT_KCHECK(dtype_is_float(x.dtype()), "input X must be a float tensor, got {}", dtype_name(x.dtype()));
  HWOPT_KCHECK(x.rank() >= 2, "input X must have rank >= 2 (N, C, ...), got shape {}", shape_str(x.shape()));
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  const double momentum = ctx.attr_float("momentum", 0.9f);
  // opset < 9: spatial=0 means per-activation statistics (parameters of shape X.shape[1:]).
  const bool spatial = ctx.opset() >= 9 || ctx.attr_int("spatial", 1) != 0;
  bool training;
  if (ctx.opset() >= 14) {
    training = ctx.attr_int("training_mode", 0) != 0;
  } else {
    // Before opset 14 the training outputs (mean, var, saved_mean, saved_var) select training mode.
    training = ctx.attr_int("is_test", 1) == 0 && ctx.num_outputs() > 1;
    if (ctx.opset() >= 7) training = ctx.num_outputs() > 1;
  }
  const int64_t N = x.dim(0);
  const int64_t F = spatial ? x.dim(1) : dims_product(x.shape(), 1, x.rank());  // number of features
  const int64_t inner = x.numel() / std::max<int64_t>(N * F, 1);                // elements per (n, feature)
  const Shape param_shape = spatial ? Shape{x.dim(1)} : Shape(x.shape().begin() + 1, x.shape().end());
  const char* names[] = {"scale", "B", "input_mean", "input_var"};
  std::vector<double> params[4];
  for (int i = 0; i < 4; ++i) {
    const Tensor& p = ctx.input(static_cast<size_t>(i + 1));
    HWOPT_KCHECK(p.numel() == F, "input {} must have {} elements (shape {}), got shape {}", names[i], F,
                 shape_str(param_shape), shape_str(p.shape()));
    params[i] = float_values(p, names[i]);
  }
  const std::vector<double> xv = to_double_vector(x);
  std::vector<double> mean = params[2], var = params[3];
  std::vector<double> batch_mean(F, 0.0), batch_var(F, 0.0);
  if (training) {
    const double count = static_cast<double>(N * inner);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t f = 0; f < F; ++f)
        for (int64_t i = 0; i < inner; ++i) batch_mean[f] += xv[(n * F + f) * inner + i];
    for (auto& m : batch_mean) m = count > 0 ? m / count : 0.0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t f = 0; f < F; ++f)
        for (int64_t i = 0; i < inner; ++i) {
          const double d = xv[(n * F + f) * inner + i] - batch_mean[f];
          batch_var[f] += d * d;
        }
    for (auto& v : batch_var) v = count > 0 ? v / count : 0.0;
    mean = batch_mean;
    var = batch_var;
  }
  std::vector<double> y(xv.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t f = 0; f < F; ++f) {
      const double s = params[0][f] / std::sqrt(var[f] + eps);
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t e = (n * F + f) * inner + i;
        y[e] = (xv[e] - mean[f]) * s + params[1][f];
      }
    }
  write_output(ctx, 0, x.dtype(), x.shape(), y);
  if (!training) return;
  std::vector<double> running_mean(F), running_var(F);
  for (int64_t f = 0; f < F; ++f) {
    running_mean[f] = params[2][f] * momentum + batch_mean[f] * (1 - momentum);
    running_var[f] = params[3][f] * momentum + batch_var[f] * (1 - momentum);
  }
  const DType mdt = ctx.input(3).dtype(), vdt = ctx.input(4).dtype();
  const Shape& mshape = ctx.input(3).shape();
  if (ctx.wants_output(1)) write_output(ctx, 1, mdt, mshape, running_mean);
  if (ctx.wants_output(2)) write_output(ctx, 2, vdt, ctx.input(4).shape(), running_var);
  if (ctx.opset() < 14) {  // saved_mean / saved_var: the batch statistics
    if (ctx.wants_output(3)) write_output(ctx, 3, mdt, mshape, batch_mean);
    if (ctx.wants_output(4)) write_output(ctx, 4, vdt, ctx.input(4).shape(), batch_var);
  }
}

// ---------------------------------------------------------------------------------------------
// InstanceNormalization

void ref_instance_normalization(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  HWOPT_KCHECK(dtype_is_float(x.dtype()), "input X must be a float tensor, got {}", dtype_name(x.dtype()));
  HWOPT_KCHECK(x.rank() >= 2, "input X must have rank >= 2 (N, C, ...), got shape {}", shape_str(x.shape()));
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  const int64_t N = x.dim(0), C = x.dim(1), sp = dims_product(x.shape(), 2, x.rank());
  const Tensor& scale_t = ctx.input(1);
  const Tensor& bias_t = ctx.input(2);
  HWOPT_KCHECK(scale_t.rank() == 1 && scale_t.dim(0) == C, "input scale must have shape [{}], got {}", C,
               shape_str(scale_t.shape()));
  HWOPT_KCHECK(bias_t.rank() == 1 && bias_t.dim(0) == C, "input B must have shape [{}], got {}", C,
               shape_str(bias_t.shape()));
  const std::vector<double> scale = float_values(scale_t, "scale"), bias = float_values(bias_t, "B");
  const std::vector<double> xv = to_double_vector(x);
  std::vector<double> y(xv.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const double* p = xv.data() + (n * C + c) * sp;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < sp; ++i) mean += p[i];
      mean = sp > 0 ? mean / static_cast<double>(sp) : 0.0;
      for (int64_t i = 0; i < sp; ++i) var += (p[i] - mean) * (p[i] - mean);
      var = sp > 0 ? var / static_cast<double>(sp) : 0.0;
      const double s = scale[c] / std::sqrt(var + eps);
      for (int64_t i = 0; i < sp; ++i) y[(n * C + c) * sp + i] = (p[i] - mean) * s + bias[c];
    }
  write_output(ctx, 0, x.dtype(), x.shape(), y);
}

// ---------------------------------------------------------------------------------------------
// LayerNormalization (opset 17)

DType stash_dtype(int64_t stash_type) {
  switch (stash_type) {
    case 1:
      return DType::float32;
    case 10:
      return DType::float16;
    case 11:
      return DType::float64;
    case 16:
      return DType::bfloat16;
    default:
      HWOPT_KCHECK(false, "attribute 'stash_type' has unsupported value {}", stash_type);
  }
  return DType::undefined;
}

/// A parameter broadcast (numpy, unidirectionally) to `shape`.
std::vector<double> broadcast_param(const Tensor& p, const Shape& shape, const char* name) {
  HWOPT_KCHECK(p.rank() <= static_cast<int64_t>(shape.size()), "input {} of shape {} cannot broadcast to {}", name,
               shape_str(p.shape()), shape_str(shape));
  for (int64_t k = 1; k <= p.rank(); ++k) {
    const int64_t pd = p.shape()[p.rank() - k], xd = shape[shape.size() - k];
    HWOPT_KCHECK(pd == xd || pd == 1, "input {} of shape {} cannot broadcast to {}", name, shape_str(p.shape()),
                 shape_str(shape));
  }
  const std::vector<double> v = float_values(p, name);
  const std::vector<int64_t> offs = broadcast_offsets(p.shape(), shape);
  std::vector<double> out(offs.size());
  for (size_t i = 0; i < offs.size(); ++i) out[i] = v[offs[i]];
  return out;
}

void ref_layer_normalization(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  HWOPT_KCHECK(dtype_is_float(x.dtype()), "input X must be a float tensor, got {}", dtype_name(x.dtype()));
  HWOPT_KCHECK(x.rank() >= 1, "input X must have rank >= 1, got a scalar");
  const int64_t axis = normalize_axis(ctx.attr_int("axis", -1), x.rank());
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  const DType sdt = stash_dtype(ctx.attr_int("stash_type", 1));
  const int64_t outer = dims_product(x.shape(), 0, axis), inner = dims_product(x.shape(), axis, x.rank());
  const std::vector<double> xv = to_double_vector(x);
  const std::vector<double> scale = broadcast_param(ctx.input(1), x.shape(), "Scale");
  std::vector<double> bias;
  if (ctx.has_input(2)) bias = broadcast_param(ctx.input(2), x.shape(), "B");
  std::vector<double> y(xv.size()), mean_v(static_cast<size_t>(outer)), inv_v(static_cast<size_t>(outer));
  for (int64_t o = 0; o < outer; ++o) {
    const double* p = xv.data() + o * inner;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < inner; ++i) mean += p[i];
    mean = inner > 0 ? mean / static_cast<double>(inner) : 0.0;
    for (int64_t i = 0; i < inner; ++i) var += (p[i] - mean) * (p[i] - mean);
    var = inner > 0 ? var / static_cast<double>(inner) : 0.0;
    const double inv = 1.0 / std::sqrt(var + eps);
    mean_v[o] = mean;
    inv_v[o] = inv;
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t e = o * inner + i;
      y[e] = (p[i] - mean) * inv * scale[e] + (bias.empty() ? 0.0 : bias[e]);
    }
  }
  write_output(ctx, 0, x.dtype(), x.shape(), y);
  Shape stat_shape(x.shape().begin(), x.shape().begin() + axis);
  stat_shape.resize(static_cast<size_t>(x.rank()), 1);
  if (ctx.wants_output(1)) write_output(ctx, 1, sdt, stat_shape, mean_v);
  if (ctx.wants_output(2)) write_output(ctx, 2, sdt, stat_shape, inv_v);
}

// ---------------------------------------------------------------------------------------------
// LRN

void ref_lrn(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  HWOPT_KCHECK(dtype_is_float(x.dtype()), "input X must be a float tensor, got {}", dtype_name(x.dtype()));
  HWOPT_KCHECK(x.rank() >= 2, "input X must have rank >= 2 (N, C, ...), got shape {}", shape_str(x.shape()));
  HWOPT_KCHECK(ctx.has_attr("size"), "attribute 'size' is required");
  const int64_t size = ctx.attr_int("size", 1);
  HWOPT_KCHECK(size > 0, "attribute 'size' must be positive, got {}", size);
  const double alpha = ctx.attr_float("alpha", 1e-4f), beta = ctx.attr_float("beta", 0.75f);
  const double bias = ctx.attr_float("bias", 1.0f);
  const int64_t N = x.dim(0), C = x.dim(1), sp = dims_product(x.shape(), 2, x.rank());
  const int64_t before = (size - 1) / 2, after = size - 1 - before;  // floor and ceil of (size-1)/2
  const std::vector<double> xv = to_double_vector(x);
  std::vector<double> y(xv.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < sp; ++i) {
        double sq = 0;
        for (int64_t cc = std::max<int64_t>(0, c - before); cc <= std::min(C - 1, c + after); ++cc) {
          const double v = xv[(n * C + cc) * sp + i];
          sq += v * v;
        }
        const int64_t e = (n * C + c) * sp + i;
        y[e] = xv[e] / std::pow(bias + alpha / static_cast<double>(size) * sq, beta);
      }
  write_output(ctx, 0, x.dtype(), x.shape(), y);
}

// ---------------------------------------------------------------------------------------------
// MeanVarianceNormalization: (X - mean) / (sqrt(var) + 1e-9) over `axes`.

void ref_mean_variance_normalization(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  HWOPT_KCHECK(dtype_is_float(x.dtype()), "input X must be a float tensor, got {}", dtype_name(x.dtype()));
  const int64_t r = x.rank();
  const auto axes_attr = ctx.attr_ints("axes", {0, 2, 3});
  std::vector<bool> reduced(static_cast<size_t>(r), false);
  for (int64_t a : axes_attr) {
    HWOPT_KCHECK(a >= -r && a < r, "attribute 'axes' value {} is out of range for rank {}", a, r);
    const int64_t na = a < 0 ? a + r : a;
    HWOPT_KCHECK(!reduced[na], "attribute 'axes' repeats axis {}", a);
    reduced[na] = true;
  }
  // Group index of each element = its coordinates along the kept axes.
  const std::vector<double> xv = to_double_vector(x);
  const int64_t total = x.numel();
  std::vector<int64_t> group(static_cast<size_t>(total));
  int64_t groups = 1;
  for (int64_t d = 0; d < r; ++d)
    if (!reduced[d]) groups *= x.dim(d);
  std::vector<int64_t> idx(static_cast<size_t>(r), 0);
  for (int64_t e = 0; e < total; ++e) {
    int64_t g = 0;
    for (int64_t d = 0; d < r; ++d)
      if (!reduced[d]) g = g * x.dim(d) + idx[d];
    group[e] = g;
    for (int64_t d = r - 1; d >= 0; --d) {
      if (++idx[d] < x.dim(d)) break;
      idx[d] = 0;
    }
  }
  std::vector<double> sum(static_cast<size_t>(groups), 0.0), sq(static_cast<size_t>(groups), 0.0);
  std::vector<int64_t> cnt(static_cast<size_t>(groups), 0);
  for (int64_t e = 0; e < total; ++e) {
    sum[group[e]] += xv[e];
    ++cnt[group[e]];
  }
  for (int64_t g = 0; g < groups; ++g) sum[g] = cnt[g] ? sum[g] / static_cast<double>(cnt[g]) : 0.0;
  for (int64_t e = 0; e < total; ++e) sq[group[e]] += (xv[e] - sum[group[e]]) * (xv[e] - sum[group[e]]);
  std::vector<double> y(xv.size());
  for (int64_t e = 0; e < total; ++e) {
    const int64_t g = group[e];
    const double sd = std::sqrt(cnt[g] ? sq[g] / static_cast<double>(cnt[g]) : 0.0);
    y[e] = (xv[e] - sum[g]) / (sd + 1e-9);
  }
  write_output(ctx, 0, x.dtype(), x.shape(), y);
}

// ---------------------------------------------------------------------------------------------
// GroupNormalization (opset 18: scale/bias per group; opset 21: per channel)

void ref_group_normalization(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  HWOPT_KCHECK(dtype_is_float(x.dtype()), "input X must be a float tensor, got {}", dtype_name(x.dtype()));
  HWOPT_KCHECK(x.rank() >= 2, "input X must have rank >= 2 (N, C, ...), got shape {}", shape_str(x.shape()));
  HWOPT_KCHECK(ctx.has_attr("num_groups"), "attribute 'num_groups' is required");
  const int64_t G = ctx.attr_int("num_groups", 1);
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  if (ctx.opset() >= 21) (void)stash_dtype(ctx.attr_int("stash_type", 1));
  const int64_t N = x.dim(0), C = x.dim(1), sp = dims_product(x.shape(), 2, x.rank());
  HWOPT_KCHECK(G > 0 && C % G == 0, "attribute 'num_groups' ({}) must be positive and divide the channels ({})", G, C);
  const int64_t per_param = ctx.opset() >= 21 ? C : G;
  const Tensor& scale_t = ctx.input(1);
  const Tensor& bias_t = ctx.input(2);
  HWOPT_KCHECK(scale_t.rank() == 1 && scale_t.dim(0) == per_param, "input scale must have shape [{}], got {}",
               per_param, shape_str(scale_t.shape()));
  HWOPT_KCHECK(bias_t.rank() == 1 && bias_t.dim(0) == per_param, "input bias must have shape [{}], got {}", per_param,
               shape_str(bias_t.shape()));
  const std::vector<double> scale = float_values(scale_t, "scale"), bias = float_values(bias_t, "bias");
  const std::vector<double> xv = to_double_vector(x);
  std::vector<double> y(xv.size());
  const int64_t Cg = C / G, len = Cg * sp;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < G; ++g) {
      const int64_t base = (n * C + g * Cg) * sp;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < len; ++i) mean += xv[base + i];
      mean = len > 0 ? mean / static_cast<double>(len) : 0.0;
      for (int64_t i = 0; i < len; ++i) var += (xv[base + i] - mean) * (xv[base + i] - mean);
      var = len > 0 ? var / static_cast<double>(len) : 0.0;
      const double inv = 1.0 / std::sqrt(var + eps);
      for (int64_t i = 0; i < len; ++i) {
        const int64_t p = ctx.opset() >= 21 ? g * Cg + i / std::max<int64_t>(sp, 1) : g;
        y[base + i] = (xv[base + i] - mean) * inv * scale[p] + bias[p];
      }
    }
  write_output(ctx, 0, x.dtype(), x.shape(), y);
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("BatchNormalization", "", 1, ref_batch_normalization);
HWOPT_REGISTER_REF_KERNEL("InstanceNormalization", "", 1, ref_instance_normalization);
HWOPT_REGISTER_REF_KERNEL("LayerNormalization", "", 17, ref_layer_normalization);
HWOPT_REGISTER_REF_KERNEL("LRN", "", 1, ref_lrn);
HWOPT_REGISTER_REF_KERNEL("MeanVarianceNormalization", "", 1, ref_mean_variance_normalization);
HWOPT_REGISTER_REF_KERNEL("GroupNormalization", "", 18, ref_group_normalization);

}  // namespace hwopt::reference
