// `hwopt validate`: run a model in FP32 and in a reduced precision (or on another backend) over a
// data set, compare the outputs, and judge them against the accuracy budget.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/atomic_file.h"
#include "core/interrupt.h"
#include "precision_options.h"
#include "quant/accuracy.h"
#include "quant/dataset.h"
#include "quant/sensitivity.h"

namespace hwopt::cli {

namespace {

constexpr int kExitPass = 0, kExitFail = 1, kExitError = 2;

struct ValidateArgs {
  std::string model;
  std::string data;
  std::string labels;
  int64_t batch = 8;
  int64_t limit = 0;
  std::string backend = "cpu";
  int threads = 0;
  PrecisionArgs precision;
  double rtol = 0, atol = 0, min_top1_percent = 0, max_drop_percent = 0, min_cosine = 0;
  CLI::Option *rtol_opt = nullptr, *atol_opt = nullptr, *top1_opt = nullptr, *drop_opt = nullptr, *cosine_opt = nullptr;
  std::string json_file;
  bool quiet = false;
  bool fallback = false;
  size_t max_fallback_layers = 0;
  size_t ranking_batches = 4;
};

int error(const Status& st) {
  std::cerr << "error: " << st.to_string() << "\n";
  return kExitError;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The precision's default budget with the command line's overrides.
Expected<quant::AccuracyBudget> make_budget(const ValidateArgs& a) {
  auto budget = quant::default_budget(a.precision.precision);
  if (!budget.ok()) return budget.status();
  quant::AccuracyBudget b = *budget;
  if (a.rtol_opt->count() || a.atol_opt->count()) {
    b.check_tolerance = true;
    if (a.rtol_opt->count()) b.rtol = a.rtol;
    if (a.atol_opt->count()) b.atol = a.atol;
  }
  if (a.top1_opt->count()) b.min_top1_agreement = a.min_top1_percent / 100.0;
  if (a.drop_opt->count()) b.max_accuracy_drop = a.max_drop_percent / 100.0;
  if (a.cosine_opt->count()) b.min_cosine = a.min_cosine;
  return b;
}

// The headline figure of a report: top-1 agreement of the first classifier, else the worst cosine.
std::string headline(const quant::AccuracyReport& r) {
  double cosine = 1;
  for (const auto& o : r.outputs) {
    if (o.classifier) return fmt::format("top-1 {:.2f} %", 100 * o.top1_agreement());
    cosine = std::min(cosine, o.cosine);
  }
  return fmt::format("cosine {:.5f}", cosine);
}

std::string fallback_table(const quant::FallbackResult& fb) {
  std::string out;
  if (!fb.ranking.empty()) {
    out += "  most sensitive layers (relative output error removed by keeping the layer in FP32):\n";
    for (size_t i = 0; i < fb.ranking.size() && i < 10; ++i)
      out += fmt::format("    {:>2}. {:<36} {:<12} {:.3g} of {:.3g}\n", i + 1, fb.ranking[i].node, fb.ranking[i].op_type,
                         fb.ranking[i].gain(), fb.ranking[i].error_all);
  }
  out += fmt::format("  {:<4} {:<36} {:>16} {:>11} {:>9}  {}\n", "step", "kept in FP32", "accuracy", "ms/batch", "vs fp32",
                     "verdict");
  for (size_t i = 0; i < fb.steps.size(); ++i) {
    const auto& s = fb.steps[i];
    out += fmt::format("  {:<4} {:<36} {:>16} {:>11.2f} {:>8.2f}x  {}\n", i,
                       s.fp32_nodes.empty() ? std::string("(none)") : "+" + s.fp32_nodes.back(), headline(s.report),
                       s.ms_per_batch, s.ms_per_batch > 0 ? fb.fp32_ms_per_batch / s.ms_per_batch : 0.0,
                       s.verdict.pass ? "PASS" : "FAIL");
  }
  const auto& last = fb.steps.back();
  if (fb.met && !last.fp32_nodes.empty()) {
    std::string names;
    for (const auto& n : last.fp32_nodes) names += (names.empty() ? "" : ",") + n;
    out += fmt::format("result     budget met with {} layer(s) in FP32: --keep-fp32 {}\n", last.fp32_nodes.size(), names);
  } else if (!fb.met) {
    out += "result     budget not met: the precision is not accurate enough for this model within the layers tried; "
           "keep it in FP32 or BF16\n";
  }
  out += fmt::format("           (time: median of the first batch; fp32 {:.2f} ms/batch)\n", fb.fp32_ms_per_batch);
  return out;
}

int validate(ValidateArgs a) {
  using clock = std::chrono::steady_clock;
  const bool progress = !a.quiet;
  const bool tty = isatty(STDERR_FILENO);
  auto budget = make_budget(a);
  if (!budget.ok()) return error(budget.status());

  SessionOptions ref_options;
  ref_options.backend = "cpu";
  ref_options.optimize = true;
  ref_options.threads = a.threads;
  ref_options.precision = "fp32";
  auto t0 = clock::now();
  auto reference = Session::load(a.model, ref_options);
  if (!reference.ok()) return error(reference.status());
  const double ref_load_s = seconds_since(t0);

  auto batches = quant::load_dataset(a.data, (*reference)->inputs(), a.batch, a.limit);
  if (!batches.ok()) return error(Status(batches.status().code(), "--data: " + batches.status().message()));
  std::vector<Tensor> labels;
  if (!a.labels.empty()) {
    auto loaded = quant::load_labels(a.labels, *batches);
    if (!loaded.ok()) return error(Status(loaded.status().code(), "--labels: " + loaded.status().message()));
    labels = std::move(loaded).value();
  }
  int64_t samples = 0;
  for (const auto& b : *batches) samples += quant::batch_samples(b);

  SessionOptions cand_options;
  cand_options.backend = a.backend;
  cand_options.optimize = true;
  cand_options.threads = a.threads;
  // int8 calibrates on the validation data unless told otherwise.
  if (a.precision.precision == "int8" && a.precision.calibration.empty() && a.precision.calibration_table.empty())
    a.precision.calibration = a.data;
  t0 = clock::now();
  if (Status st = apply_precision(a.model, a.precision, cand_options); !st.ok()) return error(st);
  const double calibrate_s = a.precision.precision == "int8" ? seconds_since(t0) : 0.0;
  t0 = clock::now();
  auto candidate = Session::load(a.model, cand_options);
  if (!candidate.ok()) return error(candidate.status());
  const double cand_load_s = seconds_since(t0);

  std::cout << fmt::format("model      {}\n", a.model);
  std::cout << fmt::format("reference  fp32, backend cpu, optimized (loaded in {:.2f} s)\n", ref_load_s);
  std::cout << fmt::format("candidate  {}, backend {}, optimized (loaded in {:.2f} s{})\n", a.precision.precision, a.backend,
                           cand_load_s,
                           a.precision.precision == "int8" ? fmt::format(", calibration {:.2f} s", calibrate_s) : "");
  if (a.precision.precision == "int8")
    std::cout << fmt::format("calibration {}\n", a.precision.calibration_table.empty()
                                                     ? fmt::format("{} ({}, first {} samples)", a.precision.calibration,
                                                                   a.precision.method, a.precision.calibration_limit)
                                                     : fmt::format("table {}", a.precision.calibration_table));
  std::cout << fmt::format("data       {}: {} samples in {} batch(es) of up to {}{}\n", a.data, samples, batches->size(),
                           a.batch, a.labels.empty() ? "" : fmt::format(", labels {}", a.labels));

  install_interrupt_handler();
  quant::AccuracyMeter meter(*budget);
  std::vector<quant::Outputs> ref_outputs;  // kept for the fallback
  double ref_s = 0, cand_s = 0;
  size_t done = 0;
  auto last_report = clock::now();
  for (size_t i = 0; i < batches->size() && !interrupted(); ++i) {
    const quant::Batch& batch = batches->at(i);
    auto r0 = clock::now();
    auto ref_out = (*reference)->run(batch);
    if (!ref_out.ok()) return error(Status(ref_out.status().code(), fmt::format("reference, batch {}: {}", i, ref_out.status().message())));
    ref_s += seconds_since(r0);
    r0 = clock::now();
    auto cand_out = (*candidate)->run(batch);
    if (!cand_out.ok()) return error(Status(cand_out.status().code(), fmt::format("candidate, batch {}: {}", i, cand_out.status().message())));
    cand_s += seconds_since(r0);
    Status st = meter.add(*ref_out, *cand_out, labels.empty() ? nullptr : &labels[i]);
    if (!st.ok()) return error(Status(st.code(), fmt::format("batch {}: {}", i, st.message())));
    if (a.fallback) ref_outputs.push_back(std::move(ref_out).value());
    ++done;
    // On a terminal, a line rewritten in place; otherwise a line every 10 s and at the end.
    if (progress && batches->size() > 1) {
      const bool last = done == batches->size();
      if (tty) {
        std::cerr << fmt::format("\rvalidating: batch {}/{}", done, batches->size()) << (last ? "\n" : "");
      } else if (last || seconds_since(last_report) >= 10.0) {
        std::cerr << fmt::format("validating: batch {}/{}\n", done, batches->size());
        last_report = clock::now();
      }
    }
  }

  const quant::AccuracyReport report = meter.report();
  std::cout << "\n" << quant::format_accuracy_table(report);
  std::cout << fmt::format("time       reference {:.2f} s, candidate {:.2f} s over {} batch(es)\n", ref_s, cand_s, done);
  if (interrupted()) {
    std::cerr << fmt::format("interrupted after {} of {} batch(es): no verdict\n", done, batches->size());
    return 128 + interrupt_signal();
  }
  const quant::Verdict verdict = quant::judge(report, *budget);
  std::cout << (verdict.pass ? "verdict    PASS\n" : "verdict    FAIL\n");
  for (const auto& reason : verdict.reasons) std::cout << "  " << reason << "\n";

  nlohmann::json fallback_json;
  bool pass = verdict.pass;
  if (a.fallback && !verdict.pass && a.precision.precision != "fp32") {
    quant::FallbackOptions fo;
    fo.max_layers = a.max_fallback_layers;
    fo.ranking_batches = a.ranking_batches;
    if (progress) fo.progress = [](const std::string& line) { std::cerr << "  " << line << "\n"; };
    std::cout << fmt::format("\nfallback   ranking the {} layers by the output error each adds (one kept in FP32 at a "
                             "time, first {} batch(es)), then keeping the most sensitive in FP32 until the budget is met\n",
                             a.precision.precision, a.ranking_batches);
    auto fb = quant::fallback_until_budget(a.model, cand_options, *batches, labels, ref_outputs, *budget, fo);
    if (!fb.ok()) return error(fb.status());
    std::cout << fallback_table(*fb);
    fallback_json = quant::to_json(*fb);
    pass = fb->met;
  }


  if (!a.json_file.empty()) {
    nlohmann::json j = {{"model", a.model},
                        {"precision", a.precision.precision},
                        {"backend", a.backend},
                        {"data", a.data},
                        {"labels", a.labels},
                        {"samples", samples},
                        {"batch", a.batch},
                        {"budget", quant::to_json(*budget)},
                        {"report", quant::to_json(report)},
                        {"verdict", quant::to_json(verdict)},
                        {"seconds", {{"reference", ref_s}, {"candidate", cand_s}, {"calibration", calibrate_s}}}};
    if (a.precision.precision == "int8")
      j["calibration"] = {{"data", a.precision.calibration},
                          {"table", a.precision.calibration_table},
                          {"method", a.precision.method},
                          {"percentile", a.precision.percentile},
                          {"limit", a.precision.calibration_limit}};
    if (!fallback_json.is_null()) j["fallback"] = fallback_json;
    if (Status st = write_file_atomic(a.json_file, j.dump(2) + "\n"); !st.ok()) return error(st);
  }
  return pass ? kExitPass : kExitFail;
}

}  // namespace

CommandRunner add_validate_command(CLI::App& app) {
  auto args = std::make_shared<ValidateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "validate",
      "Compare a reduced-precision run (or another backend) with the FP32 reference over a data set and judge "
      "the accuracy. Exit status: 0 pass, 1 fail, 2 error.");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("--data", args->data, ".npy file or directory of .npy files (see docs/cli.md)")->required();
  cmd->add_option("--labels", args->labels, "class labels, .npy of integers [N]: adds task accuracy and its drop");
  cmd->add_option("--batch", args->batch, "samples per run")->default_val(8)->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--limit", args->limit, "use only the first N samples of --data (0 = all)")
      ->default_val(0)
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--backend", args->backend, "backend of the candidate: cpu or reference (the reference run is FP32 on cpu)")
      ->default_val("cpu")
      ->check(CLI::IsMember({"cpu", "reference"}));
  cmd->add_option("--threads", args->threads, "intra-op threads (0 = physical cores)")->default_val(0)->check(CLI::Range(0, 1024));
  add_precision_options(cmd, &args->precision);
  // validate exists to check reduced precision: int8 unless told otherwise.
  args->precision.precision = "int8";
  cmd->get_option("--precision")->default_str("int8");
  cmd->get_option("--calibration")->description("int8: calibration data (default: --data)");
  cmd->add_option("--method", args->precision.method, "the same as --calibration-method")
      ->check(CLI::IsMember({"minmax", "percentile", "entropy"}));
  args->rtol_opt = cmd->add_option("--rtol", args->rtol, "element-wise check |c - r| <= atol + rtol * |r| on every output")
                       ->check(CLI::Range(0.0, 1e9));
  args->atol_opt = cmd->add_option("--atol", args->atol, "absolute tolerance of the element-wise check")->check(CLI::Range(0.0, 1e9));
  args->top1_opt = cmd->add_option("--min-top1-agreement", args->min_top1_percent,
                                   "classifiers: least top-1 agreement with the reference, in percent (int8: 99)")
                       ->check(CLI::Range(0.0, 100.0));
  args->drop_opt = cmd->add_option("--max-accuracy-drop", args->max_drop_percent,
                                   "with --labels: most the task accuracy may drop, in percentage points (int8: 1)")
                       ->check(CLI::Range(0.0, 100.0));
  args->cosine_opt = cmd->add_option("--min-cosine", args->min_cosine,
                                     "outputs no top-1 check judges: least cosine similarity (int8: 0.99)")
                         ->check(CLI::Range(-1.0, 1.0));
  cmd->add_option("--json", args->json_file, "write the report, budget and verdict as JSON to FILE");
  cmd->add_flag("--quiet,-q", args->quiet, "no progress lines on stderr");
  cmd->add_flag("--fallback", args->fallback,
                "when the budget is missed: rank the layers by sensitivity and keep the most sensitive in FP32 until "
                "it is met (prints the --keep-fp32 list)");
  cmd->add_option("--max-fallback-layers", args->max_fallback_layers, "--fallback: at most this many layers (0 = all)")
      ->default_val(0);
  cmd->add_option("--ranking-batches", args->ranking_batches, "--fallback: batches used to rank the layers (0 = all)")
      ->default_val(4);
  return [args]() { return validate(*args); };
}

}  // namespace hwopt::cli
