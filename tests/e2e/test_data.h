// What the data-driven e2e tests share: the repository root, Debian's python3 and the scripts
// that turn Debian-packaged data sets into .npy files (scripts/make_*_npy.py).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#ifndef HWOPT_SOURCE_DIR
#error "HWOPT_SOURCE_DIR must be defined"
#endif

namespace hwopt::test_data {

namespace fs = std::filesystem;

inline const fs::path kRoot = HWOPT_SOURCE_DIR;
/// Debian's dataset-fashion-mnist.
inline const fs::path kFmnist = "/usr/share/datasets/fashion-mnist";

/// "" when /usr/bin/python3 imports every module of `modules` ("numpy" or "numpy, PIL"), else the
/// reason to skip. (Debian's python3-numpy belongs to /usr/bin/python3, whatever python3 comes
/// first in PATH.)
inline std::string python_missing(const std::string& modules) {
  const std::string cmd = "/usr/bin/python3 -c 'import " + modules + "' > /dev/null 2>&1";
  if (std::system(cmd.c_str()) == 0) return "";
  return "/usr/bin/python3 cannot import " + modules + " (Debian packages python3-numpy, python3-pil)";
}

/// "" when Debian's Fashion-MNIST and /usr/bin/python3 with numpy are there (what
/// scripts/make_fmnist_npy.py needs for the test and training sets), else the reason to skip.
inline std::string fmnist_missing() {
  for (const char* f : {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                        "train-labels-idx1-ubyte.gz"})
    if (!fs::exists(kFmnist / f)) return (kFmnist / f).string() + " not found (Debian package dataset-fashion-mnist)";
  return python_missing("numpy");
}

/// A path for this process's data: <temp>/hwopt_<tag>_<pid> (not created).
inline fs::path temp_dir(const std::string& tag) {
  return fs::temp_directory_path() / ("hwopt_" + tag + "_" + std::to_string(::getpid()));
}

/// Runs scripts/<script> with /usr/bin/python3 and `args` (each quoted), output discarded;
/// returns its exit status.
inline int run_script(const std::string& script, const std::vector<std::string>& args) {
  auto quote = [](const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string&&.
  std::string cmd = "/usr/bin/python3 ";
  cmd.append(quote((kRoot / "scripts" / script).string()));
  for (const auto& a : args) cmd.append(" ").append(quote(a));
  cmd += " > /dev/null 2>&1";
  return std::system(cmd.c_str());
}

/// The photo cache shared by runs (scripts/make_photos_npy.py unpacks Debian packages there).
inline std::string photo_cache() { return (fs::temp_directory_path() / "hwopt_photo_cache").string(); }

}  // namespace hwopt::test_data
