// Clip: limits values to [min, max]; min/max are attributes before opset 11 and optional scalar inputs after.
#include <limits>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {


/// The type comparisons on T are done in: float for float16/bfloat16, T otherwise.
template <typename T>
using compute_t = std::conditional_t<is_half_like<T>, float, T>;

/// The single value of optional bound input `i` ("min" or "max"), or `def` when it is omitted.
template <typename T, typename C>
C bound_input(const KernelContext& ctx, size_t i, const char* name, DType dtype, C def) {
  if (!ctx.has_input(i)) return def;
  Tensor b = ctx.input(i).contiguous();
  HWOPT_KCHECK(b.dtype() == dtype, "Clip: input '{}' has dtype {} but input has dtype {}", name,
               dtype_name(b.dtype()), dtype_name(dtype));
  HWOPT_KCHECK(b.numel() == 1, "Clip: input '{}' must be a scalar, got shape {}", name, shape_str(b.shape()));
  return static_cast<C>(b.data<T>()[0]);
}

void ref_clip(KernelContext& ctx) {
  Tensor x = ctx.input(0).contiguous();
  visit_numeric(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = compute_t<T>;
    C lo, hi;
    if (ctx.opset() < 11) {
      HWOPT_KCHECK(dtype_is_float(x.dtype()), "Clip: dtype {} needs opset 12 or later", dtype_name(x.dtype()));
      lo = static_cast<C>(ctx.attr_float("min", std::numeric_limits<float>::lowest()));
      hi = static_cast<C>(ctx.attr_float("max", std::numeric_limits<float>::max()));
    } else {
      lo = bound_input<T>(ctx, 1, "min", x.dtype(), std::numeric_limits<C>::lowest());
      hi = bound_input<T>(ctx, 2, "max", x.dtype(), std::numeric_limits<C>::max());
    }
    Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      C v = static_cast<C>(px[i]);
      // min(max(v, lo), hi): when lo > hi every value becomes hi; NaN stays NaN.
      if (v < lo) v = lo;
      if (v > hi) v = hi;
      py[i] = static_cast<T>(v);
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Clip", "", 1, ref_clip);

}  // namespace hwopt::reference
