// Conv, ConvInteger and QLinearConv: N-D grouped/strided/dilated/padded convolution (one plain loop).
#include <cmath>
#include <limits>
#include <utility>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"
#include "core/int_math.h"

namespace hwopt::reference {
namespace {

/// Spatial geometry of a convolution: input/kernel/output sizes, strides, dilations, pads.
struct Geometry {
  Shape in, kernel, out;
  std::vector<int64_t> strides, dilations, pad_begin;
};

/// Reads strides/dilations/pads/auto_pad and computes the output spatial shape.
Geometry conv_geometry(const KernelContext& ctx, const Shape& in, const Shape& kernel) {
  const size_t n = in.size();
  Geometry g;
  g.in = in;
  g.kernel = kernel;
  g.strides = ctx.attr_ints("strides", std::vector<int64_t>(n, 1));
  g.dilations = ctx.attr_ints("dilations", std::vector<int64_t>(n, 1));
  std::vector<int64_t> pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * n, 0));
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  HWOPT_KCHECK(g.strides.size() == n, "attribute 'strides' has {} values, expected {}", g.strides.size(), n);
  HWOPT_KCHECK(g.dilations.size() == n, "attribute 'dilations' has {} values, expected {}", g.dilations.size(), n);
  HWOPT_KCHECK(pads.size() == 2 * n, "attribute 'pads' has {} values, expected {}", pads.size(), 2 * n);
  g.pad_begin.assign(n, 0);
  g.out.assign(n, 0);
  for (size_t d = 0; d < n; ++d) {
    const int64_t s = g.strides[d], dil = g.dilations[d], k = kernel[d];
    HWOPT_KCHECK(s > 0, "attribute 'strides' must be positive, got {}", s);
    HWOPT_KCHECK(dil > 0, "attribute 'dilations' must be positive, got {}", dil);
    HWOPT_KCHECK(k > 0, "kernel dim {} must be positive, got {}", d, k);
    const int64_t eff_k = (k - 1) * dil + 1;
    if (auto_pad == "NOTSET") {
      const int64_t pb = pads[d], pe = pads[d + n];
      HWOPT_KCHECK(pb >= 0 && pe >= 0, "attribute 'pads' must be non-negative, got {} and {}", pb, pe);
      HWOPT_KCHECK(in[d] + pb + pe >= eff_k,
                   "spatial dim {} of size {} (padded by {}+{}) is smaller than the kernel extent {}", d, in[d], pb, pe,
                   eff_k);
      g.pad_begin[d] = pb;
      g.out[d] = floor_div(in[d] + pb + pe - eff_k, s) + 1;
    } else if (auto_pad == "VALID") {
      HWOPT_KCHECK(in[d] >= eff_k, "spatial dim {} of size {} is smaller than the kernel extent {}", d, in[d], eff_k);
      g.out[d] = (in[d] - eff_k) / s + 1;
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      g.out[d] = (in[d] + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (g.out[d] - 1) * s + eff_k - in[d]);
      g.pad_begin[d] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else {
      HWOPT_KCHECK(false, "attribute 'auto_pad' has unsupported value '{}'", auto_pad);
    }
  }
  return g;
}

/// Plain grouped convolution. x: [N, C, in...], w: [M, C/group, kernel...]; returns [N, M, out...].
template <typename Acc>
std::vector<Acc> conv_loop(const std::vector<Acc>& x, const std::vector<Acc>& w, int64_t N, int64_t C, int64_t M,
                           int64_t group, const Geometry& g) {
  const size_t nsp = g.in.size();
  const int64_t in_sp = shape_numel(g.in), out_sp = shape_numel(g.out), k_sp = shape_numel(g.kernel);
  const int64_t Cg = C / group, Mg = M / group;
  std::vector<Acc> y(static_cast<size_t>(N * M * out_sp), Acc(0));
  std::vector<std::pair<int64_t, int64_t>> taps;  // (kernel offset, input spatial offset)
  std::vector<int64_t> oi(nsp), ki(nsp);
  for (int64_t o = 0; o < out_sp; ++o) {
    for (int64_t r = o, d = static_cast<int64_t>(nsp) - 1; d >= 0; --d) {
      oi[d] = r % g.out[d];
      r /= g.out[d];
    }
    taps.clear();
    for (int64_t k = 0; k < k_sp; ++k) {
      for (int64_t r = k, d = static_cast<int64_t>(nsp) - 1; d >= 0; --d) {
        ki[d] = r % g.kernel[d];
        r /= g.kernel[d];
      }
      int64_t off = 0;
      bool inside = true;
      for (size_t d = 0; d < nsp && inside; ++d) {
        const int64_t pos = oi[d] * g.strides[d] - g.pad_begin[d] + ki[d] * g.dilations[d];
        inside = pos >= 0 && pos < g.in[d];
        off = off * g.in[d] + pos;
      }
      if (inside) taps.emplace_back(k, off);
    }
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t m = 0; m < M; ++m) {
        const int64_t grp = m / Mg;
        Acc acc = 0;
        for (int64_t cc = 0; cc < Cg; ++cc) {
          const Acc* xb = x.data() + (n * C + grp * Cg + cc) * in_sp;
          const Acc* wb = w.data() + (m * Cg + cc) * k_sp;
          for (const auto& [k, off] : taps) acc += wb[k] * xb[off];
        }
        y[(n * M + m) * out_sp + o] = acc;
      }
    }
  }
  return y;
}

/// Validates X/W shapes and group; returns the geometry. Sets N, C, M.
Geometry check_conv_shapes(const KernelContext& ctx, const Tensor& x, const Tensor& w, int64_t group, int64_t& N,
                           int64_t& C, int64_t& M) {
  HWOPT_KCHECK(x.rank() >= 3, "input X must have rank >= 3 (N, C, spatial...), got shape {}", shape_str(x.shape()));
  HWOPT_KCHECK(w.rank() == x.rank(), "input W has rank {} but X has rank {} (shapes {} and {})", w.rank(), x.rank(),
               shape_str(w.shape()), shape_str(x.shape()));
  HWOPT_KCHECK(group >= 1, "attribute 'group' must be >= 1, got {}", group);
  N = x.dim(0);
  C = x.dim(1);
  M = w.dim(0);
  HWOPT_KCHECK(C % group == 0, "input channels {} are not divisible by group {}", C, group);
  HWOPT_KCHECK(M % group == 0, "output channels {} (W dim 0) are not divisible by group {}", M, group);
  HWOPT_KCHECK(w.dim(1) == C / group, "W dim 1 is {} but X has {} channels in {} groups (expected {})", w.dim(1), C,
               group, C / group);
  Shape in(x.shape().begin() + 2, x.shape().end());
  Shape kernel(w.shape().begin() + 2, w.shape().end());
  if (ctx.has_attr("kernel_shape")) {
    auto ks = ctx.attr_ints("kernel_shape");
    HWOPT_KCHECK(ks == kernel, "attribute 'kernel_shape' {} does not match W's spatial shape {}", shape_str(ks),
                 shape_str(kernel));
  }
  return conv_geometry(ctx, in, kernel);
}

Shape out_shape(int64_t N, int64_t M, const Geometry& g) {
  Shape s{N, M};
  s.insert(s.end(), g.out.begin(), g.out.end());
  return s;
}

void ref_conv(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const Tensor w = ctx.input(1).contiguous();
  HWOPT_KCHECK(x.dtype() == w.dtype(), "X ({}) and W ({}) must have the same dtype", dtype_name(x.dtype()),
               dtype_name(w.dtype()));
  const int64_t group = ctx.attr_int("group", 1);
  int64_t N, C, M;
  const Geometry g = check_conv_shapes(ctx, x, w, group, N, C, M);
  Tensor b;
  if (ctx.has_input(2)) {
    b = ctx.input(2).contiguous();
    HWOPT_KCHECK(b.dtype() == x.dtype(), "B ({}) must have X's dtype {}", dtype_name(b.dtype()), dtype_name(x.dtype()));
    HWOPT_KCHECK(b.rank() == 1 && b.dim(0) == M, "B must have shape [{}], got {}", M, shape_str(b.shape()));
  }
  visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::vector<double> xv(static_cast<size_t>(x.numel())), wv(static_cast<size_t>(w.numel()));
    for (int64_t i = 0; i < x.numel(); ++i) xv[i] = to_dbl(x.data<T>()[i]);
    for (int64_t i = 0; i < w.numel(); ++i) wv[i] = to_dbl(w.data<T>()[i]);
    std::vector<double> yv = conv_loop(xv, wv, N, C, M, group, g);
    Tensor& y = ctx.allocate_output(0, x.dtype(), out_shape(N, M, g));
    const int64_t out_sp = shape_numel(g.out);
    T* yp = y.data<T>();
    for (int64_t i = 0; i < y.numel(); ++i) {
      double v = yv[i];
      if (b.defined()) v += to_dbl(b.data<T>()[(i / out_sp) % M]);
      yp[i] = from_dbl<T>(v);
    }
  });
}

/// Reads a uint8/int8/int32 tensor as int64 values.
std::vector<int64_t> read_ints(const Tensor& t, const char* name) {
  HWOPT_KCHECK(t.dtype() == DType::uint8 || t.dtype() == DType::int8 || t.dtype() == DType::int32,
               "input {} must be uint8, int8 or int32, got {}", name, dtype_name(t.dtype()));
  Tensor c = t.contiguous();
  std::vector<int64_t> v(static_cast<size_t>(c.numel()));
  visit_integer(c.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t i = 0; i < c.numel(); ++i) v[i] = static_cast<int64_t>(c.data<T>()[i]);
  });
  return v;
}

/// A per-tensor zero point (or 0 if absent).
int64_t scalar_zero_point(const KernelContext& ctx, size_t idx, const char* name, DType expected) {
  if (!ctx.has_input(idx)) return 0;
  const Tensor& t = ctx.input(idx);
  HWOPT_KCHECK(t.numel() == 1, "{} must be a scalar (per-tensor), got shape {}", name, shape_str(t.shape()));
  HWOPT_KCHECK(t.dtype() == expected, "{} has dtype {} but must match its input's dtype {}", name,
               dtype_name(t.dtype()), dtype_name(expected));
  return read_ints(t, name)[0];
}

/// A per-tensor or per-output-channel (size M) vector of zero points.
std::vector<int64_t> channel_zero_points(const KernelContext& ctx, size_t idx, const char* name, DType expected,
                                         int64_t M) {
  if (!ctx.has_input(idx)) return std::vector<int64_t>(static_cast<size_t>(M), 0);
  const Tensor& t = ctx.input(idx);
  HWOPT_KCHECK(t.dtype() == expected, "{} has dtype {} but must match its input's dtype {}", name,
               dtype_name(t.dtype()), dtype_name(expected));
  HWOPT_KCHECK(t.numel() == 1 || (t.rank() == 1 && t.dim(0) == M), "{} must be a scalar or have shape [{}], got {}",
               name, M, shape_str(t.shape()));
  std::vector<int64_t> v = read_ints(t, name);
  if (v.size() == 1) v.assign(static_cast<size_t>(M), v[0]);
  return v;
}

/// Shared integer part of ConvInteger and QLinearConv: (x - xzp) conv (w - wzp[m]) in int64.
std::vector<int64_t> integer_conv(const Tensor& x, const Tensor& w, int64_t xzp, const std::vector<int64_t>& wzp,
                                  int64_t N, int64_t C, int64_t M, int64_t group, const Geometry& g) {
  std::vector<int64_t> xv = read_ints(x, "x"), wv = read_ints(w, "w");
  for (auto& v : xv) v -= xzp;
  const int64_t per_m = w.numel() / std::max<int64_t>(M, 1);
  for (int64_t i = 0; i < w.numel(); ++i) wv[i] -= wzp[i / per_m];
  return conv_loop(xv, wv, N, C, M, group, g);
}

void check_8bit(const Tensor& t, const char* name) {
  HWOPT_KCHECK(t.dtype() == DType::uint8 || t.dtype() == DType::int8, "input {} must be uint8 or int8, got {}", name,
               dtype_name(t.dtype()));
}

void ref_conv_integer(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  check_8bit(x, "x");
  check_8bit(w, "w");
  const int64_t group = ctx.attr_int("group", 1);
  int64_t N, C, M;
  const Geometry g = check_conv_shapes(ctx, x, w, group, N, C, M);
  const int64_t xzp = scalar_zero_point(ctx, 2, "x_zero_point", x.dtype());
  const std::vector<int64_t> wzp = channel_zero_points(ctx, 3, "w_zero_point", w.dtype(), M);
  std::vector<int64_t> acc = integer_conv(x, w, xzp, wzp, N, C, M, group, g);
  Tensor& y = ctx.allocate_output(0, DType::int32, out_shape(N, M, g));
  for (int64_t i = 0; i < y.numel(); ++i) y.data<int32_t>()[i] = static_cast<int32_t>(acc[i]);
}

/// A float32 scale: scalar, or per-channel with M values when M > 0.
std::vector<float> read_scales(const KernelContext& ctx, size_t idx, const char* name, int64_t M) {
  const Tensor t = ctx.input(idx).contiguous();
  HWOPT_KCHECK(t.dtype() == DType::float32, "{} must be float32, got {}", name, dtype_name(t.dtype()));
  if (M > 0) {
    HWOPT_KCHECK(t.numel() == 1 || (t.rank() == 1 && t.dim(0) == M), "{} must be a scalar or have shape [{}], got {}",
                 name, M, shape_str(t.shape()));
  } else {
    HWOPT_KCHECK(t.numel() == 1, "{} must be a scalar, got shape {}", name, shape_str(t.shape()));
  }
  std::vector<float> v(t.data<float>(), t.data<float>() + t.numel());
  if (M > 0 && v.size() == 1) v.assign(static_cast<size_t>(M), v[0]);
  return v;
}

void ref_qlinear_conv(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(3);
  check_8bit(x, "x");
  check_8bit(w, "w");
  const int64_t group = ctx.attr_int("group", 1);
  int64_t N, C, M;
  const Geometry g = check_conv_shapes(ctx, x, w, group, N, C, M);
  const float x_scale = read_scales(ctx, 1, "x_scale", 0)[0];
  const int64_t xzp = scalar_zero_point(ctx, 2, "x_zero_point", x.dtype());
  const std::vector<float> w_scale = read_scales(ctx, 4, "w_scale", M);
  const std::vector<int64_t> wzp = channel_zero_points(ctx, 5, "w_zero_point", w.dtype(), M);
  const float y_scale = read_scales(ctx, 6, "y_scale", 0)[0];
  DType ydt = x.dtype();
  int64_t yzp = 0;
  if (ctx.has_input(7)) {
    ydt = ctx.input(7).dtype();
    check_8bit(ctx.input(7), "y_zero_point");
    yzp = scalar_zero_point(ctx, 7, "y_zero_point", ydt);
  }
  std::vector<int64_t> bias(static_cast<size_t>(M), 0);
  if (ctx.has_input(8)) {
    const Tensor& b = ctx.input(8);
    HWOPT_KCHECK(b.dtype() == DType::int32, "B must be int32, got {}", dtype_name(b.dtype()));
    HWOPT_KCHECK(b.rank() == 1 && b.dim(0) == M, "B must have shape [{}], got {}", M, shape_str(b.shape()));
    bias = read_ints(b, "B");
  }
  std::vector<int64_t> acc = integer_conv(x, w, xzp, wzp, N, C, M, group, g);
  Tensor& y = ctx.allocate_output(0, ydt, out_shape(N, M, g));
  const int64_t out_sp = shape_numel(g.out);
  const double lo = ydt == DType::uint8 ? 0 : -128, hi = ydt == DType::uint8 ? 255 : 127;
  for (int64_t i = 0; i < y.numel(); ++i) {
    const int64_t m = (i / out_sp) % M;
    const float scale = x_scale * w_scale[m] / y_scale;
    double v =
        std::nearbyint(static_cast<double>(acc[i] + bias[m]) * static_cast<double>(scale)) + static_cast<double>(yzp);
    v = std::min(hi, std::max(lo, v));
    if (ydt == DType::uint8) {
      y.data<uint8_t>()[i] = static_cast<uint8_t>(v);
    } else {
      y.data<int8_t>()[i] = static_cast<int8_t>(v);
    }
  }
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Conv", "", 1, ref_conv);
HWOPT_REGISTER_REF_KERNEL("ConvInteger", "", 10, ref_conv_integer);
HWOPT_REGISTER_REF_KERNEL("QLinearConv", "", 10, ref_qlinear_conv);

}  // namespace hwopt::reference
