#include "onnx/external_data.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace hwopt::onnx_import {
namespace {

Status bad(const std::string& what, const std::string& msg) {
  return Status(StatusCode::invalid_model, fmt::format("tensor '{}': external data {}", what, msg));
}

// Strict decimal parse: digits only (an optional leading '-' is parsed to report negatives).
bool parse_int64(const std::string& s, int64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-') {
    neg = true;
    i = 1;
    if (s.size() == 1) return false;
  }
  __int128 v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
    if (v > static_cast<__int128>(INT64_MAX) + 1) return false;
  }
  if (neg) v = -v;
  if (v > INT64_MAX || v < INT64_MIN) return false;
  out = static_cast<int64_t>(v);
  return true;
}

}  // namespace

Expected<std::vector<char>> read_external_data(const onnx::TensorProto& proto, const std::string& base_dir,
                                               uint64_t expected_bytes, const std::string& what) {
  std::string location;
  int location_count = 0;
  int64_t offset = 0, length = -1;
  bool has_length = false;
  for (const auto& kv : proto.external_data()) {
    if (kv.key() == "location") {
      ++location_count;
      location = kv.value();
    } else if (kv.key() == "offset") {
      if (!parse_int64(kv.value(), offset)) return bad(what, fmt::format("offset '{}' is not a decimal int64", kv.value()));
      if (offset < 0) return bad(what, fmt::format("offset {} is negative", offset));
    } else if (kv.key() == "length") {
      if (!parse_int64(kv.value(), length)) return bad(what, fmt::format("length '{}' is not a decimal int64", kv.value()));
      if (length < 0) return bad(what, fmt::format("length {} is negative", length));
      has_length = true;
    } else if (kv.key() == "checksum" || kv.key() == "basepath") {
      // informational; not verified
    } else {
      return bad(what, fmt::format("has unknown key '{}'", kv.key()));
    }
  }
  if (location_count == 0) return bad(what, "has no 'location'");
  if (location_count > 1) return bad(what, "has 'location' more than once");
  if (location.empty()) return bad(what, "location is empty");
  if (location.find('\0') != std::string::npos) return bad(what, "location contains a NUL byte");
  namespace fs = std::filesystem;
  fs::path loc(location);
  if (loc.is_absolute() || location[0] == '/' || location[0] == '\\')
    return bad(what, fmt::format("location '{}' is an absolute path; only paths relative to the model directory are allowed", location));
  for (const auto& part : loc)
    if (part == "..")
      return bad(what, fmt::format("location '{}' contains '..'; it must stay inside the model directory", location));
  if (location.find('\\') != std::string::npos)
    return bad(what, fmt::format("location '{}' contains a backslash", location));
  if (base_dir.empty())
    return bad(what, fmt::format("location '{}' cannot be resolved: the model was loaded from memory without a base directory", location));

  std::error_code ec;
  fs::path base = fs::canonical(fs::path(base_dir), ec);
  if (ec) return bad(what, fmt::format("base directory '{}' cannot be resolved: {}", base_dir, ec.message()));
  fs::path full = base / loc;
  // Resolve symlinks in every component, then require the result to stay under the base.
  fs::path resolved = fs::weakly_canonical(full, ec);
  if (ec) return bad(what, fmt::format("location '{}' cannot be resolved: {}", location, ec.message()));
  auto rel = resolved.lexically_relative(base);
  if (rel.empty() || *rel.begin() == "..")
    return bad(what, fmt::format("location '{}' escapes the model directory through a symbolic link", location));
  struct stat st {};
  if (::lstat(resolved.c_str(), &st) != 0)
    return Status(StatusCode::not_found, fmt::format("tensor '{}': external data file '{}' not found", what, location));
  if (S_ISLNK(st.st_mode))  // left unresolved by weakly_canonical: its target does not exist
    return bad(what, fmt::format("location '{}' is a symbolic link to nothing", location));
  if (!S_ISREG(st.st_mode)) return bad(what, fmt::format("location '{}' is not a regular file", location));
  if (st.st_nlink > 1)
    return bad(what, fmt::format("file '{}' has {} hard links; hard-linked data files are refused", location,
                                 static_cast<uint64_t>(st.st_nlink)));
  uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (static_cast<uint64_t>(offset) > file_size)
    return bad(what, fmt::format("offset {} is past the end of '{}' ({} bytes)", offset, location, file_size));
  uint64_t avail = file_size - static_cast<uint64_t>(offset);
  uint64_t want = has_length ? static_cast<uint64_t>(length) : avail;
  if (has_length && want > avail)
    return bad(what, fmt::format("offset {} + length {} is past the end of '{}' ({} bytes)", offset, length,
                                 location, file_size));
  if (want != expected_bytes)
    return bad(what, fmt::format("holds {} bytes but the tensor's dims and dtype need {}", want, expected_bytes));
  std::ifstream in(resolved, std::ios::binary);
  if (!in) return Status(StatusCode::io_error, fmt::format("tensor '{}': cannot open '{}'", what, location));
  std::vector<char> bytes(static_cast<size_t>(want));
  in.seekg(offset);
  if (want > 0 && !in.read(bytes.data(), static_cast<std::streamsize>(want)))
    return Status(StatusCode::io_error, fmt::format("tensor '{}': reading '{}' failed", what, location));
  return bytes;
}

}  // namespace hwopt::onnx_import
