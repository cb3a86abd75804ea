// Threads: physical core count (libcpuinfo) and the intra-op thread setting shared by oneDNN
// and hwopt's own kernels (both run on the same OpenMP runtime, so they never oversubscribe).
#pragma once

namespace hwopt {

/// Physical cores of this machine (not logical CPUs); at least 1.
int physical_cores();
/// Logical CPUs available to this process.
int logical_cpus();
/// Sets the intra-op thread count for parallel regions started from the calling thread.
void set_intra_op_threads(int threads);
/// The intra-op thread count in effect for the calling thread.
int intra_op_threads();

}  // namespace hwopt
