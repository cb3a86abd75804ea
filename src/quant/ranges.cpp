#include "quant/ranges.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"

namespace hwopt::quant {

namespace {

constexpr const char* kTableFormat = "hwopt-calibration";
constexpr int kTableVersion = 1;

// Makes every bin of `dist` non-zero while keeping its sum: zeros get eps, the non-zero bins
// give it back in equal parts (as TensorRT's, MXNet's and ONNX Runtime's calibrators smooth).
// eps is a small fraction of the smallest non-zero count, so no bin turns negative even for the
// fractional counts that re-binning leaves. False when every bin is zero.
bool smooth_distribution(std::vector<double>& dist) {
  size_t zeros = 0;
  double min_nonzero = std::numeric_limits<double>::infinity();
  for (double v : dist) {
    if (v == 0) ++zeros;
    else min_nonzero = std::min(min_nonzero, v);
  }
  const size_t nonzeros = dist.size() - zeros;
  if (nonzeros == 0) return false;
  if (zeros == 0) return true;
  // zeros / nonzeros < kBins, so eps_taken < 2048e-4 * min_nonzero: every bin stays positive.
  const double eps = 1e-4 * std::min(1.0, min_nonzero);
  const double eps_taken = eps * static_cast<double>(zeros) / static_cast<double>(nonzeros);
  for (double& v : dist) v = v == 0 ? eps : v - eps_taken;
  return true;
}

Status table_error(const std::string& path, const std::string& what) {
  return Status(StatusCode::invalid_argument, fmt::format("calibration table '{}': {}", path, what));
}

}  // namespace

Expected<CalibrationMethod> parse_calibration_method(const std::string& name) {
  if (name == "minmax") return CalibrationMethod::minmax;
  if (name == "percentile") return CalibrationMethod::percentile;
  if (name == "entropy") return CalibrationMethod::entropy;
  return Status(StatusCode::invalid_argument,
                fmt::format("unknown calibration method '{}' (valid: minmax, percentile, entropy)", name));
}

const char* calibration_method_name(CalibrationMethod method) {
  switch (method) {
    case CalibrationMethod::minmax: return "minmax";
    case CalibrationMethod::percentile: return "percentile";
    case CalibrationMethod::entropy: return "entropy";
  }
  return "unknown";
}

RangeCollector::RangeCollector() : hist_(kBins, 0.0) {}

void RangeCollector::add(const float* data, size_t n) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo, amax = 0;
  uint64_t finite = 0;
  for (size_t i = 0; i < n; ++i) {
    const float v = data[i];
    if (!std::isfinite(v)) continue;
    ++finite;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    amax = std::max(amax, std::fabs(v));
  }
  nonfinite_ += n - finite;
  if (finite == 0) return;
  if (count_ == 0) {
    min_ = lo;
    max_ = hi;
  } else {
    min_ = std::min(min_, lo);
    max_ = std::max(max_, hi);
  }
  if (amax > abs_max_) rebin(amax);
  count_ += finite;
  // abs_max_ == 0: every sample so far is zero and lands in bin 0.
  const double scale = abs_max_ > 0 ? static_cast<double>(kBins) / abs_max_ : 0.0;
  for (size_t i = 0; i < n; ++i) {
    const float v = data[i];
    if (!std::isfinite(v)) continue;
    const size_t bin = std::min(static_cast<size_t>(std::fabs(static_cast<double>(v)) * scale), kBins - 1);
    hist_[bin] += 1;
  }
}

void RangeCollector::rebin(float new_abs_max) {
  const float old_abs_max = abs_max_;
  abs_max_ = new_abs_max;
  // Nothing yet, or only zeros (all in bin 0, which stays bin 0).
  if (count_ == 0 || old_abs_max == 0) return;
  std::vector<double> wider(kBins, 0.0);
  // Old bin j covers [j, j+1) * ratio in units of new bins; its count is spread uniformly.
  const double ratio = static_cast<double>(old_abs_max) / new_abs_max;
  for (size_t j = 0; j < kBins; ++j) {
    const double c = hist_[j];
    if (c == 0) continue;
    const double lo = j * ratio, hi = (j + 1) * ratio;
    for (size_t k = static_cast<size_t>(lo); static_cast<double>(k) < hi && k < kBins; ++k) {
      const double overlap = std::min(hi, static_cast<double>(k + 1)) - std::max(lo, static_cast<double>(k));
      if (overlap > 0) wider[k] += c * overlap / ratio;
    }
  }
  hist_ = std::move(wider);
}

float RangeCollector::threshold(CalibrationMethod method, double percentile) const {
  if (count_ == 0 || abs_max_ == 0) return 0.0f;
  switch (method) {
    case CalibrationMethod::minmax: return abs_max_;
    case CalibrationMethod::percentile: return percentile_threshold(percentile);
    case CalibrationMethod::entropy: return entropy_threshold();
  }
  return abs_max_;
}

ActivationRange RangeCollector::range(CalibrationMethod method, double percentile) const {
  ActivationRange r;
  if (count_ == 0) return r;
  r.min = min_;
  r.max = max_;
  r.threshold = threshold(method, percentile);
  return r;
}

float RangeCollector::percentile_threshold(double percentile) const {
  if (std::isnan(percentile)) percentile = 100.0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  double total = 0;
  for (double h : hist_) total += h;
  const double target = total * percentile / 100.0;
  if (target <= 0) return 0.0f;
  const double width = bin_width();
  double cumulative = 0;
  for (size_t i = 0; i < kBins; ++i) {
    const double h = hist_[i];
    if (h > 0 && cumulative + h >= target) {
      const double t = (static_cast<double>(i) + (target - cumulative) / h) * width;
      return std::min(static_cast<float>(t), abs_max_);
    }
    cumulative += h;
  }
  return abs_max_;
}

float RangeCollector::entropy_threshold() const {
  // Bin 0 takes bin 1's count: the exact zeros of ReLU outputs (often half the samples) would
  // otherwise dominate P, and every candidate that merges bin 0 with its neighbours would look
  // bad, pulling the threshold down to ~1/10 of max|x| (NVIDIA's pytorch-quantization does the same).
  std::vector<double> hist = hist_;
  hist[0] = hist[1];
  // outliers[i] = the count of bins i.. kBins-1, added to the last bin of P for candidate i.
  std::vector<double> outliers(kBins + 1, 0.0);
  for (size_t i = kBins; i-- > 0;) outliers[i] = outliers[i + 1] + hist[i];

  double best_divergence = std::numeric_limits<double>::infinity();
  size_t best_i = kBins;
  std::vector<double> p, q;
  for (size_t i = kQuantizedBins; i <= kBins; ++i) {
    p.assign(hist.begin(), hist.begin() + static_cast<std::ptrdiff_t>(i));
    p[i - 1] += outliers[i];
    // Q: the first i bins (without the outliers) merged into kQuantizedBins levels of
    // `merged` bins each (the last level also takes the remainder), then spread back evenly over
    // the bins of each level where P is non-zero.
    q.assign(i, 0.0);
    const size_t merged = i / kQuantizedBins;
    for (size_t level = 0; level < kQuantizedBins; ++level) {
      const size_t start = level * merged;
      const size_t stop = level + 1 == kQuantizedBins ? i : start + merged;
      double sum = 0;
      size_t nonzero = 0;
      for (size_t k = start; k < stop; ++k) {
        sum += hist[k];
        if (p[k] != 0) ++nonzero;
      }
      if (nonzero == 0) continue;
      const double each = sum / static_cast<double>(nonzero);
      for (size_t k = start; k < stop; ++k)
        if (p[k] != 0) q[k] = each;
    }
    if (!smooth_distribution(p) || !smooth_distribution(q)) continue;
    double p_sum = 0, q_sum = 0;
    for (size_t k = 0; k < i; ++k) {
      p_sum += p[k];
      q_sum += q[k];
    }
    double divergence = 0;
    for (size_t k = 0; k < i; ++k) {
      const double pk = p[k] / p_sum, qk = q[k] / q_sum;
      divergence += pk * std::log(pk / qk);
    }
    if (divergence < best_divergence) {
      best_divergence = divergence;
      best_i = i;
    }
  }
  if (!std::isfinite(best_divergence)) return abs_max_;
  const double t = (static_cast<double>(best_i) + 0.5) * bin_width();
  return std::min(static_cast<float>(t), abs_max_);
}

Status save_calibration_table(const std::string& path, const CalibrationTable& table, CalibrationMethod method) {
  nlohmann::json ranges = nlohmann::json::object();
  for (const auto& [name, r] : table) {
    if (!std::isfinite(r.min) || !std::isfinite(r.max) || !std::isfinite(r.threshold))
      return Status(StatusCode::invalid_argument,
                    fmt::format("calibration table '{}': value '{}' has a non-finite range (min {}, max {}, threshold {})",
                                path, name, r.min, r.max, r.threshold));
    if (r.threshold < 0)
      return Status(StatusCode::invalid_argument,
                    fmt::format("calibration table '{}': value '{}' has a negative threshold {}", path, name, r.threshold));
    if (r.min > r.max)
      return Status(StatusCode::invalid_argument,
                    fmt::format("calibration table '{}': value '{}' has min {} > max {}", path, name, r.min, r.max));
    ranges[name] = {{"min", r.min}, {"max", r.max}, {"threshold", r.threshold}};
  }
  nlohmann::json doc = {{"format", kTableFormat},
                        {"version", kTableVersion},
                        {"method", calibration_method_name(method)},
                        {"ranges", std::move(ranges)}};
  return write_file_atomic(path, doc.dump(2) + "\n");
}

Expected<CalibrationTable> load_calibration_table(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return Status(StatusCode::not_found, fmt::format("calibration table '{}' not found (or not a regular file)", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::io_error, fmt::format("cannot read calibration table '{}'", path));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status(StatusCode::io_error, fmt::format("reading calibration table '{}' failed", path));
  const nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return table_error(path, "not valid JSON");
  if (!doc.is_object()) return table_error(path, "the top level is not a JSON object");
  if (!doc.contains("format") || doc["format"] != kTableFormat)
    return table_error(path, fmt::format("\"format\" is not \"{}\"", kTableFormat));
  if (!doc.contains("version") || !doc["version"].is_number_integer() || doc["version"].get<int64_t>() != kTableVersion)
    return table_error(path, fmt::format("\"version\" is not {}", kTableVersion));
  if (doc.contains("method")) {
    if (!doc["method"].is_string()) return table_error(path, "\"method\" is not a string");
    auto method = parse_calibration_method(doc["method"].get<std::string>());
    if (!method.ok()) return table_error(path, method.status().message());
  }
  if (!doc.contains("ranges") || !doc["ranges"].is_object()) return table_error(path, "no \"ranges\" object");
  CalibrationTable table;
  for (const auto& [name, entry] : doc["ranges"].items()) {
    if (!entry.is_object()) return table_error(path, fmt::format("value '{}': the range is not an object", name));
    float fields[3];
    const char* keys[3] = {"min", "max", "threshold"};
    for (int k = 0; k < 3; ++k) {
      if (!entry.contains(keys[k]) || !entry[keys[k]].is_number())
        return table_error(path, fmt::format("value '{}': \"{}\" is missing or not a number", name, keys[k]));
      const double v = entry[keys[k]].get<double>();
      if (!std::isfinite(v) || std::fabs(v) > std::numeric_limits<float>::max())
        return table_error(path, fmt::format("value '{}': \"{}\" {} is not a finite float32", name, keys[k], v));
      fields[k] = static_cast<float>(v);
    }
    ActivationRange r{fields[0], fields[1], fields[2]};
    if (r.threshold < 0) return table_error(path, fmt::format("value '{}': negative threshold {}", name, r.threshold));
    if (r.min > r.max) return table_error(path, fmt::format("value '{}': min {} > max {}", name, r.min, r.max));
    table.emplace(name, r);
  }
  return table;
}

}  // namespace hwopt::quant
