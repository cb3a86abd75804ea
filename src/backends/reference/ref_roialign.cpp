// RoiAlign: bilinear-sampled avg/max pooling of regions of interest (half_pixel / output_half_pixel).
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

// One bilinear sample: four pixel offsets (within an H*W plane) and their weights.
struct Sample {
  int64_t pos[4] = {0, 0, 0, 0};
  double w[4] = {0, 0, 0, 0};
};

// Samples outside [-1, H] x [-1, W] contribute zero; others clamp to the border.
Sample bilinear_sample(double y, double x, int64_t height, int64_t width) {
  Sample s;
  if (y < -1.0 || y > static_cast<double>(height) || x < -1.0 || x > static_cast<double>(width)) return s;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int64_t y_low = static_cast<int64_t>(y), x_low = static_cast<int64_t>(x);
  int64_t y_high, x_high;
  if (y_low >= height - 1) {
    y_high = y_low = height - 1;
    y = static_cast<double>(y_low);
  } else {
    y_high = y_low + 1;
  }
  if (x_low >= width - 1) {
    x_high = x_low = width - 1;
    x = static_cast<double>(x_low);
  } else {
    x_high = x_low + 1;
  }
  const double ly = y - static_cast<double>(y_low), lx = x - static_cast<double>(x_low);
  const double hy = 1.0 - ly, hx = 1.0 - lx;
  s.pos[0] = y_low * width + x_low;
  s.pos[1] = y_low * width + x_high;
  s.pos[2] = y_high * width + x_low;
  s.pos[3] = y_high * width + x_high;
  s.w[0] = hy * hx;
  s.w[1] = hy * lx;
  s.w[2] = ly * hx;
  s.w[3] = ly * lx;
  return s;
}

void ref_roialign(KernelContext& ctx) {
  const Tensor& x_t = ctx.input(0);
  const Tensor& rois_t = ctx.input(1);
  const Tensor& bi_t = ctx.input(2);
  HWOPT_KCHECK(dtype_is_float(x_t.dtype()), "input 'X' must be a float tensor, got {}", dtype_name(x_t.dtype()));
  HWOPT_KCHECK(rois_t.dtype() == x_t.dtype(), "input 'rois' must have dtype {}, got {}", dtype_name(x_t.dtype()),
               dtype_name(rois_t.dtype()));
  HWOPT_KCHECK(x_t.rank() == 4, "input 'X' must have shape [N, C, H, W], got {}", shape_str(x_t.shape()));
  HWOPT_KCHECK(rois_t.rank() == 2 && rois_t.dim(1) == 4, "input 'rois' must have shape [num_rois, 4], got {}",
               shape_str(rois_t.shape()));
  HWOPT_KCHECK(bi_t.rank() == 1 && bi_t.dim(0) == rois_t.dim(0),
               "input 'batch_indices' must have shape [{}] (one per roi), got {}", rois_t.dim(0),
               shape_str(bi_t.shape()));

  const std::string mode = ctx.attr_string("mode", "avg");
  HWOPT_KCHECK(mode == "avg" || mode == "max", "attribute 'mode' must be avg or max, got '{}'", mode);
  // Opset 10 has no coordinate_transformation_mode and behaves like output_half_pixel.
  const std::string ctm = ctx.opset() >= 16 ? ctx.attr_string("coordinate_transformation_mode", "half_pixel")
                                            : std::string("output_half_pixel");
  HWOPT_KCHECK(ctm == "half_pixel" || ctm == "output_half_pixel",
               "attribute 'coordinate_transformation_mode' must be half_pixel or output_half_pixel, got '{}'", ctm);
  const bool half_pixel = ctm == "half_pixel";
  const bool avg = mode == "avg";
  const int64_t out_h = ctx.attr_int("output_height", 1);
  const int64_t out_w = ctx.attr_int("output_width", 1);
  HWOPT_KCHECK(out_h > 0 && out_w > 0, "attributes 'output_height' and 'output_width' must be positive, got {} and {}",
               out_h, out_w);
  const int64_t sampling_ratio = ctx.attr_int("sampling_ratio", 0);
  HWOPT_KCHECK(sampling_ratio >= 0 && sampling_ratio < 2147483648LL,
               "attribute 'sampling_ratio' must be in [0, 2^31), got {}", sampling_ratio);
  const double spatial_scale = ctx.attr_float("spatial_scale", 1.0f);

  const int64_t N = x_t.dim(0), C = x_t.dim(1), H = x_t.dim(2), W = x_t.dim(3);
  const int64_t num_rois = rois_t.dim(0);
  const std::vector<double> x = to_double_vector(x_t);
  const std::vector<double> rois = to_double_vector(rois_t);
  HWOPT_KCHECK(bi_t.dtype() == DType::int64 || bi_t.dtype() == DType::int32,
               "input 'batch_indices' must be int64 (or int32), got {}", dtype_name(bi_t.dtype()));
  const std::vector<int64_t> batch_indices = to_int64_vector(bi_t);
  for (int64_t r = 0; r < num_rois; ++r) {
    HWOPT_KCHECK(batch_indices[r] >= 0 && batch_indices[r] < N, "batch_indices[{}] = {} is out of range [0, {})", r,
                 batch_indices[r], N);
    for (int64_t j = 0; j < 4; ++j)
      HWOPT_KCHECK(std::isfinite(rois[r * 4 + j]), "rois[{}] has a non-finite coordinate", r);
  }
  HWOPT_KCHECK(num_rois == 0 || C == 0 || (H > 0 && W > 0), "input 'X' has an empty spatial size {}",
               shape_str(x_t.shape()));

  std::vector<double> y(static_cast<size_t>(num_rois * C * out_h * out_w), 0.0);
  const double offset = half_pixel ? 0.5 : 0.0;
  for (int64_t r = 0; r < num_rois; ++r) {
    const double* roi = &rois[r * 4];  // [x1, y1, x2, y2]
    const double start_w = roi[0] * spatial_scale - offset;
    const double start_h = roi[1] * spatial_scale - offset;
    double roi_w = roi[2] * spatial_scale - offset - start_w;
    double roi_h = roi[3] * spatial_scale - offset - start_h;
    if (!half_pixel) {  // malformed rois are forced to 1x1
      roi_w = std::max(roi_w, 1.0);
      roi_h = std::max(roi_h, 1.0);
    }
    const double bin_h = roi_h / static_cast<double>(out_h);
    const double bin_w = roi_w / static_cast<double>(out_w);
    // Adaptive grid: ceil(roi size / output size) samples per bin (may be <= 0: then no samples).
    HWOPT_KCHECK(sampling_ratio > 0 || (std::ceil(bin_h) < 2147483648.0 && std::ceil(bin_w) < 2147483648.0),
                 "roi {} is too large for an adaptive sampling grid", r);
    const int64_t grid_h = sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(std::ceil(bin_h));
    const int64_t grid_w = sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(std::ceil(bin_w));
    const double count = static_cast<double>(std::max<int64_t>(grid_h * grid_w, 1));
    const double* plane0 = &x[static_cast<size_t>(batch_indices[r] * C * H * W)];

    for (int64_t c = 0; c < C; ++c) {
      const double* plane = plane0 + c * H * W;
      for (int64_t ph = 0; ph < out_h; ++ph) {
        for (int64_t pw = 0; pw < out_w; ++pw) {
          double acc = 0;
          bool first = true;
          for (int64_t iy = 0; iy < grid_h; ++iy) {
            const double yy = start_h + static_cast<double>(ph) * bin_h +
                              (static_cast<double>(iy) + 0.5) * bin_h / static_cast<double>(grid_h);
            for (int64_t ix = 0; ix < grid_w; ++ix) {
              const double xx = start_w + static_cast<double>(pw) * bin_w +
                                (static_cast<double>(ix) + 0.5) * bin_w / static_cast<double>(grid_w);
              const Sample s = bilinear_sample(yy, xx, H, W);
              if (avg) {
                for (int q = 0; q < 4; ++q) acc += s.w[q] * plane[s.pos[q]];
              } else {
                // Max mode takes the largest weighted corner of each sample (as the ONNX reference does).
                double v = s.w[0] * plane[s.pos[0]];
                for (int q = 1; q < 4; ++q) v = std::max(v, s.w[q] * plane[s.pos[q]]);
                acc = first ? v : std::max(acc, v);
                first = false;
              }
            }
          }
          if (avg) acc /= count;
          y[static_cast<size_t>(((r * C + c) * out_h + ph) * out_w + pw)] = acc;
        }
      }
    }
  }

  visit_float(x_t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* py = ctx.allocate_output(0, x_t.dtype(), {num_rois, C, out_h, out_w}).data<T>();
    for (size_t i = 0; i < y.size(); ++i) {
      if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
        py[i] = T(static_cast<float>(y[i]));
      } else {
        py[i] = static_cast<T>(y[i]);
      }
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("RoiAlign", "", 10, ref_roialign);

}  // namespace hwopt::reference
