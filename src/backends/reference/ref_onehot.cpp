// OneHot: one-hot encoding of indices along a new axis, with [off_value, on_value] from `values`.
#include <cmath>
#include <limits>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

void ref_onehot(KernelContext& ctx) {
  const Tensor& indices_t = ctx.input(0);
  const Tensor& depth_t = ctx.input(1);
  const Tensor values = ctx.input(2).contiguous();
  HWOPT_KCHECK(depth_t.numel() == 1 && depth_t.rank() <= 1, "input 'depth' must hold exactly one value, got shape {}",
               shape_str(depth_t.shape()));
  HWOPT_KCHECK(values.rank() == 1 && values.numel() == 2,
               "input 'values' must have shape [2] ([off_value, on_value]), got {}", shape_str(values.shape()));
  // A non-integer depth is cast to int64 (truncated).
  const double depth_d = to_double_vector(depth_t)[0];
  HWOPT_KCHECK(std::isfinite(depth_d) && depth_d >= 0 && depth_d < 9.007199254740992e15,
               "input 'depth' must be a non-negative number, got {}", depth_d);
  const int64_t depth = static_cast<int64_t>(depth_d);

  const int64_t rank = indices_t.rank();
  const int64_t axis_attr = ctx.attr_int("axis", -1);
  HWOPT_KCHECK(axis_attr >= -rank - 1 && axis_attr <= rank, "attribute 'axis' = {} is out of range [{}, {}]", axis_attr,
               -rank - 1, rank);
  const int64_t axis = axis_attr < 0 ? axis_attr + rank + 1 : axis_attr;

  // Indices as int64 (non-integers truncate toward zero); values that do not fit select no class.
  const Tensor indices = indices_t.contiguous();
  std::vector<int64_t> idx(static_cast<size_t>(indices.numel()));
  constexpr int64_t kNoClass = std::numeric_limits<int64_t>::min();
  visit_numeric(indices.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = indices.data<T>();
    for (size_t i = 0; i < idx.size(); ++i) {
      if constexpr (std::is_integral_v<T>) {
        if constexpr (std::is_unsigned_v<T>) {
          idx[i] =
              p[i] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? kNoClass : static_cast<int64_t>(p[i]);
        } else {
          idx[i] = static_cast<int64_t>(p[i]);
        }
      } else {
        double t;
        if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
          t = std::trunc(static_cast<double>(static_cast<float>(p[i])));
        } else {
          t = std::trunc(static_cast<double>(p[i]));
        }
        idx[i] = (std::isfinite(t) && std::fabs(t) < 9.2e18) ? static_cast<int64_t>(t) : kNoClass;
      }
    }
  });
  const bool allow_negative = ctx.opset() >= 11;  // opset 11: [-depth, -1] counts from the end
  for (int64_t& i : idx) {
    if (allow_negative && i < 0 && i != kNoClass && i >= -depth) i += depth;
    if (i < 0 || i >= depth) i = -1;
  }

  Shape out_shape = indices_t.shape();
  out_shape.insert(out_shape.begin() + axis, depth);
  const int64_t outer = dims_product(indices_t.shape(), 0, axis);
  const int64_t inner = dims_product(indices_t.shape(), axis, rank);

  visit_all(values.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T off_value = values.data<T>()[0];
    const T on_value = values.data<T>()[1];
    T* py = ctx.allocate_output(0, values.dtype(), out_shape).data<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t d = 0; d < depth; ++d)
        for (int64_t i = 0; i < inner; ++i)
          py[(o * depth + d) * inner + i] = idx[o * inner + i] == d ? on_value : off_value;
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("OneHot", "", 9, ref_onehot);

}  // namespace hwopt::reference
