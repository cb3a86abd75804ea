// Resize's geometry, shared by the reference kernel (ref_resize.cpp) and the CPU backend's own
// kernel (backends/cpu/resize.cpp): the attributes and inputs read by the ONNX rules (opsets
// 10-19), the output shape, and for each axis the (input index, weight) taps of every output
// coordinate, following the ONNX reference implementation (neighbors of the mapped coordinate,
// edge-clamped indices).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/kernel.h"

namespace hwopt::reference {

struct Tap {
  int64_t index;
  double weight;
};

struct AxisPlan {
  std::vector<std::vector<Tap>> taps;  // per output coordinate
  std::vector<bool> outside;           // tf_crop_and_resize: coordinate outside the input
};

struct ResizeParams {
  std::string mode = "nearest";                // nearest | linear | cubic
  std::string coord = "half_pixel";            // coordinate_transformation_mode
  std::string nearest_mode = "round_prefer_floor";  // or "simple" for Upsample / Resize-10
  double cubic_a = -0.75;
  bool exclude_outside = false;
  bool antialias = false;
  double extrapolation_value = 0.0;
};

/// The taps of every output coordinate of one axis (`in` -> `out` at `scale`; roi for
/// tf_crop_and_resize). Throws KernelError for unsupported modes and non-finite coordinates.
AxisPlan plan_axis(const ResizeParams& p, int64_t in, int64_t out, double scale, double roi_start, double roi_end);

/// Output shape from scales: floor(in * scale).
Shape shape_from_scales(const Tensor& x, const std::vector<double>& scales);

/// What Resize (opset 10-19) does to `x`: its parameters, per-axis scales and roi (starts, then
/// ends), and the output shape. Throws KernelError naming the offending attribute or input.
struct ResizeSetup {
  ResizeParams params;
  std::vector<double> scales, roi;
  Shape out_shape;
};
ResizeSetup resize_setup(const KernelContext& ctx, const Tensor& x);

}  // namespace hwopt::reference
