// Per-layer sensitivity of a reduced-precision model and the automatic fallback that keeps the
// most sensitive layers in FP32 until an accuracy budget is met.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hwopt/session.h"
#include "quant/accuracy.h"
#include "quant/dataset.h"

namespace hwopt::quant {

using Outputs = std::map<std::string, Tensor>;

/// A session's outputs for every batch, in order.
Expected<std::vector<Outputs>> run_batches(const Session& session, const std::vector<Batch>& batches);

/// The relative output error of a candidate: sum over outputs of sum((c - r)^2) / sum(r^2),
/// over all batches (0 = identical; a NaN/Inf in the candidate gives +infinity).
double output_error(const std::vector<Outputs>& reference, const std::vector<Outputs>& candidate);

/// Steps of a session that run in reduced precision (implementation "...[int8(...)]",
/// "...[int8-dynamic]" or "...[bf16(...)]"), by node name.
std::vector<PlanStepInfo> reduced_precision_steps(const Session& session);

/// How much one layer's reduced precision costs: the output error with every layer reduced and
/// with only this one kept in FP32.
struct LayerSensitivity {
  std::string node, op_type, implementation;
  double error_all = 0;       // every layer in reduced precision
  double error_without = 0;   // this layer in FP32, the others reduced
  double gain() const { return error_all - error_without; }
};

/// One configuration the fallback measured: the layers kept in FP32 so far (the last one added
/// by this step), its accuracy against the reference and its time per batch.
struct FallbackStep {
  std::vector<std::string> fp32_nodes;
  AccuracyReport report;
  Verdict verdict;
  double ms_per_batch = 0;  // median of a few runs of the first batch
};

struct FallbackResult {
  std::vector<LayerSensitivity> ranking;  // most sensitive first (empty if the start met the budget)
  std::vector<FallbackStep> steps;        // steps[0]: every layer reduced; then one more in FP32 per step
  bool met = false;                       // the last step meets the budget
  double fp32_ms_per_batch = 0;           // the reference, timed like the steps
};

struct FallbackOptions {
  /// Batches of the data used to rank the layers (the first ones; 0 = all). Every step is
  /// validated on all batches.
  size_t ranking_batches = 4;
  /// At most this many layers are put back to FP32 (0 = as many as there are).
  size_t max_layers = 0;
  /// Timed runs of the first batch per configuration (median).
  int timing_runs = 5;
  /// Progress lines ("ranking 3/52", "fallback: +conv_12 -> top-1 99.2 %").
  std::function<void(const std::string&)> progress;
};

/// Validates `model_path` at `options` (precision bf16/int8, ranges set) against the FP32
/// reference outputs `reference` on `batches`; if `budget` is not met, ranks every reduced layer
/// by the error it adds (one layer in FP32 at a time, on the first ranking_batches), then keeps
/// the most sensitive layers in FP32 one by one until the budget is met or max_layers is
/// reached. `labels` (one per batch, or empty) adds task accuracy to the judgment.
Expected<FallbackResult> fallback_until_budget(const std::string& model_path, const SessionOptions& options,
                                               const std::vector<Batch>& batches, const std::vector<Tensor>& labels,
                                               const std::vector<Outputs>& reference, const AccuracyBudget& budget,
                                               const FallbackOptions& fallback = {});

/// The fallback as JSON: ranking [{node, op_type, implementation, error_all, error_without,
/// gain}], steps [{fp32_nodes, verdict, ms_per_batch, report}], met, fp32_ms_per_batch.
nlohmann::json to_json(const FallbackResult& result);

}  // namespace hwopt::quant
