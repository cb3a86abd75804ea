#include "core/int_values.h"

namespace hwopt {

std::optional<std::vector<int64_t>> int64_values(const Tensor& t) {
  if (t.dtype() != DType::int64 && t.dtype() != DType::int32) return std::nullopt;
  Tensor c = t.contiguous();
  std::vector<int64_t> v(static_cast<size_t>(c.numel()));
  for (int64_t i = 0; i < c.numel(); ++i)
    v[static_cast<size_t>(i)] = c.dtype() == DType::int64 ? c.data<int64_t>()[i] : int64_t{c.data<int32_t>()[i]};
  return v;
}

}  // namespace hwopt
