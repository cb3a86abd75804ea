// CPU detection: vendor, model, topology (sockets, cores, NUMA nodes), caches and the ISA
// features that decide which kernels and precisions are fast here. Read through libcpuinfo;
// the features this Debian libcpuinfo (2022) predates (AVX512-FP16, AMX, AVX-VNNI, I8MM) are
// read from CPUID / the auxiliary vector directly.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hwopt::hw {

struct CacheInfo {
  int level = 0;                // 1..4
  std::string kind;             // "data", "instruction" or "unified"
  uint64_t size_bytes = 0;      // one instance
  int instances = 0;            // how many of them in the machine
  int shared_by = 0;            // logical processors sharing one instance
};

struct CpuInfo {
  std::string vendor;           // "AMD", "Intel", "ARM", ...
  std::string model;            // brand string, e.g. "AMD EPYC 9654 96-Core Processor"
  std::string architecture;     // "x86_64", "aarch64", ...
  std::string uarch;            // microarchitecture when libcpuinfo knows it ("zen3"), else ""
  int sockets = 0;              // physical packages
  int physical_cores = 0;       // whole machine (not limited by this process's affinity)
  int logical_processors = 0;   // whole machine
  int usable_cores = 0;         // physical cores this process may run on (affinity mask)
  int numa_nodes = 0;           // from /sys/devices/system/node; 1 when unknown
  std::vector<CacheInfo> caches;
  /// ISA features of the current architecture only (see feature_names()); true when both the
  /// CPU and the operating system support it.
  std::map<std::string, bool> features;

  /// True if `feature` is present (false for names of other architectures or unknown ones).
  bool has(std::string_view feature) const;
  /// Largest cache of `level` (bytes), 0 if absent.
  uint64_t cache_bytes(int level) const;
  /// Stable hex hash (16 digits) of vendor, model, architecture, topology and features: what
  /// measured ceilings and lowered plans are keyed by.
  std::string fingerprint() const;
};

/// The feature names reported for the architecture this program was built for, in display
/// order: x86-64 "avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni avx512_bf16 avx512_fp16
/// amx_tile amx_bf16 amx_int8 avx_vnni"; AArch64 "neon sve dotprod i8mm bf16".
const std::vector<std::string>& feature_names();

/// Keys: vendor, model, architecture, uarch, sockets, physical_cores, logical_processors,
/// usable_cores, numa_nodes, caches [{level, kind, size_bytes, instances, shared_by}],
/// features {name: bool}, fingerprint.
void to_json(nlohmann::json& j, const CpuInfo& cpu);

/// Detects this machine's CPU. Never fails: fields libcpuinfo cannot fill stay empty/zero
/// (counts fall back to the OS's).
CpuInfo detect_cpu();

}  // namespace hwopt::hw
