// Scatter (deprecated), ScatterElements, ScatterND: index-based writes with optional reduction.
#include <algorithm>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

enum class Reduction { none, add, mul, max, min };

Reduction parse_reduction(const KernelContext& ctx) {
  // 'reduction' exists from opset 16 (add, mul) and 18 (max, min).
  if (ctx.opset() < 16) return Reduction::none;
  const std::string r = ctx.attr_string("reduction", "none");
  if (r == "none") return Reduction::none;
  if (r == "add") return Reduction::add;
  if (r == "mul") return Reduction::mul;
  if (r == "max" && ctx.opset() >= 18) return Reduction::max;
  if (r == "min" && ctx.opset() >= 18) return Reduction::min;
  HWOPT_KCHECK(false, "attribute 'reduction' = '{}' is not supported at opset {}", r, ctx.opset());
  return Reduction::none;
}

// Combines the existing value `a` with the update `b`; 16-bit floats go through float, bool as logic.
template <typename T>
T combine(const T& a, const T& b, Reduction red) {
  if constexpr (std::is_same_v<T, std::string>) {
    HWOPT_KCHECK(red == Reduction::none, "reductions are not defined for string tensors");
    return b;
  } else if constexpr (std::is_same_v<T, bool>) {
    switch (red) {
      case Reduction::none: return b;
      case Reduction::add: case Reduction::max: return a || b;
      case Reduction::mul: case Reduction::min: return a && b;
    }
    return b;
  } else {
    using C = std::conditional_t<std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>, float, T>;
    const C x = static_cast<C>(a), y = static_cast<C>(b);
    if constexpr (std::is_integral_v<C>) {
      // Integers wrap around (computed unsigned, so overflow is defined).
      const uint64_t ux = static_cast<uint64_t>(x), uy = static_cast<uint64_t>(y);
      if (red == Reduction::add) return static_cast<C>(ux + uy);
      if (red == Reduction::mul) return static_cast<C>(ux * uy);
    }
    switch (red) {
      case Reduction::none: return b;
      case Reduction::add: return T(static_cast<C>(x + y));
      case Reduction::mul: return T(static_cast<C>(x * y));
      case Reduction::max: return T(std::max(x, y));
      case Reduction::min: return T(std::min(x, y));
    }
    return b;
  }
}

int64_t checked_index(int64_t v, int64_t size, int64_t axis) {
  HWOPT_KCHECK(v >= -size && v < size, "index {} in 'indices' is out of range for axis {} of size {}", v, axis, size);
  return v < 0 ? v + size : v;
}

// Scatter-9/10 and ScatterElements: out = data; out[.., indices[i], ..] (op)= updates[i].
void scatter_elements(KernelContext& ctx, Reduction red) {
  const Tensor data = ctx.input(0).contiguous();
  const std::vector<int64_t> indices = to_int64_vector(ctx.input(1));
  const Tensor updates = ctx.input(2).contiguous();
  const Shape& ishape = ctx.input(1).shape();
  const int64_t r = data.rank();
  HWOPT_KCHECK(r >= 1, "input 'data' must have rank >= 1, got a scalar");
  HWOPT_KCHECK(updates.dtype() == data.dtype(), "'updates' dtype {} differs from 'data' dtype {}",
               dtype_name(updates.dtype()), dtype_name(data.dtype()));
  HWOPT_KCHECK(updates.shape() == ishape, "'updates' shape {} must equal 'indices' shape {}",
               shape_str(updates.shape()), shape_str(ishape));
  HWOPT_KCHECK(static_cast<int64_t>(ishape.size()) == r, "'indices' shape {} must have the rank of 'data' {}",
               shape_str(ishape), shape_str(data.shape()));
  const int64_t axis_attr = ctx.attr_int("axis", 0);
  HWOPT_KCHECK(axis_attr >= -r && axis_attr < r, "attribute 'axis' = {} is out of range for rank {}", axis_attr, r);
  const int64_t axis = axis_attr < 0 ? axis_attr + r : axis_attr;
  for (int64_t d = 0; d < r; ++d)
    HWOPT_KCHECK(d == axis || ishape[d] <= data.dim(d), "'indices' shape {} exceeds 'data' shape {} on axis {}",
                 shape_str(ishape), shape_str(data.shape()), d);
  Tensor& out = ctx.allocate_output(0, data.dtype(), data.shape());
  // Contiguous row-major strides of data.
  Shape st(static_cast<size_t>(r), 1);
  for (int64_t d = r - 2; d >= 0; --d) st[d] = st[d + 1] * data.dim(d + 1);
  visit_all(data.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = data.data<T>();
    const T* upd = updates.data<T>();
    T* dst = out.data<T>();
    for (int64_t i = 0; i < data.numel(); ++i) dst[i] = src[i];
    std::vector<int64_t> pos(static_cast<size_t>(r), 0);
    for (size_t e = 0; e < indices.size(); ++e) {
      int64_t off = 0;
      for (int64_t d = 0; d < r; ++d)
        off += (d == axis ? checked_index(indices[e], data.dim(axis), axis) : pos[d]) * st[d];
      dst[off] = combine(dst[off], upd[e], red);
      for (int64_t d = r - 1; d >= 0; --d) {
        if (++pos[d] < ishape[d]) break;
        pos[d] = 0;
      }
    }
  });
}

void ref_scatter(KernelContext& ctx) { scatter_elements(ctx, Reduction::none); }
void ref_scatter_elements(KernelContext& ctx) { scatter_elements(ctx, parse_reduction(ctx)); }

// ScatterND: out = data; out[indices[i]] (op)= updates[i], where each index tuple addresses a slice.
void ref_scatter_nd(KernelContext& ctx) {
  const Reduction red = parse_reduction(ctx);
  const Tensor data = ctx.input(0).contiguous();
  const std::vector<int64_t> indices = to_int64_vector(ctx.input(1));
  const Tensor updates = ctx.input(2).contiguous();
  const Shape& ishape = ctx.input(1).shape();
  const int64_t r = data.rank();
  const int64_t q = static_cast<int64_t>(ishape.size());
  HWOPT_KCHECK(r >= 1 && q >= 1, "'data' and 'indices' must have rank >= 1 (got {} and {})", r, q);
  HWOPT_KCHECK(updates.dtype() == data.dtype(), "'updates' dtype {} differs from 'data' dtype {}",
               dtype_name(updates.dtype()), dtype_name(data.dtype()));
  const int64_t k = ishape[q - 1];
  HWOPT_KCHECK(k >= 1 && k <= r, "last dim of 'indices' ({}) must be in [1, {}]", k, r);
  // updates shape = indices.shape[:-1] + data.shape[k:]
  Shape ushape(ishape.begin(), ishape.end() - 1);
  ushape.insert(ushape.end(), data.shape().begin() + k, data.shape().end());
  HWOPT_KCHECK(updates.shape() == ushape, "'updates' shape {} must be {} (indices.shape[:-1] + data.shape[{}:])",
               shape_str(updates.shape()), shape_str(ushape), k);
  Tensor& out = ctx.allocate_output(0, data.dtype(), data.shape());
  const int64_t slice = dims_product(data.shape(), k, r);
  const int64_t n_tuples = dims_product(ishape, 0, q - 1);
  visit_all(data.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = data.data<T>();
    const T* upd = updates.data<T>();
    T* dst = out.data<T>();
    for (int64_t i = 0; i < data.numel(); ++i) dst[i] = src[i];
    for (int64_t t = 0; t < n_tuples; ++t) {
      int64_t off = 0;
      for (int64_t j = 0; j < k; ++j) off = off * data.dim(j) + checked_index(indices[t * k + j], data.dim(j), j);
      off *= slice;
      for (int64_t e = 0; e < slice; ++e) dst[off + e] = combine(dst[off + e], upd[t * slice + e], red);
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Scatter", "", 1, ref_scatter);
HWOPT_REGISTER_REF_KERNEL("ScatterElements", "", 1, ref_scatter_elements);
HWOPT_REGISTER_REF_KERNEL("ScatterND", "", 1, ref_scatter_nd);

}  // namespace hwopt::reference
