// Variadic element-wise ops with numpy broadcasting over 1..N inputs: Max, Min, Mean, Sum.
#include <cmath>
#include <type_traits>
#include <vector>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {


/// The type arithmetic on T is done in: float for float16/bfloat16, T otherwise.
template <typename T>
using compute_t = std::conditional_t<is_half_like<T>, float, T>;

enum class Reduce { max, min, mean, sum };

template <typename C>
C combine(Reduce op, C acc, C v) {
  if constexpr (std::is_floating_point_v<C>) {
    if ((op == Reduce::max || op == Reduce::min) && (std::isnan(acc) || std::isnan(v))) {
      return std::isnan(acc) ? acc : v;  // NaN propagates, like numpy's maximum/minimum
    }
  }
  switch (op) {
    case Reduce::max: return v > acc ? v : acc;
    case Reduce::min: return v < acc ? v : acc;
    default:
      if constexpr (std::is_integral_v<C>) {
        return static_cast<C>(static_cast<uint64_t>(acc) + static_cast<uint64_t>(v));  // wraps, no UB
      } else {
        return acc + v;
      }
  }
}

template <Reduce op>
void ref_variadic(KernelContext& ctx) {
  const char* name = ctx.node().op_type.c_str();
  HWOPT_KCHECK(ctx.num_inputs() >= 1, "{}: needs at least one input", name);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    inputs.push_back(ctx.input(i).contiguous());
    HWOPT_KCHECK(inputs[i].dtype() == inputs[0].dtype(), "{}: input {} has dtype {} but input 0 has dtype {}", name,
                 i, dtype_name(inputs[i].dtype()), dtype_name(inputs[0].dtype()));
  }
  Shape out_shape = inputs[0].shape();
  for (const Tensor& t : inputs) out_shape = broadcast_shape(out_shape, t.shape());

  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = compute_t<T>;
    Tensor& y = ctx.allocate_output(0, inputs[0].dtype(), out_shape);
    const int64_t n = y.numel();
    std::vector<C> acc(static_cast<size_t>(n));
    for (size_t k = 0; k < inputs.size(); ++k) {
      std::vector<int64_t> off = broadcast_offsets(inputs[k].shape(), out_shape);
      const T* p = inputs[k].template data<T>();
      for (int64_t i = 0; i < n; ++i) {
        C v = static_cast<C>(p[off[i]]);
        acc[i] = k == 0 ? v : combine(op, acc[i], v);
      }
    }
    T* py = y.data<T>();
    for (int64_t i = 0; i < n; ++i) {
      C v = acc[i];
      if constexpr (op == Reduce::mean) v = v / static_cast<C>(inputs.size());
      py[i] = static_cast<T>(v);
    }
  };
  if constexpr (op == Reduce::mean) {
    visit_float(inputs[0].dtype(), run);
  } else {
    visit_numeric(inputs[0].dtype(), run);
  }
}

void ref_max(KernelContext& ctx) { ref_variadic<Reduce::max>(ctx); }
void ref_min(KernelContext& ctx) { ref_variadic<Reduce::min>(ctx); }
void ref_mean(KernelContext& ctx) { ref_variadic<Reduce::mean>(ctx); }
void ref_sum(KernelContext& ctx) { ref_variadic<Reduce::sum>(ctx); }

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Max", "", 1, ref_max);
HWOPT_REGISTER_REF_KERNEL("Min", "", 1, ref_min);
HWOPT_REGISTER_REF_KERNEL("Mean", "", 1, ref_mean);
HWOPT_REGISTER_REF_KERNEL("Sum", "", 1, ref_sum);

}  // namespace hwopt::reference
