// Compress: keeps the slices along an axis (or flattened elements) where a bool condition is true.
#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

void ref_compress(KernelContext& ctx) {
  Tensor x = ctx.input(0).contiguous();
  const Tensor cond_t = ctx.input(1).contiguous();
  HWOPT_KCHECK(cond_t.dtype() == DType::boolean, "input 'condition' must be bool, got {}", dtype_name(cond_t.dtype()));
  HWOPT_KCHECK(cond_t.rank() == 1, "input 'condition' must be 1-D, got shape {}", shape_str(cond_t.shape()));
  int64_t axis = 0;
  if (ctx.has_attr("axis")) {
    const int64_t r = x.rank();
    axis = ctx.attr_int("axis", 0);
    HWOPT_KCHECK(axis >= -r && axis < r, "attribute 'axis' = {} is out of range for rank {}", axis, r);
    if (axis < 0) axis += r;
  } else {
    x = x.reshape({x.numel()});  // no axis: select from the flattened input
  }
  const int64_t dim = x.dim(axis);
  const bool* cond = cond_t.data<bool>();
  // Like numpy: entries past the axis length must be false; a shorter condition drops the rest.
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < cond_t.numel(); ++i) {
    if (!cond[i]) continue;
    HWOPT_KCHECK(i < dim, "input 'condition' selects index {} but axis {} has size {}", i, axis, dim);
    keep.push_back(i);
  }
  Shape out_shape = x.shape();
  out_shape[axis] = static_cast<int64_t>(keep.size());
  Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
  const int64_t outer = dims_product(x.shape(), 0, axis);
  const int64_t inner = dims_product(x.shape(), axis + 1, x.rank());
  const int64_t nk = static_cast<int64_t>(keep.size());
  visit_all(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < nk; ++k)
        for (int64_t j = 0; j < inner; ++j) dst[(o * nk + k) * inner + j] = src[(o * dim + keep[k]) * inner + j];
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Compress", "", 1, ref_compress);

}  // namespace hwopt::reference
