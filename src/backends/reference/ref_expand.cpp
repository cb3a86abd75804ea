// Expand: broadcasts a tensor to a shape (numpy bidirectional broadcasting).
#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

void ref_expand(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const Tensor& shape_t = ctx.input(1);
  HWOPT_KCHECK(shape_t.rank() == 1, "input 'shape' must be 1-D, got shape {}", shape_str(shape_t.shape()));
  const std::vector<int64_t> shape = to_int64_vector(shape_t);
  for (int64_t d : shape) HWOPT_KCHECK(d >= 0, "input 'shape' {} has a negative dim", shape_str(shape));
  const Shape out_shape = broadcast_shape(x.shape(), shape);
  // Allocating first checks the output size before the offset table is built.
  Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
  const std::vector<int64_t> offsets = broadcast_offsets(x.shape(), out_shape);
  visit_all(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    for (int64_t i = 0; i < out.numel(); ++i) dst[i] = src[offsets[i]];
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Expand", "", 1, ref_expand);

}  // namespace hwopt::reference
