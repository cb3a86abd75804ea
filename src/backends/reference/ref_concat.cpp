// Concat: joins tensors of equal rank along one axis.
#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

void ref_concat(KernelContext& ctx) {
  HWOPT_KCHECK(ctx.num_inputs() >= 1, "Concat needs at least one input");
  std::vector<Tensor> xs;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) xs.push_back(ctx.input(i).contiguous());
  const Tensor& first = xs[0];
  const int64_t r = first.rank();
  HWOPT_KCHECK(r >= 1, "Concat inputs must have rank >= 1, input 0 is a scalar");
  // Opset 1 defaults axis to 1; from opset 4 it is required.
  HWOPT_KCHECK(ctx.opset() < 4 || ctx.has_attr("axis"), "attribute 'axis' is required");
  const int64_t axis_attr = ctx.attr_int("axis", 1);
  HWOPT_KCHECK(axis_attr >= -r && axis_attr < r, "attribute 'axis' = {} is out of range for rank {}", axis_attr, r);
  const int64_t axis = axis_attr < 0 ? axis_attr + r : axis_attr;

  Shape out_shape = first.shape();
  out_shape[axis] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    HWOPT_KCHECK(x.dtype() == first.dtype(), "input {} has dtype {}, input 0 has {}", i, dtype_name(x.dtype()),
                 dtype_name(first.dtype()));
    HWOPT_KCHECK(x.rank() == r, "input {} has shape {}, input 0 has {} (ranks differ)", i, shape_str(x.shape()),
                 shape_str(first.shape()));
    for (int64_t d = 0; d < r; ++d)
      HWOPT_KCHECK(d == axis || x.dim(d) == first.dim(d),
                   "input {} has shape {}, input 0 has {}: dims other than axis {} must match", i,
                   shape_str(x.shape()), shape_str(first.shape()), axis);
    out_shape[axis] += x.dim(axis);
  }
  Tensor& out = ctx.allocate_output(0, first.dtype(), out_shape);
  // View every tensor as [outer, dim(axis) * inner] and copy the row blocks one after another.
  const int64_t outer = dims_product(out_shape, 0, axis);
  const int64_t inner = dims_product(out_shape, axis + 1, r);
  const int64_t out_row = out_shape[axis] * inner;
  visit_all(first.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* dst = out.data<T>();
    int64_t col = 0;
    for (const Tensor& x : xs) {
      const T* src = x.data<T>();
      const int64_t row = x.dim(axis) * inner;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < row; ++j) dst[o * out_row + col + j] = src[o * row + j];
      col += row;
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Concat", "", 1, ref_concat);

}  // namespace hwopt::reference
