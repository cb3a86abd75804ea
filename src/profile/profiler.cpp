#include "profile/profiler.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace hwopt::profile {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

double load_average() {
  double l[1] = {0};
  return getloadavg(l, 1) == 1 ? l[0] : 0;
}

size_t peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<size_t>(ru.ru_maxrss) * 1024;  // KiB on Linux
}

DType compute_dtype(const std::vector<ValueDesc>& inputs) {
  for (const auto& v : inputs)
    if (v.present) return v.dtype;
  return DType::float32;
}

std::string qualified_op(const std::string& domain, const std::string& op) {
  return domain.empty() || domain == "ai.onnx" ? op : domain + "." + op;
}

}  // namespace

std::string_view bound_name(Bound b) {
  switch (b) {
    case Bound::compute: return "compute";
    case Bound::memory: return "memory";
    case Bound::overhead: return "overhead";
    case Bound::unknown: break;
  }
  return "unknown";
}

DType kernel_compute_dtype(std::string_view implementation, DType graph_dtype) {
  if (implementation.find("[int8") != std::string_view::npos) return DType::int8;
  if (implementation.find("[bf16") != std::string_view::npos) return DType::bfloat16;
  return graph_dtype;
}

RooflinePoint place_on_roofline(const OpCost& cost, double ms, DType dtype, const Roofs& roofs) {
  RooflinePoint p;
  if (ms <= 0) return p;
  const double seconds = ms * 1e-3;
  p.gflops = cost.flops / seconds * 1e-9;
  p.gbs = cost.bytes / seconds * 1e-9;
  double peak = roofs.fp32_gflops;
  if (dtype == DType::bfloat16 && roofs.bf16_gflops > 0) peak = roofs.bf16_gflops;
  if ((cost.integer_math || dtype == DType::int8 || dtype == DType::uint8) && roofs.int8_gops > 0) peak = roofs.int8_gops;
  const double bw = roofs.bandwidth_gbs;
  if (!cost.known || peak <= 0 || bw <= 0) return p;
  // Time the step would take at its roof: limited by arithmetic or by memory traffic.
  const double compute_s = cost.flops / (peak * 1e9);
  const double memory_s = cost.bytes / (bw * 1e9);
  const double roof_s = std::max(compute_s, memory_s);
  p.roof_fraction = roof_s / seconds;
  if (roof_s * 1e6 < kOverheadRoofUs && p.roof_fraction < kOverheadRoofFraction)
    p.bound = Bound::overhead;
  else
    p.bound = compute_s >= memory_s ? Bound::compute : Bound::memory;
  return p;
}

Expected<Profile> profile_session(const Session& session, const std::map<std::string, Tensor>& inputs,
                                  const Roofs& roofs, const ProfileOptions& options) {
  auto say = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  Profile prof;
  prof.roofs = roofs;
  for (const auto& [name, t] : inputs) prof.input_shapes[name] = t.shape();
  const LoadTimes& lt = session.load_times();
  prof.stages.import_ms = lt.import_ms;
  prof.stages.optimize_ms = lt.optimize_ms;
  prof.stages.plan_ms = lt.plan_ms;
  prof.stages.pre_ms = options.pre_ms;
  prof.stages.post_ms = options.post_ms;
  prof.planned_peak_bytes = session.planned_peak_bytes();

  say("first run");
  // Timed per step too: where the first run's extra time goes (kernel creation, weight
  // reordering, first touch of memory).
  RunStats first_stats;
  RunOptions first_options;
  first_options.profile = true;
  auto t0 = Clock::now();
  auto first = session.run(inputs, first_options, &first_stats);
  if (!first.ok()) return first.status();
  prof.stages.first_run_ms = ms_since(t0);
  std::unordered_map<size_t, double> first_ms;  // by node index
  for (const StepStat& st : first_stats.steps) first_ms[st.node_index] += st.ms;
  for (int i = 1; i < options.warmup; ++i) {
    auto r = session.run(inputs);
    if (!r.ok()) return r.status();
  }

  // Unprofiled and profiled runs alternate so that drift of the machine affects both alike.
  say(fmt::format("timing {} runs with and {} without per-step timers", options.runs, options.runs));
  std::vector<double> plain_ms, profiled_ms, profiling_ms;
  prof.load_average = load_average();
  std::vector<std::vector<StepStat>> runs;
  double cpu_s = 0, wall_s = 0;
  const auto budget_start = Clock::now();
  for (int i = 0; i < std::max(options.runs, 1); ++i) {
    const double c0 = cpu_seconds();
    auto r0 = Clock::now();
    auto r = session.run(inputs);
    const double ms = ms_since(r0);
    cpu_s += cpu_seconds() - c0;
    wall_s += ms * 1e-3;
    if (!r.ok()) return r.status();
    plain_ms.push_back(ms);

    RunStats stats;
    RunOptions ro;
    ro.profile = true;
    auto p = session.run(inputs, ro, &stats);
    if (!p.ok()) return p.status();
    profiled_ms.push_back(stats.total_ms);
    profiling_ms.push_back(stats.profiling_ms);
    prof.measured_peak_bytes = std::max(prof.measured_peak_bytes, stats.peak_bytes);
    runs.push_back(std::move(stats.steps));
    if (i + 1 >= 3 && ms_since(budget_start) > options.max_seconds * 1e3) {
      say(fmt::format("time budget of {:.0f} s spent after {} runs", options.max_seconds, i + 1));
      break;
    }
  }
  prof.load_average_after = load_average();
  prof.end_to_end = bench::summarize(plain_ms);
  prof.profiled_runs = bench::summarize(profiled_ms);
  prof.stages.steady_ms = prof.end_to_end.median;
  prof.peak_rss_bytes = peak_rss_bytes();

  // Every profiled run executes the same steps of the main graph; align them by position, in the
  // first run's order (with --inter-op the runs record their steps as they finish, which varies).
  std::unordered_map<size_t, size_t> position;
  for (size_t s = 0; s < runs.front().size(); ++s) position.emplace(runs.front()[s].node_index, s);
  for (auto& r : runs)
    std::stable_sort(r.begin(), r.end(), [&](const StepStat& a, const StepStat& b) {
      const auto pa = position.find(a.node_index), pb = position.find(b.node_index);
      return (pa == position.end() ? SIZE_MAX : pa->second) < (pb == position.end() ? SIZE_MAX : pb->second);
    });
  size_t n_steps = runs.front().size();
  for (const auto& r : runs) n_steps = std::min(n_steps, r.size());
  const ir::Graph& graph = session.graph();
  std::unordered_set<std::string> covered;
  for (size_t s = 0; s < n_steps; ++s) {
    const StepStat& st = runs.front()[s];
    StepProfile sp;
    sp.node_index = st.node_index;
    sp.name = st.node_name;
    sp.op_type = st.op_type;
    sp.domain = st.domain;
    sp.implementation = st.implementation;
    sp.kernel = runs.back()[s].kernel;
    sp.inputs = st.inputs;
    sp.outputs = st.outputs;
    std::vector<double> times, layout;
    for (const auto& r : runs) {
      times.push_back(r[s].ms);
      layout.push_back(r[s].layout_ms);
    }
    sp.ms = bench::summarize(times);
    if (auto it = first_ms.find(st.node_index); it != first_ms.end()) sp.first_run_ms = it->second;
    sp.layout_ms = bench::summarize(layout).median;
    if (st.node_index < graph.nodes.size()) {
      const ir::Node& node = graph.nodes[st.node_index];
      sp.onnx_nodes = node.fused_from.empty() ? std::vector<std::string>{node.provenance_name()} : node.fused_from;
      sp.cost = op_cost(node, st.inputs, st.outputs);
    } else {
      sp.onnx_nodes = {st.node_name};
      sp.cost.known = false;
    }
    for (const auto& n : sp.onnx_nodes) covered.insert(n);
    sp.roofline = place_on_roofline(sp.cost, sp.ms.median,
                                    kernel_compute_dtype(sp.implementation, compute_dtype(sp.inputs)), roofs);
    prof.steps_sum_ms += sp.ms.median;
    prof.layout_ms += sp.layout_ms;
    prof.total_flops += sp.cost.flops;
    prof.total_bytes += sp.cost.bytes;
    prof.steps.push_back(std::move(sp));
  }
  prof.gap_ms = prof.end_to_end.median - prof.steps_sum_ms;
  // Within each profiled run, what the step timers did not cover (minus the profiler's own
  // memory accounting) is the executor's time between steps.
  double between = 0;
  for (size_t r = 0; r < runs.size(); ++r) {
    double steps = 0;
    for (const auto& st : runs[r]) steps += st.ms;
    between += profiled_ms[r] - profiling_ms[r] - steps;
  }
  prof.executor_ms = runs.empty() ? 0 : std::max(0.0, between / static_cast<double>(runs.size()));

  std::map<std::string, OpTypeProfile> by_type;
  for (auto& sp : prof.steps) {
    sp.share = prof.steps_sum_ms > 0 ? sp.ms.median / prof.steps_sum_ms : 0;
    auto& t = by_type[qualified_op(sp.domain, sp.op_type)];
    t.op_type = qualified_op(sp.domain, sp.op_type);
    t.steps += 1;
    t.ms += sp.ms.median;
    t.flops += sp.cost.flops;
    t.bytes += sp.cost.bytes;
  }
  for (auto& [name, t] : by_type) {
    t.share = prof.steps_sum_ms > 0 ? t.ms / prof.steps_sum_ms : 0;
    t.gflops = t.ms > 0 ? t.flops / (t.ms * 1e-3) * 1e-9 : 0;
    prof.op_types.push_back(t);
  }
  std::sort(prof.op_types.begin(), prof.op_types.end(), [](const auto& a, const auto& b) { return a.ms > b.ms; });

  const std::vector<std::string>& imported = session.optimization().imported_nodes;
  prof.imported_nodes = imported.size();
  for (const auto& name : imported)
    if (!covered.count(name)) prof.removed_nodes.push_back(name);
  const int keep = std::min<int>(options.trace_runs, static_cast<int>(runs.size()));
  prof.trace_runs.assign(runs.begin(), runs.begin() + keep);
  prof.threads = std::max(options.threads, 1);
  prof.cpu_utilization = wall_s > 0 ? cpu_s / wall_s / prof.threads : 0;
  return prof;
}

}  // namespace hwopt::profile
