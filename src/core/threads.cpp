#include "core/threads.h"

#include <cpuinfo.h>
#include <omp.h>
#include <sched.h>

#include <set>
#include <utility>

namespace hwopt {

int physical_cores() {
  static const int cores = [] {
    if (!cpuinfo_initialize()) return logical_cpus();
    // Count distinct cores among the processors this process may run on.
    cpu_set_t mask;
    CPU_ZERO(&mask);
    bool have_mask = sched_getaffinity(0, sizeof(mask), &mask) == 0;
    std::set<const cpuinfo_core*> seen;
    for (uint32_t i = 0; i < cpuinfo_get_processors_count(); ++i) {
      const cpuinfo_processor* p = cpuinfo_get_processor(i);
      if (have_mask && p->linux_id >= 0 && !CPU_ISSET(p->linux_id, &mask)) continue;
      seen.insert(p->core);
    }
    int n = static_cast<int>(seen.size());
    return n > 0 ? n : logical_cpus();
  }();
  return cores;
}

int logical_cpus() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof(mask), &mask) == 0) return std::max(1, CPU_COUNT(&mask));
  return std::max(1, omp_get_num_procs());
}

void set_intra_op_threads(int threads) { omp_set_num_threads(threads > 0 ? threads : physical_cores()); }

int intra_op_threads() { return omp_get_max_threads(); }

}  // namespace hwopt
