// Element-wise unary math ops: Abs, trig/hyperbolic, Ceil/Floor/Round, Erf, Exp/Log, Neg, Sign, Not, IsInf, IsNaN, ...
#include <cmath>
#include <limits>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {


/// The type arithmetic on T is done in: float for float16/bfloat16, T otherwise.
template <typename T>
using compute_t = std::conditional_t<is_half_like<T>, float, T>;

/// y[i] = f(x[i]) with output dtype R.
template <typename T, typename R, typename F>
void map_unary(KernelContext& ctx, F&& f) {
  Tensor x = ctx.input(0).contiguous();
  Tensor& y = ctx.allocate_output(0, dtype_of<R>::value, x.shape());
  const T* px = x.data<T>();
  R* py = y.data<R>();
  for (int64_t i = 0; i < x.numel(); ++i) py[i] = f(px[i]);
}

/// Float-only op: f gets and returns the compute type (float for 16-bit floats).
template <typename F>
void float_unary(KernelContext& ctx, F f) {
  visit_float(ctx.input(0).dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    map_unary<T, T>(ctx, [&](T v) { return static_cast<T>(f(static_cast<compute_t<T>>(v))); });
  });
}

/// Two's complement negation without signed-overflow UB (-INT_MIN wraps to INT_MIN).
template <typename T>
T wrap_neg(T v) {
  return static_cast<T>(0u - static_cast<uint64_t>(v));
}

void ref_abs(KernelContext& ctx) {
  visit_numeric(ctx.input(0).dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    map_unary<T, T>(ctx, [](T v) -> T {
      if constexpr (std::is_integral_v<T>) {
        if constexpr (std::is_signed_v<T>) return v < 0 ? wrap_neg(v) : v;
        return v;
      } else {
        return static_cast<T>(std::fabs(static_cast<compute_t<T>>(v)));
      }
    });
  });
}

void ref_neg(KernelContext& ctx) {
  DType dt = ctx.input(0).dtype();
  HWOPT_KCHECK(dt != DType::boolean && !(dtype_is_integer(dt) && !dtype_is_signed(dt)),
               "Neg: input 0 has dtype {}, expected a signed integer or float type", dtype_name(dt));
  visit_numeric(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    map_unary<T, T>(ctx, [](T v) -> T {
      if constexpr (std::is_integral_v<T>) {
        return wrap_neg(v);
      } else {
        return static_cast<T>(-static_cast<compute_t<T>>(v));
      }
    });
  });
}

void ref_sign(KernelContext& ctx) {
  visit_numeric(ctx.input(0).dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    map_unary<T, T>(ctx, [](T v) -> T {
      using C = compute_t<T>;
      C c = static_cast<C>(v);
      if constexpr (std::is_floating_point_v<C>) {
        if (std::isnan(c)) return v;
      }
      return static_cast<T>(c > C(0) ? C(1) : (c < C(0) ? static_cast<C>(-1) : C(0)));
    });
  });
}

// Erf accepts every numeric type (opset 9+); integer inputs are computed in double and truncated.
void ref_erf(KernelContext& ctx) {
  visit_numeric(ctx.input(0).dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    map_unary<T, T>(ctx, [](T v) -> T {
      if constexpr (std::is_integral_v<T>) {
        return static_cast<T>(std::erf(static_cast<double>(v)));  // in [-1, 1]: always representable
      } else {
        return static_cast<T>(std::erf(static_cast<compute_t<T>>(v)));
      }
    });
  });
}

void ref_not(KernelContext& ctx) {
  HWOPT_KCHECK(ctx.input(0).dtype() == DType::boolean, "Not: input 0 must be bool, got {}",
               dtype_name(ctx.input(0).dtype()));
  map_unary<bool, bool>(ctx, [](bool v) { return !v; });
}

void ref_bitwise_not(KernelContext& ctx) {
  visit_integer(ctx.input(0).dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    map_unary<T, T>(ctx, [](T v) { return static_cast<T>(~static_cast<uint64_t>(v)); });
  });
}

void ref_isnan(KernelContext& ctx) {
  visit_float(ctx.input(0).dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    map_unary<T, bool>(ctx, [](T v) { return std::isnan(static_cast<compute_t<T>>(v)); });
  });
}

void ref_isinf(KernelContext& ctx) {
  const bool pos = ctx.attr_int("detect_positive", 1) != 0;
  const bool neg = ctx.attr_int("detect_negative", 1) != 0;
  visit_float(ctx.input(0).dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    map_unary<T, bool>(ctx, [&](T v) {
      auto c = static_cast<compute_t<T>>(v);
      return std::isinf(c) && ((c > 0 && pos) || (c < 0 && neg));
    });
  });
}

// Round: half to even (the default FE_TONEAREST mode of nearbyint).
void ref_round(KernelContext& ctx) {
  float_unary(ctx, [](auto v) { return std::nearbyint(v); });
}

void ref_reciprocal(KernelContext& ctx) {
  float_unary(ctx, [](auto v) { return decltype(v)(1) / v; });
}

// Float-only ops that apply one <cmath> function.
#define HWOPT_DEFINE_FLOAT_UNARY(fn) \
  void ref_##fn(KernelContext& ctx) { float_unary(ctx, [](auto v) { return std::fn(v); }); }
HWOPT_DEFINE_FLOAT_UNARY(acos)
HWOPT_DEFINE_FLOAT_UNARY(acosh)
HWOPT_DEFINE_FLOAT_UNARY(asin)
HWOPT_DEFINE_FLOAT_UNARY(asinh)
HWOPT_DEFINE_FLOAT_UNARY(atan)
HWOPT_DEFINE_FLOAT_UNARY(atanh)
HWOPT_DEFINE_FLOAT_UNARY(ceil)
HWOPT_DEFINE_FLOAT_UNARY(cos)
HWOPT_DEFINE_FLOAT_UNARY(cosh)
HWOPT_DEFINE_FLOAT_UNARY(exp)
HWOPT_DEFINE_FLOAT_UNARY(floor)
HWOPT_DEFINE_FLOAT_UNARY(log)
HWOPT_DEFINE_FLOAT_UNARY(sin)
HWOPT_DEFINE_FLOAT_UNARY(sinh)
HWOPT_DEFINE_FLOAT_UNARY(sqrt)
HWOPT_DEFINE_FLOAT_UNARY(tan)
HWOPT_DEFINE_FLOAT_UNARY(tanh)
#undef HWOPT_DEFINE_FLOAT_UNARY

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Abs", "", 1, ref_abs);
HWOPT_REGISTER_REF_KERNEL("Neg", "", 1, ref_neg);
HWOPT_REGISTER_REF_KERNEL("Sign", "", 9, ref_sign);
HWOPT_REGISTER_REF_KERNEL("Erf", "", 9, ref_erf);
HWOPT_REGISTER_REF_KERNEL("Not", "", 1, ref_not);
HWOPT_REGISTER_REF_KERNEL("BitwiseNot", "", 18, ref_bitwise_not);
HWOPT_REGISTER_REF_KERNEL("IsNaN", "", 9, ref_isnan);
HWOPT_REGISTER_REF_KERNEL("IsInf", "", 10, ref_isinf);
HWOPT_REGISTER_REF_KERNEL("Round", "", 11, ref_round);
HWOPT_REGISTER_REF_KERNEL("Reciprocal", "", 1, ref_reciprocal);
HWOPT_REGISTER_REF_KERNEL("Acos", "", 7, ref_acos);
HWOPT_REGISTER_REF_KERNEL("Acosh", "", 9, ref_acosh);
HWOPT_REGISTER_REF_KERNEL("Asin", "", 7, ref_asin);
HWOPT_REGISTER_REF_KERNEL("Asinh", "", 9, ref_asinh);
HWOPT_REGISTER_REF_KERNEL("Atan", "", 7, ref_atan);
HWOPT_REGISTER_REF_KERNEL("Atanh", "", 9, ref_atanh);
HWOPT_REGISTER_REF_KERNEL("Ceil", "", 1, ref_ceil);
HWOPT_REGISTER_REF_KERNEL("Cos", "", 7, ref_cos);
HWOPT_REGISTER_REF_KERNEL("Cosh", "", 9, ref_cosh);
HWOPT_REGISTER_REF_KERNEL("Exp", "", 1, ref_exp);
HWOPT_REGISTER_REF_KERNEL("Floor", "", 1, ref_floor);
HWOPT_REGISTER_REF_KERNEL("Log", "", 1, ref_log);
HWOPT_REGISTER_REF_KERNEL("Sin", "", 7, ref_sin);
HWOPT_REGISTER_REF_KERNEL("Sinh", "", 9, ref_sinh);
HWOPT_REGISTER_REF_KERNEL("Sqrt", "", 1, ref_sqrt);
HWOPT_REGISTER_REF_KERNEL("Tan", "", 7, ref_tan);
HWOPT_REGISTER_REF_KERNEL("Tanh", "", 1, ref_tanh);

}  // namespace hwopt::reference
