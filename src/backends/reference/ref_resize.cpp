// Resize (opsets 10-19: nearest/linear/cubic, all coordinate modes, antialias, axes) and Upsample.
//
// Every output element is a weighted sum of input elements; the weights are separable: for each
// axis and output coordinate a list of (input index, weight) taps (resize_plan.h).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/resize_plan.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

template <typename T>
double to_double(const T& v) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    return static_cast<float>(v);
  } else {
    return static_cast<double>(v);
  }
}

// Stores an interpolated value: floats convert, integers round to nearest and saturate.
template <typename T>
T from_double(double v) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    return T(static_cast<float>(v));
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (std::isnan(v)) return T(0);
    const double r = std::nearbyint(v);
    if (r >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    if (r <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    return static_cast<T>(r);
  }
}

// Computes the output from per-axis plans.
void run_resize(KernelContext& ctx, const Tensor& x, const Shape& out_shape, const std::vector<double>& scales,
                const std::vector<double>& roi, const ResizeParams& p) {
  const int64_t r = x.rank();
  for (int64_t d = 0; d < r; ++d)
    HWOPT_KCHECK(out_shape[d] == 0 || x.dim(d) > 0, "cannot resize axis {} of size 0 to {}", d, out_shape[d]);
  // The output first: the per-axis tap tables are sized by the output dims, so a hostile scale
  // must fail on the output's allocation (a clean out_of_memory), not while building them.
  Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
  std::vector<AxisPlan> plans;
  for (int64_t d = 0; d < r; ++d) plans.push_back(plan_axis(p, x.dim(d), out_shape[d], scales[d], roi[d], roi[r + d]));
  Shape st(static_cast<size_t>(r), 1);
  for (int64_t d = r - 2; d >= 0; --d) st[d] = st[d + 1] * x.dim(d + 1);
  auto body = [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    std::vector<int64_t> pos(static_cast<size_t>(r), 0);
    for (int64_t i = 0; i < out.numel(); ++i) {
      bool outside = false;
      for (int64_t d = 0; d < r; ++d) outside = outside || plans[d].outside[pos[d]];
      if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool>) {
        // Only nearest reaches here: copy the single selected element.
        if (outside) {
          if constexpr (std::is_same_v<T, bool>) dst[i] = p.extrapolation_value != 0.0;
        } else {
          int64_t off = 0;
          for (int64_t d = 0; d < r; ++d) off += plans[d].taps[pos[d]][0].index * st[d];
          dst[i] = src[off];
        }
      } else if (outside) {
        dst[i] = from_double<T>(p.extrapolation_value);
      } else if (p.mode == "nearest") {
        int64_t off = 0;
        for (int64_t d = 0; d < r; ++d) off += plans[d].taps[pos[d]][0].index * st[d];
        dst[i] = src[off];
      } else {
        // Sum over the cartesian product of the taps of every axis (depth-first).
        double acc = 0.0;
        auto rec = [&](auto&& self, int64_t d, int64_t off, double w) -> void {
          if (d == r) {
            acc += w * to_double(src[off]);
            return;
          }
          for (const Tap& t : plans[d].taps[pos[d]]) self(self, d + 1, off + t.index * st[d], w * t.weight);
        };
        rec(rec, 0, 0, 1.0);
        dst[i] = from_double<T>(acc);
      }
      for (int64_t d = r - 1; d >= 0; --d) {
        if (++pos[d] < out_shape[d]) break;
        pos[d] = 0;
      }
    }
  };
  if (p.mode == "nearest") {
    visit_all(x.dtype(), body);
  } else {
    visit_numeric(x.dtype(), body);
  }
}

void ref_resize(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const ResizeSetup s = resize_setup(ctx, x);
  run_resize(ctx, x, s.out_shape, s.scales, s.roi, s.params);
}

// Upsample-7 (scales attribute) and -9 (scales input): nearest or (bi)linear with asymmetric coordinates.
void ref_upsample(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const int64_t r = x.rank();
  ResizeParams p;
  p.mode = ctx.attr_string("mode", "nearest");
  if (p.mode == "bilinear") p.mode = "linear";
  HWOPT_KCHECK(p.mode == "nearest" || p.mode == "linear", "attribute 'mode' = '{}' is not supported", p.mode);
  p.coord = "asymmetric";
  p.nearest_mode = "simple";
  std::vector<double> scales;
  if (ctx.opset() < 9) {
    HWOPT_KCHECK(ctx.has_attr("scales"), "attribute 'scales' is required");
    for (float f : ctx.attr_floats("scales")) scales.push_back(f);
  } else {
    scales = to_double_vector(ctx.input(1));
  }
  HWOPT_KCHECK(static_cast<int64_t>(scales.size()) == r, "'scales' has {} values, input has rank {}", scales.size(), r);
  for (int64_t d = 0; d < r; ++d) HWOPT_KCHECK(scales[d] >= 1.0, "Upsample scale {} for axis {} must be >= 1", scales[d], d);
  std::vector<double> roi(static_cast<size_t>(2 * r), 0.0);
  for (int64_t d = 0; d < r; ++d) roi[r + d] = 1.0;
  run_resize(ctx, x, shape_from_scales(x, scales), scales, roi, p);
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Resize", "", 10, ref_resize);
HWOPT_REGISTER_REF_KERNEL("Upsample", "", 7, ref_upsample);

}  // namespace hwopt::reference
