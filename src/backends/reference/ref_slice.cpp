// Slice: numpy-style strided slicing (attributes before opset 10, inputs with steps from 10).
#include <algorithm>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

void ref_slice(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const int64_t r = x.rank();
  std::vector<int64_t> starts, ends, axes, steps;
  bool have_axes = false, have_steps = false;
  if (ctx.opset() < 10) {
    HWOPT_KCHECK(ctx.has_attr("starts") && ctx.has_attr("ends"), "attributes 'starts' and 'ends' are required");
    starts = ctx.attr_ints("starts");
    ends = ctx.attr_ints("ends");
    have_axes = ctx.has_attr("axes");
    axes = ctx.attr_ints("axes");
  } else {
    starts = to_int64_vector(ctx.input(1));
    ends = to_int64_vector(ctx.input(2));
    HWOPT_KCHECK(ctx.input(1).rank() == 1 && ctx.input(2).rank() == 1, "inputs 'starts' and 'ends' must be 1-D");
    if (ctx.has_input(3)) {
      have_axes = true;
      axes = to_int64_vector(ctx.input(3));
    }
    if (ctx.has_input(4)) {
      have_steps = true;
      steps = to_int64_vector(ctx.input(4));
    }
  }
  const size_t n = starts.size();
  HWOPT_KCHECK(ends.size() == n, "'starts' has {} entries but 'ends' has {}", n, ends.size());
  if (!have_axes)
    for (size_t i = 0; i < n; ++i) axes.push_back(static_cast<int64_t>(i));
  if (!have_steps) steps.assign(n, 1);
  HWOPT_KCHECK(axes.size() == n, "'axes' has {} entries but 'starts' has {}", axes.size(), n);
  HWOPT_KCHECK(steps.size() == n, "'steps' has {} entries but 'starts' has {}", steps.size(), n);

  // Per axis: first index, step and count (full range by default).
  Shape out_shape = x.shape();
  std::vector<int64_t> first(static_cast<size_t>(r), 0), step(static_cast<size_t>(r), 1);
  std::vector<bool> seen(static_cast<size_t>(r), false);
  for (size_t i = 0; i < n; ++i) {
    HWOPT_KCHECK(axes[i] >= -r && axes[i] < r, "axis {} is out of range for input of rank {}", axes[i], r);
    const int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
    HWOPT_KCHECK(!seen[a], "axis {} is given more than once in 'axes'", axes[i]);
    seen[a] = true;
    const int64_t s = steps[i];
    HWOPT_KCHECK(s != 0, "'steps' must not be 0 (axis {})", axes[i]);
    const int64_t dim = x.dim(a);
    int64_t b = starts[i], e = ends[i];
    // Negative values count from the back (no overflow: dim >= 0), then clamp like numpy.
    if (b < 0) b += dim;
    if (e < 0) e += dim;
    int64_t count = 0;
    if (s > 0) {
      b = std::clamp<int64_t>(b, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      if (e > b) count = (e - b - 1) / s + 1;
    } else if (dim > 0) {
      b = std::clamp<int64_t>(b, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      const int64_t ns = s == INT64_MIN ? INT64_MAX : -s;  // -INT64_MIN overflows
      if (b > e) count = (b - e - 1) / ns + 1;
    }
    out_shape[a] = count;
    first[a] = b;
    step[a] = s;
  }

  Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
  const Shape& in_strides = x.strides();
  visit_all(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    std::vector<int64_t> idx(static_cast<size_t>(r), 0);
    for (int64_t o = 0; o < out.numel(); ++o) {
      int64_t off = 0;
      for (int64_t d = 0; d < r; ++d) off += (first[d] + idx[d] * step[d]) * in_strides[d];
      dst[o] = src[off];
      for (int64_t d = r - 1; d >= 0; --d) {
        if (++idx[d] < out_shape[d]) break;
        idx[d] = 0;
      }
    }
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Slice", "", 1, ref_slice);

}  // namespace hwopt::reference
