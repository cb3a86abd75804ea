// The tuner's search: the optimization method of DESIGN.md automated for a CPU. A baseline
// first, then candidates in the decision tree's order for this hardware (precision by expected
// speed-up, the accuracy fallback when INT8 misses the budget, threads, batch size), each
// measured with the bench engine and validated against the FP32 reference; a candidate is kept
// only if it is faster beyond the noise and within the accuracy budget; the search stops once
// the requirements are met (unless exhaustive) or the time budget is spent.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "bench/workload.h"
#include "tune/tune_types.h"

namespace hwopt::tune {

struct TuneOptions {
  Requirements requirements;
  std::string calibration;  // data set for INT8 calibration (quant::load_dataset); "" = none
  std::string validation;   // data set for accuracy; "" = the calibration data, else random inputs
  std::string labels;       // labels of the validation data (task accuracy); "" = none
  int64_t calibration_limit = 100;
  int64_t validation_limit = 256;
  /// Measurements of an earlier, interrupted run (its tune.json): configurations measured
  /// there are taken as they are instead of measured again.
  std::vector<Candidate> previous;
  /// Random inputs of a given batch size for the model (timing only).
  std::function<bench::InputFactory(const Session& session)> input_factory;
  /// One line per event ("measuring int8(entropy) 2t b8 ...").
  std::function<void(const std::string&)> progress;
  /// Polled between candidates and runs: true stops the search (what was measured is kept).
  std::function<bool()> should_stop;
  /// Seconds the timing of one candidate may take (the bench engine stops earlier once its
  /// median is stable).
  double max_seconds_per_candidate = 8;
  /// Server pattern: seconds of simulated arrivals per request rate tried (at least 32 requests).
  double server_seconds_per_rate = 2;
};

/// Presets of DESIGN.md's three deployment patterns, applied to `r` (fields the user set on
/// the command line are applied after): "online" (latency, batch 1), "batch" (throughput,
/// batches 1..64), "edge" (latency, batch 1, INT8 first, 1 thread unless --cores), "server"
/// (the highest rate of single-sample requests whose p99, queueing included, stays within
/// --max-latency-ms; batches 1..32 for the dynamic batcher). Unknown name: invalid_argument.
Status apply_preset(const std::string& preset, Requirements& r);

/// Runs the search on `model_path`. The result lists every candidate in the order measured,
/// the best one (the fastest for the goal among those meeting every requirement, else the
/// closest, with what limits it), the Pareto set, and the calibrated ranges of the best.
Expected<TuneResult> run_tune(const std::string& model_path, const TuneOptions& options);

/// The SessionOptions a configuration runs with (ranges: the calibrated table for INT8).
SessionOptions session_options(const Config& config, const std::map<std::string, ActivationRange>& ranges);

}  // namespace hwopt::tune
