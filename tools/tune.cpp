// `hwopt tune`: requirements in, a measured and validated configuration out (src/tune), written
// as an artifact that `hwopt run OUT/` and the C++ Session load (docs/tune.md).
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <regex>

#include "commands.h"
#include "core/atomic_file.h"
#include "core/interrupt.h"
#include "model_inputs.h"
#include "report/tune_report.h"
#include "tune/artifact.h"
#include "tune/search.h"

namespace hwopt::cli {

namespace {

struct TuneArgs {
  std::string model, out;
  std::string goal, preset;
  double max_latency_ms = 0, min_throughput = 0, max_memory_mb = 0, max_accuracy_drop = -1, min_cosine = 0.99;
  std::string calibration, validation, labels;
  int64_t calibration_limit = 100, validation_limit = 256;
  std::string batch_range, time_budget = "10m";
  int cores = 0;
  bool exhaustive = false, resume = false, quiet = false, json = false;
  std::vector<std::string> dims;
};

int error(const Status& st) {
  std::cerr << "error: " << st.to_string() << "\n";
  return 2;
}

// "90", "90s", "10m", "1h" -> seconds.
Expected<double> parse_duration(const std::string& s) {
  std::smatch m;
  static const std::regex re(R"(^\s*([0-9]+(?:\.[0-9]+)?)\s*([smh]?)\s*$)");
  if (!std::regex_match(s, m, re))
    return Status(StatusCode::invalid_argument, fmt::format("--time-budget '{}': expected e.g. 90s, 10m or 1h", s));
  const double v = std::stod(m[1]);
  const std::string unit = m[2];
  return unit == "m" ? v * 60 : unit == "h" ? v * 3600 : v;
}

// "A..B" or "N".
Status parse_batch_range(const std::string& s, tune::Requirements& r) {
  std::smatch m;
  static const std::regex re(R"(^\s*([0-9]+)\s*(?:\.\.\s*([0-9]+))?\s*$)");
  if (!std::regex_match(s, m, re))
    return Status(StatusCode::invalid_argument, fmt::format("--batch-range '{}': expected A..B or N", s));
  r.min_batch = std::stoll(m[1]);
  r.max_batch = m[2].matched ? std::stoll(m[2]) : r.min_batch;
  if (r.min_batch < 1 || r.max_batch < r.min_batch || r.max_batch > 4096)
    return Status(StatusCode::invalid_argument, fmt::format("--batch-range '{}': need 1 <= A <= B <= 4096", s));
  return Status::OK();
}

int run_tune_command(const TuneArgs& a) {
  tune::Requirements r;
  r.max_threads = a.cores;
  if (Status st = tune::apply_preset(a.preset, r); !st.ok()) return error(st);
  if (!a.goal.empty()) r.goal = a.goal == "throughput" ? tune::Goal::throughput : tune::Goal::latency;
  if (!a.batch_range.empty())
    if (Status st = parse_batch_range(a.batch_range, r); !st.ok()) return error(st);
  r.max_latency_ms = a.max_latency_ms;
  r.min_throughput = a.min_throughput;
  r.max_memory_mb = a.max_memory_mb;
  if (a.max_accuracy_drop >= 0) r.max_accuracy_drop = a.max_accuracy_drop;
  r.min_cosine = a.min_cosine;
  r.exhaustive = a.exhaustive;
  auto budget = parse_duration(a.time_budget);
  if (!budget.ok()) return error(budget.status());
  r.time_budget_s = *budget;

  auto dims = parse_pairs(a.dims, "--dim");
  if (!dims.ok()) return error(dims.status());
  tune::TuneOptions o;
  o.requirements = r;
  o.calibration = a.calibration;
  o.validation = a.validation;
  o.labels = a.labels;
  o.calibration_limit = a.calibration_limit;
  o.validation_limit = a.validation_limit;
  const auto d = *dims;
  o.input_factory = [d](const Session& s) -> bench::InputFactory { return random_input_factory(s, d); };
  const bool quiet = a.quiet;
  o.progress = [quiet](const std::string& line) {
    if (!quiet) std::cerr << line << "\n";
  };
  install_interrupt_handler();
  o.should_stop = [] { return interrupted(); };
  if (a.resume) {
    std::ifstream in(a.out + "/tune.json");
    if (!in) return error(Status(StatusCode::not_found, fmt::format("--resume: no {}/tune.json to resume from", a.out)));
    try {
      const auto j = nlohmann::json::parse(in);
      for (const auto& c : j.at("candidates")) o.previous.push_back(tune::candidate_from_json(c));
    } catch (const std::exception& e) {
      return error(Status(StatusCode::invalid_argument, fmt::format("--resume: {}/tune.json: {}", a.out, e.what())));
    }
    std::cerr << fmt::format("resuming: {} configuration(s) measured before\n", o.previous.size());
  }

  // --json: the measurements log (as OUT/tune.json) is stdout's only content; the text goes to stderr.
  std::ostream& text = a.json ? std::cerr : std::cout;
  text << fmt::format("hwopt tune {}\n  goal {}{}, batch {}..{}, time budget {:.0f} s\n", a.model,
                           tune::goal_name(r.goal), r.preset.empty() ? "" : " (preset " + r.preset + ")", r.min_batch,
                           r.max_batch, r.time_budget_s);
  auto result = tune::run_tune(a.model, o);
  if (!result.ok()) return error(result.status());
  const tune::TuneResult& t = *result;
  if (t.best < 0) return error(Status(StatusCode::runtime_error, "no configuration could be measured"));
  const tune::Candidate& best = t.candidates[static_cast<size_t>(t.best)];
  text << "\n" << t.summary << "\n";
  if (!t.limits.empty()) text << t.limits << "\n";
  if (!t.confirmation.empty()) text << t.confirmation << "\n";
  for (const auto& w : t.warnings) text << "warning: " << w << "\n";
  Status st = tune::write_artifact(a.out, t, tune::session_options(best.config, t.activation_ranges),
                                   report::tune_report_documents(t));
  if (!st.ok()) return error(st);
  if (a.json) std::cout << tune::to_json(t).dump(2) << "\n";
  text << fmt::format("\nrequirements {}\nartifact     {}/ (model.onnx, plan.json, report.md, report.html, tune.json)\n"
                           "run it with  hwopt run {}/\n",
                           t.met ? "met" : "NOT met (the closest configuration was written)", a.out, a.out);
  return t.met ? 0 : 1;
}

}  // namespace

CommandRunner add_tune_command(CLI::App& app) {
  auto a = std::make_shared<TuneArgs>();
  CLI::App* cmd = app.add_subcommand(
      "tune",
      "Find the fastest configuration of a model that meets the requirements: profile, try precisions, threads and "
      "batch sizes in the order that suits this CPU, measure and validate each, stop when met, and write the "
      "artifact and a report. Exit status: 0 met, 1 not met (the closest is written), 2 error.");
  cmd->add_option("model", a->model, "ONNX model file")->required();
  cmd->add_option("-o,--out", a->out, "output directory (written atomically)")->required();
  cmd->add_option("--goal", a->goal, "latency or throughput (default: from the preset, else latency)")
      ->check(CLI::IsMember({"latency", "throughput"}));
  cmd->add_option("--preset", a->preset, "online (p99 latency, batch 1), batch (throughput, batches 1..64), edge "
                                         "(INT8, 1 thread unless --cores, latency), server (the highest rate of "
                                         "single-sample requests through a dynamic batcher whose p99, queueing "
                                         "included, stays within --max-latency-ms)")
      ->check(CLI::IsMember({"online", "batch", "edge", "server"}));
  cmd->add_option("--max-latency-ms", a->max_latency_ms, "requirement: p99 of one run (one batch) at most this; server preset: p99 of a request, "
                  "queueing included");
  cmd->add_option("--min-throughput", a->min_throughput, "requirement: samples per second at least this (server preset: requests per second)");
  cmd->add_option("--max-memory-mb", a->max_memory_mb, "requirement: planned activations + weights at most this (MiB)");
  cmd->add_option("--max-accuracy-drop", a->max_accuracy_drop,
                  "requirement: top-1 agreement (and task accuracy with --labels) may drop at most this many "
                  "percentage points (default 1)");
  cmd->add_option("--min-cosine", a->min_cosine, "requirement for outputs that are not classifiers")->default_val(0.99);
  cmd->add_option("--calibration", a->calibration, "INT8 calibration data (.npy file or directory)");
  cmd->add_option("--validation", a->validation, "accuracy data (default: the calibration data; none: random inputs, "
                                                 "judged by cosine)");
  cmd->add_option("--labels", a->labels, "labels of the validation data (.npy integers)");
  cmd->add_option("--calibration-limit", a->calibration_limit, "samples used for calibration")->default_val(100);
  cmd->add_option("--validation-limit", a->validation_limit, "samples used for validation")->default_val(256);
  cmd->add_option("--batch-range", a->batch_range, "A..B: batch sizes tried (powers of two from A)");
  cmd->add_option("--cores", a->cores, "use at most N cores (simulates a smaller device)")->default_val(0);
  cmd->add_option("--time-budget", a->time_budget, "stop after this long (90s, 10m, 1h)")->default_val("10m");
  cmd->add_option("--dim", a->dims, "symbolic input dims other than the batch, NAME=VALUE (repeatable)");
  cmd->add_flag("--exhaustive", a->exhaustive, "go on after the requirements are met");
  cmd->add_flag("--resume", a->resume, "reuse the measurements in OUT/tune.json of an earlier run");
  cmd->add_flag("--quiet,-q", a->quiet, "no progress lines");
  cmd->add_flag("--json", a->json, "print the measurements log (the content of OUT/tune.json) on stdout; the text "
                                   "goes to stderr");
  return [a]() { return run_tune_command(*a); };
}

}  // namespace hwopt::cli
