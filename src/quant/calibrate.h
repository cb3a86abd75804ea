// Static INT8 calibration: run the FP32 model over a data set, observe every intermediate value,
// and estimate each value's clipping range (MinMax, Percentile or Entropy/KL).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "hwopt/session.h"
#include "quant/dataset.h"
#include "quant/ranges.h"

namespace hwopt::quant {

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::minmax;
  double percentile = 99.99;  // for CalibrationMethod::percentile
  /// Called after each batch with (batches done, batches in all).
  std::function<void(size_t, size_t)> progress;
};

/// The options of the FP32 session that calibrates for a session with options `base`: precision
/// fp32, no ranges or FP32 nodes, and the graph a reduced-precision session sees (the passes of
/// passes::value_hiding_passes() off, so every value it quantizes is observed).
SessionOptions calibration_session_options(const SessionOptions& base);

/// Runs `model_path` in FP32 with `base` options (backend, threads, optimize, disabled passes;
/// precision is forced to fp32) over `batches` and returns the range of every float value the
/// optimized graph computes, keyed by value name. The same names appear in a session created with
/// the same options and precision int8, which reads them from SessionOptions::activation_ranges.
Expected<CalibrationTable> calibrate(const std::string& model_path, const SessionOptions& base,
                                     const std::vector<Batch>& batches, const CalibrationOptions& options);

/// The same with an FP32 session already loaded (with calibration_session_options() of the
/// options the INT8 session will use), for callers that have one: the model is not loaded
/// again. A session that ran one of passes::value_hiding_passes() is refused.
Expected<CalibrationTable> calibrate(const Session& fp32_session, const std::vector<Batch>& batches,
                                     const CalibrationOptions& options);

}  // namespace hwopt::quant
