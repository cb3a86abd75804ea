// Measured ceilings of this machine: the matrix-multiply peak of each precision (oneDNN matmul,
// all physical cores and one) and the memory bandwidth (STREAM-style triad). The roofline and
// the tuner compare what a model reaches against these. Measuring takes a few seconds, so the
// result is cached on disk per machine fingerprint (hw::CpuInfo::fingerprint()).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "hwopt/status.h"

namespace hwopt::hw {

/// Peak of one matmul precision. Units: GFLOP/s for fp32/bf16, GOP/s for int8 (2 ops per
/// multiply-add). 0 with `why` set when it was not measured (not native on this ISA, oneDNN has
/// only its reference implementation, or oneDNN failed).
struct MatmulPeak {
  double all_cores = 0;
  double one_core = 0;
  std::string impl;  // oneDNN implementation that ran, e.g. "brg:avx512_core_bf16"
  std::string why;   // empty when measured
};

struct Ceilings {
  static constexpr int kSchema = 1;  // bump when the JSON layout or the method changes

  MatmulPeak fp32;
  MatmulPeak bf16;  // bf16 x bf16 -> f32 accumulation and output
  MatmulPeak int8;  // u8 x s8 -> s32
  int matmul_size = 0;  // M = N = K of the measured problem

  /// Triad a[i] = b[i] + s * c[i] over three arrays of `triad_array_bytes` each, in GB/s
  /// (1e9 bytes/s), counted the STREAM way: 24 bytes per element (read b, read c, write a),
  /// not counting the write-allocate read of a that a cache without streaming stores also does.
  double triad_all_cores_gbs = 0;
  double triad_one_core_gbs = 0;
  uint64_t triad_array_bytes = 0;
  std::string triad_why;  // set when the triad could not run (allocation failed)

  int threads = 0;            // threads of the "all cores" figures (physical cores usable)
  std::string fingerprint;    // CpuInfo::fingerprint() of the machine measured
  std::string measured_at;    // UTC, ISO 8601 ("2025-01-31T12:00:00Z")
  std::string onednn_version; // "2.6.3"
  bool from_cache = false;    // not stored: set when read back from the cache
};

void to_json(nlohmann::json& j, const MatmulPeak& p);
void from_json(const nlohmann::json& j, MatmulPeak& p);
/// Keys: schema, fingerprint, measured_at, onednn_version, threads, matmul_size,
/// matmul.{fp32,bf16,int8}.{all_cores,one_core,impl,why},
/// triad.{all_cores_gbs,one_core_gbs,array_bytes,bytes_per_element,why}. from_cache is not
/// written. from_json throws on missing keys or wrong types (nlohmann::json::exception) and on
/// another schema (std::runtime_error).
void to_json(nlohmann::json& j, const Ceilings& c);
void from_json(const nlohmann::json& j, Ceilings& c);

using Progress = std::function<void(std::string_view)>;

struct MeasureOptions {
  int threads = 0;                  // "all cores" thread count; 0 = physical cores usable here
  bool one_core = true;             // also measure on one thread
  int matmul_size = 2048;           // M = N = K; large enough to reach the peak
  uint64_t triad_array_bytes = 0;   // 0 = max(64 MiB, 4 x total L3), at most 1 GiB
  double seconds_per_measurement = 0.5;  // repetitions stop after this (at least 3 are run)
  /// Tiny problems and arrays (tests): seconds, not figures worth keeping.
  bool quick = false;
  Progress progress;                // one line per step; may be empty
};

/// Measures this machine now (a few seconds with the defaults). The OpenMP thread count of the
/// calling thread is restored afterwards.
Expected<Ceilings> measure_ceilings(const MeasureOptions& options);

using Measurer = std::function<Expected<Ceilings>(const MeasureOptions&)>;

struct CacheOptions {
  std::filesystem::path cache_dir;  // empty = default_cache_dir()
  bool refresh = false;             // measure even if a valid cache exists
  MeasureOptions measure;
  Measurer measurer;                // empty = measure_ceilings (tests inject a fake)
};

/// $HWOPT_CACHE_DIR, else $XDG_CACHE_HOME/hwopt, else $HOME/.cache/hwopt, else <tmp>/hwopt.
std::filesystem::path default_cache_dir();
/// The cache file of a fingerprint: <dir>/ceilings-<fingerprint>.json.
std::filesystem::path ceilings_cache_file(const std::filesystem::path& dir, const std::string& fingerprint);

/// Reads the ceilings of this machine from the cache, or measures and caches them. A cache
/// that is unreadable, corrupt, of another schema, another fingerprint, another oneDNN version
/// or another thread count is ignored (re-measured and overwritten). The file is written atomically (temporary file +
/// rename); failing to write it is reported through progress, not as an error.
Expected<Ceilings> load_or_measure(const CacheOptions& options);
Expected<Ceilings> load_or_measure(const std::filesystem::path& cache_dir, bool refresh, Progress progress = {});

}  // namespace hwopt::hw
