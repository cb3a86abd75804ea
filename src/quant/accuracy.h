// Accuracy validation: a candidate's outputs (another precision, backend or rewrite) compared
// with the FP32 reference over a data set, and judged against an accuracy budget.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hwopt/status.h"
#include "hwopt/tensor.h"

namespace hwopt::quant {

/// What a candidate may lose against the FP32 reference (../shared/DESIGN.md, "Accuracy
/// validation"). NaN/Inf in the candidate never pass, whatever the budget.
struct AccuracyBudget {
  /// Element-wise check of every output, numpy.allclose style:
  /// |candidate - reference| <= atol + rtol * |reference|.
  bool check_tolerance = false;
  double rtol = 0, atol = 0;
  /// rtol times the output's largest |reference| (in the batch) instead of each element's:
  /// |candidate - reference| <= atol + rtol * max|reference|. For BF16/FP16, whose rounding of
  /// the inputs of a dot product gives errors proportional to the terms, not to the result
  /// (a logit near zero from terms near 10 keeps an error near 10 * 2^-8).
  bool rtol_of_scale = false;
  /// Classifier outputs ([N, C], C > 1): the least fraction of rows whose top-1 class equals the
  /// reference's; < 0: not checked.
  double min_top1_agreement = -1;
  /// Classifier outputs with labels: the most the task accuracy (top-1 == label) may fall below
  /// the reference's, as an absolute fraction (0.01 = one percentage point); < 0: not checked.
  double max_accuracy_drop = -1;
  /// The least cosine similarity of the outputs that no top-1 check judges (not classifiers, or
  /// min_top1_agreement < 0); < 0: not checked.
  double min_cosine = -1;
};

/// The defaults per precision: "fp32" (rewrites) rtol 1e-5 / atol 1e-5; "fp16" rtol 1e-3 /
/// atol 1e-3 and "bf16" rtol 1.6e-2 / atol 1e-3, both with rtol of the output's scale; "int8"
/// and "int8-dynamic": top-1 agreement >= 0.99 and task-accuracy drop <= 0.01 for classifiers,
/// cosine >= 0.99 for other outputs. Other names: invalid_argument.
Expected<AccuracyBudget> default_budget(const std::string& precision);

/// The comparison of one output over every batch added.
struct OutputAccuracy {
  std::string name;
  DType dtype = DType::undefined;
  Shape shape;             // of the last batch
  int64_t elements = 0;    // compared, over all batches (non-finite ones included)
  int64_t candidate_nonfinite = 0, reference_nonfinite = 0;
  /// Over the elements where both are finite. The relative error of an element is
  /// |c - r| / max(|r|, 1e-3 * max|r| of that output in that batch, 1e-30): relative to the
  /// reference, but never to a reference value below a thousandth of the output's scale, where
  /// relative error means nothing.
  double max_abs_error = 0, mean_abs_error = 0, max_rel_error = 0;
  /// Over all finite element pairs of all batches, as one vector each; 1 when both are all zero,
  /// 0 when only one is.
  double cosine = 1;
  /// Elements outside atol + rtol * |reference| for the meter's rtol/atol, non-finite ones included.
  int64_t outside_tolerance = 0;
  /// A classifier: rank-2 [N, C] floating output with C > 1. Then rows = N summed over batches.
  bool classifier = false;
  int64_t rows = 0, top1_agree = 0;
  /// With labels: rows whose top-1 equals the label, for the reference and the candidate.
  bool has_labels = false;
  int64_t reference_correct = 0, candidate_correct = 0;

  double top1_agreement() const { return rows ? static_cast<double>(top1_agree) / rows : 0.0; }
  double reference_accuracy() const { return rows ? static_cast<double>(reference_correct) / rows : 0.0; }
  double candidate_accuracy() const { return rows ? static_cast<double>(candidate_correct) / rows : 0.0; }
  /// reference_accuracy - candidate_accuracy (positive: the candidate is worse).
  double accuracy_drop() const {
    return rows ? static_cast<double>(reference_correct - candidate_correct) / rows : 0.0;
  }
};

struct AccuracyReport {
  int64_t batches = 0;
  double rtol = 0, atol = 0;          // what outside_tolerance was counted with
  bool rtol_of_scale = false;
  std::vector<OutputAccuracy> outputs;  // by output name
};

/// Accumulates the comparison of a candidate with the reference, batch after batch.
class AccuracyMeter {
 public:
  /// `rtol`/`atol` define OutputAccuracy::outside_tolerance; pass the budget's that judge() will use.
  explicit AccuracyMeter(double rtol = 0, double atol = 0, bool rtol_of_scale = false)
      : rtol_(rtol), atol_(atol), of_scale_(rtol_of_scale) {}
  explicit AccuracyMeter(const AccuracyBudget& budget)
      : AccuracyMeter(budget.rtol, budget.atol, budget.rtol_of_scale) {}

  /// Compares one batch. `reference` and `candidate` must have the same output names, and each
  /// output the same dtype and shape in both, and the same rank and classifier kind as in earlier
  /// batches; numeric dtypes only. `labels`, if given: an int64 or int32 tensor [N] with one class
  /// index in [0, C) per row of every classifier output, of which there must be at least one.
  /// Errors (invalid_argument / unsupported) name the output or the labels; a batch that fails
  /// leaves the meter as it was.
  Status add(const std::map<std::string, Tensor>& reference, const std::map<std::string, Tensor>& candidate,
             const Tensor* labels = nullptr);

  AccuracyReport report() const;

 private:
  struct Sums {
    OutputAccuracy out;
    double sum_abs_error = 0;
    int64_t finite_pairs = 0;
    double dot = 0, ref_sq = 0, cand_sq = 0;
  };
  double rtol_, atol_;
  bool of_scale_;
  int64_t batches_ = 0;
  std::map<std::string, Sums> sums_;
};

/// A budget's judgment of a report.
struct Verdict {
  bool pass = false;
  /// One line per failed check, naming the output and the figure against its limit.
  std::vector<std::string> reasons;
};

/// Applies `budget` to `report`. Fails when nothing was compared, on any NaN/Inf in the
/// candidate, and on each check the budget enables that an output misses. A tolerance check
/// with another rtol/atol than the report was counted with fails too (make the meter with the
/// budget).
Verdict judge(const AccuracyReport& report, const AccuracyBudget& budget);

/// The report as JSON: {"batches", "rtol", "atol", "outputs": [{"name", "dtype", "shape",
/// "elements", "candidate_nonfinite", "reference_nonfinite", "max_abs_error", "mean_abs_error",
/// "max_rel_error", "cosine", "outside_tolerance", "classifier", and for classifiers "rows",
/// "top1_agreement", and with labels "reference_accuracy", "candidate_accuracy",
/// "accuracy_drop"}]}.
nlohmann::json to_json(const AccuracyReport& report);
/// {"pass": bool, "reasons": [...]}
nlohmann::json to_json(const Verdict& verdict);
/// {"check_tolerance", "rtol", "atol", "min_top1_agreement", "max_accuracy_drop", "min_cosine"}
nlohmann::json to_json(const AccuracyBudget& budget);

/// A table for people: one row per output with its errors, cosine, non-finite count and, for
/// classifiers, top-1 agreement and task accuracies (percent). Ends with a newline.
std::string format_accuracy_table(const AccuracyReport& report);

}  // namespace hwopt::quant
