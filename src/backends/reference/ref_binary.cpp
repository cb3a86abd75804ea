// Element-wise binary arithmetic with numpy broadcasting: Add, Sub, Mul, Div, Pow, Mod, BitShift, BitwiseAnd/Or/Xor.
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {


/// The type arithmetic on T is done in: float for float16/bfloat16, T otherwise.
template <typename T>
using compute_t = std::conditional_t<is_half_like<T>, float, T>;


/// Inputs 0 and 1, contiguous, legacy broadcasting applied; optionally requires equal dtypes.
std::pair<Tensor, Tensor> binary_inputs(const KernelContext& ctx, bool same_dtype = true) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (same_dtype) {
    HWOPT_KCHECK(a.dtype() == b.dtype(), "{}: inputs must have the same dtype, got A {} and B {}",
                 ctx.node().op_type, dtype_name(a.dtype()), dtype_name(b.dtype()));
  }
  return {a.contiguous(), legacy_broadcast_b(ctx, a, b).contiguous()};
}

/// out = f(a, b) elementwise over the broadcast shape; out has dtype of R.
template <typename A, typename B, typename R, typename F>
void broadcast_map(KernelContext& ctx, const Tensor& a, const Tensor& b, F&& f) {
  Shape out_shape = broadcast_shape(a.shape(), b.shape());
  Tensor& y = ctx.allocate_output(0, dtype_of<R>::value, out_shape);
  std::vector<int64_t> ao = broadcast_offsets(a.shape(), out_shape);
  std::vector<int64_t> bo = broadcast_offsets(b.shape(), out_shape);
  const A* pa = a.data<A>();
  const B* pb = b.data<B>();
  R* py = y.data<R>();
  for (int64_t i = 0; i < y.numel(); ++i) py[i] = f(pa[ao[i]], pb[bo[i]]);
}

/// Integer arithmetic modulo 2^bits, without signed-overflow UB.
template <typename T>
T wrap(uint64_t v) {
  return static_cast<T>(v);
}
template <typename T>
uint64_t u64(T v) {
  return static_cast<uint64_t>(v);
}

/// Integer result of a double, truncated toward zero and clamped to T's range (NaN -> 0).
template <typename T>
T saturate_to_int(double v) {
  if (std::isnan(v)) return T(0);
  double t = std::trunc(v);
  if (t <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
  if (t >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return static_cast<T>(t);
}

/// double -> float type T without UB: finite values beyond float's range become +-FLT_MAX or +-inf as IEEE
/// round-to-nearest would.
template <typename T>
T from_double(double v) {
  if constexpr (std::is_same_v<T, double>) {
    return v;
  } else {
    constexpr double kMax = std::numeric_limits<float>::max();
    if (std::isfinite(v) && std::fabs(v) > kMax) {
      float r = std::fabs(v) >= 0x1.ffffffp127 ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::max();
      return static_cast<T>(v < 0 ? -r : r);
    }
    return static_cast<T>(static_cast<float>(v));
  }
}

enum class Arith { add, sub, mul, div };

template <Arith op>
void ref_arith(KernelContext& ctx) {
  auto ab_pair = binary_inputs(ctx);  // not a structured binding: clang < 16 cannot capture those in lambdas
  Tensor a = std::move(ab_pair.first), b = std::move(ab_pair.second);
  visit_numeric(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    broadcast_map<T, T, T>(ctx, a, b, [](T x, T y) -> T {
      if constexpr (std::is_integral_v<T>) {
        if constexpr (op == Arith::add) {
          return wrap<T>(u64(x) + u64(y));
        } else if constexpr (op == Arith::sub) {
          return wrap<T>(u64(x) - u64(y));
        } else if constexpr (op == Arith::mul) {
          return wrap<T>(u64(x) * u64(y));
        } else {
          HWOPT_KCHECK(y != 0, "Div: integer division by zero");
          if constexpr (std::is_signed_v<T>) {
            if (y == -1) return wrap<T>(0 - u64(x));  // INT_MIN / -1 wraps instead of trapping
          }
          return static_cast<T>(x / y);  // truncates toward zero, like C
        }
      } else {
        using C = compute_t<T>;
        C cx = static_cast<C>(x), cy = static_cast<C>(y);
        if constexpr (op == Arith::add) {
          return static_cast<T>(cx + cy);
        } else if constexpr (op == Arith::sub) {
          return static_cast<T>(cx - cy);
        } else if constexpr (op == Arith::mul) {
          return static_cast<T>(cx * cy);
        } else {
          return static_cast<T>(cx / cy);
        }
      }
    });
  });
}

/// Exact integer power modulo 2^bits (exponent >= 0).
template <typename T>
T int_pow(T base, uint64_t e) {
  uint64_t result = 1, b = u64(base);
  while (e) {
    if (e & 1) result *= b;
    b *= b;
    e >>= 1;
  }
  return wrap<T>(result);
}

/// One element of Pow: integer ** integer is exact (wrapping); anything involving a float goes through double.
template <typename T, typename E>
T pow_elem(T base, E ex) {
  if constexpr (std::is_integral_v<T> && std::is_integral_v<E>) {
    if constexpr (std::is_signed_v<E>) {
      if (ex < 0) {
        // base^-n truncated toward zero: only |base| == 1 gives a non-zero result.
        HWOPT_KCHECK(base != 0, "Pow: integer 0 raised to negative power {}", static_cast<int64_t>(ex));
        if (base == 1) return T(1);
        if constexpr (std::is_signed_v<T>) {
          if (base == -1) return (ex % 2 == 0) ? T(1) : T(-1);
        }
        return T(0);
      }
    }
    return int_pow<T>(base, static_cast<uint64_t>(ex));
  } else {
    double r = std::pow(static_cast<double>(static_cast<compute_t<T>>(base)),
                        static_cast<double>(static_cast<compute_t<E>>(ex)));
    if constexpr (std::is_integral_v<T>) {
      return saturate_to_int<T>(r);
    } else {
      return from_double<T>(r);
    }
  }
}

// Pow: base X (T) and exponent Y (T1) may have different dtypes; the output has X's dtype.
void ref_pow(KernelContext& ctx) {
  auto xy_pair = binary_inputs(ctx, /*same_dtype=*/false);  // not a structured binding: clang < 16 cannot capture those in lambdas
  Tensor x = std::move(xy_pair.first), y = std::move(xy_pair.second);
  visit_numeric(x.dtype(), [&](auto xtag) {
    using T = typename decltype(xtag)::type;
    visit_numeric(y.dtype(), [&](auto ytag) {
      using E = typename decltype(ytag)::type;
      broadcast_map<T, E, T>(ctx, x, y, [](T base, E ex) { return pow_elem<T, E>(base, ex); });
    });
  });
}

// Mod: fmod=1 is C fmod (sign of the dividend); fmod=0 (integers only) takes the sign of the divisor.
void ref_mod(KernelContext& ctx) {
  auto ab_pair = binary_inputs(ctx);  // not a structured binding: clang < 16 cannot capture those in lambdas
  Tensor a = std::move(ab_pair.first), b = std::move(ab_pair.second);
  const int64_t fmod_attr = ctx.attr_int("fmod", 0);
  HWOPT_KCHECK(fmod_attr == 0 || fmod_attr == 1, "Mod: attribute 'fmod' must be 0 or 1, got {}", fmod_attr);
  HWOPT_KCHECK(fmod_attr == 1 || !dtype_is_float(a.dtype()),
               "Mod: attribute 'fmod' must be 1 for floating-point inputs (dtype {})", dtype_name(a.dtype()));
  const bool c_fmod = fmod_attr == 1;
  visit_numeric(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    broadcast_map<T, T, T>(ctx, a, b, [c_fmod](T x, T y) -> T {
      if constexpr (std::is_integral_v<T>) {
        HWOPT_KCHECK(y != 0, "Mod: integer modulo by zero");
        if constexpr (std::is_signed_v<T>) {
          if (y == -1) return T(0);  // avoids INT_MIN % -1 trapping
          T r = static_cast<T>(x % y);
          if (!c_fmod && r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y);
          return r;
        } else {
          return static_cast<T>(x % y);
        }
      } else {
        using C = compute_t<T>;
        return static_cast<T>(std::fmod(static_cast<C>(x), static_cast<C>(y)));
      }
    });
  });
}

// BitShift: unsigned integers only; shifting by the bit width or more gives 0.
void ref_bitshift(KernelContext& ctx) {
  auto ab_pair = binary_inputs(ctx);  // not a structured binding: clang < 16 cannot capture those in lambdas
  Tensor a = std::move(ab_pair.first), b = std::move(ab_pair.second);
  HWOPT_KCHECK(ctx.has_attr("direction"), "BitShift: attribute 'direction' is required");
  const std::string direction = ctx.attr_string("direction", "");
  HWOPT_KCHECK(direction == "LEFT" || direction == "RIGHT",
               "BitShift: attribute 'direction' must be 'LEFT' or 'RIGHT', got '{}'", direction);
  HWOPT_KCHECK(a.dtype() == DType::uint8 || a.dtype() == DType::uint16 || a.dtype() == DType::uint32 ||
                   a.dtype() == DType::uint64,
               "BitShift: dtype {} is not supported (expected uint8/16/32/64)", dtype_name(a.dtype()));
  const bool left = direction == "LEFT";
  visit_integer(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    broadcast_map<T, T, T>(ctx, a, b, [left](T x, T s) -> T {
      constexpr uint64_t bits = sizeof(T) * 8;
      if (u64(s) >= bits) return T(0);
      return left ? wrap<T>(u64(x) << u64(s)) : static_cast<T>(u64(x) >> u64(s));
    });
  });
}

enum class Bitwise { and_, or_, xor_ };

template <Bitwise op>
void ref_bitwise(KernelContext& ctx) {
  auto ab_pair = binary_inputs(ctx);  // not a structured binding: clang < 16 cannot capture those in lambdas
  Tensor a = std::move(ab_pair.first), b = std::move(ab_pair.second);
  visit_integer(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    broadcast_map<T, T, T>(ctx, a, b, [](T x, T y) -> T {
      if constexpr (op == Bitwise::and_) return wrap<T>(u64(x) & u64(y));
      if constexpr (op == Bitwise::or_) return wrap<T>(u64(x) | u64(y));
      return wrap<T>(u64(x) ^ u64(y));
    });
  });
}

void ref_add(KernelContext& ctx) { ref_arith<Arith::add>(ctx); }
void ref_sub(KernelContext& ctx) { ref_arith<Arith::sub>(ctx); }
void ref_mul(KernelContext& ctx) { ref_arith<Arith::mul>(ctx); }
void ref_div(KernelContext& ctx) { ref_arith<Arith::div>(ctx); }
void ref_bitwise_and(KernelContext& ctx) { ref_bitwise<Bitwise::and_>(ctx); }
void ref_bitwise_or(KernelContext& ctx) { ref_bitwise<Bitwise::or_>(ctx); }
void ref_bitwise_xor(KernelContext& ctx) { ref_bitwise<Bitwise::xor_>(ctx); }

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Add", "", 1, ref_add);
HWOPT_REGISTER_REF_KERNEL("Sub", "", 1, ref_sub);
HWOPT_REGISTER_REF_KERNEL("Mul", "", 1, ref_mul);
HWOPT_REGISTER_REF_KERNEL("Div", "", 1, ref_div);
HWOPT_REGISTER_REF_KERNEL("Pow", "", 1, ref_pow);
HWOPT_REGISTER_REF_KERNEL("Mod", "", 10, ref_mod);
HWOPT_REGISTER_REF_KERNEL("BitShift", "", 11, ref_bitshift);
HWOPT_REGISTER_REF_KERNEL("BitwiseAnd", "", 18, ref_bitwise_and);
HWOPT_REGISTER_REF_KERNEL("BitwiseOr", "", 18, ref_bitwise_or);
HWOPT_REGISTER_REF_KERNEL("BitwiseXor", "", 18, ref_bitwise_xor);

}  // namespace hwopt::reference
