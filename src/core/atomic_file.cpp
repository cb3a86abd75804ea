#include "core/atomic_file.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace hwopt {

Status write_file_atomic(const std::string& path, std::string_view bytes) {
  // A per-process suffix keeps two processes writing the same path from sharing a temp file.
  const std::string tmp = fmt::format("{}.tmp.{}", path, static_cast<long>(::getpid()));
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Status(StatusCode::io_error, fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    const int err = errno;
    std::remove(tmp.c_str());
    return Status(StatusCode::io_error, fmt::format("writing '{}' failed: {}", path, std::strerror(err)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    return Status(StatusCode::io_error, fmt::format("cannot move the new file into '{}': {}", path, std::strerror(err)));
  }
  return Status::OK();
}

}  // namespace hwopt
