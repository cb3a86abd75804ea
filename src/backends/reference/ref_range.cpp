// Range: start, start + delta, ... up to (not including) limit; max(ceil((limit - start) / delta), 0) values.
#include <cmath>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

template <typename T>
T scalar_of(const Tensor& t, const char* name) {
  HWOPT_KCHECK(t.numel() == 1 && t.rank() <= 1, "input '{}' must be a scalar, got shape {}", name,
               shape_str(t.shape()));
  return t.contiguous().data<T>()[0];
}

void ref_range(KernelContext& ctx) {
  const Tensor& start_t = ctx.input(0);
  const DType dt = start_t.dtype();
  HWOPT_KCHECK(ctx.input(1).dtype() == dt && ctx.input(2).dtype() == dt,
               "inputs 'start', 'limit' and 'delta' must have the same dtype, got {}, {} and {}", dtype_name(dt),
               dtype_name(ctx.input(1).dtype()), dtype_name(ctx.input(2).dtype()));
  constexpr double kMaxCount = 9.007199254740992e15;  // 2^53

  visit_numeric(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T start = scalar_of<T>(start_t, "start");
    const T limit = scalar_of<T>(ctx.input(1), "limit");
    const T delta = scalar_of<T>(ctx.input(2), "delta");
    if constexpr (std::is_integral_v<T>) {
      HWOPT_KCHECK(delta != 0, "input 'delta' must not be zero");
      // Exact integer count: ceil(span / step) over the distance travelled in delta's direction.
      // 64-bit unsigned (modular) arithmetic cannot overflow here and also yields start + i * delta.
      using W = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;
      auto u = [](T v) { return static_cast<uint64_t>(static_cast<W>(v)); };
      const bool up = static_cast<W>(delta) > 0;
      int64_t count = 0;
      if (up ? limit > start : limit < start) {
        const uint64_t span = up ? u(limit) - u(start) : u(start) - u(limit);
        const uint64_t step = up ? u(delta) : uint64_t{0} - u(delta);
        const uint64_t n = span / step + (span % step != 0 ? 1 : 0);
        HWOPT_KCHECK(n <= static_cast<uint64_t>(kMaxCount), "Range would produce {} elements", n);
        count = static_cast<int64_t>(n);
      }
      T* py = ctx.allocate_output(0, dt, {count}).data<T>();
      for (int64_t i = 0; i < count; ++i)
        py[i] = static_cast<T>(static_cast<W>(u(start) + static_cast<uint64_t>(i) * u(delta)));
    } else {
      auto f = [](T v) {
        if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
          return static_cast<double>(static_cast<float>(v));
        } else {
          return static_cast<double>(v);
        }
      };
      const double s = f(start), l = f(limit), d = f(delta);
      HWOPT_KCHECK(d != 0, "input 'delta' must not be zero");
      const double n = std::ceil((l - s) / d);
      HWOPT_KCHECK(!std::isnan(n), "Range of start {}, limit {}, delta {} is undefined", s, l, d);
      HWOPT_KCHECK(n <= kMaxCount, "Range of start {}, limit {}, delta {} would produce too many elements", s, l, d);
      const int64_t count = n > 0 ? static_cast<int64_t>(n) : 0;
      T* py = ctx.allocate_output(0, dt, {count}).data<T>();
      for (int64_t i = 0; i < count; ++i) {
        const double v = s + static_cast<double>(i) * d;
        if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
          py[i] = T(static_cast<float>(v));
        } else {
          py[i] = static_cast<T>(v);
        }
      }
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Range", "", 11, ref_range);

}  // namespace hwopt::reference
