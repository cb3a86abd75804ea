// Gather, GatherElements, GatherND: index-based reads, with negative indices and bounds checks.
#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

// Maps index `v` into [0, size) (negative counts from the back); KernelError naming it if out of range.
int64_t checked_index(int64_t v, int64_t size, const char* what, int64_t axis) {
  HWOPT_KCHECK(v >= -size && v < size, "index {} in '{}' is out of range for axis {} of size {}", v, what, axis, size);
  return v < 0 ? v + size : v;
}

int64_t norm_axis_attr(int64_t axis, int64_t r) {
  HWOPT_KCHECK(axis >= -r && axis < r, "attribute 'axis' = {} is out of range for rank {}", axis, r);
  return axis < 0 ? axis + r : axis;
}

void ref_gather(KernelContext& ctx) {
  const Tensor data = ctx.input(0).contiguous();
  const std::vector<int64_t> indices = to_int64_vector(ctx.input(1));
  const Shape& ishape = ctx.input(1).shape();
  const int64_t r = data.rank();
  HWOPT_KCHECK(r >= 1, "input 'data' must have rank >= 1, got a scalar");
  const int64_t axis = norm_axis_attr(ctx.attr_int("axis", 0), r);
  const int64_t size = data.dim(axis);
  // out shape = data[:axis] + indices.shape + data[axis+1:]
  Shape out_shape(data.shape().begin(), data.shape().begin() + axis);
  out_shape.insert(out_shape.end(), ishape.begin(), ishape.end());
  out_shape.insert(out_shape.end(), data.shape().begin() + axis + 1, data.shape().end());
  std::vector<int64_t> idx(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) idx[i] = checked_index(indices[i], size, "indices", axis);
  Tensor& out = ctx.allocate_output(0, data.dtype(), out_shape);
  const int64_t outer = dims_product(data.shape(), 0, axis);
  const int64_t inner = dims_product(data.shape(), axis + 1, r);
  const int64_t n_idx = static_cast<int64_t>(idx.size());
  visit_all(data.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = data.data<T>();
    T* dst = out.data<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < n_idx; ++k)
        for (int64_t j = 0; j < inner; ++j)
          dst[(o * n_idx + k) * inner + j] = src[(o * size + idx[k]) * inner + j];
  });
}

void ref_gather_elements(KernelContext& ctx) {
  const Tensor data = ctx.input(0).contiguous();
  const std::vector<int64_t> indices = to_int64_vector(ctx.input(1));
  const Shape& ishape = ctx.input(1).shape();
  const int64_t r = data.rank();
  HWOPT_KCHECK(r >= 1, "input 'data' must have rank >= 1, got a scalar");
  HWOPT_KCHECK(static_cast<int64_t>(ishape.size()) == r, "'indices' shape {} must have the rank of 'data' {}",
               shape_str(ishape), shape_str(data.shape()));
  const int64_t axis = norm_axis_attr(ctx.attr_int("axis", 0), r);
  for (int64_t d = 0; d < r; ++d)
    HWOPT_KCHECK(d == axis || ishape[d] <= data.dim(d),
                 "'indices' shape {} exceeds 'data' shape {} on axis {}", shape_str(ishape), shape_str(data.shape()), d);
  Tensor& out = ctx.allocate_output(0, data.dtype(), ishape);
  const Shape& st = data.strides();
  visit_all(data.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = data.data<T>();
    T* dst = out.data<T>();
    std::vector<int64_t> pos(static_cast<size_t>(r), 0);
    for (size_t e = 0; e < indices.size(); ++e) {
      int64_t off = 0;
      for (int64_t d = 0; d < r; ++d)
        off += (d == axis ? checked_index(indices[e], data.dim(axis), "indices", axis) : pos[d]) * st[d];
      dst[e] = src[off];
      for (int64_t d = r - 1; d >= 0; --d) {
        if (++pos[d] < ishape[d]) break;
        pos[d] = 0;
      }
    }
  });
}

void ref_gather_nd(KernelContext& ctx) {
  const Tensor data = ctx.input(0).contiguous();
  const std::vector<int64_t> indices = to_int64_vector(ctx.input(1));
  const Shape& ishape = ctx.input(1).shape();
  const int64_t r = data.rank();
  const int64_t q = static_cast<int64_t>(ishape.size());
  const int64_t b = ctx.opset() >= 12 ? ctx.attr_int("batch_dims", 0) : 0;
  HWOPT_KCHECK(r >= 1 && q >= 1, "'data' and 'indices' must have rank >= 1 (got {} and {})", r, q);
  HWOPT_KCHECK(b >= 0 && b < std::min(r, q), "attribute 'batch_dims' = {} must be in [0, min(rank(data), rank(indices)))", b);
  for (int64_t d = 0; d < b; ++d)
    HWOPT_KCHECK(ishape[d] == data.dim(d), "batch dim {} differs: 'data' shape {}, 'indices' shape {}", d,
                 shape_str(data.shape()), shape_str(ishape));
  const int64_t k = ishape[q - 1];
  HWOPT_KCHECK(k >= 1 && k <= r - b, "last dim of 'indices' ({}) must be in [1, {}]", k, r - b);
  // out shape = indices.shape[:-1] + data.shape[b+k:]
  Shape out_shape(ishape.begin(), ishape.end() - 1);
  out_shape.insert(out_shape.end(), data.shape().begin() + b + k, data.shape().end());
  Tensor& out = ctx.allocate_output(0, data.dtype(), out_shape);
  const int64_t slice = dims_product(data.shape(), b + k, r);            // elements copied per index tuple
  const int64_t batch_stride = dims_product(data.shape(), b, r);        // data elements per batch
  const int64_t tuples_per_batch = dims_product(ishape, b, q - 1);      // index tuples per batch
  const int64_t n_tuples = dims_product(ishape, 0, q - 1);
  const Shape& st = data.strides();
  visit_all(data.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = data.data<T>();
    T* dst = out.data<T>();
    for (int64_t t = 0; t < n_tuples; ++t) {
      const int64_t batch = tuples_per_batch > 0 ? t / tuples_per_batch : 0;
      int64_t off = batch * batch_stride;
      for (int64_t j = 0; j < k; ++j) {
        const int64_t axis = b + j;
        off += checked_index(indices[t * k + j], data.dim(axis), "indices", axis) * st[axis];
      }
      for (int64_t e = 0; e < slice; ++e) dst[t * slice + e] = src[off + e];
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Gather", "", 1, ref_gather);
HWOPT_REGISTER_REF_KERNEL("GatherElements", "", 1, ref_gather_elements);
HWOPT_REGISTER_REF_KERNEL("GatherND", "", 1, ref_gather_nd);

}  // namespace hwopt::reference
