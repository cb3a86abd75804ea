// The batch sweep: latency and throughput at each batch size, or `auto`: doubling from 1 until
// throughput stops improving, the latency bound is exceeded, or memory would run out. Memory is
// predicted before allocating anything for a batch (see SweepOptions::bytes_per_sample), and an
// allocation failure while making inputs or running is caught and ends the sweep with the
// largest batch that fit.
#pragma once

#include <string>
#include <vector>

#include "bench/measure.h"
#include "bench/workload.h"

namespace hwopt::bench {

struct SweepOptions {
  std::vector<int64_t> batches;  // explicit list (ignored when automatic)
  bool automatic = false;
  int64_t auto_limit = 4096;     // largest batch `auto` tries
  double min_gain = 0.03;        // auto: stop when throughput improves by less than this
  double max_latency_ms = 0;     // bound on the p90 latency of a batch (0: none)
  /// Memory prediction: batch b needs about fixed_bytes + b * bytes_per_sample. bytes_per_sample
  /// is the planner's peak at batch 1 plus one sample of inputs and outputs, scaled linearly by
  /// the batch: an approximation (activations scale with the batch; weights, in fixed_bytes, do
  /// not; workspace of some kernels grows less than linearly).
  /// After each batch, the prediction for the next is also at least the peak RSS plus the
  /// last batch's RSS growth scaled by the batch ratio (what the plan does not see: per-shape
  /// kernels and reordered weights, cached buffers).
  size_t bytes_per_sample = 0;
  size_t fixed_bytes = 0;
  /// Memory that may be used: MemAvailable at the start (plus what this process already holds
  /// for the sweep) and the user's cap (--max-memory-mb); 0 = unknown / no cap.
  size_t available_bytes = 0;
  size_t max_memory_bytes = 0;
  MeasureOptions measure;
  std::function<void(int64_t batch)> on_batch_start;  // progress
};

struct SweepPoint {
  int64_t batch = 0;
  Measurement measurement;
  double latency_ms = 0;       // median per batch
  double per_sample_ms = 0;    // median / batch
  double throughput = 0;       // samples/s at the median
  size_t predicted_bytes = 0;  // the memory prediction for this batch
  size_t peak_rss_bytes = 0;   // process peak RSS after this batch
  bool within_latency = true;  // p90 <= max_latency_ms
  Status status;               // out_of_memory when it did not fit
};

struct SweepResult {
  std::vector<SweepPoint> points;  // measured (and the failed one, if any)
  int64_t best_batch = 0;          // highest throughput among points within the latency bound
  std::string stop_reason;         // why an automatic sweep ended ("list done" for a list)
  Status status;                   // not ok: an error other than out of memory
};

/// Predicted bytes of batch `b`.
size_t predict_bytes(const SweepOptions& o, int64_t b);
/// Parses "1,2,4" or "auto".
Expected<SweepOptions> parse_batches(const std::string& spec, SweepOptions base);

SweepResult run_sweep(Workload& w, const SweepOptions& o);

}  // namespace hwopt::bench
