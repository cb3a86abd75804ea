// Pooling: MaxPool (with Indices), AveragePool, LpPool, GlobalAverage/Max/LpPool and MaxUnpool.
#include <cmath>
#include <limits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"
#include "core/int_math.h"

namespace hwopt::reference {
namespace {

/// One pooling window: the input positions it covers (row-major and column-major spatial offsets)
/// and how many of its taps lie inside the padded input (the count_include_pad divisor).
struct Window {
  std::vector<int64_t> offsets;
  std::vector<int64_t> col_offsets;
  int64_t padded_count = 0;
};

/// Pooling geometry from kernel_shape/strides/dilations/pads/auto_pad/ceil_mode; one Window per output position.
struct PoolPlan {
  Shape in, out;
  std::vector<Window> windows;
};

PoolPlan plan_pool(const KernelContext& ctx, const Tensor& x) {
  HWOPT_KCHECK(x.rank() >= 3, "input X must have rank >= 3 (N, C, spatial...), got shape {}", shape_str(x.shape()));
  const size_t n = static_cast<size_t>(x.rank() - 2);
  PoolPlan p;
  p.in.assign(x.shape().begin() + 2, x.shape().end());
  HWOPT_KCHECK(ctx.has_attr("kernel_shape"), "attribute 'kernel_shape' is required");
  const auto kernel = ctx.attr_ints("kernel_shape");
  const auto strides = ctx.attr_ints("strides", std::vector<int64_t>(n, 1));
  const auto dilations = ctx.attr_ints("dilations", std::vector<int64_t>(n, 1));
  const auto pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * n, 0));
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  const bool ceil_mode = ctx.attr_int("ceil_mode", 0) != 0;
  HWOPT_KCHECK(kernel.size() == n, "attribute 'kernel_shape' has {} values, expected {} for input shape {}",
               kernel.size(), n, shape_str(x.shape()));
  HWOPT_KCHECK(strides.size() == n, "attribute 'strides' has {} values, expected {}", strides.size(), n);
  HWOPT_KCHECK(dilations.size() == n, "attribute 'dilations' has {} values, expected {}", dilations.size(), n);
  HWOPT_KCHECK(pads.size() == 2 * n, "attribute 'pads' has {} values, expected {}", pads.size(), 2 * n);
  std::vector<int64_t> pb(n, 0), pe(n, 0);
  p.out.assign(n, 0);
  for (size_t d = 0; d < n; ++d) {
    const int64_t k = kernel[d], s = strides[d], dil = dilations[d], in = p.in[d];
    HWOPT_KCHECK(k > 0, "attribute 'kernel_shape' must be positive, got {}", k);
    HWOPT_KCHECK(s > 0, "attribute 'strides' must be positive, got {}", s);
    HWOPT_KCHECK(dil > 0, "attribute 'dilations' must be positive, got {}", dil);
    const int64_t eff_k = (k - 1) * dil + 1;
    if (auto_pad == "NOTSET") {
      pb[d] = pads[d];
      pe[d] = pads[d + n];
      HWOPT_KCHECK(pb[d] >= 0 && pe[d] >= 0, "attribute 'pads' must be non-negative, got {} and {}", pb[d], pe[d]);
      const int64_t span = in + pb[d] + pe[d] - eff_k;
      HWOPT_KCHECK(span >= 0, "spatial dim {} of size {} (padded by {}+{}) is smaller than the kernel extent {}", d, in,
                   pb[d], pe[d], eff_k);
      p.out[d] = (ceil_mode ? ceil_div(span, s) : span / s) + 1;
      // A window that would start inside the end padding is dropped (ceil_mode only).
      if (ceil_mode && (p.out[d] - 1) * s >= in + pb[d]) --p.out[d];
    } else if (auto_pad == "VALID") {
      HWOPT_KCHECK(in >= eff_k, "spatial dim {} of size {} is smaller than the kernel extent {}", d, in, eff_k);
      p.out[d] = (ceil_mode ? ceil_div(in - eff_k, s) : (in - eff_k) / s) + 1;
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      p.out[d] = ceil_div(in, s);
      const int64_t total = std::max<int64_t>(0, (p.out[d] - 1) * s + eff_k - in);
      pb[d] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe[d] = total - pb[d];
    } else {
      HWOPT_KCHECK(false, "attribute 'auto_pad' has unsupported value '{}'", auto_pad);
    }
  }
  const int64_t out_sp = shape_numel(p.out);
  int64_t k_sp = 1;
  for (int64_t k : kernel) k_sp *= k;
  p.windows.resize(static_cast<size_t>(out_sp));
  std::vector<int64_t> oi(n), ki(n), pos(n);
  for (int64_t o = 0; o < out_sp; ++o) {
    for (int64_t r = o, d = static_cast<int64_t>(n) - 1; d >= 0; --d) {
      oi[d] = r % p.out[d];
      r /= p.out[d];
    }
    Window& w = p.windows[o];
    for (int64_t k = 0; k < k_sp; ++k) {
      for (int64_t r = k, d = static_cast<int64_t>(n) - 1; d >= 0; --d) {
        ki[d] = r % kernel[d];
        r /= kernel[d];
      }
      bool inside = true, in_padded = true;
      for (size_t d = 0; d < n; ++d) {
        pos[d] = oi[d] * strides[d] - pb[d] + ki[d] * dilations[d];
        inside = inside && pos[d] >= 0 && pos[d] < p.in[d];
        in_padded = in_padded && pos[d] >= -pb[d] && pos[d] < p.in[d] + pe[d];
      }
      if (in_padded) ++w.padded_count;
      if (!inside) continue;
      int64_t off = 0, col = 0, mul = 1;
      for (size_t d = 0; d < n; ++d) {
        off = off * p.in[d] + pos[d];
        col += pos[d] * mul;
        mul *= p.in[d];
      }
      w.offsets.push_back(off);
      w.col_offsets.push_back(col);
    }
  }
  return p;
}

Shape pooled_shape(const Tensor& x, const Shape& out) {
  Shape s{x.dim(0), x.dim(1)};
  s.insert(s.end(), out.begin(), out.end());
  return s;
}

void ref_max_pool(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const PoolPlan p = plan_pool(ctx, x);
  const int64_t storage_order = ctx.attr_int("storage_order", 0);
  HWOPT_KCHECK(storage_order == 0 || storage_order == 1, "attribute 'storage_order' must be 0 or 1, got {}",
               storage_order);
  const int64_t planes = x.dim(0) * x.dim(1), in_sp = shape_numel(p.in), out_sp = shape_numel(p.out);
  const Shape ys = pooled_shape(x, p.out);
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x.data<T>();
    Tensor& y = ctx.allocate_output(0, x.dtype(), ys);
    T* yp = y.data<T>();
    int64_t* ip = nullptr;
    if (ctx.num_outputs() > 1 && ctx.wants_output(1)) ip = ctx.allocate_output(1, DType::int64, ys).data<int64_t>();
    for (int64_t c = 0; c < planes; ++c) {
      for (int64_t o = 0; o < out_sp; ++o) {
        const Window& w = p.windows[o];
        int64_t best = -1;
        for (size_t t = 0; t < w.offsets.size(); ++t) {
          if (best < 0 || to_dbl(xp[c * in_sp + w.offsets[t]]) > to_dbl(xp[c * in_sp + w.offsets[best]])) {
            best = static_cast<int64_t>(t);
          }
        }
        if (best < 0) {  // window lies entirely in the padding
          if constexpr (std::is_integral_v<T>) {
            yp[c * out_sp + o] = std::numeric_limits<T>::lowest();
          } else {
            yp[c * out_sp + o] = from_dbl<T>(-INFINITY);
          }
          if (ip) ip[c * out_sp + o] = -1;
          continue;
        }
        yp[c * out_sp + o] = xp[c * in_sp + w.offsets[best]];
        if (ip) ip[c * out_sp + o] = c * in_sp + (storage_order ? w.col_offsets[best] : w.offsets[best]);
      }
    }
  };
  if (x.dtype() == DType::uint8) {
    run(type_tag<uint8_t>{});
  } else if (x.dtype() == DType::int8) {
    run(type_tag<int8_t>{});
  } else {
    visit_float(x.dtype(), run);
  }
}

/// AveragePool (mode 0) and LpPool (mode 1).
void pool_average_or_lp(KernelContext& ctx, bool lp) {
  const Tensor x = ctx.input(0).contiguous();
  const PoolPlan p = plan_pool(ctx, x);
  const bool include_pad = !lp && ctx.attr_int("count_include_pad", 0) != 0;
  const double pw = lp ? static_cast<double>(ctx.attr_float("p", 2.0f)) : 1.0;
  HWOPT_KCHECK(pw > 0, "attribute 'p' must be positive, got {}", pw);
  const int64_t planes = x.dim(0) * x.dim(1), in_sp = shape_numel(p.in), out_sp = shape_numel(p.out);
  visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x.data<T>();
    Tensor& y = ctx.allocate_output(0, x.dtype(), pooled_shape(x, p.out));
    T* yp = y.data<T>();
    for (int64_t c = 0; c < planes; ++c) {
      for (int64_t o = 0; o < out_sp; ++o) {
        const Window& w = p.windows[o];
        double acc = 0;
        for (int64_t off : w.offsets) {
          const double v = to_dbl(xp[c * in_sp + off]);
          acc += lp ? std::pow(std::fabs(v), pw) : v;
        }
        double r;
        if (lp) {
          r = std::pow(acc, 1.0 / pw);
        } else {
          const int64_t count = include_pad ? w.padded_count : static_cast<int64_t>(w.offsets.size());
          r = count > 0 ? acc / static_cast<double>(count) : 0.0;
        }
        yp[c * out_sp + o] = from_dbl<T>(r);
      }
    }
  });
}

void ref_average_pool(KernelContext& ctx) { pool_average_or_lp(ctx, false); }
void ref_lp_pool(KernelContext& ctx) { pool_average_or_lp(ctx, true); }

enum class GlobalKind { average, max, lp };

void global_pool(KernelContext& ctx, GlobalKind kind) {
  const Tensor x = ctx.input(0).contiguous();
  HWOPT_KCHECK(x.rank() >= 2, "input X must have rank >= 2 (N, C, spatial...), got shape {}", shape_str(x.shape()));
  const double pw = kind == GlobalKind::lp ? static_cast<double>(ctx.attr_float("p", 2.0f)) : 1.0;
  HWOPT_KCHECK(pw > 0, "attribute 'p' must be positive, got {}", pw);
  const int64_t planes = x.dim(0) * x.dim(1), sp = dims_product(x.shape(), 2, x.rank());
  HWOPT_KCHECK(kind != GlobalKind::max || sp > 0 || planes == 0,
               "GlobalMaxPool needs a non-empty spatial extent, got {}", shape_str(x.shape()));
  Shape ys{x.dim(0), x.dim(1)};
  ys.resize(static_cast<size_t>(x.rank()), 1);
  visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x.data<T>();
    Tensor& y = ctx.allocate_output(0, x.dtype(), ys);
    T* yp = y.data<T>();
    for (int64_t c = 0; c < planes; ++c) {
      double acc = kind == GlobalKind::max ? -INFINITY : 0.0;
      for (int64_t i = 0; i < sp; ++i) {
        const double v = to_dbl(xp[c * sp + i]);
        if (kind == GlobalKind::max) {
          if (v > acc || std::isnan(v)) acc = v;
        } else if (kind == GlobalKind::lp) {
          acc += std::pow(std::fabs(v), pw);
        } else {
          acc += v;
        }
      }
      if (kind == GlobalKind::average) acc = sp > 0 ? acc / static_cast<double>(sp) : 0.0;
      if (kind == GlobalKind::lp) acc = std::pow(acc, 1.0 / pw);
      yp[c] = from_dbl<T>(acc);
    }
  });
}

void ref_global_average_pool(KernelContext& ctx) { global_pool(ctx, GlobalKind::average); }
void ref_global_max_pool(KernelContext& ctx) { global_pool(ctx, GlobalKind::max); }
void ref_global_lp_pool(KernelContext& ctx) { global_pool(ctx, GlobalKind::lp); }

void ref_max_unpool(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const Tensor ind = ctx.input(1).contiguous();
  HWOPT_KCHECK(x.rank() >= 3, "input X must have rank >= 3 (N, C, spatial...), got shape {}", shape_str(x.shape()));
  HWOPT_KCHECK(ind.dtype() == DType::int64, "input I must be int64, got {}", dtype_name(ind.dtype()));
  HWOPT_KCHECK(ind.shape() == x.shape(), "input I has shape {} but X has shape {}", shape_str(ind.shape()),
               shape_str(x.shape()));
  const size_t n = static_cast<size_t>(x.rank() - 2);
  HWOPT_KCHECK(ctx.has_attr("kernel_shape"), "attribute 'kernel_shape' is required");
  const auto kernel = ctx.attr_ints("kernel_shape");
  const auto strides = ctx.attr_ints("strides", std::vector<int64_t>(n, 1));
  const auto pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * n, 0));
  HWOPT_KCHECK(kernel.size() == n, "attribute 'kernel_shape' has {} values, expected {}", kernel.size(), n);
  HWOPT_KCHECK(strides.size() == n, "attribute 'strides' has {} values, expected {}", strides.size(), n);
  HWOPT_KCHECK(pads.size() == 2 * n, "attribute 'pads' has {} values, expected {}", pads.size(), 2 * n);
  Shape inferred{x.dim(0), x.dim(1)};
  for (size_t d = 0; d < n; ++d) {
    HWOPT_KCHECK(kernel[d] > 0 && strides[d] > 0, "attributes 'kernel_shape' and 'strides' must be positive");
    HWOPT_KCHECK(pads[d] >= 0 && pads[d + n] >= 0, "attribute 'pads' must be non-negative");
    const int64_t dim = (x.dim(static_cast<int64_t>(d) + 2) - 1) * strides[d] - pads[d] - pads[d + n] + kernel[d];
    HWOPT_KCHECK(dim >= 0, "output dim {} would be negative ({})", d, dim);
    inferred.push_back(dim);
  }
  Shape out = inferred;
  if (ctx.has_input(2)) {
    out = to_int64_vector(ctx.input(2));
    HWOPT_KCHECK(out.size() == inferred.size(), "output_shape has {} values, expected {}", out.size(), inferred.size());
    HWOPT_KCHECK(out[0] == inferred[0] && out[1] == inferred[1], "output_shape {} must keep N and C of X {}",
                 shape_str(out), shape_str(x.shape()));
    for (size_t d = 2; d < out.size(); ++d) {
      HWOPT_KCHECK(out[d] >= inferred[d], "output_shape {} is smaller than the unpooled shape {}", shape_str(out),
                   shape_str(inferred));
    }
  }
  // Indices address the unpooled (inferred) shape; the result sits at the origin of `out`.
  const int64_t inferred_numel = shape_numel(inferred);
  const int64_t* ip = ind.data<int64_t>();
  visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x.data<T>();
    Tensor& y = ctx.allocate_output(0, x.dtype(), out);
    T* yp = y.data<T>();
    std::vector<int64_t> idx(out.size());
    for (int64_t i = 0; i < x.numel(); ++i) {
      const int64_t flat = ip[i];
      HWOPT_KCHECK(flat >= 0 && flat < inferred_numel, "index {} in I is out of range [0, {})", flat, inferred_numel);
      int64_t off = 0;
      for (int64_t r = flat, d = static_cast<int64_t>(out.size()) - 1; d >= 0; --d) {
        idx[d] = r % inferred[d];
        r /= inferred[d];
      }
      for (size_t d = 0; d < out.size(); ++d) off = off * out[d] + idx[d];
      yp[off] = xp[i];
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("MaxPool", "", 1, ref_max_pool);
HWOPT_REGISTER_REF_KERNEL("AveragePool", "", 1, ref_average_pool);
HWOPT_REGISTER_REF_KERNEL("LpPool", "", 1, ref_lp_pool);
HWOPT_REGISTER_REF_KERNEL("GlobalAveragePool", "", 1, ref_global_average_pool);
HWOPT_REGISTER_REF_KERNEL("GlobalMaxPool", "", 1, ref_global_max_pool);
HWOPT_REGISTER_REF_KERNEL("GlobalLpPool", "", 1, ref_global_lp_pool);
HWOPT_REGISTER_REF_KERNEL("MaxUnpool", "", 9, ref_max_unpool);

}  // namespace hwopt::reference
