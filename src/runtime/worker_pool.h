// A fixed set of threads running submitted jobs in order: the inter-op workers of a plan
// (PlanOptions::inter_op), kept for the plan's life so that their thread-local state (oneDNN
// streams and scratchpads, OpenMP teams) is made once, not per run.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hwopt {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();  // finishes the queued jobs, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Queues `job` for the next free thread. A job must not throw.
  void submit(std::function<void()> job);
  int size() const { return static_cast<int>(threads_.size()); }

 private:
  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace hwopt
