// Where: select X where condition else Y, all three broadcast together; any element dtype incl. string.
#include <vector>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

void ref_where(KernelContext& ctx) {
  Tensor cond = ctx.input(0).contiguous();
  Tensor x = ctx.input(1).contiguous();
  Tensor y = ctx.input(2).contiguous();
  HWOPT_KCHECK(cond.dtype() == DType::boolean, "Where: condition must be bool, got {}", dtype_name(cond.dtype()));
  HWOPT_KCHECK(x.dtype() == y.dtype(), "Where: X has dtype {} but Y has dtype {}", dtype_name(x.dtype()),
               dtype_name(y.dtype()));
  Shape out_shape = broadcast_shape(broadcast_shape(cond.shape(), x.shape()), y.shape());
  visit_all(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
    std::vector<int64_t> co = broadcast_offsets(cond.shape(), out_shape);
    std::vector<int64_t> xo = broadcast_offsets(x.shape(), out_shape);
    std::vector<int64_t> yo = broadcast_offsets(y.shape(), out_shape);
    const bool* pc = cond.data<bool>();
    const T* px = x.data<T>();
    const T* py = y.data<T>();
    T* po = out.data<T>();
    for (int64_t i = 0; i < out.numel(); ++i) po[i] = pc[co[i]] ? px[xo[i]] : py[yo[i]];
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Where", "", 9, ref_where);

}  // namespace hwopt::reference
