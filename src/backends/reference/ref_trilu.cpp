// Trilu: keeps the upper or lower triangle (offset by k) of the last two dims, zeroing the rest.
#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

void ref_trilu(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  HWOPT_KCHECK(x.rank() >= 2, "input must have rank >= 2, got shape {}", shape_str(x.shape()));
  int64_t k = 0;
  if (ctx.has_input(1)) {
    const Tensor& kt = ctx.input(1);
    HWOPT_KCHECK(kt.numel() == 1 && kt.rank() <= 1, "input 'k' must be a scalar, got shape {}", shape_str(kt.shape()));
    HWOPT_KCHECK(kt.dtype() == DType::int64 || kt.dtype() == DType::int32, "input 'k' must be int64 (or int32), got {}",
                 dtype_name(kt.dtype()));
    k = to_int64_vector(kt)[0];
  }
  const bool upper = ctx.attr_int("upper", 1) != 0;
  const int64_t rows = x.dim(-2), cols = x.dim(-1);
  const int64_t batch = dims_product(x.shape(), 0, x.rank() - 2);

  visit_all(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());  // zero-filled (empty strings)
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < cols; ++j) {
          // Element (i, j) is on diagonal j - i; keep diagonals >= k (upper) or <= k (lower).
          const bool keep = upper ? (j - i >= k) : (j - i <= k);
          const int64_t off = (b * rows + i) * cols + j;
          if (keep) py[off] = px[off];
        }
      }
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Trilu", "", 14, ref_trilu);

}  // namespace hwopt::reference
