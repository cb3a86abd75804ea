// Shape (with start/end from opset 15) and Size: int64 metadata of the input tensor.
#include <algorithm>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

void ref_shape(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t r = x.rank();
  int64_t start = 0;
  int64_t end = r;
  if (ctx.opset() >= 15) {
    start = ctx.attr_int("start", 0);
    end = ctx.attr_int("end", r);
  }
  // Negative values count from the back; out-of-range values are clamped to [0, rank].
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, 0, r);
  const int64_t n = std::max<int64_t>(end - start, 0);
  Tensor& out = ctx.allocate_output(0, DType::int64, {n});
  for (int64_t i = 0; i < n; ++i) out.data<int64_t>()[i] = x.dim(start + i);
}

void ref_size(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& out = ctx.allocate_output(0, DType::int64, {});
  out.data<int64_t>()[0] = x.numel();
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Shape", "", 1, ref_shape);
HWOPT_REGISTER_REF_KERNEL("Size", "", 1, ref_size);

}  // namespace hwopt::reference
