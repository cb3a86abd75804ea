// A dynamic batcher, as in inference servers (Triton's dynamic batching): requests queue up; a
// worker thread takes the oldest and waits for more until either `max_batch` samples are queued
// or the oldest has waited `max_queue_delay_ms`, then concatenates the requests along the batch
// (first) dimension, runs them as one batch and splits the outputs back per request. Several
// workers share one runner (one Session is thread-safe). Unit-tested with a fake runner.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "bench/workload.h"

namespace hwopt::bench {

struct BatcherOptions {
  int64_t max_batch = 8;            // samples per batch, at most
  double max_queue_delay_ms = 2;    // longest a request is held waiting for more to batch with it
  int workers = 1;                  // threads running batches concurrently
};

/// What happened to one request.
struct Completion {
  Status status;
  TensorMap outputs;
  double enqueue_s = 0, dispatch_s = 0, done_s = 0;  // steady_seconds()
  int64_t batch_samples = 0;                         // size of the batch it ran in
};

/// One batch the batcher dispatched.
struct BatchRecord {
  size_t requests = 0;
  int64_t samples = 0;
  double oldest_enqueue_s = 0;  // when its oldest request arrived
  double worker_free_s = 0;     // when the worker that took it started looking for work
  double dispatch_s = 0;
  bool full = false;            // dispatched because max_batch samples were queued
};

class DynamicBatcher {
 public:
  using Callback = std::function<void(Completion&&)>;
  DynamicBatcher(BatchRunner run, BatcherOptions options);
  ~DynamicBatcher();  // shutdown()
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  /// Queues a request (its samples: the first dimension of its first input). `done` runs on a
  /// worker thread. Fails after shutdown() or for a request larger than max_batch.
  Status submit(TensorMap inputs, Callback done);
  /// Runs what is queued, then stops the workers (idempotent).
  void shutdown();
  std::vector<BatchRecord> batches() const;

 private:
  struct Request {
    TensorMap inputs;
    int64_t samples = 1;
    double enqueue_s = 0;
    Callback done;
  };
  void worker();

  BatchRunner run_;
  BatcherOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> queue_;
  int64_t queued_samples_ = 0;
  bool stop_ = false;
  std::vector<BatchRecord> records_;
  std::vector<std::thread> threads_;
};

/// The first dimension of the first input (1 for scalars or an empty map).
int64_t samples_of(const TensorMap& inputs);
/// Concatenates input sets along the first dimension (same names, dtypes and other dims).
Expected<TensorMap> concat_batch(const std::vector<const TensorMap*>& parts);
/// Splits outputs of a batch back into parts of `sizes` samples along the first dimension;
/// outputs whose first dimension is not the batch's total go whole to every part.
Expected<std::vector<TensorMap>> split_batch(const TensorMap& outputs, const std::vector<int64_t>& sizes);

}  // namespace hwopt::bench
