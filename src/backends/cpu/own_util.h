// Helpers shared by the CPU backend's own kernels (own_*.cpp): OpenMP range splitting that stays
// single-threaded for small work, the ISA checks and a candidate builder.
#pragma once

#include <cpuid.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "backends/backend.h"

namespace hwopt::cpu::own {

/// Instruction sets the kernels pick from at run time (the build itself targets baseline x86-64).
enum class Isa { baseline = 0, avx2 = 1, avx512 = 2 };

/// The widest ISA the kernels may use; tests lower it to cover the narrower code paths.
inline std::atomic<int>& isa_limit() {
  static std::atomic<int> limit{static_cast<int>(Isa::avx512)};
  return limit;
}

/// AVX2 + FMA + F16C available and allowed.
inline bool use_avx2() {
  // F16C through CPUID (leaf 1, ECX bit 29): clang before 16 rejects __builtin_cpu_supports("f16c").
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 29)) != 0;
  }();
  return has && isa_limit().load(std::memory_order_relaxed) >= static_cast<int>(Isa::avx2);
}

/// AVX-512 F/VL/BW/DQ available and allowed.
inline bool use_avx512() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
  return has && isa_limit().load(std::memory_order_relaxed) >= static_cast<int>(Isa::avx512);
}

/// use_avx512() and VNNI (vpdpbusd/vpdpwssd: the own INT8 kernels).
inline bool use_avx512_vnni() {
  static const bool has = __builtin_cpu_supports("avx512vnni");
  return has && use_avx512();
}

/// use_avx512() and VBMI (vpermb: byte interleaves).
inline bool use_avx512_vbmi() {
  static const bool has = __builtin_cpu_supports("avx512vbmi");
  return has && use_avx512();
}

/// Most dims a kernel indexes with fixed-size arrays inside a parallel region (no allocation
/// there: an exception must not leave an OpenMP region). Higher ranks go to the reference.
constexpr int64_t kMaxDims = 16;

/// Below this many elements of work a kernel runs on the calling thread: the OpenMP fork/join
/// (a few microseconds) costs more than it saves.
constexpr int64_t kParallelGrain = 32768;

/// Threads worth using for `work` elements of simple memory-bound work.
inline int threads_for(int64_t work) {
  if (work < 2 * kParallelGrain || omp_in_parallel()) return 1;
  const int64_t want = work / kParallelGrain;
  return static_cast<int>(std::min<int64_t>(want, omp_get_max_threads()));
}

/// Calls f(begin, end) on disjoint contiguous parts of [0, n), in parallel when `work` (elements
/// touched in total) is large enough. f must not throw: validate before calling.
template <typename F>
void parallel_range(int64_t n, int64_t work, F&& f) {
  if (n <= 0) return;
  const int nt = static_cast<int>(std::min<int64_t>(threads_for(work), n));
  if (nt <= 1) {
    f(int64_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    const int64_t t = omp_get_thread_num(), count = omp_get_num_threads();
    const int64_t begin = n * t / count, end = n * (t + 1) / count;
    if (begin < end) f(begin, end);
  }
}

/// A candidate of the "cpu" backend for plain inputs.
inline Candidate make_candidate(const char* name, const char* op, int priority,
                                std::function<std::string(const NodeContext&)> check,
                                std::function<KernelFn(const NodeContext&, KernelFn)> make, int since = 1,
                                const char* domain = "") {
  Candidate c;
  c.backend = "cpu";
  c.name = name;
  c.op_type = op;
  c.domain = domain;
  c.since_version = since;
  c.priority = priority;
  c.accepts_layouts = false;
  c.check = std::move(check);
  c.make = std::move(make);
  return c;
}

/// Priorities: after the oneDNN candidates of the same op (which use 0).
constexpr int kOwnPriority = 10;
/// For ops where a oneDNN candidate (binary, concat) should be preferred and this is a fallback.
constexpr int kOwnFallbackPriority = 20;

}  // namespace hwopt::cpu::own
