// NVIDIA GPU detection through the CUDA runtime loaded at run time (dlopen): the build needs no
// CUDA, and a machine without a driver or a GPU simply reports none, with the reason.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace hwopt::hw {

struct GpuInfo {
  int index = 0;                   // CUDA device ordinal
  std::string name;                // "NVIDIA H100 80GB HBM3"
  int cc_major = 0, cc_minor = 0;  // compute capability
  int sms = 0;                     // streaming multiprocessors
  uint64_t memory_bytes = 0;       // total device memory (0 if unknown)
  int clock_mhz = 0;               // peak SM clock (0 if the runtime no longer reports it)
  int memory_clock_mhz = 0;        // peak memory clock (0 if unknown)
  int memory_bus_bits = 0;
  int l2_bytes = 0;
  /// Theoretical DRAM bandwidth, 2 x memory clock x bus width (GB/s; 0 if unknown).
  double memory_bandwidth_gbs = 0;
  /// Precisions its tensor cores run, from the compute capability ("fp16", "bf16", "tf32",
  /// "int8", "fp8", "fp4"); empty before Volta.
  std::vector<std::string> tensor_core_precisions;
  int runtime_version = 0;  // e.g. 12040 for CUDA 12.4
  int driver_version = 0;   // CUDA version the driver supports, same encoding
};

/// Keys: index, name, compute_capability ("9.0"), sms, memory_bytes, clock_mhz,
/// memory_clock_mhz, memory_bus_bits, l2_bytes, memory_bandwidth_gbs, tensor_core_precisions,
/// runtime_version, driver_version.
void to_json(nlohmann::json& j, const GpuInfo& g);

/// Tensor-core precisions of a compute capability (7.0 fp16; 7.5 +int8; 8.x +bf16, tf32;
/// 8.9 and 9.0 +fp8; 10 and later +fp4).
std::vector<std::string> tensor_core_precisions(int cc_major, int cc_minor);

/// The CUDA devices of this machine. Empty when there are none; then *why_none (if given) says
/// why: "libcudart not found", "no CUDA driver (libcuda.so.1 not found)", "no CUDA device", or
/// the runtime's error.
std::vector<GpuInfo> detect_gpus(std::string* why_none = nullptr);

}  // namespace hwopt::hw
