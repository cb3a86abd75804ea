// NumPy .npy files (format 1.0-3.0): read into a Tensor and write a Tensor, with strict checks.
#pragma once

#include <string>

#include "hwopt/status.h"
#include "hwopt/tensor.h"

namespace hwopt {

/// Parses .npy bytes. Little-endian numeric and bool dtypes; Fortran order is converted to C order.
Expected<Tensor> parse_npy(const std::string& bytes, const std::string& what = "npy data");
Expected<Tensor> read_npy(const std::string& path);
/// Serialises a tensor (bfloat16 is stored as uint16 bits; strings are not supported).
Expected<std::string> to_npy(const Tensor& tensor);
/// Writes atomically: to a temporary file in the same directory, then renamed.
Status write_npy(const std::string& path, const Tensor& tensor);

}  // namespace hwopt
