#include "profile/profile_output.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace hwopt::profile {

namespace {

using nlohmann::json;

json summary_json(const bench::Summary& s) {
  return json{{"n", s.n},           {"min", s.min},       {"median", s.median}, {"mean", s.mean},
              {"p90", s.p90},       {"p99", s.p99},       {"max", s.max},       {"stdev", s.stdev},
              {"cov", s.cov},       {"median_ci_low", s.median_ci_low}, {"median_ci_high", s.median_ci_high}};
}

json values_json(const std::vector<ValueDesc>& values) {
  json out = json::array();
  for (const auto& v : values) out.push_back(v.present ? json(value_desc_str(v)) : json(nullptr));
  return out;
}

}  // namespace

std::string value_desc_str(const ValueDesc& v) {
  if (!v.present) return "-";
  return fmt::format("{}[{}]", dtype_name(v.dtype), fmt::join(v.shape, ","));
}

json profile_to_json(const Profile& p) {
  json j;
  j["schema_version"] = kProfileSchemaVersion;
  j["model"] = p.model;
  j["backend"] = p.backend;
  j["threads"] = p.threads;
  json shapes = json::object();
  for (const auto& [name, shape] : p.input_shapes) shapes[name] = shape;
  j["input_shapes"] = shapes;
  j["ceilings"] = {{"fp32_gflops", p.roofs.fp32_gflops},
                   {"bf16_gflops", p.roofs.bf16_gflops},
                   {"int8_gops", p.roofs.int8_gops},
                   {"bandwidth_gbs", p.roofs.bandwidth_gbs}};
  j["stages_ms"] = {{"import", p.stages.import_ms},         {"optimize", p.stages.optimize_ms},
                    {"plan", p.stages.plan_ms},             {"first_run", p.stages.first_run_ms},
                    {"steady_state", p.stages.steady_ms},   {"preprocess", p.stages.pre_ms},
                    {"postprocess", p.stages.post_ms}};
  j["end_to_end_ms"] = summary_json(p.end_to_end);
  j["profiled_run_ms"] = summary_json(p.profiled_runs);
  j["steps_sum_ms"] = p.steps_sum_ms;
  j["gap_ms"] = p.gap_ms;
  j["executor_ms"] = p.executor_ms;
  j["load_average"] = {{"before", p.load_average}, {"after", p.load_average_after}};
  j["layout_conversion_ms"] = p.layout_ms;
  j["total_gflop"] = p.total_flops * 1e-9;
  j["total_gbytes"] = p.total_bytes * 1e-9;
  j["memory_bytes"] = {{"planned_peak", p.planned_peak_bytes},
                       {"measured_peak_live", p.measured_peak_bytes},
                       {"peak_rss", p.peak_rss_bytes}};
  j["cpu_utilization"] = p.cpu_utilization;
  json steps = json::array();
  for (const auto& s : p.steps) {
    steps.push_back({{"node", s.name},
                     {"node_index", s.node_index},
                     {"op_type", s.op_type},
                     {"domain", s.domain},
                     {"implementation", s.implementation},
                     {"kernel", s.kernel},
                     {"onnx_nodes", s.onnx_nodes},
                     {"inputs", values_json(s.inputs)},
                     {"outputs", values_json(s.outputs)},
                     {"ms", summary_json(s.ms)},
                     {"first_run_ms", s.first_run_ms},
                     {"layout_ms", s.layout_ms},
                     {"share", s.share},
                     {"op_class", std::string(op_class_name(s.cost.op_class))},
                     {"cost_known", s.cost.known},
                     {"macs", s.cost.macs},
                     {"flops", s.cost.flops},
                     {"bytes", s.cost.bytes},
                     {"gflops", s.roofline.gflops},
                     {"gbs", s.roofline.gbs},
                     {"bound", std::string(bound_name(s.roofline.bound))},
                     {"roof_fraction", s.roofline.roof_fraction}});
  }
  j["steps"] = steps;
  json types = json::array();
  for (const auto& t : p.op_types)
    types.push_back({{"op_type", t.op_type}, {"steps", t.steps}, {"ms", t.ms}, {"share", t.share},
                     {"flops", t.flops}, {"bytes", t.bytes}, {"gflops", t.gflops}});
  j["op_types"] = types;
  j["imported_nodes"] = p.imported_nodes;
  j["removed_nodes"] = p.removed_nodes;
  json findings = json::array();
  for (const auto& f : p.findings)
    findings.push_back({{"id", f.id}, {"impact", f.impact}, {"message", f.message}, {"action", f.action}});
  j["findings"] = findings;
  return j;
}

json profile_to_chrome_trace(const Profile& p) {
  constexpr int kPid = 1;
  constexpr int kRunsTid = 1;
  constexpr int kExecutorTid = 2;
  json events = json::array();
  auto meta = [&](const char* what, int tid, const std::string& name) {
    json e{{"ph", "M"}, {"pid", kPid}, {"name", what}, {"args", {{"name", name}}}};
    if (tid >= 0) e["tid"] = tid;
    events.push_back(e);
  };
  meta("process_name", -1, fmt::format("hwopt {} ({} backend)", p.model, p.backend));
  meta("thread_name", kRunsTid, "runs");
  meta("thread_name", kExecutorTid, fmt::format("executor ({} intra-op threads)", p.threads));
  int workers = 1;  // inter-op workers seen: a track each
  for (const auto& run : p.trace_runs)
    for (const auto& st : run) workers = std::max(workers, st.worker + 1);
  for (int w = 1; w < workers; ++w) meta("thread_name", kExecutorTid + w, fmt::format("inter-op worker {}", w));
  double offset_us = 0;
  for (size_t r = 0; r < p.trace_runs.size(); ++r) {
    const auto& run = p.trace_runs[r];
    double end_us = 0;
    for (const auto& st : run) {
      const double ts = offset_us + st.start_ms * 1e3;
      std::vector<std::string> ins, outs;
      for (const auto& v : st.inputs) ins.push_back(value_desc_str(v));
      for (const auto& v : st.outputs) outs.push_back(value_desc_str(v));
      json args{{"op_type", st.op_type}, {"implementation", st.implementation}, {"inputs", ins}, {"outputs", outs}};
      if (!st.kernel.empty()) args["kernel"] = st.kernel;
      if (!st.fused_from.empty()) args["onnx_nodes"] = st.fused_from;
      if (st.layout_ms > 0) args["layout_ms"] = st.layout_ms;
      events.push_back({{"ph", "X"}, {"pid", kPid}, {"tid", kExecutorTid + st.worker}, {"name", st.node_name.empty() ? st.op_type : st.node_name},
                        {"cat", st.op_type}, {"ts", ts}, {"dur", st.ms * 1e3}, {"args", args}});
      end_us = std::max(end_us, st.start_ms * 1e3 + st.ms * 1e3);
    }
    events.push_back({{"ph", "X"}, {"pid", kPid}, {"tid", kRunsTid}, {"name", fmt::format("run {}", r + 1)},
                      {"cat", "run"}, {"ts", offset_us}, {"dur", end_us}, {"args", {{"steps", run.size()}}}});
    offset_us += end_us + 100;  // a visible gap between runs
  }
  return json{{"traceEvents", events}, {"displayTimeUnit", "ms"}};
}

}  // namespace hwopt::profile
