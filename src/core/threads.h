// Threads: physical core count (libcpuinfo) and the intra-op thread setting shared by oneDNN
// and hwopt's own kernels (both run on the same OpenMP runtime, so they never oversubscribe).
#pragma once

#include <vector>

namespace hwopt {

/// Physical cores of this machine (not logical CPUs); at least 1.
int physical_cores();
/// Logical CPUs available to this process.
int logical_cpus();
/// Sets the intra-op thread count for parallel regions started from the calling thread.
void set_intra_op_threads(int threads);
/// The intra-op thread count in effect for the calling thread.
int intra_op_threads();
/// The CPUs this process may run on, one per physical core first (in core order), then the
/// other logical CPUs of those cores.
std::vector<int> cpus_by_core();
/// Binds OpenMP thread i of the calling thread's team of `threads` (the caller is thread 0) to
/// cpus_by_core()[i modulo their count]. Once per calling thread and thread count (the OpenMP
/// runtime keeps a team's threads); returns false if the system refused an affinity.
bool pin_intra_op_threads(int threads);

}  // namespace hwopt
