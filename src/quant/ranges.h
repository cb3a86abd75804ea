// Activation ranges for static quantization: a streaming collector of a value's min, max and
// histogram of |x|, the clipping threshold by MinMax, Percentile or Entropy (KL divergence), and
// calibration tables saved as JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hwopt/session.h"
#include "hwopt/status.h"

namespace hwopt::quant {

/// How a value's clipping threshold is chosen from what calibration observed.
enum class CalibrationMethod {
  minmax,      // the largest |x| seen: nothing is clipped, outliers waste resolution
  percentile,  // the |x| below which a given percentage of the samples fall
  entropy,     // the threshold whose 128-level quantization loses least information (KL divergence)
};

/// "minmax", "percentile" or "entropy"; anything else is invalid_argument listing the valid names.
Expected<CalibrationMethod> parse_calibration_method(const std::string& name);
/// The name parse_calibration_method accepts for `method`.
const char* calibration_method_name(CalibrationMethod method);

/// Accumulates the values one tensor takes over a calibration run, batch after batch.
///
/// Keeps the finite min and max, the number of finite samples, the number of NaN/Inf samples
/// (otherwise ignored), and a histogram of |x| with kBins equal bins over [0, max|x|]. When a
/// later batch has a larger max|x|, the old histogram is re-binned into the wider range (each old
/// bin's count spread over the new bins it overlaps, as TensorRT's and ONNX Runtime's calibrators
/// do), so the result does not depend much on the order of the batches: thresholds agree with
/// those of one batch holding all the data to within a bin width.
class RangeCollector {
 public:
  static constexpr size_t kBins = 2048;
  /// Quantization levels of one sign of INT8 that the entropy method fits the histogram into.
  static constexpr size_t kQuantizedBins = 128;

  RangeCollector();

  /// Adds `n` samples. NaN and Inf are counted in nonfinite_count() and otherwise ignored.
  void add(const float* data, size_t n);

  /// The clipping threshold T >= 0 for |x|:
  /// - minmax: max|x|;
  /// - percentile: the |x| below which `percentile` % of the finite samples fall, interpolated
  ///   linearly within the histogram bin (`percentile` is clamped to [0, 100]);
  /// - entropy: TensorRT's entropy calibration on the histogram with bin 0 given bin 1's count
  ///   (so that exact zeros, half of a ReLU output, do not dominate; as NVIDIA's
  ///   pytorch-quantization does). For each i in [128, kBins], P = the first i bins
  ///   with the count of the bins beyond added to bin i-1; Q = the first i bins merged into 128
  ///   levels and expanded back over the bins that are non-zero in P; both are normalized
  ///   (smoothed so that no bin is zero) and the i with the smallest KL(P||Q) gives
  ///   T = (i + 0.5) * bin width, capped at max|x|.
  /// Never more than max|x|; 0 when nothing finite was added or every sample was zero.
  float threshold(CalibrationMethod method, double percentile = 99.99) const;

  /// {min, max, threshold(method, percentile)}; all zero when nothing finite was added.
  ActivationRange range(CalibrationMethod method, double percentile = 99.99) const;

  /// Finite samples added.
  uint64_t count() const { return count_; }
  /// NaN and Inf samples seen (and ignored).
  uint64_t nonfinite_count() const { return nonfinite_; }
  /// Finite min and max; 0 when nothing finite was added.
  float min() const { return count_ ? min_ : 0.0f; }
  float max() const { return count_ ? max_ : 0.0f; }
  /// max|x| over the finite samples: the upper edge of the histogram.
  float abs_max() const { return abs_max_; }
  /// The histogram of |x| (kBins counts, fractional after re-binning) and its bin width.
  const std::vector<double>& histogram() const { return hist_; }
  double bin_width() const { return static_cast<double>(abs_max_) / kBins; }

 private:
  void rebin(float new_abs_max);
  float percentile_threshold(double percentile) const;
  float entropy_threshold() const;

  float min_ = 0, max_ = 0, abs_max_ = 0;
  uint64_t count_ = 0, nonfinite_ = 0;
  std::vector<double> hist_;
};

/// Calibrated ranges by value name.
using CalibrationTable = std::map<std::string, ActivationRange>;

/// Writes `table` to `path` as JSON, atomically:
///   {"format": "hwopt-calibration", "version": 1, "method": "entropy",
///    "ranges": {"<value>": {"min": -1.5, "max": 2.0, "threshold": 1.8}, ...}}
/// A non-finite or negative threshold, a non-finite min/max or min > max is invalid_argument
/// naming the value (such a table could not be loaded again); write failures are io_error.
Status save_calibration_table(const std::string& path, const CalibrationTable& table, CalibrationMethod method);

/// Reads a table written by save_calibration_table. Errors name the file and, where one is at
/// fault, the value: not_found for a missing file, invalid_argument for bad JSON, a wrong format
/// or version, an unknown method, a missing or non-numeric field, a min, max or threshold that
/// is not finite as float32, a negative threshold, or min > max.
Expected<CalibrationTable> load_calibration_table(const std::string& path);

}  // namespace hwopt::quant
