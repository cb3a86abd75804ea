// Reshape, Flatten, Squeeze, Unsqueeze: shape-only ops that return views of their input.
#include <algorithm>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

// A view of `x` with `shape` (same element count, checked by the caller).
Tensor view_as(const Tensor& x, const Shape& shape) {
  HWOPT_KCHECK(shape_numel(shape) == x.numel(), "cannot view {} elements as shape {}", x.numel(),
               shape_str(shape));
  return x.reshape(shape);
}

// Reshape-1..4 take the shape as an attribute, 5+ as input 1; allowzero from opset 14.
void ref_reshape(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> requested;
  if (ctx.opset() < 5) {
    HWOPT_KCHECK(ctx.has_attr("shape"), "attribute 'shape' is required before opset 5");
    requested = ctx.attr_ints("shape");
  } else {
    const Tensor& s = ctx.input(1);
    HWOPT_KCHECK(s.rank() == 1, "input 'shape' must be 1-D, got shape {}", shape_str(s.shape()));
    requested = to_int64_vector(s);
  }
  const bool allowzero = ctx.opset() >= 14 && ctx.attr_int("allowzero", 0) != 0;
  Shape out(requested.size());
  int64_t infer_at = -1;
  int64_t known = 1;
  bool has_zero = false;
  for (size_t i = 0; i < requested.size(); ++i) {
    int64_t d = requested[i];
    if (d == -1) {
      HWOPT_KCHECK(infer_at < 0, "shape {} has more than one -1", shape_str(requested));
      infer_at = static_cast<int64_t>(i);
      continue;
    }
    HWOPT_KCHECK(d >= 0, "shape value {} at index {} is invalid (must be >= -1)", d, i);
    if (d == 0) {
      has_zero = true;
      if (!allowzero) {
        HWOPT_KCHECK(static_cast<int64_t>(i) < x.rank(),
                     "shape value 0 at index {} copies an input dim, but the input has rank {}", i,
                     x.rank());
        d = x.dim(static_cast<int64_t>(i));
      }
    }
    out[i] = d;
    HWOPT_KCHECK(d == 0 || known <= INT64_MAX / d, "shape {} is too large", shape_str(requested));
    known *= d;
  }
  if (infer_at >= 0) {
    HWOPT_KCHECK(!(allowzero && has_zero), "shape {} has both 0 and -1 while allowzero=1",
                 shape_str(requested));
    HWOPT_KCHECK(known != 0, "cannot infer the -1 in shape {}: the other dims multiply to 0",
                 shape_str(requested));
    HWOPT_KCHECK(x.numel() % known == 0, "cannot reshape {} elements (input shape {}) to {}",
                 x.numel(), shape_str(x.shape()), shape_str(requested));
    out[infer_at] = x.numel() / known;
  }
  HWOPT_KCHECK(shape_numel(out) == x.numel(), "cannot reshape input of shape {} ({} elements) to {}",
               shape_str(x.shape()), x.numel(), shape_str(out));
  ctx.set_output(0, view_as(x, out));
}

void ref_flatten(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t r = x.rank();
  int64_t axis = ctx.attr_int("axis", 1);
  HWOPT_KCHECK(axis >= -r && axis <= r, "attribute 'axis' = {} is out of range for rank {}", axis, r);
  if (axis < 0) axis += r;
  Shape out{dims_product(x.shape(), 0, axis), dims_product(x.shape(), axis, r)};
  ctx.set_output(0, view_as(x, out));
}

// Axes from the attribute (before opset 13) or from optional input 1 (13+).
std::vector<int64_t> axes_arg(KernelContext& ctx, bool* given) {
  if (ctx.opset() < 13) {
    *given = ctx.has_attr("axes");
    return ctx.attr_ints("axes");
  }
  *given = ctx.has_input(1);
  if (!*given) return {};
  const Tensor& a = ctx.input(1);
  HWOPT_KCHECK(a.rank() <= 1, "input 'axes' must be 1-D, got shape {}", shape_str(a.shape()));
  return to_int64_vector(a);
}

void ref_squeeze(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t r = x.rank();
  bool given = false;
  std::vector<int64_t> axes = axes_arg(ctx, &given);
  std::vector<bool> drop(static_cast<size_t>(r), false);
  if (!given) {
    for (int64_t i = 0; i < r; ++i) drop[i] = x.dim(i) == 1;
  } else {
    for (int64_t a : axes) {
      HWOPT_KCHECK(a >= -r && a < r, "axis {} is out of range for input of rank {}", a, r);
      int64_t n = a < 0 ? a + r : a;
      HWOPT_KCHECK(!drop[n], "axis {} is given more than once", a);
      HWOPT_KCHECK(x.dim(n) == 1, "cannot squeeze axis {}: its size is {}, not 1 (input shape {})", a,
                   x.dim(n), shape_str(x.shape()));
      drop[n] = true;
    }
  }
  Shape out;
  for (int64_t i = 0; i < r; ++i)
    if (!drop[i]) out.push_back(x.dim(i));
  ctx.set_output(0, view_as(x, out));
}

void ref_unsqueeze(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  bool given = false;
  std::vector<int64_t> axes = axes_arg(ctx, &given);
  HWOPT_KCHECK(given, "axes are required ({})", ctx.opset() < 13 ? "attribute 'axes'" : "input 'axes'");
  const int64_t out_rank = x.rank() + static_cast<int64_t>(axes.size());
  std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
  for (int64_t a : axes) {
    HWOPT_KCHECK(a >= -out_rank && a < out_rank, "axis {} is out of range for output rank {}", a, out_rank);
    int64_t n = a < 0 ? a + out_rank : a;
    HWOPT_KCHECK(!inserted[n], "axis {} is given more than once", a);
    inserted[n] = true;
  }
  Shape out;
  int64_t src = 0;
  for (int64_t i = 0; i < out_rank; ++i) out.push_back(inserted[i] ? 1 : x.dim(src++));
  ctx.set_output(0, view_as(x, out));
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Reshape", "", 1, ref_reshape);
HWOPT_REGISTER_REF_KERNEL("Flatten", "", 1, ref_flatten);
HWOPT_REGISTER_REF_KERNEL("Squeeze", "", 1, ref_squeeze);
HWOPT_REGISTER_REF_KERNEL("Unsqueeze", "", 1, ref_unsqueeze);

}  // namespace hwopt::reference
