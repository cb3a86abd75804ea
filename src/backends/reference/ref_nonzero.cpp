// NonZero: indices of the non-zero elements, as an int64 tensor [rank, count] in row-major order.
#include <string>
#include <type_traits>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

template <typename T>
bool is_nonzero(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return !v.empty();
  } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    return static_cast<float>(v) != 0.0f;
  } else {
    return v != T(0);
  }
}

void ref_nonzero(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  // A scalar is treated as a 1-D tensor of one element (as numpy does).
  const Shape shape = x.rank() == 0 ? Shape{1} : x.shape();
  const int64_t rank = static_cast<int64_t>(shape.size());

  std::vector<int64_t> hits;
  visit_all(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i)
      if (is_nonzero(px[i])) hits.push_back(i);
  });

  const int64_t count = static_cast<int64_t>(hits.size());
  Tensor& y = ctx.allocate_output(0, DType::int64, {rank, count});
  int64_t* py = y.data<int64_t>();
  for (int64_t j = 0; j < count; ++j) {
    int64_t flat = hits[j];
    for (int64_t d = rank - 1; d >= 0; --d) {
      py[d * count + j] = flat % shape[d];
      flat /= shape[d];
    }
  }
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("NonZero", "", 9, ref_nonzero);

}  // namespace hwopt::reference
