// Writing a file so that readers never see it half-written: the bytes go to a temporary file in
// the same directory, which is then renamed over the destination.
#pragma once

#include <string>
#include <string_view>

#include "hwopt/status.h"

namespace hwopt {

/// Writes `bytes` to `path` atomically (temp file + rename). On failure nothing is left behind
/// and the previous file, if any, is unchanged; the error names `path`.
Status write_file_atomic(const std::string& path, std::string_view bytes);

}  // namespace hwopt
