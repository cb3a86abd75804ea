// EyeLike: a 2-D tensor shaped like the input with ones on diagonal k and zeros elsewhere.
#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

void ref_eyelike(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  HWOPT_KCHECK(x.rank() == 2, "input must be 2-D, got shape {}", shape_str(x.shape()));
  DType dtype = x.dtype();
  if (ctx.has_attr("dtype")) {
    const int64_t d = ctx.attr_int("dtype", 0);
    HWOPT_KCHECK(d > 0 && d <= 1000 && dtype_is_known(static_cast<int32_t>(d)),
                 "attribute 'dtype' = {} is not a known data type", d);
    dtype = static_cast<DType>(d);
  }
  HWOPT_KCHECK(dtype != DType::string, "EyeLike does not support dtype string");
  const int64_t k = ctx.attr_int("k", 0);
  const int64_t rows = x.dim(0), cols = x.dim(1);

  visit_numeric_bool(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* py = ctx.allocate_output(0, dtype, x.shape()).data<T>();  // zero-filled
    if (k >= cols || k <= -rows) return;  // the diagonal misses the matrix (and i + k cannot overflow)
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t j = i + k;
      if (j >= 0 && j < cols) py[i * cols + j] = T(1);
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("EyeLike", "", 9, ref_eyelike);

}  // namespace hwopt::reference
