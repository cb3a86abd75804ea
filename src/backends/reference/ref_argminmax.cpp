// ArgMax and ArgMin: index of the largest / smallest element along an axis (int64 output).
#include <cmath>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

template <typename T>
auto compare_key(T v) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    return static_cast<float>(v);
  } else {
    return v;
  }
}

template <typename K>
bool is_nan(K v) {
  if constexpr (std::is_floating_point_v<K>) {
    return std::isnan(v);
  } else {
    (void)v;
    return false;
  }
}

// numpy semantics: a NaN beats every number (the first NaN wins, or the last with select_last).
template <typename K>
bool better(K x, K best, bool is_max, bool select_last) {
  if (is_nan(best)) return select_last && is_nan(x);
  if (is_nan(x)) return true;
  if (select_last) return is_max ? x >= best : x <= best;
  return is_max ? x > best : x < best;
}

void run_arg(KernelContext& ctx, bool is_max) {
  const Tensor x = ctx.input(0).contiguous();
  const int64_t rank = x.rank();
  const int64_t axis_attr = ctx.attr_int("axis", 0);
  HWOPT_KCHECK(rank >= 1, "input 'data' must have rank >= 1, got a scalar");
  HWOPT_KCHECK(axis_attr >= -rank && axis_attr < rank, "attribute 'axis' = {} is out of range for input rank {}",
               axis_attr, rank);
  const int64_t axis = axis_attr < 0 ? axis_attr + rank : axis_attr;
  const bool keepdims = ctx.attr_int("keepdims", 1) != 0;
  const bool select_last = ctx.opset() >= 12 && ctx.attr_int("select_last_index", 0) != 0;
  const int64_t n = x.dim(axis);
  HWOPT_KCHECK(n > 0, "cannot take {} over axis {} of size 0 (input shape {})", is_max ? "ArgMax" : "ArgMin", axis,
               shape_str(x.shape()));

  Shape out_shape;
  for (int64_t d = 0; d < rank; ++d) {
    if (d != axis) {
      out_shape.push_back(x.dim(d));
    } else if (keepdims) {
      out_shape.push_back(1);
    }
  }
  const int64_t outer = dims_product(x.shape(), 0, axis);
  const int64_t inner = dims_product(x.shape(), axis + 1, rank);
  Tensor& y = ctx.allocate_output(0, DType::int64, out_shape);
  int64_t* py = y.data<int64_t>();

  visit_numeric(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const T* row = px + o * n * inner + i;
        int64_t best = 0;
        for (int64_t k = 1; k < n; ++k) {
          if (better(compare_key(row[k * inner]), compare_key(row[best * inner]), is_max, select_last)) best = k;
        }
        py[o * inner + i] = best;
      }
    }
  });
}

void ref_argmax(KernelContext& ctx) { run_arg(ctx, true); }
void ref_argmin(KernelContext& ctx) { run_arg(ctx, false); }

}  // namespace

HWOPT_REGISTER_REF_KERNEL("ArgMax", "", 1, ref_argmax);
HWOPT_REGISTER_REF_KERNEL("ArgMin", "", 1, ref_argmin);

}  // namespace hwopt::reference
