#include "quant/sensitivity.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace hwopt::quant {

Expected<std::vector<Outputs>> run_batches(const Session& session, const std::vector<Batch>& batches) {
  std::vector<Outputs> out;
  out.reserve(batches.size());
  for (size_t i = 0; i < batches.size(); ++i) {
    auto r = session.run(batches[i]);
    if (!r.ok()) return Status(r.status().code(), fmt::format("batch {}: {}", i, r.status().message()));
    out.push_back(std::move(r).value());
  }
  return out;
}

double output_error(const std::vector<Outputs>& reference, const std::vector<Outputs>& candidate) {
  std::map<std::string, std::pair<double, double>> sums;  // output -> (sum sq error, sum sq reference)
  for (size_t b = 0; b < reference.size() && b < candidate.size(); ++b)
    for (const auto& [name, r] : reference[b]) {
      auto it = candidate[b].find(name);
      if (it == candidate[b].end() || it->second.numel() != r.numel() || !dtype_is_float(r.dtype())) continue;
      auto& [err, ref] = sums[name];
      for (int64_t i = 0; i < r.numel(); ++i) {
        const double x = r.element_as_double(i), y = it->second.element_as_double(i);
        if (!std::isfinite(y)) return std::numeric_limits<double>::infinity();
        if (!std::isfinite(x)) continue;
        err += (y - x) * (y - x);
        ref += x * x;
      }
    }
  double total = 0;
  for (const auto& [name, s] : sums) total += s.second > 0 ? s.first / s.second : s.first;
  return total;
}

std::vector<PlanStepInfo> reduced_precision_steps(const Session& session) {
  std::vector<PlanStepInfo> out;
  for (auto& s : session.plan_steps())
    if (s.implementation.find("[int8") != std::string::npos || s.implementation.find("[bf16(") != std::string::npos)
      out.push_back(s);
  return out;
}

namespace {

double median_ms(const Session& session, const Batch& batch, int runs) {
  std::vector<double> ms;
  for (int i = 0; i < std::max(runs, 1); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!session.run(batch).ok()) return 0;
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// Loads the model with `fp32_nodes` kept in FP32 and validates it on every batch.
Expected<FallbackStep> measure(const std::string& model_path, SessionOptions options,
                               const std::vector<std::string>& fp32_nodes, const std::vector<Batch>& batches,
                               const std::vector<Tensor>& labels, const std::vector<Outputs>& reference,
                               const AccuracyBudget& budget, int timing_runs) {
  options.fp32_nodes = fp32_nodes;
  auto session = Session::load(model_path, options);
  if (!session.ok()) return session.status();
  AccuracyMeter meter(budget);
  for (size_t b = 0; b < batches.size(); ++b) {
    auto out = (*session)->run(batches[b]);
    if (!out.ok()) return Status(out.status().code(), fmt::format("batch {}: {}", b, out.status().message()));
    HWOPT_RETURN_IF_ERROR(meter.add(reference[b], *out, labels.empty() ? nullptr : &labels[b]));
  }
  FallbackStep step;
  step.fp32_nodes = fp32_nodes;
  step.report = meter.report();
  step.verdict = judge(step.report, budget);
  step.ms_per_batch = median_ms(**session, batches[0], timing_runs);
  return step;
}

std::string summary(const AccuracyReport& r) {
  for (const auto& o : r.outputs)
    if (o.classifier) return fmt::format("top-1 agreement {:.2f} %", 100 * o.top1_agreement());
  return r.outputs.empty() ? std::string("-") : fmt::format("cosine {:.5f}", r.outputs[0].cosine);
}

}  // namespace

Expected<FallbackResult> fallback_until_budget(const std::string& model_path, const SessionOptions& options,
                                               const std::vector<Batch>& batches, const std::vector<Tensor>& labels,
                                               const std::vector<Outputs>& reference, const AccuracyBudget& budget,
                                               const FallbackOptions& fb) {
  if (batches.empty() || reference.size() != batches.size())
    return Status(StatusCode::invalid_argument, "the fallback needs batches and the reference outputs of each");
  if (!labels.empty() && labels.size() != batches.size())
    return Status(StatusCode::invalid_argument, "labels must be given for every batch or for none");
  auto say = [&](const std::string& s) {
    if (fb.progress) fb.progress(s);
  };
  FallbackResult result;
  {
    SessionOptions fp32 = options;
    fp32.precision = "fp32";
    auto s = Session::load(model_path, fp32);
    if (!s.ok()) return s.status();
    result.fp32_ms_per_batch = median_ms(**s, batches[0], fb.timing_runs);
  }
  auto first = measure(model_path, options, {}, batches, labels, reference, budget, fb.timing_runs);
  if (!first.ok()) return first.status();
  result.steps.push_back(std::move(first).value());
  say(fmt::format("all layers {}: {} -> {}", options.precision, summary(result.steps[0].report),
                  result.steps[0].verdict.pass ? "meets the budget" : "misses the budget"));
  if (result.steps[0].verdict.pass) {
    result.met = true;
    return result;
  }

  // Rank: the error each layer adds, from one session per layer with only that layer in FP32.
  auto base = Session::load(model_path, options);
  if (!base.ok()) return base.status();
  const auto layers = reduced_precision_steps(**base);
  const size_t nrank = fb.ranking_batches == 0 ? batches.size() : std::min(fb.ranking_batches, batches.size());
  const std::vector<Batch> rank_batches(batches.begin(), batches.begin() + static_cast<std::ptrdiff_t>(nrank));
  const std::vector<Outputs> rank_ref(reference.begin(), reference.begin() + static_cast<std::ptrdiff_t>(nrank));
  auto base_out = run_batches(**base, rank_batches);
  if (!base_out.ok()) return base_out.status();
  const double error_all = output_error(rank_ref, *base_out);
  for (size_t i = 0; i < layers.size(); ++i) {
    SessionOptions one = options;
    one.fp32_nodes = {layers[i].node};
    auto s = Session::load(model_path, one);
    if (!s.ok()) return s.status();
    auto out = run_batches(**s, rank_batches);
    if (!out.ok()) return out.status();
    result.ranking.push_back({layers[i].node, layers[i].op_type, layers[i].implementation, error_all,
                              output_error(rank_ref, *out)});
    say(fmt::format("ranking {}/{}: {}", i + 1, layers.size(), layers[i].node));
  }
  std::stable_sort(result.ranking.begin(), result.ranking.end(),
                   [](const LayerSensitivity& a, const LayerSensitivity& b) { return a.gain() > b.gain(); });

  // Greedy: most sensitive first, until the budget is met.
  std::vector<std::string> kept;
  const size_t limit = fb.max_layers == 0 ? result.ranking.size() : std::min(fb.max_layers, result.ranking.size());
  for (size_t i = 0; i < limit; ++i) {
    kept.push_back(result.ranking[i].node);
    auto step = measure(model_path, options, kept, batches, labels, reference, budget, fb.timing_runs);
    if (!step.ok()) return step.status();
    result.steps.push_back(std::move(step).value());
    const FallbackStep& s = result.steps.back();
    say(fmt::format("fallback: +{} in FP32 -> {}, {:.2f} ms/batch{}", kept.back(), summary(s.report), s.ms_per_batch,
                    s.verdict.pass ? ": meets the budget" : ""));
    if (s.verdict.pass) {
      result.met = true;
      break;
    }
  }
  return result;
}

nlohmann::json to_json(const FallbackResult& r) {
  nlohmann::json ranking = nlohmann::json::array(), steps = nlohmann::json::array();
  for (const auto& l : r.ranking)
    ranking.push_back({{"node", l.node},
                       {"op_type", l.op_type},
                       {"implementation", l.implementation},
                       {"error_all", l.error_all},
                       {"error_without", l.error_without},
                       {"gain", l.gain()}});
  for (const auto& s : r.steps)
    steps.push_back({{"fp32_nodes", s.fp32_nodes},
                     {"verdict", to_json(s.verdict)},
                     {"ms_per_batch", s.ms_per_batch},
                     {"report", to_json(s.report)}});
  return {{"ranking", ranking}, {"steps", steps}, {"met", r.met}, {"fp32_ms_per_batch", r.fp32_ms_per_batch}};
}

}  // namespace hwopt::quant
