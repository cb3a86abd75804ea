// Accuracy comparison against a reference and budget judgments, with hand-computed figures.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "quant/accuracy.h"

namespace hwopt::quant {
namespace {

using Outputs = std::map<std::string, Tensor>;

Tensor f32(const Shape& shape, const std::vector<float>& v) { return Tensor::from_vector<float>(shape, v); }

// [n, classes] logits whose row i has its maximum at top[i].
Tensor logits_with_top1(const std::vector<int64_t>& top, int64_t classes) {
  const int64_t n = static_cast<int64_t>(top.size());
  std::vector<float> v(static_cast<size_t>(n * classes), 0.0f);
  for (int64_t i = 0; i < n; ++i) v[i * classes + top[i]] = 1.0f;
  return f32({n, classes}, v);
}

bool mentions(const Verdict& v, const std::string& text) {
  for (const auto& r : v.reasons)
    if (r.find(text) != std::string::npos) return true;
  return false;
}

TEST(QuantAccuracy, HandComputedFigures) {
  // Reference rows top-1: 2, 0. Candidate rows top-1: 2, 1. Labels: 2, 1.
  const Outputs ref = {{"logits", f32({2, 3}, {1, 2, 3, 3, 1, 0})}};
  const Outputs cand = {{"logits", f32({2, 3}, {1, 2, 2.5f, 1, 4, 0})}};
  const Tensor labels = Tensor::from_vector<int64_t>({2}, {2, 1});
  AccuracyMeter meter;
  ASSERT_TRUE(meter.add(ref, cand, &labels).ok());
  AccuracyReport rep = meter.report();
  ASSERT_EQ(rep.outputs.size(), 1u);
  const OutputAccuracy& o = rep.outputs[0];
  EXPECT_EQ(o.name, "logits");
  EXPECT_EQ(o.elements, 6);
  EXPECT_DOUBLE_EQ(o.max_abs_error, 3.0);
  EXPECT_DOUBLE_EQ(o.mean_abs_error, 5.5 / 6.0);
  // |c - r| / max(|r|, 1e-3 * 3): worst is 3 / 1 at element (1, 1).
  EXPECT_DOUBLE_EQ(o.max_rel_error, 3.0);
  // dot 19.5, |r|^2 24, |c|^2 28.25.
  EXPECT_NEAR(o.cosine, 19.5 / std::sqrt(24.0 * 28.25), 1e-12);
  EXPECT_TRUE(o.classifier);
  EXPECT_EQ(o.rows, 2);
  EXPECT_EQ(o.top1_agree, 1);
  EXPECT_DOUBLE_EQ(o.top1_agreement(), 0.5);
  EXPECT_TRUE(o.has_labels);
  EXPECT_DOUBLE_EQ(o.reference_accuracy(), 0.5);
  EXPECT_DOUBLE_EQ(o.candidate_accuracy(), 1.0);
  EXPECT_DOUBLE_EQ(o.accuracy_drop(), -0.5);
  EXPECT_EQ(o.candidate_nonfinite, 0);
  EXPECT_EQ(o.outside_tolerance, 3);  // rtol = atol = 0: every differing element

  // A second identical batch: the fractions stay, the counts double.
  ASSERT_TRUE(meter.add(ref, cand, &labels).ok());
  rep = meter.report();
  EXPECT_EQ(rep.batches, 2);
  EXPECT_EQ(rep.outputs[0].rows, 4);
  EXPECT_EQ(rep.outputs[0].elements, 12);
  EXPECT_NEAR(rep.outputs[0].cosine, 19.5 / std::sqrt(24.0 * 28.25), 1e-12);
  EXPECT_DOUBLE_EQ(rep.outputs[0].mean_abs_error, 5.5 / 6.0);

  const nlohmann::json j = to_json(rep);
  EXPECT_EQ(j["batches"], 2);
  EXPECT_EQ(j["outputs"][0]["name"], "logits");
  EXPECT_EQ(j["outputs"][0]["rows"], 4);
  EXPECT_DOUBLE_EQ(j["outputs"][0]["top1_agreement"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["outputs"][0]["accuracy_drop"].get<double>(), -0.5);
  const std::string table = format_accuracy_table(rep);
  EXPECT_NE(table.find("logits"), std::string::npos);
  EXPECT_NE(table.find("50.00 %"), std::string::npos) << table;
}

TEST(QuantAccuracy, CosineOfZerosAndNonClassifiers) {
  AccuracyMeter meter;
  const Outputs zeros = {{"y", f32({4}, {0, 0, 0, 0})}};
  ASSERT_TRUE(meter.add(zeros, zeros).ok());
  EXPECT_DOUBLE_EQ(meter.report().outputs[0].cosine, 1.0);
  EXPECT_FALSE(meter.report().outputs[0].classifier);

  AccuracyMeter one_zero;
  ASSERT_TRUE(one_zero.add(zeros, {{"y", f32({4}, {1, 0, 0, 0})}}).ok());
  EXPECT_DOUBLE_EQ(one_zero.report().outputs[0].cosine, 0.0);

  // Opposite vectors: -1. [N, 1] is not a classifier.
  AccuracyMeter opposite;
  ASSERT_TRUE(opposite.add({{"y", f32({2, 1}, {1, 2})}}, {{"y", f32({2, 1}, {-1, -2})}}).ok());
  EXPECT_DOUBLE_EQ(opposite.report().outputs[0].cosine, -1.0);
  EXPECT_FALSE(opposite.report().outputs[0].classifier);
}

TEST(QuantAccuracy, NonFiniteCandidateNeverPasses) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Outputs ref = {{"y", f32({3}, {1, 2, 3})}};
  const Outputs cand = {{"y", f32({3}, {1, nan, 3})}};
  AccuracyMeter meter;
  ASSERT_TRUE(meter.add(ref, cand).ok());
  const AccuracyReport rep = meter.report();
  EXPECT_EQ(rep.outputs[0].candidate_nonfinite, 1);
  EXPECT_EQ(rep.outputs[0].outside_tolerance, 1);
  // The finite pairs agree exactly.
  EXPECT_DOUBLE_EQ(rep.outputs[0].max_abs_error, 0.0);
  // An empty budget checks nothing else, yet NaN fails.
  const Verdict v = judge(rep, AccuracyBudget{});
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(mentions(v, "output 'y': 1 NaN/Inf")) << v.reasons[0];
  for (const char* precision : {"fp32", "bf16", "int8"}) EXPECT_FALSE(judge(rep, *default_budget(precision)).pass) << precision;

  // A NaN row of a classifier never agrees.
  const float inf = std::numeric_limits<float>::infinity();
  AccuracyMeter cls;
  ASSERT_TRUE(cls.add({{"p", f32({1, 2}, {0, 1})}}, {{"p", f32({1, 2}, {0, inf})}}).ok());
  EXPECT_EQ(cls.report().outputs[0].top1_agree, 0);
  EXPECT_FALSE(judge(cls.report(), *default_budget("int8")).pass);
}

TEST(QuantAccuracy, MismatchesAreErrorsNamingTheOutput) {
  AccuracyMeter meter;
  const Outputs ref = {{"out", f32({2, 3}, {1, 2, 3, 4, 5, 6})}};
  Status st = meter.add(ref, {{"out", f32({3, 2}, {1, 2, 3, 4, 5, 6})}});
  EXPECT_EQ(st.code(), StatusCode::invalid_argument);
  EXPECT_NE(st.message().find("output 'out'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("[3,2]"), std::string::npos) << st.message();

  st = meter.add(ref, {{"out", Tensor::from_vector<double>({2, 3}, {1, 2, 3, 4, 5, 6})}});
  EXPECT_EQ(st.code(), StatusCode::invalid_argument);
  EXPECT_NE(st.message().find("float64"), std::string::npos) << st.message();

  st = meter.add(ref, {{"other", f32({2, 3}, {1, 2, 3, 4, 5, 6})}});
  EXPECT_EQ(st.code(), StatusCode::invalid_argument);
  EXPECT_NE(st.message().find("'out'"), std::string::npos) << st.message();

  // Failed batches changed nothing.
  EXPECT_EQ(meter.report().batches, 0);
  EXPECT_FALSE(judge(meter.report(), AccuracyBudget{}).pass);

  ASSERT_TRUE(meter.add(ref, ref).ok());
  // Later batches must keep the rank.
  st = meter.add({{"out", f32({6}, {1, 2, 3, 4, 5, 6})}}, {{"out", f32({6}, {1, 2, 3, 4, 5, 6})}});
  EXPECT_EQ(st.code(), StatusCode::invalid_argument);
  EXPECT_NE(st.message().find("earlier batches"), std::string::npos) << st.message();
  // A smaller last batch is fine.
  EXPECT_TRUE(meter.add({{"out", f32({1, 3}, {1, 2, 3})}}, {{"out", f32({1, 3}, {1, 2, 3})}}).ok());
  EXPECT_EQ(meter.report().outputs[0].rows, 3);
}

TEST(QuantAccuracy, LabelErrors) {
  const Outputs ref = {{"logits", logits_with_top1({0, 1}, 3)}};
  AccuracyMeter meter;
  const Tensor short_labels = Tensor::from_vector<int64_t>({1}, {0});
  Status st = meter.add(ref, ref, &short_labels);
  EXPECT_EQ(st.code(), StatusCode::invalid_argument);
  EXPECT_NE(st.message().find("labels"), std::string::npos);
  const Tensor out_of_range = Tensor::from_vector<int32_t>({2}, {0, 3});
  st = meter.add(ref, ref, &out_of_range);
  EXPECT_EQ(st.code(), StatusCode::invalid_argument);
  EXPECT_NE(st.message().find("label 3 at index 1"), std::string::npos) << st.message();
  const Tensor float_labels = f32({2}, {0, 1});
  EXPECT_EQ(meter.add(ref, ref, &float_labels).code(), StatusCode::invalid_argument);
  const Tensor labels = Tensor::from_vector<int32_t>({2}, {0, 1});
  const Outputs regression = {{"y", f32({2}, {0.5f, 1})}};
  st = meter.add(regression, regression, &labels);
  EXPECT_EQ(st.code(), StatusCode::invalid_argument);
  EXPECT_NE(st.message().find("no output is a classifier"), std::string::npos) << st.message();
  ASSERT_TRUE(meter.add(ref, ref, &labels).ok());
  EXPECT_DOUBLE_EQ(meter.report().outputs[0].reference_accuracy(), 1.0);
}

TEST(QuantAccuracy, DefaultBudgets) {
  auto fp32 = default_budget("fp32");
  ASSERT_TRUE(fp32.ok());
  EXPECT_TRUE(fp32->check_tolerance);
  EXPECT_EQ(fp32->rtol, 1e-5);
  EXPECT_EQ(fp32->atol, 1e-5);
  auto fp16 = default_budget("fp16");
  EXPECT_EQ(fp16->rtol, 1e-3);
  EXPECT_EQ(fp16->atol, 1e-3);
  auto bf16 = default_budget("bf16");
  EXPECT_EQ(bf16->rtol, 1.6e-2);
  EXPECT_EQ(bf16->atol, 1e-3);
  auto int8 = default_budget("int8");
  EXPECT_FALSE(int8->check_tolerance);
  EXPECT_EQ(int8->min_top1_agreement, 0.99);
  EXPECT_EQ(int8->max_accuracy_drop, 0.01);
  EXPECT_EQ(int8->min_cosine, 0.99);
  auto bad = default_budget("int4");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("int4"), std::string::npos);
}

TEST(QuantAccuracy, Int8BudgetOnAClassifier) {
  // 100 rows, 10 classes; labels = the reference's top-1.
  std::vector<int64_t> top(100);
  for (int i = 0; i < 100; ++i) top[i] = i % 10;
  const Tensor labels = Tensor::from_vector<int64_t>({100}, top);
  const AccuracyBudget budget = *default_budget("int8");
  auto run = [&](int wrong) {
    std::vector<int64_t> cand = top;
    for (int i = 0; i < wrong; ++i) cand[i] = (cand[i] + 1) % 10;
    AccuracyMeter meter(budget);
    EXPECT_TRUE(meter.add({{"logits", logits_with_top1(top, 10)}}, {{"logits", logits_with_top1(cand, 10)}}, &labels).ok());
    return judge(meter.report(), budget);
  };
  // 99 % agreement and a drop of exactly 1 point: within budget.
  EXPECT_TRUE(run(0).pass);
  const Verdict at_limit = run(1);
  EXPECT_TRUE(at_limit.pass) << (at_limit.reasons.empty() ? "" : at_limit.reasons[0]);
  const Verdict over = run(2);
  EXPECT_FALSE(over.pass);
  EXPECT_TRUE(mentions(over, "output 'logits': top-1 agreement 98.00 % (98 of 100 rows) < 99.00 %")) << over.reasons[0];
  EXPECT_TRUE(mentions(over, "task accuracy dropped 2.00 points (100.00 % -> 98.00 %) > 1.00"));
  // The classifier is judged by top-1, not by cosine (which one-hot rows make low).
  EXPECT_FALSE(mentions(over, "cosine"));
  const nlohmann::json j = to_json(over);
  EXPECT_EQ(j["pass"], false);
  EXPECT_EQ(j["reasons"].size(), 2u);
}

TEST(QuantAccuracy, Int8BudgetWithoutClassifierUsesCosine) {
  const AccuracyBudget budget = *default_budget("int8");
  const Outputs ref = {{"boxes", f32({1, 2, 2}, {1, 0, 0, 0})}};
  // cosine = 1 / sqrt(1 + x^2) for candidate [1, x, 0, 0].
  AccuracyMeter close(budget);
  ASSERT_TRUE(close.add(ref, {{"boxes", f32({1, 2, 2}, {1, 0.1f, 0, 0})}}).ok());
  EXPECT_GT(close.report().outputs[0].cosine, 0.99);
  EXPECT_TRUE(judge(close.report(), budget).pass);
  AccuracyMeter far(budget);
  ASSERT_TRUE(far.add(ref, {{"boxes", f32({1, 2, 2}, {1, 0.2f, 0, 0})}}).ok());
  EXPECT_NEAR(far.report().outputs[0].cosine, 1.0 / std::sqrt(1.04), 1e-6);
  const Verdict v = judge(far.report(), budget);
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(mentions(v, "output 'boxes': cosine similarity 0.98")) << v.reasons[0];
}

TEST(QuantAccuracy, Bf16ToleranceBudget) {
  const AccuracyBudget budget = *default_budget("bf16");
  const Outputs ref = {{"y", f32({2}, {1, 100})}};
  // |c - r| <= 1e-3 + 1.6e-2 * max|r| = 1.601 for every element (BF16 errors follow the
  // output's scale, not each element's).
  AccuracyMeter inside(budget);
  ASSERT_TRUE(inside.add(ref, {{"y", f32({2}, {1.0165f, 101.5f})}}).ok());
  EXPECT_EQ(inside.report().outputs[0].outside_tolerance, 0);
  EXPECT_TRUE(judge(inside.report(), budget).pass);
  AccuracyMeter outside(budget);
  ASSERT_TRUE(outside.add(ref, {{"y", f32({2}, {2.7f, 100})}}).ok());
  EXPECT_EQ(outside.report().outputs[0].outside_tolerance, 1);
  const Verdict v = judge(outside.report(), budget);
  EXPECT_FALSE(v.pass);
  ASSERT_FALSE(v.reasons.empty());
  EXPECT_TRUE(mentions(v, "output 'y': 1 of 2 elements outside rtol 0.016 of the output's largest |value| / atol 0.001"))
      << v.reasons[0];
  // A meter counted with other tolerances cannot be judged by this budget.
  AccuracyMeter plain;
  ASSERT_TRUE(plain.add(ref, ref).ok());
  const Verdict mismatch = judge(plain.report(), budget);
  EXPECT_FALSE(mismatch.pass);
  EXPECT_TRUE(mentions(mismatch, "tolerances were counted with"));
}

}  // namespace
}  // namespace hwopt::quant
