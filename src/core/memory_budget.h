// A cap on the tensor memory one run (or any scope) may allocate: SessionOptions::max_memory_mb.
// Storage::allocate charges the budget installed on the calling thread, if any, and refuses an
// allocation that would pass it. With no budget installed the only cost is one thread-local load.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

namespace hwopt {

class MemoryBudget {
 public:
  explicit MemoryBudget(size_t limit_bytes) : limit_(limit_bytes) {}

  size_t limit() const { return limit_; }
  size_t used() const { return used_.load(std::memory_order_relaxed); }
  size_t peak() const { return peak_.load(std::memory_order_relaxed); }
  /// Charges `bytes`; false (and nothing charged) if that would pass the limit.
  bool try_charge(size_t bytes);
  void release(size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
  std::atomic<size_t> peak_{0};
};

/// Installs `budget` for Storage allocations made on this thread while the scope lives (nests;
/// a null budget means no cap inside the scope). Allocations made on other threads (OpenMP
/// workers) are not charged.
class MemoryBudgetScope {
 public:
  explicit MemoryBudgetScope(std::shared_ptr<MemoryBudget> budget);
  ~MemoryBudgetScope();
  MemoryBudgetScope(const MemoryBudgetScope&) = delete;
  MemoryBudgetScope& operator=(const MemoryBudgetScope&) = delete;

 private:
  std::shared_ptr<MemoryBudget> budget_;
  const std::shared_ptr<MemoryBudget>* previous_;
};

/// The budget installed on this thread, or nullptr.
const std::shared_ptr<MemoryBudget>* current_memory_budget();

/// The last tensor allocation on this thread that failed (cleared by clear_allocation_failure):
/// why, so that a run's error can say out_of_memory and how far over the budget it was.
struct AllocationFailure {
  bool failed = false;
  bool over_budget = false;  // refused by the budget (else the system allocator failed)
  size_t requested = 0;      // bytes
  size_t used = 0, limit = 0;  // of the budget, when over_budget
};
void note_allocation_failure(size_t requested, const MemoryBudget* budget);
void clear_allocation_failure();
const AllocationFailure& last_allocation_failure();
/// "a 4.0 GiB allocation was refused: 1.2 GiB of the 2.0 GiB budget (max_memory_mb) in use".
std::string describe_allocation_failure(const AllocationFailure& f);

}  // namespace hwopt
