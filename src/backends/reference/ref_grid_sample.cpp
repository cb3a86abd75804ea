// GridSample (opset 16: 4-D; opset 20: N-D): nearest/linear/cubic sampling with zeros/border/reflection padding.
//
// Follows the ONNX reference implementation (which follows PyTorch/onnxruntime): grid values are
// normalized to [-1, 1] and listed innermost axis first (x, y, ...).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

enum class Mode { nearest, linear, cubic };
enum class Padding { zeros, border, reflection };

template <typename T>
double to_double(const T& v) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    return static_cast<float>(v);
  } else {
    return static_cast<double>(v);
  }
}

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

// Reflects x into [lo, hi] by folding at the borders.
double reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (range <= 0.0) return lo;
  if (x < lo) {
    const double dx = lo - x;
    const auto n = static_cast<int64_t>(dx / range);
    const double rem = dx - static_cast<double>(n) * range;
    return n % 2 == 0 ? lo + rem : hi - rem;
  }
  if (x > hi) {
    const double dx = x - hi;
    const auto n = static_cast<int64_t>(dx / range);
    const double rem = dx - static_cast<double>(n) * range;
    return n % 2 == 0 ? hi - rem : lo + rem;
  }
  return x;
}

// Keys cubic convolution weights (A = -0.75) for the 4 taps at offsets -1..2 from floor, t in [0, 1).
void cubic_weights(double t, double w[4]) {
  const double a = -0.75;
  auto k = [a](double x) {
    x = std::fabs(x);
    if (x <= 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
    return 0.0;
  };
  w[0] = k(t + 1.0);
  w[1] = k(t);
  w[2] = k(1.0 - t);
  w[3] = k(2.0 - t);
}

void ref_grid_sample(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const Tensor grid = ctx.input(1).contiguous();
  const int64_t r = x.rank() - 2;  // number of spatial dims
  HWOPT_KCHECK(r >= 1, "input 'X' must have rank >= 3, got shape {}", shape_str(x.shape()));
  HWOPT_KCHECK(ctx.opset() >= 20 || r == 2, "input 'X' must be 4-D before opset 20, got shape {}",
               shape_str(x.shape()));
  HWOPT_KCHECK(grid.rank() == r + 2 && grid.dim(0) == x.dim(0) && grid.dim(-1) == r,
               "input 'grid' has shape {}, expected [{}, ..., {}] of rank {}", shape_str(grid.shape()), x.dim(0), r,
               r + 2);
  HWOPT_KCHECK(dtype_is_float(grid.dtype()), "input 'grid' must be a float tensor, got {}", dtype_name(grid.dtype()));

  const std::string mode_s = ctx.attr_string("mode", ctx.opset() >= 20 ? "linear" : "bilinear");
  Mode mode;
  if (mode_s == "nearest") {
    mode = Mode::nearest;
  } else if (mode_s == "bilinear" || mode_s == "linear") {
    mode = Mode::linear;
  } else if (mode_s == "bicubic" || mode_s == "cubic") {
    mode = Mode::cubic;
  } else {
    HWOPT_KCHECK(false, "attribute 'mode' = '{}' is not supported", mode_s);
  }
  const std::string pad_s = ctx.attr_string("padding_mode", "zeros");
  Padding padding;
  if (pad_s == "zeros") {
    padding = Padding::zeros;
  } else if (pad_s == "border") {
    padding = Padding::border;
  } else if (pad_s == "reflection") {
    padding = Padding::reflection;
  } else {
    HWOPT_KCHECK(false, "attribute 'padding_mode' = '{}' is not supported", pad_s);
  }
  const bool align = ctx.attr_int("align_corners", 0) != 0;

  const int64_t n_batch = x.dim(0), channels = x.dim(1);
  Shape out_shape{n_batch, channels};
  for (int64_t i = 1; i <= r; ++i) out_shape.push_back(grid.dim(i));
  Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
  const int64_t points = dims_product(grid.shape(), 1, r + 1);  // output points per (n, c)
  const int64_t plane = dims_product(x.shape(), 2, r + 2);      // input elements per (n, c)
  std::vector<int64_t> dims(x.shape().begin() + 2, x.shape().end());
  Shape st(static_cast<size_t>(r), 1);
  for (int64_t d = r - 2; d >= 0; --d) st[d] = st[d + 1] * dims[d + 1];
  // Borders of the valid coordinate range per axis.
  std::vector<double> lo(static_cast<size_t>(r)), hi(static_cast<size_t>(r));
  for (int64_t d = 0; d < r; ++d) {
    lo[d] = align ? 0.0 : -0.5;
    hi[d] = align ? static_cast<double>(dims[d] - 1) : static_cast<double>(dims[d]) - 0.5;
  }
  std::vector<double> grid_v = to_double_vector(grid);

  visit_numeric(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src_all = x.data<T>();
    T* dst = out.data<T>();
    // Value at integer index `idx` per axis after padding; nullopt-like flag for zeros outside.
    std::vector<int64_t> tap(static_cast<size_t>(r));
    auto pixel = [&](const T* src) -> double {
      int64_t off = 0;
      for (int64_t d = 0; d < r; ++d) {
        int64_t i = tap[d];
        if (padding == Padding::zeros) {
          if (i < 0 || i >= dims[d]) return 0.0;
        } else if (padding == Padding::border) {
          i = std::clamp<int64_t>(i, 0, dims[d] - 1);
        } else {
          i = static_cast<int64_t>(reflect(static_cast<double>(i), lo[d], hi[d]));
          i = std::clamp<int64_t>(i, 0, dims[d] - 1);  // safety: never read out of bounds
        }
        off += i * st[d];
      }
      return to_double(src[off]);
    };
    std::vector<double> coord(static_cast<size_t>(r));
    std::vector<int64_t> base(static_cast<size_t>(r));
    std::vector<double> w(static_cast<size_t>(r * 4));
    const int64_t ntaps = mode == Mode::linear ? 2 : 4;
    for (int64_t n = 0; n < n_batch; ++n) {
      for (int64_t p = 0; p < points; ++p) {
        // Denormalize (computed in float like the reference), round for nearest, then pad the coordinate.
        const double* g = grid_v.data() + (n * points + p) * r;
        bool any_empty = false;
        for (int64_t d = 0; d < r; ++d) {
          const double nv = g[r - 1 - d];
          const double len = static_cast<double>(dims[d]);
          double v = static_cast<float>(align ? (nv + 1.0) / 2.0 * (len - 1.0) : ((nv + 1.0) * len - 1.0) / 2.0);
          if (dims[d] == 0) any_empty = true;
          HWOPT_KCHECK(!std::isnan(v), "input 'grid' holds NaN at point {} of batch {}", p, n);
          v = std::clamp(v, -1.0e15, 1.0e15);  // far outside either way; keeps index math in range
          if (mode == Mode::nearest) v = r == 3 ? std::round(v) : std::nearbyint(v);
          if (v < lo[d] || v > hi[d]) {
            if (padding == Padding::border) v = std::clamp(v, 0.0, std::max(len - 1.0, 0.0));
            else if (padding == Padding::reflection) v = reflect(v, lo[d], hi[d]);
          }
          coord[d] = v;
          if (mode == Mode::linear) {
            const double f = std::floor(v);
            base[d] = static_cast<int64_t>(f);
            w[d * 4 + 0] = 1.0 - (v - f);
            w[d * 4 + 1] = v - f;
          } else if (mode == Mode::cubic) {
            const double f = std::floor(v);
            base[d] = static_cast<int64_t>(f) - 1;
            cubic_weights(v - f, &w[d * 4]);
          }
        }
        for (int64_t c = 0; c < channels; ++c) {
          const T* src = src_all + (n * channels + c) * plane;
          double result = 0.0;
          if (any_empty) {
            result = 0.0;
          } else if (mode == Mode::nearest) {
            for (int64_t d = 0; d < r; ++d)
              tap[d] = static_cast<int64_t>(coord[d]);  // truncation, as the reference's astype(int32)
            result = pixel(src);
          } else {
            // Sum over all tap combinations (ntaps^r).
            int64_t combos = 1;
            for (int64_t d = 0; d < r; ++d) combos *= ntaps;
            for (int64_t k = 0; k < combos; ++k) {
              double weight = 1.0;
              int64_t rest = k;
              for (int64_t d = r - 1; d >= 0; --d) {
                const int64_t t = rest % ntaps;
                rest /= ntaps;
                tap[d] = base[d] + t;
                weight *= w[d * 4 + t];
              }
              if (weight != 0.0) result += weight * pixel(src);
            }
          }
          dst[(n * channels + c) * points + p] = from_double<T>(result);
        }
      }
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("GridSample", "", 16, ref_grid_sample);

}  // namespace hwopt::reference
