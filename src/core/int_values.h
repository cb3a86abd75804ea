// Reading an integer tensor (shape, axes, repeats, trip counts) as int64 values exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "hwopt/tensor.h"

namespace hwopt {

/// The elements of an int64 or int32 tensor as int64, read exactly (never through a double,
/// which rounds INT64_MAX out of range); nullopt for any other dtype.
std::optional<std::vector<int64_t>> int64_values(const Tensor& t);

}  // namespace hwopt
