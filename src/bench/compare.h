// `hwopt bench A --vs B`: two candidates (two models, or two configurations of one) measured
// interleaved in one process, in ABBA order so drift of the machine hits both alike; the
// result is the ratio of medians B/A with a bootstrap confidence interval over the pairs, and
// whether the difference exceeds the noise (the interval excludes 1).
#pragma once

#include <string>

#include "bench/measure.h"

namespace hwopt::bench {

struct CompareResult {
  double cold_a_ms = 0, cold_b_ms = 0;
  std::vector<double> a_ms, b_ms;  // paired timed runs
  Summary a, b;
  RatioCI ratio;                   // median(B) / median(A): below 1 means B is faster
  bool converged = false;
  std::string stop_reason;
  double wall_s = 0;
  Status status;
};

/// Uses `options` for the warm-up rules, the budget (max_seconds covers both) and the target:
/// the ratio's CI relative half-width <= target_rel_ci.
CompareResult compare(const Runner& a, const Runner& b, const MeasureOptions& options, const Clock& clock = steady_seconds);

}  // namespace hwopt::bench
