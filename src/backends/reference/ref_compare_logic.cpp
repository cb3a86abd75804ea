// Broadcasting comparisons and boolean logic: Equal, Greater, GreaterOrEqual, Less, LessOrEqual, And, Or, Xor.
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {



/// Inputs 0 and 1 (same dtype required), contiguous, legacy broadcasting applied.
std::pair<Tensor, Tensor> binary_inputs(const KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  HWOPT_KCHECK(a.dtype() == b.dtype(), "{}: inputs must have the same dtype, got A {} and B {}",
               ctx.node().op_type, dtype_name(a.dtype()), dtype_name(b.dtype()));
  return {a.contiguous(), legacy_broadcast_b(ctx, a, b).contiguous()};
}

/// Boolean out = f(a, b) elementwise over the broadcast shape.
template <typename T, typename F>
void broadcast_predicate(KernelContext& ctx, const Tensor& a, const Tensor& b, F&& f) {
  Shape out_shape = broadcast_shape(a.shape(), b.shape());
  Tensor& y = ctx.allocate_output(0, DType::boolean, out_shape);
  std::vector<int64_t> ao = broadcast_offsets(a.shape(), out_shape);
  std::vector<int64_t> bo = broadcast_offsets(b.shape(), out_shape);
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  bool* py = y.data<bool>();
  for (int64_t i = 0; i < y.numel(); ++i) py[i] = f(pa[ao[i]], pb[bo[i]]);
}

enum class Cmp { eq, gt, ge, lt, le };

template <Cmp op, typename C>
bool compare(const C& x, const C& y) {
  if constexpr (op == Cmp::eq) return x == y;
  if constexpr (op == Cmp::gt) return x > y;
  if constexpr (op == Cmp::ge) return x >= y;
  if constexpr (op == Cmp::lt) return x < y;
  return x <= y;
}

// Equal accepts numbers, bool and (opset 19) strings; the ordering ops accept numbers.
template <Cmp op>
void ref_compare(KernelContext& ctx) {
  auto ab_pair = binary_inputs(ctx);  // not a structured binding: clang < 16 cannot capture those in lambdas
  Tensor a = std::move(ab_pair.first), b = std::move(ab_pair.second);
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    broadcast_predicate<T>(ctx, a, b, [](const T& x, const T& y) {
      if constexpr (is_half_like<T>) {
        return compare<op>(static_cast<float>(x), static_cast<float>(y));
      } else {
        return compare<op>(x, y);
      }
    });
  };
  if constexpr (op == Cmp::eq) {
    visit_all(a.dtype(), run);
  } else {
    visit_numeric(a.dtype(), run);
  }
}

enum class Logic { and_, or_, xor_ };

template <Logic op>
void ref_logic(KernelContext& ctx) {
  auto ab_pair = binary_inputs(ctx);  // not a structured binding: clang < 16 cannot capture those in lambdas
  Tensor a = std::move(ab_pair.first), b = std::move(ab_pair.second);
  HWOPT_KCHECK(a.dtype() == DType::boolean, "{}: inputs must be bool, got {}", ctx.node().op_type,
               dtype_name(a.dtype()));
  broadcast_predicate<bool>(ctx, a, b, [](bool x, bool y) {
    if constexpr (op == Logic::and_) return x && y;
    if constexpr (op == Logic::or_) return x || y;
    return x != y;
  });
}

void ref_equal(KernelContext& ctx) { ref_compare<Cmp::eq>(ctx); }
void ref_greater(KernelContext& ctx) { ref_compare<Cmp::gt>(ctx); }
void ref_greater_or_equal(KernelContext& ctx) { ref_compare<Cmp::ge>(ctx); }
void ref_less(KernelContext& ctx) { ref_compare<Cmp::lt>(ctx); }
void ref_less_or_equal(KernelContext& ctx) { ref_compare<Cmp::le>(ctx); }
void ref_and(KernelContext& ctx) { ref_logic<Logic::and_>(ctx); }
void ref_or(KernelContext& ctx) { ref_logic<Logic::or_>(ctx); }
void ref_xor(KernelContext& ctx) { ref_logic<Logic::xor_>(ctx); }

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Equal", "", 1, ref_equal);
HWOPT_REGISTER_REF_KERNEL("Greater", "", 1, ref_greater);
HWOPT_REGISTER_REF_KERNEL("GreaterOrEqual", "", 12, ref_greater_or_equal);
HWOPT_REGISTER_REF_KERNEL("Less", "", 1, ref_less);
HWOPT_REGISTER_REF_KERNEL("LessOrEqual", "", 12, ref_less_or_equal);
HWOPT_REGISTER_REF_KERNEL("And", "", 1, ref_and);
HWOPT_REGISTER_REF_KERNEL("Or", "", 1, ref_or);
HWOPT_REGISTER_REF_KERNEL("Xor", "", 1, ref_xor);

}  // namespace hwopt::reference
