#include "bench/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace hwopt::bench {

double Summary::median_ci_rel_halfwidth() const {
  return median > 0 ? (median_ci_high - median_ci_low) / 2 / median : 0;
}

double percentile_sorted(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double idx = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(idx);
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (idx - static_cast<double>(lo));
}

Summary summarize(std::vector<double> samples) {
  Summary s;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  s.n = n;
  s.min = samples.front();
  s.max = samples.back();
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(n);
  double ss = 0;
  for (double v : samples) ss += (v - s.mean) * (v - s.mean);
  s.stdev = n > 1 ? std::sqrt(ss / static_cast<double>(n - 1)) : 0;
  s.cov = s.mean > 0 ? s.stdev / s.mean : 0;
  s.median = percentile_sorted(samples, 50);
  s.p90 = percentile_sorted(samples, 90);
  s.p95 = percentile_sorted(samples, 95);
  s.p99 = percentile_sorted(samples, 99);
  s.p999 = percentile_sorted(samples, 99.9);
  // The ranks n/2 -+ 1.96 sqrt(n)/2 bound the median with ~95 % confidence (normal approximation
  // of the binomial distribution of the count of samples below the true median).
  if (n >= 6) {
    const double half = 1.96 * std::sqrt(static_cast<double>(n)) / 2;
    const double lo_rank = std::floor(static_cast<double>(n) / 2 - half);      // 1-based
    const double hi_rank = std::ceil(1 + static_cast<double>(n) / 2 + half);  // 1-based
    s.median_ci_low = samples[static_cast<size_t>(std::clamp(lo_rank, 1.0, static_cast<double>(n))) - 1];
    s.median_ci_high = samples[static_cast<size_t>(std::clamp(hi_rank, 1.0, static_cast<double>(n))) - 1];
  } else {
    s.median_ci_low = s.min;
    s.median_ci_high = s.max;
  }
  return s;
}

Summary summarize_series(const std::vector<double>& x, int blocks) {
  Summary s = summarize(x);
  const size_t k = static_cast<size_t>(std::clamp(blocks, 3, 12));
  if (x.size() < 20 || x.size() < 3 * k) return s;
  std::vector<double> meds;
  const size_t per = x.size() / k;
  for (size_t b = 0; b < k; ++b) {
    const auto first = x.begin() + static_cast<std::ptrdiff_t>(b * per);
    const auto last = b + 1 == k ? x.end() : first + static_cast<std::ptrdiff_t>(per);
    meds.push_back(median_of(std::vector<double>(first, last)));
  }
  double mean = std::accumulate(meds.begin(), meds.end(), 0.0) / static_cast<double>(k);
  double ss = 0;
  for (double m : meds) ss += (m - mean) * (m - mean);
  const double se = std::sqrt(ss / static_cast<double>(k - 1)) / std::sqrt(static_cast<double>(k));
  // Student t, 97.5 % quantile, for k - 1 = 2..11 degrees of freedom.
  static const double t975[] = {4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201};
  const double hw = t975[k - 3] * se;
  // Within the observed range: a median outside every sample is not plausible.
  s.median_ci_low = std::max(std::min(s.median_ci_low, s.median - hw), s.min);
  s.median_ci_high = std::min(std::max(s.median_ci_high, s.median + hw), s.max);
  return s;
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double hi = v[mid];
  if (v.size() % 2 == 1) return hi;
  const double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lo + hi) / 2;
}

RatioCI ratio_ci_bootstrap(const std::vector<double>& a, const std::vector<double>& b, int resamples, uint64_t seed) {
  RatioCI r;
  const size_t n = std::min(a.size(), b.size());
  if (n == 0) return r;
  r.pairs = n;
  const double ma = median_of(std::vector<double>(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n)));
  const double mb = median_of(std::vector<double>(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n)));
  r.ratio = ma > 0 ? mb / ma : 0;
  if (n < 2 || resamples < 10) {
    r.low = r.high = r.ratio;
    return r;
  }
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, n - 1);
  std::vector<double> ra(n), rb(n), ratios;
  ratios.reserve(static_cast<size_t>(resamples));
  for (int k = 0; k < resamples; ++k) {
    for (size_t i = 0; i < n; ++i) {
      const size_t j = pick(rng);
      ra[i] = a[j];
      rb[i] = b[j];
    }
    const double m = median_of(ra);
    if (m > 0) ratios.push_back(median_of(rb) / m);
  }
  std::sort(ratios.begin(), ratios.end());
  r.low = percentile_sorted(ratios, 2.5);
  r.high = percentile_sorted(ratios, 97.5);
  return r;
}

}  // namespace hwopt::bench
