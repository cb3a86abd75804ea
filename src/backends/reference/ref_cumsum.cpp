// CumSum: cumulative sum along an axis (exclusive and reverse variants).
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

void ref_cumsum(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const Tensor& axis_t = ctx.input(1);
  HWOPT_KCHECK(axis_t.numel() == 1 && axis_t.rank() <= 1, "input 'axis' must be a scalar, got shape {}",
               shape_str(axis_t.shape()));
  HWOPT_KCHECK(axis_t.dtype() == DType::int64 || axis_t.dtype() == DType::int32,
               "input 'axis' must be int64 (or int32), got {}", dtype_name(axis_t.dtype()));
  const int64_t axis_v = to_int64_vector(axis_t)[0];
  const int64_t rank = x.rank();
  HWOPT_KCHECK(rank >= 1, "input 'x' must have rank >= 1, got a scalar");
  HWOPT_KCHECK(axis_v >= -rank && axis_v < rank, "input 'axis' = {} is out of range for rank {}", axis_v, rank);
  const int64_t axis = axis_v < 0 ? axis_v + rank : axis_v;
  const bool exclusive = ctx.attr_int("exclusive", 0) != 0;
  const bool reverse = ctx.attr_int("reverse", 0) != 0;

  const int64_t outer = dims_product(x.shape(), 0, axis);
  const int64_t n = x.dim(axis);
  const int64_t inner = dims_product(x.shape(), axis + 1, rank);

  visit_numeric(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    // Floats accumulate in double; integers in 64-bit modular arithmetic (wrapping like T).
    using Acc = std::conditional_t<std::is_integral_v<T>, uint64_t, double>;
    auto to_acc = [](T v) -> Acc {
      if constexpr (std::is_integral_v<T>) {
        return static_cast<uint64_t>(static_cast<std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>(v));
      } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
        return static_cast<double>(static_cast<float>(v));
      } else {
        return static_cast<double>(v);
      }
    };
    auto from_acc = [](Acc a) -> T {
      if constexpr (std::is_integral_v<T>) {
        return static_cast<T>(static_cast<std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>(a));
      } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
        return T(static_cast<float>(a));
      } else {
        return static_cast<T>(a);
      }
    };
    Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t base = o * n * inner + i;
        Acc sum = 0;
        for (int64_t step = 0; step < n; ++step) {
          const int64_t k = reverse ? n - 1 - step : step;
          const int64_t off = base + k * inner;
          if (exclusive) {
            py[off] = from_acc(sum);
            sum += to_acc(px[off]);
          } else {
            sum += to_acc(px[off]);
            py[off] = from_acc(sum);
          }
        }
      }
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("CumSum", "", 11, ref_cumsum);

}  // namespace hwopt::reference
