// Pad: constant/reflect/edge/wrap padding; negative pads crop (pads attribute before opset 11, input after).
#include <string>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

// Maps a position `i` (may be outside [0, n)) to a source index of an axis of size n > 0.
int64_t map_index(int64_t i, int64_t n, const std::string& mode) {
  if (i >= 0 && i < n) return i;
  if (mode == "edge") return i < 0 ? 0 : n - 1;
  if (mode == "wrap") return ((i % n) + n) % n;
  // reflect (numpy): mirror about the edges without repeating them; period 2(n-1).
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  int64_t m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

void ref_pad(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const int64_t r = x.rank();
  const std::string mode = ctx.attr_string("mode", "constant");
  HWOPT_KCHECK(mode == "constant" || mode == "reflect" || mode == "edge" || (mode == "wrap" && ctx.opset() >= 19),
               "attribute 'mode' = '{}' is not supported at opset {}", mode, ctx.opset());

  std::vector<int64_t> pads;
  std::vector<int64_t> axes;
  if (ctx.opset() < 11) {
    const char* name = ctx.opset() < 2 ? "paddings" : "pads";
    HWOPT_KCHECK(ctx.has_attr(name), "attribute '{}' is required", name);
    pads = ctx.attr_ints(name);
  } else {
    pads = to_int64_vector(ctx.input(1));
    if (ctx.opset() >= 18 && ctx.has_input(3)) axes = to_int64_vector(ctx.input(3));
  }
  if (axes.empty() && !(ctx.opset() >= 18 && ctx.has_input(3))) {
    for (int64_t d = 0; d < r; ++d) axes.push_back(d);
  }
  const size_t na = axes.size();
  HWOPT_KCHECK(pads.size() == 2 * na, "'pads' {} must have 2 * {} entries", shape_str(pads), na);
  // Full per-axis begin/end pads.
  std::vector<int64_t> begin(static_cast<size_t>(r), 0), end(static_cast<size_t>(r), 0);
  std::vector<bool> seen(static_cast<size_t>(r), false);
  for (size_t i = 0; i < na; ++i) {
    HWOPT_KCHECK(axes[i] >= -r && axes[i] < r, "axis {} is out of range for input of rank {}", axes[i], r);
    const int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
    HWOPT_KCHECK(!seen[a], "axis {} is given more than once in 'axes'", axes[i]);
    seen[a] = true;
    begin[a] = pads[i];
    end[a] = pads[i + na];
  }

  // Negative pads crop first; the remaining (cropped) axis [lo, hi) of x is then padded.
  Shape out_shape(static_cast<size_t>(r));
  std::vector<int64_t> lo(static_cast<size_t>(r)), len(static_cast<size_t>(r)), pad_lo(static_cast<size_t>(r));
  for (int64_t d = 0; d < r; ++d) {
    const int64_t n = x.dim(d);
    // INT64_MIN cannot be negated; any pad below -n crops more than the axis anyway.
    HWOPT_KCHECK(begin[d] >= -n && end[d] >= -n, "pads {} crop more than the {} elements of axis {}",
                 shape_str(pads), n, d);
    const int64_t crop_b = begin[d] < 0 ? -begin[d] : 0;
    const int64_t crop_e = end[d] < 0 ? -end[d] : 0;
    HWOPT_KCHECK(crop_b <= n && crop_e <= n - crop_b, "pads {} crop more than the {} elements of axis {}",
                 shape_str(pads), n, d);
    lo[d] = crop_b;
    len[d] = n - crop_b - crop_e;
    pad_lo[d] = begin[d] > 0 ? begin[d] : 0;
    const int64_t pad_hi = end[d] > 0 ? end[d] : 0;
    HWOPT_KCHECK(pad_lo[d] <= INT64_MAX / 4 && pad_hi <= INT64_MAX / 4, "pads {} are too large", shape_str(pads));
    out_shape[d] = len[d] + pad_lo[d] + pad_hi;
    if (mode != "constant" && out_shape[d] > len[d])
      HWOPT_KCHECK(len[d] > 0, "cannot pad axis {} of size 0 in mode '{}'", d, mode);
  }

  Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
  Shape st(static_cast<size_t>(r), 1);
  for (int64_t d = r - 2; d >= 0; --d) st[d] = st[d + 1] * x.dim(d + 1);
  visit_all(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    // The constant: attribute 'value' (float) before opset 11, else optional input 2 (default 0 / "").
    T value{};
    if constexpr (std::is_same_v<T, std::string>) {
      if (ctx.opset() >= 11 && ctx.has_input(2)) {
        const Tensor v = ctx.input(2).contiguous();
        HWOPT_KCHECK(v.dtype() == DType::string && v.numel() >= 1, "input 'constant_value' must be one string");
        value = v.data<std::string>()[0];
      }
    } else if (ctx.opset() < 11) {
      value = static_cast<T>(ctx.attr_float("value", 0.0f));
    } else if (ctx.has_input(2)) {
      const Tensor v = ctx.input(2).contiguous();
      HWOPT_KCHECK(v.dtype() == x.dtype(), "input 'constant_value' has dtype {}, data has {}", dtype_name(v.dtype()),
                   dtype_name(x.dtype()));
      if (v.numel() >= 1) value = v.data<T>()[0];
    }
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    std::vector<int64_t> pos(static_cast<size_t>(r), 0);
    for (int64_t i = 0; i < out.numel(); ++i) {
      int64_t off = 0;
      bool inside = true;
      for (int64_t d = 0; d < r && inside; ++d) {
        int64_t j = pos[d] - pad_lo[d];  // position within the cropped axis
        if (j < 0 || j >= len[d]) {
          if (mode == "constant") {
            inside = false;
            break;
          }
          j = map_index(j, len[d], mode);
        }
        off += (lo[d] + j) * st[d];
      }
      dst[i] = inside ? src[off] : value;
      for (int64_t d = r - 1; d >= 0; --d) {
        if (++pos[d] < out_shape[d]) break;
        pos[d] = 0;
      }
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Pad", "", 1, ref_pad);

}  // namespace hwopt::reference
