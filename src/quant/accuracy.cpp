#include "quant/accuracy.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/int_values.h"

namespace hwopt::quant {

namespace {

// Slack for comparing fractions such as 99/100 with a limit of 0.99.
constexpr double kFractionSlack = 1e-12;
// Relative errors are taken against at least this fraction of the output's largest |reference|.
constexpr double kRelativeFloor = 1e-3;

bool is_classifier(const Tensor& t) { return dtype_is_float(t.dtype()) && t.rank() == 2 && t.dim(1) > 1; }

std::vector<double> as_doubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  if (t.dtype() == DType::float32) {
    const float* p = t.data<float>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = p[i];
  } else if (t.dtype() == DType::float64) {
    const double* p = t.data<double>();
    std::copy(p, p + v.size(), v.begin());
  } else {
    for (size_t i = 0; i < v.size(); ++i) v[i] = t.element_as_double(static_cast<int64_t>(i));
  }
  return v;
}

// Index of the largest value of row[0..c); -1 when any value is NaN/Inf or c == 0.
int64_t top1(const double* row, int64_t c) {
  int64_t best = -1;
  for (int64_t k = 0; k < c; ++k) {
    if (!std::isfinite(row[k])) return -1;
    if (best < 0 || row[k] > row[best]) best = k;
  }
  return best;
}

std::string percent(double fraction) { return fmt::format("{:.2f} %", 100.0 * fraction); }

}  // namespace

Expected<AccuracyBudget> default_budget(const std::string& precision) {
  AccuracyBudget b;
  if (precision == "fp32") {
    b.check_tolerance = true;
    b.rtol = 1e-5;
    b.atol = 1e-5;
  } else if (precision == "fp16") {
    b.check_tolerance = true;
    b.rtol = 1e-3;
    b.atol = 1e-3;
    b.rtol_of_scale = true;
  } else if (precision == "bf16") {
    b.check_tolerance = true;
    b.rtol = 1.6e-2;
    b.atol = 1e-3;
    b.rtol_of_scale = true;
  } else if (precision == "int8" || precision == "int8-dynamic") {
    b.min_top1_agreement = 0.99;
    b.max_accuracy_drop = 0.01;
    b.min_cosine = 0.99;
  } else {
    return Status(StatusCode::invalid_argument,
                  fmt::format("no accuracy budget for precision '{}' (known: fp32, fp16, bf16, int8, int8-dynamic)", precision));
  }
  return b;
}

Status AccuracyMeter::add(const std::map<std::string, Tensor>& reference, const std::map<std::string, Tensor>& candidate,
                          const Tensor* labels) {
  auto invalid = [](const std::string& msg) { return Status(StatusCode::invalid_argument, msg); };
  for (const auto& [name, t] : reference)
    if (!candidate.count(name)) return invalid(fmt::format("output '{}' is in the reference but not in the candidate", name));
  for (const auto& [name, t] : candidate)
    if (!reference.count(name)) return invalid(fmt::format("output '{}' is in the candidate but not in the reference", name));
  if (reference.empty()) return invalid("no outputs to compare");
  if (!sums_.empty()) {
    for (const auto& [name, s] : sums_)
      if (!reference.count(name)) return invalid(fmt::format("output '{}' of earlier batches is missing", name));
    for (const auto& [name, t] : reference)
      if (!sums_.count(name)) return invalid(fmt::format("output '{}' was not in earlier batches", name));
  }

  // Check everything before changing anything, so that a bad batch leaves the meter as it was.
  int classifiers = 0;
  for (const auto& [name, ref] : reference) {
    const Tensor& cand = candidate.at(name);
    if (ref.dtype() != cand.dtype())
      return invalid(fmt::format("output '{}': the reference is {}, the candidate {}", name, dtype_name(ref.dtype()),
                                 dtype_name(cand.dtype())));
    if (ref.shape() != cand.shape())
      return invalid(fmt::format("output '{}': the reference has shape {}, the candidate {}", name, shape_str(ref.shape()),
                                 shape_str(cand.shape())));
    if (ref.dtype() == DType::string || ref.dtype() == DType::undefined)
      return Status(StatusCode::unsupported, fmt::format("output '{}': cannot compare {} values", name, dtype_name(ref.dtype())));
    if (auto it = sums_.find(name); it != sums_.end()) {
      const OutputAccuracy& prev = it->second.out;
      if (prev.dtype != ref.dtype() || static_cast<int64_t>(prev.shape.size()) != ref.rank() ||
          prev.classifier != is_classifier(ref))
        return invalid(fmt::format("output '{}': {}{} differs from {}{} in earlier batches", name, dtype_name(ref.dtype()),
                                   shape_str(ref.shape()), dtype_name(prev.dtype), shape_str(prev.shape)));
    }
    if (is_classifier(ref)) ++classifiers;
  }
  std::vector<int64_t> label_values;
  if (labels) {
    auto values = int64_values(*labels);
    if (!values || labels->rank() != 1)
      return invalid(fmt::format("labels: {}{}, but labels must be int64 or int32 of shape [N]", dtype_name(labels->dtype()),
                                 shape_str(labels->shape())));
    if (classifiers == 0) return invalid("labels given, but no output is a classifier ([N, C] with C > 1)");
    label_values = std::move(*values);
    for (const auto& [name, ref] : reference) {
      if (!is_classifier(ref)) continue;
      if (ref.dim(0) != labels->dim(0))
        return invalid(fmt::format("labels: {} labels for the {} rows of output '{}'", labels->dim(0), ref.dim(0), name));
      for (size_t i = 0; i < label_values.size(); ++i)
        if (label_values[i] < 0 || label_values[i] >= ref.dim(1))
          return invalid(fmt::format("labels: label {} at index {} is outside the {} classes of output '{}'", label_values[i],
                                     i, ref.dim(1), name));
    }
  }

  std::map<std::string, Sums> updated;
  for (const auto& [name, ref_tensor] : reference) {
    const Tensor ref_plain = ref_tensor.to_plain().contiguous();
    const Tensor cand_plain = candidate.at(name).to_plain().contiguous();
    Sums s;
    if (auto it = sums_.find(name); it != sums_.end()) s = it->second;
    OutputAccuracy& o = s.out;
    o.name = name;
    o.dtype = ref_plain.dtype();
    o.shape = ref_plain.shape();
    o.classifier = is_classifier(ref_plain);
    const std::vector<double> r = as_doubles(ref_plain), c = as_doubles(cand_plain);
    double scale = 0;
    for (double v : r)
      if (std::isfinite(v)) scale = std::max(scale, std::fabs(v));
    const double rel_floor = std::max(kRelativeFloor * scale, 1e-30);
    o.elements += static_cast<int64_t>(r.size());
    for (size_t i = 0; i < r.size(); ++i) {
      const bool rf = std::isfinite(r[i]), cf = std::isfinite(c[i]);
      if (!rf) ++o.reference_nonfinite;
      if (!cf) ++o.candidate_nonfinite;
      if (!rf || !cf) {
        // numpy.allclose: equal infinities are close, NaN never is.
        if (!(std::isinf(r[i]) && r[i] == c[i])) ++o.outside_tolerance;
        continue;
      }
      const double err = std::fabs(c[i] - r[i]);
      o.max_abs_error = std::max(o.max_abs_error, err);
      o.max_rel_error = std::max(o.max_rel_error, err / std::max(std::fabs(r[i]), rel_floor));
      if (err > atol_ + rtol_ * (of_scale_ ? scale : std::fabs(r[i]))) ++o.outside_tolerance;
      s.sum_abs_error += err;
      ++s.finite_pairs;
      s.dot += r[i] * c[i];
      s.ref_sq += r[i] * r[i];
      s.cand_sq += c[i] * c[i];
    }
    if (o.classifier) {
      const int64_t n = ref_plain.dim(0), k = ref_plain.dim(1);
      if (labels) o.has_labels = true;
      for (int64_t row = 0; row < n; ++row) {
        const int64_t rt = top1(r.data() + row * k, k), ct = top1(c.data() + row * k, k);
        if (ct >= 0 && ct == rt) ++o.top1_agree;
        if (labels) {
          if (rt == label_values[row]) ++o.reference_correct;
          if (ct == label_values[row]) ++o.candidate_correct;
        }
      }
      o.rows += n;
    }
    updated.emplace(name, std::move(s));
  }
  sums_ = std::move(updated);
  ++batches_;
  return Status::OK();
}

AccuracyReport AccuracyMeter::report() const {
  AccuracyReport rep;
  rep.batches = batches_;
  rep.rtol = rtol_;
  rep.atol = atol_;
  rep.rtol_of_scale = of_scale_;
  for (const auto& [name, s] : sums_) {
    OutputAccuracy o = s.out;
    o.mean_abs_error = s.finite_pairs ? s.sum_abs_error / static_cast<double>(s.finite_pairs) : 0.0;
    if (s.ref_sq == 0 && s.cand_sq == 0) o.cosine = 1;
    else if (s.ref_sq == 0 || s.cand_sq == 0) o.cosine = 0;
    else o.cosine = std::clamp(s.dot / (std::sqrt(s.ref_sq) * std::sqrt(s.cand_sq)), -1.0, 1.0);
    rep.outputs.push_back(std::move(o));
  }
  return rep;
}

Verdict judge(const AccuracyReport& report, const AccuracyBudget& budget) {
  Verdict v;
  if (report.batches == 0 || report.outputs.empty()) v.reasons.push_back("nothing was compared");
  for (const OutputAccuracy& o : report.outputs) {
    if (o.candidate_nonfinite > 0)
      v.reasons.push_back(fmt::format("output '{}': {} NaN/Inf values in the candidate (never allowed)", o.name, o.candidate_nonfinite));
    if (budget.check_tolerance) {
      if (report.rtol != budget.rtol || report.atol != budget.atol || report.rtol_of_scale != budget.rtol_of_scale) {
        v.reasons.push_back(fmt::format("output '{}': tolerances were counted with rtol {:g} / atol {:g}, but the budget asks for "
                                        "rtol {:g} / atol {:g}",
                                        o.name, report.rtol, report.atol, budget.rtol, budget.atol));
      } else if (o.outside_tolerance > 0) {
        v.reasons.push_back(fmt::format("output '{}': {} of {} elements outside rtol {:g}{} / atol {:g} (max abs error {:.3g}, "
                                        "max rel error {:.3g})",
                                        o.name, o.outside_tolerance, o.elements, budget.rtol,
                                        budget.rtol_of_scale ? " of the output's largest |value|" : "", budget.atol,
                                        o.max_abs_error, o.max_rel_error));
      }
    }
    const bool top1_judged = o.classifier && budget.min_top1_agreement >= 0;
    if (top1_judged && o.top1_agreement() < budget.min_top1_agreement - kFractionSlack)
      v.reasons.push_back(fmt::format("output '{}': top-1 agreement {} ({} of {} rows) < {}", o.name, percent(o.top1_agreement()),
                                      o.top1_agree, o.rows, percent(budget.min_top1_agreement)));
    if (o.classifier && o.has_labels && budget.max_accuracy_drop >= 0 &&
        o.accuracy_drop() > budget.max_accuracy_drop + kFractionSlack)
      v.reasons.push_back(fmt::format("output '{}': task accuracy dropped {:.2f} points ({} -> {}) > {:.2f}", o.name,
                                      100.0 * o.accuracy_drop(), percent(o.reference_accuracy()),
                                      percent(o.candidate_accuracy()), 100.0 * budget.max_accuracy_drop));
    if (!top1_judged && budget.min_cosine >= 0 && !(o.cosine >= budget.min_cosine))
      v.reasons.push_back(fmt::format("output '{}': cosine similarity {:.6f} < {:.6f}", o.name, o.cosine, budget.min_cosine));
  }
  v.pass = v.reasons.empty();
  return v;
}

nlohmann::json to_json(const AccuracyReport& report) {
  nlohmann::json outputs = nlohmann::json::array();
  for (const OutputAccuracy& o : report.outputs) {
    nlohmann::json j = {{"name", o.name},
                        {"dtype", dtype_name(o.dtype)},
                        {"shape", o.shape},
                        {"elements", o.elements},
                        {"candidate_nonfinite", o.candidate_nonfinite},
                        {"reference_nonfinite", o.reference_nonfinite},
                        {"max_abs_error", o.max_abs_error},
                        {"mean_abs_error", o.mean_abs_error},
                        {"max_rel_error", o.max_rel_error},
                        {"cosine", o.cosine},
                        {"outside_tolerance", o.outside_tolerance},
                        {"classifier", o.classifier}};
    if (o.classifier) {
      j["rows"] = o.rows;
      j["top1_agreement"] = o.top1_agreement();
      if (o.has_labels) {
        j["reference_accuracy"] = o.reference_accuracy();
        j["candidate_accuracy"] = o.candidate_accuracy();
        j["accuracy_drop"] = o.accuracy_drop();
      }
    }
    outputs.push_back(std::move(j));
  }
  return {{"batches", report.batches},
          {"rtol", report.rtol},
          {"atol", report.atol},
          {"rtol_of_scale", report.rtol_of_scale},
          {"outputs", std::move(outputs)}};
}

nlohmann::json to_json(const Verdict& verdict) { return {{"pass", verdict.pass}, {"reasons", verdict.reasons}}; }

nlohmann::json to_json(const AccuracyBudget& budget) {
  return {{"check_tolerance", budget.check_tolerance},   {"rtol", budget.rtol},
          {"atol", budget.atol},                         {"rtol_of_scale", budget.rtol_of_scale},
          {"min_top1_agreement", budget.min_top1_agreement},
          {"max_accuracy_drop", budget.max_accuracy_drop}, {"min_cosine", budget.min_cosine}};
}

std::string format_accuracy_table(const AccuracyReport& report) {
  std::string s = fmt::format("{:<24} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8} {:>9} {:>9} {:>9} {:>9}\n", "output", "elements",
                              "max abs", "mean abs", "max rel", "cosine", "nan/inf", "top-1 =", "ref acc", "cand acc", "drop");
  for (const OutputAccuracy& o : report.outputs) {
    std::string agree = "-", ref_acc = "-", cand_acc = "-", drop = "-";
    if (o.classifier) {
      agree = percent(o.top1_agreement());
      if (o.has_labels) {
        ref_acc = percent(o.reference_accuracy());
        cand_acc = percent(o.candidate_accuracy());
        drop = fmt::format("{:.2f}", 100.0 * o.accuracy_drop());
      }
    }
    s += fmt::format("{:<24} {:>10} {:>10.3g} {:>10.3g} {:>10.3g} {:>10.6f} {:>8} {:>9} {:>9} {:>9} {:>9}\n", o.name, o.elements,
                     o.max_abs_error, o.mean_abs_error, o.max_rel_error, o.cosine, o.candidate_nonfinite, agree, ref_acc,
                     cand_acc, drop);
  }
  s += fmt::format("{} batch(es); top-1 = agreement with the reference; acc = top-1 == label; drop in points\n", report.batches);
  return s;
}

}  // namespace hwopt::quant
