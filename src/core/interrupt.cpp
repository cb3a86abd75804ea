#include "core/interrupt.h"

#include <signal.h>

#include <atomic>
#include <csignal>

namespace hwopt {

namespace {

// Lock-free, so reading and writing it from a signal handler is safe.
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_interrupt(int sig) {
  if (g_signal.exchange(sig) != 0) {
    // Second signal: the user means it. Default action, so the exit status says "killed by sig".
    ::signal(sig, SIG_DFL);
    ::raise(sig);
  }
}

}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // blocking reads and writes in progress go on; the command polls the flag
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() { return g_signal.load(std::memory_order_relaxed) != 0; }

void clear_interrupt() { g_signal.store(0); }

int interrupt_signal() { return g_signal.load(std::memory_order_relaxed); }

}  // namespace hwopt
