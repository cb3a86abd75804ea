// `hwopt profile`: where the time goes in a model on this machine, and why. Runs the model
// (warm-up, then timed repeats with and without per-step timers), prints the stage breakdown, a
// per-node table placed on the roofline of the measured ceilings, an op-type summary and ranked
// findings; `--json` for machines, `--trace` for Perfetto / chrome://tracing.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "commands.h"
#include "core/atomic_file.h"
#include "hw/ceilings.h"
#include "hw/cpu_info.h"
#include "kernel_options.h"
#include "model_inputs.h"
#include "precision_options.h"
#include "profile/profile_output.h"
#include "profile/profiler.h"

namespace hwopt::cli {

namespace {

struct ProfileArgs {
  std::string model;
  PrecisionArgs precision;
  KernelArgs kernel;
  std::string device = "cpu";
  std::string backend = "cpu";
  int threads = 0;
  bool pin_threads = false;
  int inter_op = 1;
  int batch = 0;
  std::vector<std::string> inputs;
  std::vector<std::string> dims;
  uint64_t seed = 0;
  int runs = 20;
  int warmup = 3;
  double max_seconds = 60;
  bool json = false;
  std::string json_file;
  std::string trace_file;
  int top = 25;
  bool all = false;
  bool no_optimize = false;
  std::vector<std::string> disabled_passes;
  bool no_measure = false;
  std::string cache_dir;
  double pre_ms = 0, post_ms = 0;
  bool quiet = false;
};

int fail(const Status& st) {
  std::cerr << "error: " << st.to_string() << "\n";
  return 1;
}

std::string mib(size_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / 1048576.0); }

std::string shorten(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  return s.substr(0, n - 1) + "~";
}

std::string step_shape(const profile::StepProfile& s) {
  for (const auto& v : s.outputs)
    if (v.present) return profile::value_desc_str(v);
  return "-";
}

void print_table(const profile::Profile& p, const ProfileArgs& a, const hw::CpuInfo& cpu, const std::string& roofs_note) {
  std::string shapes;
  for (const auto& [name, shape] : p.input_shapes)
    shapes += fmt::format("{}{}[{}]", shapes.empty() ? "" : ", ", name, fmt::join(shape, ","));
  std::cout << fmt::format("hwopt profile  {}\n", p.model);
  std::cout << fmt::format("  run          {} backend, {} intra-op thread(s), inputs {}\n", p.backend, p.threads, shapes);
  std::cout << fmt::format("  machine      {} ({} physical cores)\n", cpu.model, cpu.physical_cores);
  if (p.roofs.fp32_gflops > 0)
    std::cout << fmt::format("  ceilings     FP32 {:.0f} GFLOP/s, BF16 {}, INT8 {}, memory {:.1f} GB/s {}\n", p.roofs.fp32_gflops,
                             p.roofs.bf16_gflops > 0 ? fmt::format("{:.0f} GFLOP/s", p.roofs.bf16_gflops) : "n/a",
                             p.roofs.int8_gops > 0 ? fmt::format("{:.0f} GOP/s", p.roofs.int8_gops) : "n/a",
                             p.roofs.bandwidth_gbs, roofs_note);
  else
    std::cout << "  ceilings     not measured (--no-measure): no roofline classification\n";
  const auto& st = p.stages;
  std::cout << "\nstages\n";
  std::cout << fmt::format("  model load (import)      {:>10.1f} ms\n", st.import_ms);
  std::cout << fmt::format("  graph optimization       {:>10.1f} ms\n", st.optimize_ms);
  std::cout << fmt::format("  plan creation            {:>10.1f} ms\n", st.plan_ms);
  std::cout << fmt::format("  first run                {:>10.2f} ms  ({:.1f}x a steady run)\n", st.first_run_ms,
                           st.steady_ms > 0 ? st.first_run_ms / st.steady_ms : 0);
  {
    // The steps whose first use costs most beyond their steady time.
    std::vector<const profile::StepProfile*> cold;
    for (const auto& s : p.steps)
      if (s.first_use_ms() > 0.5) cold.push_back(&s);
    std::stable_sort(cold.begin(), cold.end(),
                     [](const auto* x, const auto* y) { return x->first_use_ms() > y->first_use_ms(); });
    for (size_t k = 0; k < std::min<size_t>(cold.size(), 3); ++k)
      std::cout << fmt::format("    +{:>7.2f} ms  {} ({}{})\n", cold[k]->first_use_ms(),
                               shorten(cold[k]->name.empty() ? cold[k]->onnx_nodes.front() : cold[k]->name, 40),
                               cold[k]->op_type, cold[k]->kernel.empty() ? "" : ", " + cold[k]->kernel);
    if (cold.size() > 3) std::cout << fmt::format("    ... {} more steps over 0.5 ms in their first use\n", cold.size() - 3);
  }
  if (st.pre_ms > 0) std::cout << fmt::format("  preprocessing (given)    {:>10.2f} ms\n", st.pre_ms);
  std::cout << fmt::format("  inference, steady state  {:>10.2f} ms  median of {} (p90 {:.2f}, min {:.2f}, CoV {:.1f} %)\n",
                           st.steady_ms, p.end_to_end.n, p.end_to_end.p90, p.end_to_end.min, p.end_to_end.cov * 100);
  if (st.post_ms > 0) std::cout << fmt::format("  postprocessing (given)   {:>10.2f} ms\n", st.post_ms);
  if (st.pre_ms > 0 || st.post_ms > 0)
    std::cout << fmt::format("  pipeline per request     {:>10.2f} ms  (inference {:.0f} %)\n",
                             st.pre_ms + st.steady_ms + st.post_ms,
                             100 * st.steady_ms / (st.pre_ms + st.steady_ms + st.post_ms));
  const double e2e = p.end_to_end.median;
  const double noise = std::max(0.0, p.gap_ms - p.executor_ms);
  std::cout << fmt::format("\nend to end   {:.3f} ms median; sum of step medians {:.3f} ms ({:.0f} % of it)\n", e2e,
                           p.steps_sum_ms, e2e > 0 ? 100 * p.steps_sum_ms / e2e : 0);
  std::cout << fmt::format("  gap        {:+.3f} ms = executor overhead between steps {:.3f} ms (dispatch, allocation, frees)"
                           "{}\n",
                           p.gap_ms, p.executor_ms,
                           noise > 0.1 * e2e ? fmt::format(" + {:.3f} ms run-to-run variation (CoV {:.0f} %)", noise,
                                                           p.end_to_end.cov * 100)
                                             : std::string());
  if (p.layout_ms > 0)
    std::cout << fmt::format("layouts      {:.3f} ms of the steps convert inputs out of blocked layouts\n", p.layout_ms);
  std::cout << fmt::format("memory       planned peak {}, measured live peak {}, peak RSS {}\n", mib(p.planned_peak_bytes),
                           mib(p.measured_peak_bytes), mib(p.peak_rss_bytes));
  std::cout << fmt::format("threads      {} intra-op; cores busy {:.0f} % of the wall time\n", p.threads,
                           p.cpu_utilization * 100);
  std::cout << fmt::format("work         {:.3f} GFLOP, {:.1f} MB minimum traffic per run ({:.1f} GFLOP/s achieved)\n",
                           p.total_flops * 1e-9, p.total_bytes * 1e-6, e2e > 0 ? p.total_flops / (e2e * 1e-3) * 1e-9 : 0);

  std::vector<size_t> order(p.steps.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return p.steps[x].ms.median > p.steps[y].ms.median; });
  const size_t shown = a.all ? order.size() : std::min<size_t>(order.size(), static_cast<size_t>(std::max(a.top, 0)));
  std::cout << fmt::format("\nsteps by time ({} of {}; under a step: what its kernel ran as, and the ONNX nodes a fused step covers)\n", shown, p.steps.size());
  std::cout << fmt::format("  {:>4}  {:<28} {:<18} {:<30} {:<24} {:>9} {:>6} {:>8} {:>7} {:<8} {:>5}\n", "#", "node", "op",
                           "implementation", "output", "ms", "share", "GFLOP/s", "GB/s", "bound", "roof");
  for (size_t k = 0; k < shown; ++k) {
    const auto& s = p.steps[order[k]];
    std::cout << fmt::format("  {:>4}  {:<28} {:<18} {:<30} {:<24} {:>9.3f} {:>5.1f}% {:>8.1f} {:>7.1f} {:<8} {:>4.0f}%\n",
                             order[k], shorten(s.name.empty() ? s.onnx_nodes.front() : s.name, 28), shorten(s.op_type, 18),
                             shorten(s.implementation, 30), shorten(step_shape(s), 24), s.ms.median, s.share * 100,
                             s.roofline.gflops, s.roofline.gbs, profile::bound_name(s.roofline.bound),
                             s.roofline.roof_fraction * 100);
    // What it ran as and what it stands for, on one line under the step.
    std::string under;
    if (!s.kernel.empty()) under = "ran " + s.kernel;
    if (s.onnx_nodes.size() > 1)
      under += fmt::format("{}fuses {} ONNX nodes: {}", under.empty() ? "" : "; ", s.onnx_nodes.size(),
                           fmt::join(s.onnx_nodes, ", "));
    if (!under.empty()) std::cout << fmt::format("        {}\n", shorten(under, 150));
  }
  if (shown < order.size()) std::cout << fmt::format("  ... {} more (--all)\n", order.size() - shown);

  std::cout << "\nop types\n";
  std::cout << fmt::format("  {:<32} {:>6} {:>10} {:>7} {:>9}\n", "op", "steps", "ms", "share", "GFLOP/s");
  for (const auto& t : p.op_types)
    std::cout << fmt::format("  {:<32} {:>6} {:>10.3f} {:>6.1f}% {:>9.1f}\n", shorten(t.op_type, 32), t.steps, t.ms,
                             t.share * 100, t.gflops);
  if (p.imported_nodes > 0)
    std::cout << fmt::format("\noptimization  {} imported nodes run as {} steps; {} were removed (folded constants, "
                             "eliminated no-ops) and cost nothing at run time\n",
                             p.imported_nodes, p.steps.size(), p.removed_nodes.size());

  std::cout << "\nfindings (most impact first)\n";
  if (p.findings.empty()) std::cout << "  none: nothing in this profile points at an obvious opportunity\n";
  int i = 0;
  for (const auto& f : p.findings)
    std::cout << fmt::format("  {}. {}\n     -> {}\n", ++i, f.message, f.action);
}

int run_profile(const ProfileArgs& a) {
  if (a.device != "cpu")
    return fail(Status(StatusCode::unsupported,
                       fmt::format("device '{}' is not supported by this build's profiler yet (have: cpu)", a.device)));
  auto files = parse_pairs(a.inputs, "--input");
  if (!files.ok()) return fail(files.status());
  auto dims = parse_pairs(a.dims, "--dim");
  if (!dims.ok()) return fail(dims.status());
  auto say = [&](std::string_view line) {
    if (!a.quiet) std::cerr << "profile: " << line << "\n";
  };

  const hw::CpuInfo cpu = hw::detect_cpu();
  profile::Roofs roofs;
  std::string roofs_note;
  if (!a.no_measure) {
    auto ceilings = hw::load_or_measure(a.cache_dir.empty() ? hw::default_cache_dir() : std::filesystem::path(a.cache_dir),
                                        false, [&](std::string_view line) { say(line); });
    if (!ceilings.ok()) return fail(ceilings.status());
    roofs.fp32_gflops = ceilings->fp32.all_cores;
    roofs.bf16_gflops = ceilings->bf16.all_cores;
    roofs.int8_gops = ceilings->int8.all_cores;
    roofs.bandwidth_gbs = ceilings->triad_all_cores_gbs;
    roofs.threads = ceilings->threads;
    roofs_note = ceilings->from_cache ? fmt::format("(measured {}, cached)", ceilings->measured_at) : "(measured now)";
  }

  say("loading " + a.model);
  SessionOptions so;
  so.backend = a.backend;
  so.threads = a.threads;
  so.pin_threads = a.pin_threads;
  so.inter_op = a.inter_op;
  so.optimize = !a.no_optimize;
  so.disabled_passes = a.disabled_passes;
  apply_kernel_options(a.kernel, so);
  if (Status st = apply_precision(a.model, a.precision, so); !st.ok()) return fail(st);
  auto session = Session::load(a.model, so);
  if (!session.ok()) return fail(session.status());
  const Session& s = *session.value();

  bool batch_is_dynamic = false;
  std::map<std::string, std::string> dim_values = *dims;
  for (const auto& in : s.inputs()) {
    if (in.shape.empty() || in.shape[0] >= 0) {
      if (a.batch > 0 && !in.shape.empty() && in.shape[0] != a.batch)
        return fail(Status(StatusCode::invalid_argument,
                           fmt::format("--batch {}: input '{}' has a static first dimension of {}", a.batch, in.name, in.shape[0])));
      continue;
    }
    batch_is_dynamic = true;
    const std::string& name = in.dim_names.empty() ? std::string() : in.dim_names[0];
    if (a.batch > 0) {
      if (name.empty())
        return fail(Status(StatusCode::invalid_argument,
                           fmt::format("--batch: the first dimension of input '{}' is unnamed; use --input with a file", in.name)));
      dim_values[name] = std::to_string(a.batch);
    }
  }
  auto inputs = make_inputs(s, *files, dim_values, a.seed);
  if (!inputs.ok()) return fail(inputs.status());

  profile::ProfileOptions po;
  po.runs = a.runs;
  po.warmup = a.warmup;
  po.max_seconds = a.max_seconds;
  po.pre_ms = a.pre_ms;
  po.post_ms = a.post_ms;
  po.threads = a.threads > 0 ? a.threads : std::max(cpu.usable_cores, 1);
  po.progress = say;
  auto prof = profile::profile_session(s, *inputs, roofs, po);
  if (!prof.ok()) return fail(prof.status());
  prof->model = a.model;
  prof->backend = a.backend;
  std::vector<std::string> features;
  for (const auto& [name, present] : cpu.features)
    if (present) features.push_back(name);
  prof->findings = profile::find_opportunities(*prof, cpu.physical_cores, features, batch_is_dynamic);

  const auto doc = profile::profile_to_json(*prof);
  if (!a.json_file.empty()) {
    if (Status st = write_file_atomic(a.json_file, doc.dump(2) + "\n"); !st.ok()) return fail(st);
    say("wrote " + a.json_file);
  }
  if (!a.trace_file.empty()) {
    if (Status st = write_file_atomic(a.trace_file, profile::profile_to_chrome_trace(*prof).dump() + "\n"); !st.ok())
      return fail(st);
    say("wrote " + a.trace_file + " (open in https://ui.perfetto.dev or chrome://tracing)");
  }
  if (a.json)
    std::cout << doc.dump(2) << "\n";
  else
    print_table(*prof, a, cpu, roofs_note);
  return 0;
}

}  // namespace

CommandRunner add_profile_command(CLI::App& app) {
  auto args = std::make_shared<ProfileArgs>();
  CLI::App* cmd = app.add_subcommand("profile", "Where the time goes: per-node times on the roofline, stages, findings.");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("--device", args->device, "device to profile on")->default_val("cpu");
  cmd->add_option("--backend", args->backend, "cpu (oneDNN and own kernels) or reference")
      ->default_val("cpu")
      ->check(CLI::IsMember({"cpu", "reference"}));
  cmd->add_option("--threads", args->threads, "intra-op threads (0 = physical cores)")->default_val(0)->check(CLI::Range(0, 1024));
  cmd->add_flag("--pin-threads", args->pin_threads, "bind each intra-op thread to its own core");
  cmd->add_option("--inter-op", args->inter_op, "independent steps run at once, each with threads / N intra-op threads")
      ->check(CLI::Range(1, 1024));
  add_precision_options(cmd, &args->precision);
  add_kernel_options(cmd, &args->kernel);
  cmd->add_option("--batch", args->batch, "size of the symbolic first (batch) dimension of the inputs")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--input,-i", args->inputs, "NAME=FILE.npy: an input from a NumPy file (repeatable); others are random");
  cmd->add_option("--dim", args->dims, "NAME=SIZE: value of a symbolic dimension for random inputs (default 1)");
  cmd->add_option("--seed", args->seed, "seed of the random inputs")->default_val(0);
  cmd->add_option("--runs", args->runs, "timed runs, each with and without per-step timers")->default_val(20)->check(CLI::Range(1, 100000));
  cmd->add_option("--warmup", args->warmup, "runs before timing (the first is reported as the cold start)")
      ->default_val(3)->check(CLI::Range(1, 100000));
  cmd->add_option("--max-seconds", args->max_seconds, "stop timing after this many seconds (at least 3 runs)")->default_val(60);
  cmd->add_flag("--json", args->json, "print the profile as JSON (schema: docs/profile.md) instead of tables");
  cmd->add_option("--json-file", args->json_file, "also write the JSON profile to this file");
  cmd->add_option("--trace", args->trace_file, "write a Chrome trace (Perfetto, chrome://tracing) of a few profiled runs");
  cmd->add_option("--top", args->top, "steps shown in the per-node table")->default_val(25);
  cmd->add_flag("--all", args->all, "show every step in the per-node table");
  cmd->add_flag("--no-optimize", args->no_optimize, "profile the graph as imported, without the optimization passes");
  cmd->add_option("--disable-pass", args->disabled_passes, "skip an optimization pass (repeatable)");
  cmd->add_flag("--no-measure", args->no_measure, "do not measure or read the machine's ceilings (no roofline)");
  cmd->add_option("--cache-dir", args->cache_dir, "where measured ceilings are cached (default: see hwopt inspect)");
  cmd->add_option("--pre", args->pre_ms, "preprocessing time per request in ms, for the stage breakdown")->default_val(0);
  cmd->add_option("--post", args->post_ms, "postprocessing time per request in ms, for the stage breakdown")->default_val(0);
  cmd->add_flag("--quiet,-q", args->quiet, "no progress lines on stderr");
  return [args]() { return run_profile(*args); };
}

}  // namespace hwopt::cli
