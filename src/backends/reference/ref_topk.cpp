// TopK: the k largest (or smallest) elements along an axis and their indices.
#include <algorithm>
#include <cmath>
#include <numeric>
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

void ref_topk(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const int64_t rank = x.rank();
  int64_t k;
  if (ctx.opset() >= 10) {
    const Tensor& kt = ctx.input(1);
    HWOPT_KCHECK(kt.numel() == 1 && kt.rank() <= 1, "input 'K' must hold exactly one value, got shape {}",
                 shape_str(kt.shape()));
    HWOPT_KCHECK(kt.dtype() == DType::int64 || kt.dtype() == DType::int32, "input 'K' must be int64 (or int32), got {}",
                 dtype_name(kt.dtype()));
    k = to_int64_vector(kt)[0];
  } else {
    HWOPT_KCHECK(ctx.has_attr("k"), "attribute 'k' is required before opset 10");
    k = ctx.attr_int("k", 0);
  }
  const int64_t axis_attr = ctx.attr_int("axis", -1);
  HWOPT_KCHECK(rank >= 1, "input 'X' must have rank >= 1, got a scalar");
  HWOPT_KCHECK(axis_attr >= -rank && axis_attr < rank, "attribute 'axis' = {} is out of range for rank {}", axis_attr,
               rank);
  const int64_t axis = axis_attr < 0 ? axis_attr + rank : axis_attr;
  const int64_t n = x.dim(axis);
  HWOPT_KCHECK(k >= 0 && k <= n, "k = {} must be in [0, {}] (the size of axis {})", k, n, axis);
  const bool largest = ctx.opset() < 11 || ctx.attr_int("largest", 1) != 0;
  // `sorted` = 0 leaves the order unspecified; sorted order is a valid choice, so it is always used.

  Shape out_shape = x.shape();
  out_shape[axis] = k;
  const int64_t outer = dims_product(x.shape(), 0, axis);
  const int64_t inner = dims_product(x.shape(), axis + 1, rank);
  Tensor& indices = ctx.allocate_output(1, DType::int64, out_shape);
  int64_t* pi = indices.data<int64_t>();

  visit_numeric(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& values = ctx.allocate_output(0, x.dtype(), out_shape);
    const T* px = x.data<T>();
    T* pv = values.data<T>();
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const T* row = px + o * n * inner + i;
        std::iota(order.begin(), order.end(), int64_t{0});
        // NaN ranks above every number. Stable sort keeps equal values in index order.
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
          auto va = compare_key(row[a * inner]);
          auto vb = compare_key(row[b * inner]);
          if (largest) return !is_nan(vb) && (is_nan(va) || va > vb);
          return !is_nan(va) && (is_nan(vb) || va < vb);
        });
        for (int64_t j = 0; j < k; ++j) {
          const int64_t off = o * k * inner + j * inner + i;
          pv[off] = row[order[j] * inner];
          pi[off] = order[j];
        }
      }
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("TopK", "", 1, ref_topk);

}  // namespace hwopt::reference
