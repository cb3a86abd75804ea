// Activation functions: Relu, LeakyRelu, Elu, Selu, Celu, Sigmoid, HardSigmoid, HardSwish, Softplus, Softsign,
// ThresholdedRelu, Shrink, PRelu, Gelu, Mish.
#include <algorithm>
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

/// y[i] = f(x[i]) with x's dtype and shape.
template <typename T, typename F>
void map_unary(KernelContext& ctx, F&& f) {
  Tensor x = ctx.input(0).contiguous();
  Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
  const T* px = x.data<T>();
  T* py = y.data<T>();
  for (int64_t i = 0; i < x.numel(); ++i) py[i] = f(px[i]);
}

/// Float-only activation: f gets and returns the compute type C (float for 16-bit floats).
template <typename F>
void float_activation(KernelContext& ctx, F f) {
  visit_float(ctx.input(0).dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    map_unary<T>(ctx, [&](T v) { return static_cast<T>(f(static_cast<compute_t<T>>(v))); });
  });
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

void ref_relu(KernelContext& ctx) {
  visit_numeric(ctx.input(0).dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = compute_t<T>;
    map_unary<T>(ctx, [](T v) {
      C c = static_cast<C>(v);
      if constexpr (std::is_floating_point_v<C>) {
        if (std::isnan(c)) return v;  // NaN propagates, like numpy's maximum(x, 0)
      }
      return c > C(0) ? v : static_cast<T>(C(0));
    });
  });
}

void ref_leaky_relu(KernelContext& ctx) {
  const float alpha = ctx.attr_float("alpha", 0.01f);
  float_activation(ctx, [&](auto x) {
    using C = decltype(x);
    return x < C(0) ? static_cast<C>(alpha) * x : x;
  });
}

void ref_elu(KernelContext& ctx) {
  const float alpha = ctx.attr_float("alpha", 1.0f);
  float_activation(ctx, [&](auto x) {
    using C = decltype(x);
    return x < C(0) ? static_cast<C>(alpha) * std::expm1(x) : x;
  });
}

void ref_selu(KernelContext& ctx) {
  const float alpha = ctx.attr_float("alpha", 1.67326319217681884765625f);
  const float gamma = ctx.attr_float("gamma", 1.05070102214813232421875f);
  float_activation(ctx, [&](auto x) {
    using C = decltype(x);
    C g = static_cast<C>(gamma);
    return x <= C(0) ? g * static_cast<C>(alpha) * std::expm1(x) : g * x;
  });
}

void ref_celu(KernelContext& ctx) {
  const float alpha = ctx.attr_float("alpha", 1.0f);
  HWOPT_KCHECK(alpha != 0.0f, "Celu: attribute 'alpha' must be non-zero");
  float_activation(ctx, [&](auto x) {
    using C = decltype(x);
    C a = static_cast<C>(alpha);
    return std::max(C(0), x) + std::min(C(0), a * std::expm1(x / a));
  });
}

void ref_sigmoid(KernelContext& ctx) {
  float_activation(ctx, [](auto x) { return stable_sigmoid(x); });
}

void ref_hard_sigmoid(KernelContext& ctx) {
  const float alpha = ctx.attr_float("alpha", 0.2f);
  const float beta = ctx.attr_float("beta", 0.5f);
  float_activation(ctx, [&](auto x) {
    using C = decltype(x);
    return std::max(C(0), std::min(C(1), static_cast<C>(alpha) * x + static_cast<C>(beta)));
  });
}

void ref_hard_swish(KernelContext& ctx) {
  float_activation(ctx, [](auto x) {
    using C = decltype(x);
    return x * std::max(C(0), std::min(C(1), x / C(6) + C(0.5)));
  });
}

void ref_softplus(KernelContext& ctx) {
  float_activation(ctx, [](auto x) { return stable_softplus(x); });
}

void ref_softsign(KernelContext& ctx) {
  float_activation(ctx, [](auto x) {
    using C = decltype(x);
    return x / (C(1) + std::fabs(x));
  });
}

void ref_thresholded_relu(KernelContext& ctx) {
  const float alpha = ctx.attr_float("alpha", 1.0f);
  float_activation(ctx, [&](auto x) {
    using C = decltype(x);
    return x > static_cast<C>(alpha) ? x : C(0);
  });
}

void ref_mish(KernelContext& ctx) {
  float_activation(ctx, [](auto x) { return x * std::tanh(stable_softplus(x)); });
}

void ref_gelu(KernelContext& ctx) {
  const std::string approximate = ctx.attr_string("approximate", "none");
  HWOPT_KCHECK(approximate == "none" || approximate == "tanh",
               "Gelu: attribute 'approximate' must be 'none' or 'tanh', got '{}'", approximate);
  const bool use_tanh = approximate == "tanh";
  float_activation(ctx, [&](auto x) {
    using C = decltype(x);
    if (use_tanh) {
      const C k = static_cast<C>(std::sqrt(2.0 / 3.14159265358979323846));
      return C(0.5) * x * (C(1) + std::tanh(k * (x + static_cast<C>(0.044715) * x * x * x)));
    }
    return C(0.5) * x * (C(1) + std::erf(x / static_cast<C>(std::sqrt(2.0))));
  });
}

// Shrink accepts every numeric type; integers are computed in double and clamped back.
void ref_shrink(KernelContext& ctx) {
  const float bias = ctx.attr_float("bias", 0.0f);
  const float lambd = ctx.attr_float("lambd", 0.5f);
  visit_numeric(ctx.input(0).dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = std::conditional_t<std::is_integral_v<T>, double, compute_t<T>>;
    map_unary<T>(ctx, [&](T v) -> T {
      C x = static_cast<C>(v);
      C l = static_cast<C>(lambd), b = static_cast<C>(bias);
      C y = x < -l ? x + b : (x > l ? x - b : C(0));
      if constexpr (std::is_integral_v<T>) {
        return saturate_to_int<T>(y);
      } else {
        return static_cast<T>(y);
      }
    });
  });
}

// PRelu: y = x < 0 ? slope * x : x, slope broadcast unidirectionally to x's shape. Before opset 7 a 1-D
// slope of size C is per channel (axis 1).
void ref_prelu(KernelContext& ctx) {
  Tensor x = ctx.input(0).contiguous();
  Tensor slope = ctx.input(1).contiguous();
  if (ctx.opset() < 7 && slope.rank() == 1 && x.rank() >= 2 && slope.dim(0) == x.dim(1) && slope.dim(0) != 1) {
    Shape per_channel(static_cast<size_t>(x.rank() - 1), 1);
    per_channel[0] = slope.dim(0);
    slope = slope.reshape(per_channel);
  }
  HWOPT_KCHECK(x.dtype() == slope.dtype(), "PRelu: X has dtype {} but slope has dtype {}", dtype_name(x.dtype()),
               dtype_name(slope.dtype()));
  HWOPT_KCHECK(broadcast_shape(x.shape(), slope.shape()) == x.shape(),
               "PRelu: slope shape {} does not broadcast to X shape {}", shape_str(slope.shape()),
               shape_str(x.shape()));
  std::vector<int64_t> soff = broadcast_offsets(slope.shape(), x.shape());
  visit_numeric(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
    const T* px = x.data<T>();
    const T* ps = slope.data<T>();
    T* py = y.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      T v = px[i];
      T s = ps[soff[i]];
      if constexpr (std::is_integral_v<T>) {
        if constexpr (std::is_signed_v<T>) {
          // Wrapping multiply, no signed-overflow UB.
          py[i] = v < 0 ? static_cast<T>(static_cast<uint64_t>(v) * static_cast<uint64_t>(s)) : v;
        } else {
          py[i] = v;
        }
      } else {
        using C = compute_t<T>;
        C c = static_cast<C>(v);
        py[i] = c < C(0) ? static_cast<T>(static_cast<C>(s) * c) : v;
      }
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Relu", "", 1, ref_relu);
HWOPT_REGISTER_REF_KERNEL("LeakyRelu", "", 1, ref_leaky_relu);
HWOPT_REGISTER_REF_KERNEL("Elu", "", 1, ref_elu);
HWOPT_REGISTER_REF_KERNEL("Selu", "", 1, ref_selu);
HWOPT_REGISTER_REF_KERNEL("Celu", "", 12, ref_celu);
HWOPT_REGISTER_REF_KERNEL("Sigmoid", "", 1, ref_sigmoid);
HWOPT_REGISTER_REF_KERNEL("HardSigmoid", "", 1, ref_hard_sigmoid);
HWOPT_REGISTER_REF_KERNEL("HardSwish", "", 14, ref_hard_swish);
HWOPT_REGISTER_REF_KERNEL("Softplus", "", 1, ref_softplus);
HWOPT_REGISTER_REF_KERNEL("Softsign", "", 1, ref_softsign);
HWOPT_REGISTER_REF_KERNEL("ThresholdedRelu", "", 10, ref_thresholded_relu);
HWOPT_REGISTER_REF_KERNEL("Shrink", "", 9, ref_shrink);
HWOPT_REGISTER_REF_KERNEL("PRelu", "", 1, ref_prelu);
HWOPT_REGISTER_REF_KERNEL("Gelu", "", 20, ref_gelu);
HWOPT_REGISTER_REF_KERNEL("Mish", "", 18, ref_mish);

}  // namespace hwopt::reference
