// Reading tensor bytes from external data files, refusing anything outside the model directory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hwopt/status.h"

namespace onnx {
class TensorProto;
}

namespace hwopt::onnx_import {

/// Reads the bytes of an EXTERNAL tensor. Checks, in this order: keys known and `location`
/// given once; location relative, without '..', resolving (through symlinks) inside `base_dir`;
/// a regular file with one link; offset/length non-negative, not overflowing and inside the file;
/// length equal to `expected_bytes`.
Expected<std::vector<char>> read_external_data(const onnx::TensorProto& proto, const std::string& base_dir,
                                               uint64_t expected_bytes, const std::string& what);

}  // namespace hwopt::onnx_import
