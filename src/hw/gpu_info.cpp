#include "hw/gpu_info.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace hwopt::hw {

namespace {

// The few CUDA runtime / driver entry points used, declared here so no CUDA header is needed.
// Every one returns an error code (0 = success).
using GetDeviceCountFn = int (*)(int*);
using DeviceGetAttributeFn = int (*)(int*, int, int);
using GetVersionFn = int (*)(int*);
using GetErrorStringFn = const char* (*)(int);
using CuInitFn = int (*)(unsigned);
using CuDeviceGetFn = int (*)(int*, int);
using CuDeviceGetNameFn = int (*)(char*, int, int);
using CuDeviceTotalMemFn = int (*)(size_t*, int);

// cudaDeviceAttr values (stable since CUDA 5; the driver's CU_DEVICE_ATTRIBUTE_* match).
constexpr int kAttrClockRate = 13;           // kHz
constexpr int kAttrMultiProcessorCount = 16;
constexpr int kAttrMemoryClockRate = 36;     // kHz
constexpr int kAttrGlobalMemoryBusWidth = 37;  // bits
constexpr int kAttrL2CacheSize = 38;         // bytes
constexpr int kAttrComputeCapabilityMajor = 75;
constexpr int kAttrComputeCapabilityMinor = 76;
constexpr int kErrorInsufficientDriver = 35;  // cudaErrorInsufficientDriver
constexpr int kErrorNoDevice = 100;          // cudaErrorNoDevice

void* open_first(std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (void* h = dlopen(n, RTLD_NOW | RTLD_LOCAL)) return h;
  return nullptr;
}

template <typename Fn>
Fn sym(void* lib, const char* name) {
  return lib ? reinterpret_cast<Fn>(dlsym(lib, name)) : nullptr;
}

}  // namespace

void to_json(nlohmann::json& j, const GpuInfo& g) {
  j = nlohmann::json{{"index", g.index},
                     {"name", g.name},
                     {"compute_capability", fmt::format("{}.{}", g.cc_major, g.cc_minor)},
                     {"sms", g.sms},
                     {"memory_bytes", g.memory_bytes},
                     {"clock_mhz", g.clock_mhz},
                     {"memory_clock_mhz", g.memory_clock_mhz},
                     {"memory_bus_bits", g.memory_bus_bits},
                     {"l2_bytes", g.l2_bytes},
                     {"memory_bandwidth_gbs", g.memory_bandwidth_gbs},
                     {"tensor_core_precisions", g.tensor_core_precisions},
                     {"runtime_version", g.runtime_version},
                     {"driver_version", g.driver_version}};
}

std::vector<std::string> tensor_core_precisions(int major, int minor) {
  std::vector<std::string> p;
  if (major < 7) return p;
  p.push_back("fp16");
  if (major == 7) {
    if (minor >= 5) p.push_back("int8");  // Turing
    return p;
  }
  p.insert(p.end(), {"bf16", "tf32", "int8"});  // Ampere and later
  if (major > 8 || minor >= 9) p.push_back("fp8");  // Ada 8.9, Hopper 9.0
  if (major >= 10) p.push_back("fp4");  // Blackwell
  return p;
}

std::vector<GpuInfo> detect_gpus(std::string* why_none) {
  std::vector<GpuInfo> gpus;
  auto none = [&](std::string why) {
    if (why_none) *why_none = std::move(why);
    return std::vector<GpuInfo>{};
  };
  // Loaded once and kept: unloading the CUDA runtime while it holds state is not safe.
  static void* cudart = open_first({"libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0"});
  if (!cudart) return none("libcudart not found");
  auto get_count = sym<GetDeviceCountFn>(cudart, "cudaGetDeviceCount");
  auto get_attr = sym<DeviceGetAttributeFn>(cudart, "cudaDeviceGetAttribute");
  auto error_string = sym<GetErrorStringFn>(cudart, "cudaGetErrorString");
  if (!get_count || !get_attr) return none("libcudart lacks cudaGetDeviceCount/cudaDeviceGetAttribute");
  // The driver library: without it the runtime can only say "driver insufficient".
  static void* cuda = open_first({"libcuda.so.1", "libcuda.so"});
  if (!cuda) return none("no CUDA driver (libcuda.so.1 not found)");
  int count = 0;
  if (int err = get_count(&count); err != 0) {
    if (err == kErrorNoDevice) return none("no CUDA device");
    std::string text = error_string ? error_string(err) : std::to_string(err);
    if (err == kErrorInsufficientDriver) return none(fmt::format("CUDA driver too old for this libcudart ({})", text));
    return none(fmt::format("cudaGetDeviceCount failed: {}", text));
  }
  if (count <= 0) return none("no CUDA device");

  int runtime_version = 0, driver_version = 0;
  if (auto f = sym<GetVersionFn>(cudart, "cudaRuntimeGetVersion")) f(&runtime_version);
  if (auto f = sym<GetVersionFn>(cudart, "cudaDriverGetVersion")) f(&driver_version);
  // The name and the memory size come from the driver API: the runtime only has them in
  // cudaDeviceProp, whose layout changes between CUDA versions.
  auto cu_init = sym<CuInitFn>(cuda, "cuInit");
  auto cu_get = sym<CuDeviceGetFn>(cuda, "cuDeviceGet");
  auto cu_name = sym<CuDeviceGetNameFn>(cuda, "cuDeviceGetName");
  auto cu_mem = sym<CuDeviceTotalMemFn>(cuda, "cuDeviceTotalMem_v2");
  const bool driver_ok = cu_init && cu_get && cu_init(0) == 0;

  for (int i = 0; i < count; ++i) {
    GpuInfo g;
    g.index = i;
    g.runtime_version = runtime_version;
    g.driver_version = driver_version;
    auto attr = [&](int a) {
      int v = 0;
      return get_attr(&v, a, i) == 0 ? v : 0;
    };
    g.cc_major = attr(kAttrComputeCapabilityMajor);
    g.cc_minor = attr(kAttrComputeCapabilityMinor);
    g.sms = attr(kAttrMultiProcessorCount);
    g.clock_mhz = attr(kAttrClockRate) / 1000;
    int mem_khz = attr(kAttrMemoryClockRate);
    g.memory_clock_mhz = mem_khz / 1000;
    g.memory_bus_bits = attr(kAttrGlobalMemoryBusWidth);
    g.l2_bytes = attr(kAttrL2CacheSize);
    g.memory_bandwidth_gbs = 2.0 * mem_khz * 1e3 * (g.memory_bus_bits / 8.0) / 1e9;
    g.tensor_core_precisions = tensor_core_precisions(g.cc_major, g.cc_minor);
    int dev = 0;
    if (driver_ok && cu_get(&dev, i) == 0) {
      char name[256] = {};
      if (cu_name && cu_name(name, sizeof(name) - 1, dev) == 0) g.name = name;
      size_t bytes = 0;
      if (cu_mem && cu_mem(&bytes, dev) == 0) g.memory_bytes = bytes;
    }
    if (g.name.empty()) g.name = fmt::format("CUDA device {}", i);
    gpus.push_back(std::move(g));
  }
  return gpus;
}

}  // namespace hwopt::hw
