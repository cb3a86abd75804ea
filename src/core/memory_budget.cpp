#include "core/memory_budget.h"

#include <fmt/format.h>

#include <cstdint>

namespace hwopt {

namespace {

thread_local const std::shared_ptr<MemoryBudget>* t_budget = nullptr;
thread_local AllocationFailure t_failure;

std::string mib(size_t bytes) {
  double v = static_cast<double>(bytes) / 1048576.0;
  for (const char* unit : {"MiB", "GiB", "TiB", "PiB"}) {
    if (v < 1024 || std::string(unit) == "PiB") return fmt::format("{:.1f} {}", v, unit);
    v /= 1024;
  }
  return "";
}

}  // namespace

bool MemoryBudget::try_charge(size_t bytes) {
  size_t used = used_.load(std::memory_order_relaxed);
  do {
    if (bytes > limit_ || used > limit_ - bytes) return false;
  } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
  const size_t now = used + bytes;
  size_t peak = peak_.load(std::memory_order_relaxed);
  while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
  return true;
}

MemoryBudgetScope::MemoryBudgetScope(std::shared_ptr<MemoryBudget> budget)
    : budget_(std::move(budget)), previous_(t_budget) {
  t_budget = budget_ ? &budget_ : nullptr;
}

MemoryBudgetScope::~MemoryBudgetScope() { t_budget = previous_; }

const std::shared_ptr<MemoryBudget>* current_memory_budget() { return t_budget; }

void note_allocation_failure(size_t requested, const MemoryBudget* budget) {
  t_failure.failed = true;
  t_failure.over_budget = budget != nullptr;
  t_failure.requested = requested;
  t_failure.used = budget ? budget->used() : 0;
  t_failure.limit = budget ? budget->limit() : 0;
}

void clear_allocation_failure() { t_failure = AllocationFailure{}; }

const AllocationFailure& last_allocation_failure() { return t_failure; }

std::string describe_allocation_failure(const AllocationFailure& f) {
  if (!f.failed) return "";
  if (f.over_budget)
    return fmt::format("a {} allocation was refused: {} of the {} memory budget (max_memory_mb) already in use",
                       mib(f.requested), mib(f.used), mib(f.limit));
  if (f.requested == SIZE_MAX) return "the tensor is larger than any allocator can provide";
  return fmt::format("the system could not allocate {}", mib(f.requested));
}

}  // namespace hwopt
