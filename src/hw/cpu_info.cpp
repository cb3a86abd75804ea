#include "hw/cpu_info.h"

#include <cpuinfo.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/threads.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define HWOPT_HW_X86 1
#elif defined(__aarch64__)
#include <sys/auxv.h>
#define HWOPT_HW_ARM64 1
#endif

namespace hwopt::hw {

namespace {

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

// First value of `key` in /proc/cpuinfo ("model name", "vendor_id"), "" if absent.
std::string proc_cpuinfo(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (trim(line.substr(0, colon)) == key) return trim(line.substr(colon + 1));
  }
  return "";
}

std::string vendor_name(cpuinfo_vendor v) {
  switch (v) {
    case cpuinfo_vendor_intel: return "Intel";
    case cpuinfo_vendor_amd: return "AMD";
    case cpuinfo_vendor_arm: return "ARM";
    case cpuinfo_vendor_qualcomm: return "Qualcomm";
    case cpuinfo_vendor_apple: return "Apple";
    case cpuinfo_vendor_samsung: return "Samsung";
    case cpuinfo_vendor_nvidia: return "NVIDIA";
    case cpuinfo_vendor_cavium: return "Cavium";
    case cpuinfo_vendor_huawei: return "Huawei";
    case cpuinfo_vendor_hygon: return "Hygon";
    default: return "";
  }
}

std::string uarch_name(cpuinfo_uarch u) {
  switch (u) {
    case cpuinfo_uarch_haswell: return "haswell";
    case cpuinfo_uarch_broadwell: return "broadwell";
    case cpuinfo_uarch_sky_lake: return "skylake";
    case cpuinfo_uarch_knights_landing: return "knights_landing";
    case cpuinfo_uarch_knights_mill: return "knights_mill";
    case cpuinfo_uarch_zen: return "zen";
    case cpuinfo_uarch_zen2: return "zen2";
    case cpuinfo_uarch_zen3: return "zen3";
    case cpuinfo_uarch_cortex_a76: return "cortex_a76";
    case cpuinfo_uarch_cortex_a77: return "cortex_a77";
    case cpuinfo_uarch_cortex_a78: return "cortex_a78";
    case cpuinfo_uarch_neoverse_n1: return "neoverse_n1";
    case cpuinfo_uarch_neoverse_v1: return "neoverse_v1";
    case cpuinfo_uarch_neoverse_n2: return "neoverse_n2";
    case cpuinfo_uarch_firestorm: return "firestorm";
    default: return "";
  }
}

int count_numa_nodes() {
  std::error_code ec;
  int n = 0;
  for (std::filesystem::directory_iterator it("/sys/devices/system/node", ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() > 4 && name.compare(0, 4, "node") == 0 &&
        std::all_of(name.begin() + 4, name.end(), [](unsigned char c) { return std::isdigit(c); }))
      ++n;
  }
  return std::max(n, 1);
}

#if HWOPT_HW_X86
struct X86Extra {
  bool avx512_fp16 = false, amx_tile = false, amx_bf16 = false, amx_int8 = false, avx_vnni = false;
};

// Features newer than this libcpuinfo: CPUID leaf 7 plus the OS's XCR0 state-saving bits.
X86Extra x86_extra(bool os_avx512) {
  X86Extra x;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return x;  // no OSXSAVE
  unsigned xcr0_lo, xcr0_hi;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const uint64_t xcr0 = (static_cast<uint64_t>(xcr0_hi) << 32) | xcr0_lo;
  const bool os_avx = (xcr0 & 0x6) == 0x6;
  const bool os_amx = (xcr0 & (3ull << 17)) == (3ull << 17);  // XTILECFG, XTILEDATA
  if (__get_cpuid_max(0, nullptr) < 7) return x;
  __cpuid_count(7, 0, a, b, c, d);
  x.avx512_fp16 = os_avx512 && (d & (1u << 23));
  x.amx_bf16 = os_amx && (d & (1u << 22));
  x.amx_tile = os_amx && (d & (1u << 24));
  x.amx_int8 = os_amx && (d & (1u << 25));
  unsigned max_sub = a;
  if (max_sub >= 1) {
    __cpuid_count(7, 1, a, b, c, d);
    x.avx_vnni = os_avx && (a & (1u << 4));
  }
  return x;
}
#endif

void fill_features(CpuInfo& info, bool have_cpuinfo) {
  auto& f = info.features;
  for (const auto& name : feature_names()) f[name] = false;
  if (!have_cpuinfo) return;
#if HWOPT_HW_X86
  f["avx2"] = cpuinfo_has_x86_avx2();
  f["fma"] = cpuinfo_has_x86_fma3();
  f["f16c"] = cpuinfo_has_x86_f16c();
  f["avx512f"] = cpuinfo_has_x86_avx512f();
  f["avx512bw"] = cpuinfo_has_x86_avx512bw();
  f["avx512vl"] = cpuinfo_has_x86_avx512vl();
  f["avx512_vnni"] = cpuinfo_has_x86_avx512vnni();
  f["avx512_bf16"] = cpuinfo_has_x86_avx512bf16();
  X86Extra x = x86_extra(cpuinfo_has_x86_avx512f());
  f["avx512_fp16"] = x.avx512_fp16;
  f["amx_tile"] = x.amx_tile;
  f["amx_bf16"] = x.amx_bf16;
  f["amx_int8"] = x.amx_int8;
  f["avx_vnni"] = x.avx_vnni;
#elif HWOPT_HW_ARM64
  f["neon"] = cpuinfo_has_arm_neon();
  f["sve"] = cpuinfo_has_arm_sve();
  f["dotprod"] = cpuinfo_has_arm_neon_dot();
  f["bf16"] = cpuinfo_has_arm_bf16();
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif
  f["i8mm"] = (getauxval(AT_HWCAP2) & HWCAP2_I8MM) != 0;
#endif
}

void add_cache(CpuInfo& info, int level, const char* kind, uint32_t count, const cpuinfo_cache* first) {
  if (count == 0 || first == nullptr || first->size == 0) return;
  CacheInfo c;
  c.level = level;
  c.kind = kind ? kind : ((first->flags & CPUINFO_CACHE_UNIFIED) || level >= 2 ? "unified" : "data");
  c.size_bytes = first->size;
  c.instances = static_cast<int>(count);
  c.shared_by = static_cast<int>(first->processor_count);
  info.caches.push_back(c);
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

const std::vector<std::string>& feature_names() {
#if HWOPT_HW_X86
  static const std::vector<std::string> names = {"avx2",        "fma",         "f16c",     "avx512f",  "avx512bw",
                                                 "avx512vl",    "avx512_vnni", "avx512_bf16", "avx512_fp16",
                                                 "amx_tile",    "amx_bf16",    "amx_int8", "avx_vnni"};
#elif HWOPT_HW_ARM64
  static const std::vector<std::string> names = {"neon", "sve", "dotprod", "i8mm", "bf16"};
#else
  static const std::vector<std::string> names;
#endif
  return names;
}

bool CpuInfo::has(std::string_view feature) const {
  auto it = features.find(std::string(feature));
  return it != features.end() && it->second;
}

uint64_t CpuInfo::cache_bytes(int level) const {
  uint64_t best = 0;
  for (const auto& c : caches)
    if (c.level == level) best = std::max(best, c.size_bytes);
  return best;
}

std::string CpuInfo::fingerprint() const {
  // Version the recipe: changing what goes in must change every fingerprint.
  std::string s = fmt::format("hwopt-cpu-v1|{}|{}|{}|{}|{}|{}|{}|{}", vendor, model, architecture, uarch, sockets,
                              physical_cores, logical_processors, numa_nodes);
  for (const auto& c : caches) s += fmt::format("|L{}{}:{}x{}", c.level, c.kind, c.size_bytes, c.instances);
  for (const auto& [name, on] : features) s += fmt::format("|{}={}", name, on ? 1 : 0);
  return fmt::format("{:016x}", fnv1a(s));
}

void to_json(nlohmann::json& j, const CpuInfo& cpu) {
  nlohmann::json caches = nlohmann::json::array();
  for (const auto& c : cpu.caches)
    caches.push_back({{"level", c.level}, {"kind", c.kind}, {"size_bytes", c.size_bytes}, {"instances", c.instances},
                      {"shared_by", c.shared_by}});
  j = nlohmann::json{{"vendor", cpu.vendor},
                     {"model", cpu.model},
                     {"architecture", cpu.architecture},
                     {"uarch", cpu.uarch},
                     {"sockets", cpu.sockets},
                     {"physical_cores", cpu.physical_cores},
                     {"logical_processors", cpu.logical_processors},
                     {"usable_cores", cpu.usable_cores},
                     {"numa_nodes", cpu.numa_nodes},
                     {"caches", caches},
                     {"features", cpu.features},
                     {"fingerprint", cpu.fingerprint()}};
}

CpuInfo detect_cpu() {
  CpuInfo info;
#if HWOPT_HW_X86
  info.architecture = sizeof(void*) == 8 ? "x86_64" : "x86";
#elif HWOPT_HW_ARM64
  info.architecture = "aarch64";
#elif defined(__arm__)
  info.architecture = "arm";
#elif defined(__riscv)
  info.architecture = "riscv64";
#else
  info.architecture = "unknown";
#endif
  const bool have = cpuinfo_initialize();
  if (have) {
    info.sockets = static_cast<int>(cpuinfo_get_packages_count());
    info.physical_cores = static_cast<int>(cpuinfo_get_cores_count());
    info.logical_processors = static_cast<int>(cpuinfo_get_processors_count());
    if (const cpuinfo_core* core = cpuinfo_get_core(0)) {
      info.vendor = vendor_name(core->vendor);
      info.uarch = uarch_name(core->uarch);
    }
    if (const cpuinfo_package* p = cpuinfo_get_package(0)) info.model = trim(std::string(p->name, strnlen(p->name, sizeof(p->name))));
    add_cache(info, 1, "data", cpuinfo_get_l1d_caches_count(), cpuinfo_get_l1d_cache(0));
    add_cache(info, 1, "instruction", cpuinfo_get_l1i_caches_count(), cpuinfo_get_l1i_cache(0));
    add_cache(info, 2, nullptr, cpuinfo_get_l2_caches_count(), cpuinfo_get_l2_cache(0));
    add_cache(info, 3, nullptr, cpuinfo_get_l3_caches_count(), cpuinfo_get_l3_cache(0));
    add_cache(info, 4, nullptr, cpuinfo_get_l4_caches_count(), cpuinfo_get_l4_cache(0));
  }
  // The kernel's brand string is the fuller name ("AMD EPYC 7R13 Processor" where libcpuinfo
  // may say "AMD EPYC").
  if (std::string brand = proc_cpuinfo("model name"); !brand.empty()) info.model = brand;
  if (info.vendor.empty()) {
    std::string v = proc_cpuinfo("vendor_id");
    info.vendor = v == "GenuineIntel" ? "Intel" : v == "AuthenticAMD" ? "AMD" : v;
  }
  if (info.logical_processors <= 0) info.logical_processors = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (info.physical_cores <= 0) info.physical_cores = info.logical_processors;
  if (info.sockets <= 0) info.sockets = 1;
  info.usable_cores = physical_cores();
  info.numa_nodes = count_numa_nodes();
  fill_features(info, have);
  return info;
}

}  // namespace hwopt::hw
