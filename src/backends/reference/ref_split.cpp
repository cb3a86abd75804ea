// Split: cuts a tensor into several outputs along one axis (split sizes, equal parts or num_outputs).
#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

void ref_split(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const int64_t r = x.rank();
  HWOPT_KCHECK(r >= 1, "Split input must have rank >= 1, got a scalar");
  const int64_t axis_attr = ctx.attr_int("axis", 0);
  HWOPT_KCHECK(axis_attr >= -r && axis_attr < r, "attribute 'axis' = {} is out of range for rank {}", axis_attr, r);
  const int64_t axis = axis_attr < 0 ? axis_attr + r : axis_attr;
  const int64_t dim = x.dim(axis);
  const int64_t n_out = static_cast<int64_t>(ctx.num_outputs());
  HWOPT_KCHECK(n_out >= 1, "Split needs at least one output");

  // Split sizes: input 1 (opset 1 and 13+) or attribute 'split' (opset 1..12).
  std::vector<int64_t> split;
  bool have_split = false;
  if ((ctx.opset() >= 13 || ctx.opset() < 2) && ctx.has_input(1)) {
    split = to_int64_vector(ctx.input(1));
    have_split = true;
  } else if (ctx.opset() < 13 && ctx.has_attr("split")) {
    split = ctx.attr_ints("split");
    have_split = true;
  }
  if (have_split) {
    HWOPT_KCHECK(ctx.opset() < 18 || !ctx.has_attr("num_outputs"),
                 "'split' and attribute 'num_outputs' cannot both be given");
    HWOPT_KCHECK(static_cast<int64_t>(split.size()) == n_out, "'split' {} has {} entries but the node has {} outputs",
                 shape_str(split), split.size(), n_out);
    int64_t sum = 0;
    for (int64_t s : split) {
      HWOPT_KCHECK(s >= 0, "'split' {} has a negative size", shape_str(split));
      sum += s;
    }
    HWOPT_KCHECK(sum == dim, "'split' {} sums to {}, but axis {} has size {}", shape_str(split), sum, axis, dim);
  } else if (ctx.opset() >= 18 && ctx.has_attr("num_outputs")) {
    // Opset 18: chunks of ceil(dim / num_outputs), the last one smaller if needed.
    const int64_t n = ctx.attr_int("num_outputs", 0);
    HWOPT_KCHECK(n == n_out, "attribute 'num_outputs' = {} but the node has {} outputs", n, n_out);
    const int64_t chunk = (dim + n - 1) / n;
    split.assign(static_cast<size_t>(n), chunk);
    split.back() = dim - chunk * (n - 1);
    HWOPT_KCHECK(split.back() >= 0, "axis {} of size {} cannot be split into {} chunks of {}", axis, dim, n, chunk);
  } else {
    HWOPT_KCHECK(dim % n_out == 0, "axis {} of size {} cannot be split into {} equal parts", axis, dim, n_out);
    split.assign(static_cast<size_t>(n_out), dim / n_out);
  }

  const int64_t outer = dims_product(x.shape(), 0, axis);
  const int64_t inner = dims_product(x.shape(), axis + 1, r);
  int64_t begin = 0;
  for (int64_t k = 0; k < n_out; ++k) {
    const int64_t len = split[k];
    if (ctx.wants_output(static_cast<size_t>(k))) {
      Shape shape = x.shape();
      shape[axis] = len;
      Tensor& out = ctx.allocate_output(static_cast<size_t>(k), x.dtype(), shape);
      visit_all(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* src = x.data<T>();
        T* dst = out.data<T>();
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t j = 0; j < len * inner; ++j) dst[o * len * inner + j] = src[(o * dim + begin) * inner + j];
      });
    }
    begin += len;
  }
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Split", "", 1, ref_split);

}  // namespace hwopt::reference
