// `hwopt run`: load a model, run it on .npy or random inputs, print a summary and timing,
// and write each output as DIR/<output name>.npy. The model may be a tuned artifact directory
// (`hwopt tune -o DIR`): its plan.json gives the model and the configuration to run.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "artifact_options.h"
#include "bench/stats.h"
#include "commands.h"
#include "core/atomic_file.h"
#include "core/interrupt.h"
#include "core/npy.h"
#include "kernel_options.h"
#include "model_inputs.h"
#include "precision_options.h"
#include "tune/artifact.h"

namespace hwopt::cli {

namespace {

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::vector<std::string> dims;
  std::string output_dir;
  uint64_t seed = 0;
  int repeat = 1;
  int warmup = 0;
  bool verbose = false;
  bool check_finite = false;
  std::string backend = "cpu";
  int threads = 0;
  bool pin_threads = false;
  int inter_op = 1;
  size_t max_memory_mb = 0;
  bool no_optimize = false;
  std::vector<std::string> disabled_passes;
  PrecisionArgs precision;
  KernelArgs kernel;
  bool relower = false;
};

int fail(const Status& st) {
  std::cerr << "error: " << st.to_string() << "\n";
  return 1;
}

// Output names may hold characters that are awkward in file names ('/', ':'): keep
// [A-Za-z0-9._-] and replace the rest with '_'.
std::string file_stem(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  if (s.empty() || s == "." || s == "..") s = "output";
  return s;
}

// Loads the tuned artifact in `a.model` into `so` and `model`, printing what was loaded.
Expected<tune::LoadedPlan> load_artifact(const RunArgs& a, const CLI::App& cmd, SessionOptions& so, std::string& model) {
  HWOPT_RETURN_IF_ERROR(refuse_plan_fixed(cmd, a.model));
  auto plan = tune::load_plan(a.model, a.relower);
  if (!plan.ok()) return plan.status();
  so = plan->options;
  so.check_finite = a.check_finite;
  so.max_memory_mb = a.max_memory_mb;
  if (cmd.count("--threads") > 0) so.threads = a.threads;
  so.pin_threads = a.pin_threads;
  so.inter_op = a.inter_op;
  model = plan->model_path;
  for (const auto& note : plan->notes) std::cout << "relower  " << note << "\n";
  std::string precision = so.precision;
  if (!plan->config.calibration_method.empty() && so.precision == "int8")
    precision += fmt::format(" ({} calibration)", plan->config.calibration_method);
  if (!so.fp32_nodes.empty()) precision += fmt::format(", {} node(s) kept in fp32", so.fp32_nodes.size());
  std::cout << fmt::format("tuned    configuration loaded from {}: precision {}, {} thread(s){}, batch {}\n",
                           (std::filesystem::path(a.model) / "plan.json").string(), precision, so.threads,
                           so.threads == 0 ? " (physical cores)" : "", plan->config.batch);
  return plan;
}

int run(const RunArgs& a, const CLI::App& cmd) {
  using clock = std::chrono::steady_clock;
  auto files = parse_pairs(a.inputs, "--input");
  if (!files.ok()) return fail(files.status());
  auto dims = parse_pairs(a.dims, "--dim");
  if (!dims.ok()) return fail(dims.status());
  SessionOptions so;
  std::string model = a.model;
  int64_t tuned_batch = 0;
  if (tune::is_artifact_dir(a.model)) {
    auto plan = load_artifact(a, cmd, so, model);
    if (!plan.ok()) return fail(plan.status());
    tuned_batch = plan->config.batch;
  } else {
    if (a.relower)
      return fail(Status(StatusCode::invalid_argument,
                         fmt::format("--relower applies to a tuned artifact directory (with plan.json); '{}' is not one", a.model)));
    std::error_code ec;
    if (std::filesystem::is_directory(a.model, ec))
      return fail(Status(StatusCode::invalid_argument,
                         fmt::format("'{}' is a directory without plan.json: give an ONNX file or a tuned artifact "
                                     "directory (hwopt tune -o DIR)",
                                     a.model)));
    so.check_finite = a.check_finite;
    so.backend = a.backend;
    so.threads = a.threads;
    so.pin_threads = a.pin_threads;
    so.inter_op = a.inter_op;
    so.optimize = !a.no_optimize;
    so.disabled_passes = a.disabled_passes;
    so.max_memory_mb = a.max_memory_mb;
    apply_kernel_options(a.kernel, so);
    if (Status st = apply_precision(a.model, a.precision, so); !st.ok()) return fail(st);
  }
  auto t0 = clock::now();
  auto session = Session::load(model, so);
  if (!session.ok()) return fail(session.status());
  double load_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  const Session& s = *session.value();
  std::cout << fmt::format("model    {} ({} nodes, loaded, optimized and planned in {:.1f} ms)\n", model, s.num_nodes(), load_ms);
  // Random inputs of a tuned artifact get the batch it was tuned for (a symbolic leading dim
  // not set with --dim).
  if (tuned_batch > 0)
    for (const auto& info : s.inputs())
      if (!files->count(info.name) && info.has_shape && !info.shape.empty() && info.shape[0] < 0 &&
          !info.dim_names.empty() && !info.dim_names[0].empty() && !dims->count(info.dim_names[0]))
        (*dims)[info.dim_names[0]] = std::to_string(tuned_batch);
  if (s.optimization().ran) {
    std::string fired;
    for (const auto& [name, n] : s.optimization().rewrites)
      if (n > 0) fired += fmt::format("{}{}={}", fired.empty() ? "" : ", ", name, n);
    std::cout << fmt::format("optimize {} -> {} nodes in {:.1f} ms ({})\n", s.optimization().nodes_before,
                             s.optimization().nodes_after, s.optimization().ms, fired.empty() ? "no rewrites" : fired);
  }
  if (a.verbose) {
    std::cout << "plan\n";
    for (const auto& line : s.describe_plan(true)) std::cout << "  " << line << "\n";
  }
  auto inputs = make_inputs(s, *files, *dims, a.seed);
  if (!inputs.ok()) return fail(inputs.status());
  for (const auto& info : s.inputs()) {
    const Tensor& t = inputs->at(info.name);
    bool from_file = files->count(info.name) > 0;
    std::cout << fmt::format("input    {:<24} {}  ({})\n", info.name, summarize(t),
                             from_file ? files->at(info.name) : fmt::format("random, seed {}", a.seed));
  }
  std::vector<double> times;
  std::map<std::string, Tensor> outputs;
  RunStats stats;
  const int total = std::max(a.warmup, 0) + std::max(a.repeat, 1);
  // Ctrl-C stops after the run in progress: what finished is reported and its outputs written
  // (each file whole, through a temp name); a second Ctrl-C ends the process at once.
  install_interrupt_handler();
  int done = 0;
  for (int i = 0; i < total && !interrupted(); ++i) {
    auto r0 = clock::now();
    auto out = s.run(*inputs, RunOptions{}, a.verbose && i == total - 1 ? &stats : nullptr);
    double ms = std::chrono::duration<double, std::milli>(clock::now() - r0).count();
    if (!out.ok()) return fail(out.status());
    if (i >= a.warmup) times.push_back(ms);
    outputs = std::move(out).value();
    ++done;
  }
  if (interrupted()) {
    if (times.empty()) {
      std::cerr << fmt::format("interrupted after {} of {} warm-up run(s), before any timed run: nothing written\n",
                               done, std::max(a.warmup, 0));
      return 128 + interrupt_signal();
    }
    std::cerr << fmt::format("interrupted: kept {} of {} timed run(s); the outputs below are from the last complete run\n",
                             times.size(), std::max(a.repeat, 1));
  }
  for (const auto& info : s.outputs())
    std::cout << fmt::format("output   {:<24} {}\n", info.name, summarize(outputs.at(info.name)));
  const bench::Summary t = bench::summarize(times);
  std::cout << fmt::format("time     {} run(s): median {:.2f} ms, min {:.2f} ms, max {:.2f} ms (backend {})\n", t.n,
                           t.median, t.min, t.max, so.backend);
  std::cout << fmt::format("memory   planned peak of intermediates {:.2f} MiB{}\n", s.planned_peak_bytes() / 1048576.0,
                           s.planned_unknown_values() ? fmt::format(" (+{} values sized only at run time)", s.planned_unknown_values()) : "");
  if (a.verbose) {
    std::cout << fmt::format("\n{:<32} {:<20} {:<24} {:>10}  {}\n", "node", "op", "implementation", "ms", "ran");
    for (const auto& st : stats.steps)
      std::cout << fmt::format("{:<32} {:<20} {:<24} {:>10.3f}  {}\n", st.node_name, st.op_type, st.implementation,
                               st.ms, st.kernel);
    std::cout << fmt::format("measured peak of live tensors {:.2f} MiB\n", stats.peak_bytes / 1048576.0);
  }
  if (!a.output_dir.empty()) {
    // Serialise everything first so that a failure writes nothing.
    std::vector<std::pair<std::string, std::string>> blobs;
    for (const auto& info : s.outputs()) {
      auto bytes = to_npy(outputs.at(info.name));
      if (!bytes.ok()) return fail(Status(bytes.status().code(), fmt::format("output '{}': {}", info.name, bytes.status().message())));
      blobs.emplace_back(info.name, std::move(bytes).value());
    }
    std::error_code ec;
    std::filesystem::create_directories(a.output_dir, ec);
    if (ec) return fail(Status(StatusCode::io_error, fmt::format("cannot create '{}': {}", a.output_dir, ec.message())));
    for (const auto& [name, bytes] : blobs) {
      std::string path = (std::filesystem::path(a.output_dir) / (file_stem(name) + ".npy")).string();
      if (Status st = write_file_atomic(path, bytes); !st.ok()) return fail(st);
      std::cout << fmt::format("wrote    {}\n", path);
    }
  }
  return interrupted() ? 128 + interrupt_signal() : 0;
}

}  // namespace

CommandRunner add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Load a model, run it, print each output and the timing.");
  cmd->add_option("model", args->model, "ONNX model file, or a tuned artifact directory (hwopt tune -o DIR)")->required();
  cmd->add_option("--input,-i", args->inputs, "NAME=FILE.npy: an input from a NumPy file (repeatable); inputs not given are random");
  cmd->add_option("--dim", args->dims, "NAME=SIZE: value of a symbolic dimension for random inputs (default 1)");
  cmd->add_option("--output-dir,-o", args->output_dir, "write each output as DIR/<output name>.npy");
  cmd->add_option("--seed", args->seed, "seed of the random inputs")->default_val(0);
  cmd->add_option("--repeat", args->repeat, "timed runs")->default_val(1)->check(CLI::Range(1, 1000000));
  cmd->add_option("--warmup", args->warmup, "untimed runs before timing")->default_val(0)->check(CLI::Range(0, 1000000));
  cmd->add_option("--backend", args->backend, "cpu (oneDNN and own kernels, reference as fallback) or reference")
      ->default_val("cpu")
      ->check(CLI::IsMember({"cpu", "reference"}));
  cmd->add_option("--threads", args->threads, "intra-op threads (0 = physical cores)")->default_val(0)->check(CLI::Range(0, 1024));
  cmd->add_flag("--pin-threads", args->pin_threads, "bind each intra-op thread to its own core");
  cmd->add_option("--inter-op", args->inter_op, "independent steps run at once, each with threads / N intra-op threads")
      ->check(CLI::Range(1, 1024));
  add_precision_options(cmd, &args->precision);
  add_kernel_options(cmd, &args->kernel);
  cmd->add_option("--max-memory-mb", args->max_memory_mb,
                  "cap on the tensor memory of one run, in MiB (0 = none); passing it is an out_of_memory error")
      ->default_val(0);
  cmd->add_flag("--no-optimize", args->no_optimize, "run the graph as imported, without the optimization passes");
  cmd->add_option("--disable-pass", args->disabled_passes, "skip an optimization pass (repeatable; see 'hwopt optimize --list-passes')");
  cmd->add_flag("--check-finite", args->check_finite, "fail if an input or output holds NaN or Inf");
  cmd->add_flag("--verbose,-v", args->verbose, "print the implementation and time of every node");
  cmd->add_flag("--relower", args->relower,
                "run a tuned artifact made on another CPU, re-lowered for this one (threads capped, bf16 -> fp32 where "
                "unsupported)");
  return [args, cmd]() { return run(*args, *cmd); };
}

}  // namespace hwopt::cli
