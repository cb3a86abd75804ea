#include "core/threads.h"

#include <cpuinfo.h>
#include <omp.h>
#include <sched.h>

#include <set>
#include <utility>

namespace hwopt {

namespace {

// The CPUs this process may run on: one per physical core (libcpuinfo's cores, in order), and
// the other logical CPUs of those cores. Without libcpuinfo every allowed CPU counts as a core.
struct CoreCpus {
  std::vector<int> one_per_core, others;
};

CoreCpus core_cpus() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  const bool have_mask = sched_getaffinity(0, sizeof(mask), &mask) == 0;
  CoreCpus out;
  if (cpuinfo_initialize()) {
    std::set<const cpuinfo_core*> seen;
    for (uint32_t i = 0; i < cpuinfo_get_processors_count(); ++i) {
      const cpuinfo_processor* p = cpuinfo_get_processor(i);
      if (p->linux_id < 0 || (have_mask && !CPU_ISSET(p->linux_id, &mask))) continue;
      (seen.insert(p->core).second ? out.one_per_core : out.others).push_back(p->linux_id);
    }
  } else if (have_mask) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &mask)) out.one_per_core.push_back(c);
  }
  return out;
}

}  // namespace

int physical_cores() {
  static const int cores = [] {
    const int n = static_cast<int>(core_cpus().one_per_core.size());
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

std::vector<int> cpus_by_core() {
  CoreCpus c = core_cpus();
  c.one_per_core.insert(c.one_per_core.end(), c.others.begin(), c.others.end());
  return c.one_per_core;
}

bool pin_intra_op_threads(int threads) {
  thread_local int pinned_for = 0;  // the team size this thread's team was pinned for
  if (threads < 1 || pinned_for == threads) return true;
  const std::vector<int> cpus = cpus_by_core();
  if (cpus.empty()) return false;
  bool ok = true;
#pragma omp parallel num_threads(threads) reduction(&& : ok)
  {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpus[static_cast<size_t>(omp_get_thread_num()) % cpus.size()], &one);
    ok = sched_setaffinity(0, sizeof(one), &one) == 0;
  }
  if (ok) pinned_for = threads;
  return ok;
}

}  // namespace hwopt
