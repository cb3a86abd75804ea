#include "backends/reference/resize_plan.h"

#include <algorithm>
#include <cmath>

#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

// Maps output coordinate x of an axis to the input coordinate (may lie outside [0, in-1]).
double original_coordinate(const ResizeParams& p, int64_t x_out, int64_t in, int64_t out, double scale,
                           double roi_start, double roi_end) {
  const double x = static_cast<double>(x_out);
  const double out_width = scale * static_cast<double>(in);  // unrounded, as in the ONNX reference
  const std::string& m = p.coord;
  if (m == "align_corners") return out_width == 1.0 ? 0.0 : x * static_cast<double>(in - 1) / (out_width - 1.0);
  if (m == "asymmetric") return x / scale;
  if (m == "tf_crop_and_resize") {
    const double span = (roi_end - roi_start) * static_cast<double>(in - 1);
    const double v = out_width == 1.0 ? span / 2.0 : x * span / (out_width - 1.0);
    return v + roi_start * static_cast<double>(in - 1);
  }
  if (m == "pytorch_half_pixel") return out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
  if (m == "half_pixel") return (x + 0.5) / scale - 0.5;
  if (m == "half_pixel_symmetric") {
    const double adjustment = static_cast<double>(out) / out_width;
    const double offset = static_cast<double>(in) / 2.0 * (1.0 - adjustment);
    return offset + (x + 0.5) / scale - 0.5;
  }
  if (m == "tf_half_pixel_for_nn") return (x + 0.5) / scale;
  HWOPT_KCHECK(false, "attribute 'coordinate_transformation_mode' = '{}' is not supported", m);
  return 0.0;
}

double cubic_kernel(double x, double a) {
  x = std::fabs(x);
  if (x <= 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
  return 0.0;
}

// Nearest input index for coordinate v (before clamping).
int64_t nearest_index(const ResizeParams& p, double v, double scale) {
  const double fl = std::floor(v);
  const double frac = v - fl;
  const auto base = static_cast<int64_t>(fl);
  if (frac == 0.0) return base;
  const std::string& m = p.nearest_mode;
  if (m == "round_prefer_floor") return frac <= 0.5 ? base : base + 1;
  if (m == "round_prefer_ceil") return frac < 0.5 ? base : base + 1;
  if (m == "floor") return base;
  if (m == "ceil") return base + 1;
  if (m == "simple") return scale < 1.0 ? base + 1 : base;  // Upsample / Resize-10: ceil when downsampling
  HWOPT_KCHECK(false, "attribute 'nearest_mode' = '{}' is not supported", m);
  return base;
}

}  // namespace

AxisPlan plan_axis(const ResizeParams& p, int64_t in, int64_t out, double scale, double roi_start, double roi_end) {
  AxisPlan plan;
  plan.taps.resize(static_cast<size_t>(out));
  plan.outside.assign(static_cast<size_t>(out), false);
  for (int64_t x = 0; x < out; ++x) {
    const double v = original_coordinate(p, x, in, out, scale, roi_start, roi_end);
    HWOPT_KCHECK(std::isfinite(v), "resize coordinate for output index {} is not finite (scale {})", x, scale);
    if (p.coord == "tf_crop_and_resize" && (v < 0.0 || v > static_cast<double>(in - 1))) {
      plan.outside[x] = true;
      continue;
    }
    std::vector<Tap>& taps = plan.taps[x];
    if (p.mode == "nearest") {
      taps.push_back({std::clamp<int64_t>(nearest_index(p, v, scale), 0, in - 1), 1.0});
      continue;
    }
    // Left neighbor `base` and ratio in (0, 1]: an integer coordinate uses ratio 1 (reference convention).
    double base_f = std::floor(v);
    double ratio = v - base_f;
    if (ratio == 0.0) {
      base_f -= 1.0;
      ratio = 1.0;
    }
    const auto base = static_cast<int64_t>(base_f);
    int64_t start = 0;
    std::vector<double> w;
    const double s = std::min(scale, 1.0);
    if (p.mode == "linear" && !p.antialias) {
      w = {1.0 - ratio, ratio};
    } else if (p.mode == "cubic" && !p.antialias) {
      start = -1;
      for (int64_t k = -1; k <= 2; ++k) w.push_back(cubic_kernel(static_cast<double>(k) - ratio, p.cubic_a));
    } else if (p.mode == "linear") {  // antialias: triangle filter stretched by 1/scale
      start = static_cast<int64_t>(std::floor(-1.0 / s)) + 1;
      const int64_t n = 2 - 2 * start;
      double sum = 0;
      for (int64_t k = 0; k < n; ++k) {
        w.push_back(std::clamp(1.0 - std::fabs((static_cast<double>(start + k) - ratio) * s), 0.0, 1.0));
        sum += w.back();
      }
      for (double& c : w) c /= sum;
    } else {  // cubic antialias
      start = static_cast<int64_t>(std::floor(-2.0 / s)) + 1;
      const int64_t n = 2 - 2 * start;
      double sum = 0;
      for (int64_t k = 0; k < n; ++k) {
        w.push_back(cubic_kernel(s * (static_cast<double>(start + k) - ratio), p.cubic_a));
        sum += w.back();
      }
      for (double& c : w) c /= sum;
    }
    if (p.exclude_outside) {
      double sum = 0;
      for (size_t k = 0; k < w.size(); ++k) {
        const int64_t idx = base + start + static_cast<int64_t>(k);
        if (idx < 0 || idx >= in) w[k] = 0.0;
        sum += w[k];
      }
      if (sum != 0.0)
        for (double& c : w) c /= sum;
    }
    for (size_t k = 0; k < w.size(); ++k) {
      if (w[k] == 0.0) continue;
      taps.push_back({std::clamp<int64_t>(base + start + static_cast<int64_t>(k), 0, in - 1), w[k]});
    }
  }
  return plan;
}


// Output shape from scales: floor(in * scale).
Shape shape_from_scales(const Tensor& x, const std::vector<double>& scales) {
  Shape out(static_cast<size_t>(x.rank()));
  for (int64_t d = 0; d < x.rank(); ++d) {
    HWOPT_KCHECK(scales[d] > 0.0 && std::isfinite(scales[d]), "scale {} for axis {} must be positive", scales[d], d);
    const double v = std::floor(scales[d] * static_cast<double>(x.dim(d)));
    HWOPT_KCHECK(v < 9.0e18, "scale {} makes axis {} too large", scales[d], d);
    out[d] = static_cast<int64_t>(v);
  }
  return out;
}

ResizeSetup resize_setup(const KernelContext& ctx, const Tensor& x) {
  const int64_t r = x.rank();
  const int opset = ctx.opset();
  ResizeParams p;
  p.mode = ctx.attr_string("mode", "nearest");
  HWOPT_KCHECK(p.mode == "nearest" || p.mode == "linear" || (p.mode == "cubic" && opset >= 11),
               "attribute 'mode' = '{}' is not supported at opset {}", p.mode, opset);

  std::vector<double> scales(static_cast<size_t>(r), 1.0);
  std::vector<double> roi(static_cast<size_t>(2 * r), 0.0);
  for (int64_t d = 0; d < r; ++d) roi[r + d] = 1.0;
  Shape out_shape;

  if (opset < 11) {
    // Resize-10: (X, scales); asymmetric coordinates like Upsample.
    p.coord = "asymmetric";
    p.nearest_mode = "simple";
    std::vector<double> s = to_double_vector(ctx.input(1));
    HWOPT_KCHECK(static_cast<int64_t>(s.size()) == r, "input 'scales' has {} values, input has rank {}", s.size(), r);
    scales = s;
    out_shape = shape_from_scales(x, scales);
    return {p, scales, roi, out_shape};
  }

  p.coord = ctx.attr_string("coordinate_transformation_mode", "half_pixel");
  HWOPT_KCHECK(p.coord != "tf_half_pixel_for_nn" || opset < 13,
               "coordinate_transformation_mode 'tf_half_pixel_for_nn' was removed in opset 13");
  HWOPT_KCHECK(p.coord != "half_pixel_symmetric" || opset >= 19,
               "coordinate_transformation_mode 'half_pixel_symmetric' needs opset 19");
  p.nearest_mode = ctx.attr_string("nearest_mode", "round_prefer_floor");
  p.cubic_a = ctx.attr_float("cubic_coeff_a", -0.75f);
  p.exclude_outside = ctx.attr_int("exclude_outside", 0) != 0;
  p.extrapolation_value = ctx.attr_float("extrapolation_value", 0.0f);
  if (opset >= 18) p.antialias = ctx.attr_int("antialias", 0) != 0;
  HWOPT_KCHECK(!(p.antialias && p.mode == "nearest"), "antialias is not supported for mode 'nearest'");
  const std::string policy = opset >= 18 ? ctx.attr_string("keep_aspect_ratio_policy", "stretch") : "stretch";
  HWOPT_KCHECK(policy == "stretch" || policy == "not_larger" || policy == "not_smaller",
               "attribute 'keep_aspect_ratio_policy' = '{}' is not supported", policy);

  // Axes the scales/sizes/roi refer to (opset 18); default all.
  std::vector<int64_t> axes;
  if (opset >= 18 && ctx.has_attr("axes")) {
    std::vector<bool> seen(static_cast<size_t>(r), false);
    for (int64_t a : ctx.attr_ints("axes")) {
      HWOPT_KCHECK(a >= -r && a < r, "axis {} in 'axes' is out of range for rank {}", a, r);
      const int64_t n = a < 0 ? a + r : a;
      HWOPT_KCHECK(!seen[n], "axis {} is given more than once in 'axes'", a);
      seen[n] = true;
      axes.push_back(n);
    }
  } else {
    for (int64_t d = 0; d < r; ++d) axes.push_back(d);
  }
  const size_t na = axes.size();

  const bool has_scales = ctx.has_input(2) && ctx.input(2).numel() > 0;
  const bool has_sizes = ctx.has_input(3) && ctx.input(3).numel() > 0;
  HWOPT_KCHECK(has_scales != has_sizes, "exactly one of 'scales' and 'sizes' must be given (got {})",
               has_scales ? "both" : "neither");
  if (ctx.has_input(1) && ctx.input(1).numel() > 0 && p.coord == "tf_crop_and_resize") {
    const std::vector<double> roi_in = to_double_vector(ctx.input(1));
    HWOPT_KCHECK(roi_in.size() == 2 * na, "input 'roi' has {} values, expected {}", roi_in.size(), 2 * na);
    for (size_t i = 0; i < na; ++i) {
      roi[axes[i]] = roi_in[i];
      roi[r + axes[i]] = roi_in[na + i];
    }
  }
  out_shape = x.shape();
  if (has_scales) {
    const std::vector<double> s = to_double_vector(ctx.input(2));
    HWOPT_KCHECK(s.size() == na, "input 'scales' has {} values, expected {}", s.size(), na);
    for (size_t i = 0; i < na; ++i) scales[axes[i]] = s[i];
    out_shape = shape_from_scales(x, scales);
  } else {
    const std::vector<int64_t> sz = to_int64_vector(ctx.input(3));
    HWOPT_KCHECK(sz.size() == na, "input 'sizes' has {} values, expected {}", sz.size(), na);
    for (size_t i = 0; i < na; ++i) {
      HWOPT_KCHECK(sz[i] >= 0, "input 'sizes' has a negative value {}", sz[i]);
      HWOPT_KCHECK(x.dim(axes[i]) > 0 || sz[i] == 0, "cannot resize axis {} of size 0 to {}", axes[i], sz[i]);
      out_shape[axes[i]] = sz[i];
      scales[axes[i]] = x.dim(axes[i]) > 0 ? static_cast<double>(sz[i]) / static_cast<double>(x.dim(axes[i])) : 1.0;
    }
    if (policy != "stretch") {
      // One scale for all resized axes: the smallest (not_larger) or largest (not_smaller).
      double s = scales[axes[0]];
      for (int64_t a : axes) s = policy == "not_larger" ? std::min(s, scales[a]) : std::max(s, scales[a]);
      for (int64_t a : axes) {
        scales[a] = s;
        out_shape[a] = static_cast<int64_t>(s * static_cast<double>(x.dim(a)) + 0.5);  // round half up
      }
    }
  }
  for (int64_t d = 0; d < r; ++d)
    HWOPT_KCHECK(out_shape[d] == 0 || scales[d] > 0.0, "scale for axis {} must be positive, got {}", d, scales[d]);
  return {p, scales, roi, out_shape};
}


}  // namespace hwopt::reference
