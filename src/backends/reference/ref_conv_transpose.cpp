// ConvTranspose: N-D transposed convolution (groups, dilations, pads, output_padding, output_shape, auto_pad).
#include <utility>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"
#include "core/int_math.h"

namespace hwopt::reference {
namespace {

void ref_conv_transpose(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const Tensor w = ctx.input(1).contiguous();
  HWOPT_KCHECK(x.dtype() == w.dtype(), "X ({}) and W ({}) must have the same dtype", dtype_name(x.dtype()),
               dtype_name(w.dtype()));
  HWOPT_KCHECK(x.rank() >= 3, "input X must have rank >= 3 (N, C, spatial...), got shape {}", shape_str(x.shape()));
  HWOPT_KCHECK(w.rank() == x.rank(), "input W has rank {} but X has rank {} (shapes {} and {})", w.rank(), x.rank(),
               shape_str(w.shape()), shape_str(x.shape()));
  const int64_t group = ctx.attr_int("group", 1);
  HWOPT_KCHECK(group >= 1, "attribute 'group' must be >= 1, got {}", group);
  const int64_t N = x.dim(0), C = x.dim(1);
  HWOPT_KCHECK(C % group == 0, "input channels {} are not divisible by group {}", C, group);
  HWOPT_KCHECK(w.dim(0) == C, "W dim 0 is {} but X has {} channels", w.dim(0), C);
  const int64_t Cg = C / group, Mg = w.dim(1), M = Mg * group;
  const size_t n = static_cast<size_t>(x.rank() - 2);
  const Shape in(x.shape().begin() + 2, x.shape().end());
  const Shape kernel(w.shape().begin() + 2, w.shape().end());
  if (ctx.has_attr("kernel_shape")) {
    auto ks = ctx.attr_ints("kernel_shape");
    HWOPT_KCHECK(ks == kernel, "attribute 'kernel_shape' {} does not match W's spatial shape {}", shape_str(ks),
                 shape_str(kernel));
  }
  const auto strides = ctx.attr_ints("strides", std::vector<int64_t>(n, 1));
  const auto dilations = ctx.attr_ints("dilations", std::vector<int64_t>(n, 1));
  const auto out_pad = ctx.attr_ints("output_padding", std::vector<int64_t>(n, 0));
  const auto pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * n, 0));
  auto out_shape_attr = ctx.attr_ints("output_shape");
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  HWOPT_KCHECK(strides.size() == n, "attribute 'strides' has {} values, expected {}", strides.size(), n);
  HWOPT_KCHECK(dilations.size() == n, "attribute 'dilations' has {} values, expected {}", dilations.size(), n);
  HWOPT_KCHECK(out_pad.size() == n, "attribute 'output_padding' has {} values, expected {}", out_pad.size(), n);
  HWOPT_KCHECK(pads.size() == 2 * n, "attribute 'pads' has {} values, expected {}", pads.size(), 2 * n);
  if (out_shape_attr.size() == n + 2) out_shape_attr.erase(out_shape_attr.begin(), out_shape_attr.begin() + 2);
  HWOPT_KCHECK(out_shape_attr.empty() || out_shape_attr.size() == n,
               "attribute 'output_shape' has {} values, expected {}", out_shape_attr.size(), n);
  HWOPT_KCHECK(auto_pad == "NOTSET" || auto_pad == "VALID" || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER",
               "attribute 'auto_pad' has unsupported value '{}'", auto_pad);

  Shape out(n);
  std::vector<int64_t> pad_begin(n);
  for (size_t d = 0; d < n; ++d) {
    HWOPT_KCHECK(strides[d] > 0, "attribute 'strides' must be positive, got {}", strides[d]);
    HWOPT_KCHECK(dilations[d] > 0, "attribute 'dilations' must be positive, got {}", dilations[d]);
    HWOPT_KCHECK(out_pad[d] >= 0, "attribute 'output_padding' must be non-negative, got {}", out_pad[d]);
    HWOPT_KCHECK(kernel[d] > 0, "kernel dim {} must be positive, got {}", d, kernel[d]);
    const int64_t full = strides[d] * (in[d] - 1) + out_pad[d] + (kernel[d] - 1) * dilations[d] + 1;
    int64_t target = -1;
    if (!out_shape_attr.empty()) {
      target = out_shape_attr[d];
      HWOPT_KCHECK(target >= 0, "attribute 'output_shape' must be non-negative, got {}", target);
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      target = in[d] * strides[d];
    }
    if (target >= 0) {
      const int64_t total = full - target;
      if (auto_pad == "SAME_UPPER") {
        pad_begin[d] = floor_div(total, 2);
      } else {
        pad_begin[d] = total - floor_div(total, 2);
      }
      out[d] = target;
    } else if (auto_pad == "VALID") {
      out[d] = full;
    } else {
      HWOPT_KCHECK(pads[d] >= 0 && pads[d + n] >= 0, "attribute 'pads' must be non-negative, got {} and {}", pads[d],
                   pads[d + n]);
      pad_begin[d] = pads[d];
      out[d] = full - pads[d] - pads[d + n];
      HWOPT_KCHECK(out[d] >= 0, "output dim {} would be {} (pads {}+{} exceed the full output {})", d, out[d], pads[d],
                   pads[d + n], full);
    }
  }

  Tensor b;
  if (ctx.has_input(2)) {
    b = ctx.input(2).contiguous();
    HWOPT_KCHECK(b.dtype() == x.dtype(), "B ({}) must have X's dtype {}", dtype_name(b.dtype()), dtype_name(x.dtype()));
    HWOPT_KCHECK(b.rank() == 1 && b.dim(0) == M, "B must have shape [{}], got {}", M, shape_str(b.shape()));
  }

  const int64_t in_sp = shape_numel(in), out_sp = shape_numel(out), k_sp = shape_numel(kernel);
  Shape y_shape{N, M};
  y_shape.insert(y_shape.end(), out.begin(), out.end());
  visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x.data<T>();
    const T* wp = w.data<T>();
    std::vector<double> acc(static_cast<size_t>(N * M * out_sp), 0.0);
    std::vector<std::pair<int64_t, int64_t>> taps;  // (kernel offset, output spatial offset)
    std::vector<int64_t> ii(n), ki(n);
    for (int64_t i = 0; i < in_sp; ++i) {
      for (int64_t r = i, d = static_cast<int64_t>(n) - 1; d >= 0; --d) {
        ii[d] = r % in[d];
        r /= in[d];
      }
      taps.clear();
      for (int64_t k = 0; k < k_sp; ++k) {
        for (int64_t r = k, d = static_cast<int64_t>(n) - 1; d >= 0; --d) {
          ki[d] = r % kernel[d];
          r /= kernel[d];
        }
        int64_t off = 0;
        bool inside = true;
        for (size_t d = 0; d < n && inside; ++d) {
          const int64_t pos = ii[d] * strides[d] - pad_begin[d] + ki[d] * dilations[d];
          inside = pos >= 0 && pos < out[d];
          off = off * out[d] + pos;
        }
        if (inside) taps.emplace_back(k, off);
      }
      for (int64_t b_ = 0; b_ < N; ++b_) {
        for (int64_t c = 0; c < C; ++c) {
          const int64_t grp = c / Cg;
          const double xv = to_dbl(xp[(b_ * C + c) * in_sp + i]);
          for (int64_t mm = 0; mm < Mg; ++mm) {
            const int64_t m = grp * Mg + mm;
            const T* wb = wp + (c * Mg + mm) * k_sp;
            double* yb = acc.data() + (b_ * M + m) * out_sp;
            for (const auto& [k, off] : taps) yb[off] += xv * to_dbl(wb[k]);
          }
        }
      }
    }
    Tensor& y = ctx.allocate_output(0, x.dtype(), y_shape);
    T* yp = y.data<T>();
    for (int64_t e = 0; e < y.numel(); ++e) {
      double v = acc[e];
      if (b.defined()) v += to_dbl(b.data<T>()[(e / std::max<int64_t>(out_sp, 1)) % M]);
      yp[e] = from_dbl<T>(v);
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("ConvTranspose", "", 1, ref_conv_transpose);

}  // namespace hwopt::reference
