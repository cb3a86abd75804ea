// Summary statistics of timing samples: percentiles, spread, and a distribution-free confidence
// interval of the median. Shared by `hwopt profile`, `hwopt bench` and the tuner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hwopt::bench {

struct Summary {
  size_t n = 0;
  double min = 0, max = 0, mean = 0, median = 0, stdev = 0;
  double cov = 0;  // coefficient of variation: stdev / mean
  double p90 = 0, p95 = 0, p99 = 0, p999 = 0;
  // 95 % confidence interval of the median from order statistics (no normality assumed);
  // with fewer than 6 samples it is the full range.
  double median_ci_low = 0, median_ci_high = 0;
  /// Half-width of the median's confidence interval relative to the median.
  double median_ci_rel_halfwidth() const;
};

/// Linear-interpolated percentile (`p` in [0, 100]) of ascending `sorted` samples; 0 if empty.
double percentile_sorted(const std::vector<double>& sorted, double p);
/// The summary of `samples` (any order). All zero if empty.
Summary summarize(std::vector<double> samples);

/// Like summarize(), for samples in the order they were taken: the median's CI is widened, if
/// needed, to cover slow drift of the machine, which the order-statistics interval (it assumes
/// independent samples) misses. The samples are cut into `blocks` consecutive blocks (with 20
/// samples or more); the block medians' spread gives a t-interval around the median ("batch
/// means"), and the reported CI is the union of both (kept within [min, max]).
Summary summarize_series(const std::vector<double>& samples_in_order, int blocks = 6);

/// The ratio of two candidates' medians, median(b) / median(a), with a 95 % percentile-bootstrap
/// confidence interval. Samples are taken as interleaved pairs (a[i], b[i]) measured back to
/// back, and the bootstrap resamples whole pairs, so slow drift of the machine cancels out.
struct RatioCI {
  size_t pairs = 0;
  double ratio = 0, low = 0, high = 0;
  /// True when the interval excludes 1: the difference exceeds the measured noise. Needs 6
  /// pairs at least (a bootstrap of fewer says little).
  bool significant() const { return pairs >= 6 && (high < 1.0 || low > 1.0); }
  /// Half-width of the interval relative to the ratio.
  double rel_halfwidth() const { return ratio > 0 ? (high - low) / 2 / ratio : 0; }
};
/// `a` and `b` must have the same length (extra samples of the longer one are ignored).
/// Deterministic for a given `seed`.
RatioCI ratio_ci_bootstrap(const std::vector<double>& a, const std::vector<double>& b, int resamples = 2000,
                           uint64_t seed = 0x5eed);

/// Median of `v` (any order); 0 if empty.
double median_of(std::vector<double> v);

}  // namespace hwopt::bench
