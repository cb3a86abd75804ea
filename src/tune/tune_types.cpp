#include "tune/tune_types.h"

#include <fmt/format.h>

#include <cmath>

#include "hw/cpu_info.h"

namespace hwopt::tune {

namespace {

using json = nlohmann::json;

// Non-finite figures (a failed measurement) are written as null, which JSON can hold.
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// A missing key or null keeps the default; a value of the wrong type throws (callers catch).
template <typename T>
void read(const json& j, const char* key, T& dst) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  dst = it->template get<T>();
}

json ranges_json(const std::map<std::string, ActivationRange>& ranges) {
  json j = json::object();
  for (const auto& [name, r] : ranges) j[name] = {{"min", r.min}, {"max", r.max}, {"threshold", r.threshold}};
  return j;
}

json op_ms_json(const std::map<std::string, double>& m) {
  json j = json::object();
  for (const auto& [op, ms] : m) j[op] = number(ms);
  return j;
}

}  // namespace

std::string Config::key() const {
  std::string p = precision;
  std::vector<std::string> details;
  if (!calibration_method.empty()) details.push_back(calibration_method);
  if (!fp32_nodes.empty()) details.push_back(fmt::format("+{} fp32", fp32_nodes.size()));
  if (!details.empty()) {
    p += "(";
    for (size_t i = 0; i < details.size(); ++i) p += (i ? "," : "") + details[i];
    p += ")";
  }
  std::string l = layout == "blocked" ? "" : layout == "channels_last" ? " nhwc" : " layout-" + layout;
  if (conv_algorithm != "winograd") l += " " + conv_algorithm + "-conv";
  const std::string srv =
      server_max_batch > 0
          ? fmt::format(" server(delay {:g} ms{})", server_queue_delay_ms,
                        server_workers > 1 ? fmt::format(", {} workers", server_workers) : std::string())
          : "";
  std::string off;
  for (const auto& pass : disabled_passes) off += " -" + pass;
  return fmt::format("{} {}t b{}{}{}{}", p, threads, batch, l, off, srv);
}

HardwareInfo this_machine() {
  const hw::CpuInfo cpu = hw::detect_cpu();
  HardwareInfo h;
  h.fingerprint = cpu.fingerprint();
  h.cpu_model = cpu.model;
  h.physical_cores = cpu.physical_cores;
  for (const auto& f : hw::feature_names())
    if (cpu.has(f)) h.features.push_back(f);
  return h;
}

const char* goal_name(Goal goal) {
  switch (goal) {
    case Goal::latency: return "latency";
    case Goal::throughput: return "throughput";
  }
  return "latency";
}

json to_json(const Config& c) {
  return {{"key", c.key()},
          {"precision", c.precision},
          {"calibration_method", c.calibration_method},
          {"fp32_nodes", c.fp32_nodes},
          {"threads", c.threads},
          {"batch", c.batch},
          {"layout", c.layout},
          {"conv_algorithm", c.conv_algorithm},
          {"disabled_passes", c.disabled_passes},
          {"server_max_batch", c.server_max_batch},
          {"server_queue_delay_ms", number(c.server_queue_delay_ms)},
          {"server_workers", c.server_workers}};
}

Config config_from_json(const json& j) {
  if (!j.is_object()) throw json::type_error::create(302, "config must be an object", &j);
  Config c;
  read(j, "precision", c.precision);
  read(j, "calibration_method", c.calibration_method);
  read(j, "fp32_nodes", c.fp32_nodes);
  read(j, "threads", c.threads);
  read(j, "batch", c.batch);
  read(j, "layout", c.layout);
  read(j, "conv_algorithm", c.conv_algorithm);
  read(j, "disabled_passes", c.disabled_passes);
  read(j, "server_max_batch", c.server_max_batch);
  read(j, "server_queue_delay_ms", c.server_queue_delay_ms);
  read(j, "server_workers", c.server_workers);
  return c;
}

json to_json(const Candidate& c) {
  return {{"config", to_json(c.config)},
          {"step", c.step},
          {"measured", c.measured},
          {"error", c.error},
          {"median_ms", number(c.median_ms)},
          {"p99_ms", number(c.p99_ms)},
          {"ci_low_ms", number(c.ci_low_ms)},
          {"ci_high_ms", number(c.ci_high_ms)},
          {"cov", number(c.cov)},
          {"noisy", c.noisy},
          {"throughput", number(c.throughput)},
          {"server_mean_batch", number(c.server_mean_batch)},
          {"server_rate_resolution", number(c.server_rate_resolution)},
          {"memory_mb", number(c.memory_mb)},
          {"validated", c.validated},
          {"top1_agreement", number(c.top1_agreement)},
          {"accuracy_drop", number(c.accuracy_drop)},
          {"cosine", number(c.cosine)},
          {"accuracy_ok", c.accuracy_ok},
          {"accuracy_note", c.accuracy_note},
          {"meets", c.meets},
          {"misses", c.misses},
          {"decision", c.decision},
          {"reason", c.reason},
          {"seconds", number(c.seconds)},
          {"resumed", c.resumed}};
}

Candidate candidate_from_json(const json& j) {
  if (!j.is_object()) throw json::type_error::create(302, "candidate must be an object", &j);
  Candidate c;
  if (auto it = j.find("config"); it != j.end()) c.config = config_from_json(*it);
  read(j, "step", c.step);
  read(j, "measured", c.measured);
  read(j, "error", c.error);
  read(j, "median_ms", c.median_ms);
  read(j, "p99_ms", c.p99_ms);
  read(j, "ci_low_ms", c.ci_low_ms);
  read(j, "ci_high_ms", c.ci_high_ms);
  read(j, "cov", c.cov);
  read(j, "noisy", c.noisy);
  read(j, "throughput", c.throughput);
  read(j, "server_mean_batch", c.server_mean_batch);
  read(j, "server_rate_resolution", c.server_rate_resolution);
  read(j, "memory_mb", c.memory_mb);
  read(j, "validated", c.validated);
  read(j, "top1_agreement", c.top1_agreement);
  read(j, "accuracy_drop", c.accuracy_drop);
  read(j, "cosine", c.cosine);
  read(j, "accuracy_ok", c.accuracy_ok);
  read(j, "accuracy_note", c.accuracy_note);
  read(j, "meets", c.meets);
  read(j, "misses", c.misses);
  read(j, "decision", c.decision);
  read(j, "reason", c.reason);
  read(j, "seconds", c.seconds);
  read(j, "resumed", c.resumed);
  return c;
}

json to_json(const Requirements& r) {
  return {{"goal", goal_name(r.goal)},
          {"max_latency_ms", number(r.max_latency_ms)},
          {"min_throughput", number(r.min_throughput)},
          {"max_memory_mb", number(r.max_memory_mb)},
          {"max_accuracy_drop", number(r.max_accuracy_drop)},
          {"min_cosine", number(r.min_cosine)},
          {"min_batch", r.min_batch},
          {"max_batch", r.max_batch},
          {"max_threads", r.max_threads},
          {"time_budget_s", number(r.time_budget_s)},
          {"exhaustive", r.exhaustive},
          {"preset", r.preset},
          {"server", r.server}};
}

json to_json(const TuneResult& r) {
  json candidates = json::array();
  for (const auto& c : r.candidates) candidates.push_back(to_json(c));
  return {{"schema", "hwopt-tune/1"},
          {"model_path", r.model_path},
          {"requirements", to_json(r.requirements)},
          {"hardware",
           {{"fingerprint", r.hardware.fingerprint},
            {"cpu_model", r.hardware.cpu_model},
            {"physical_cores", r.hardware.physical_cores},
            {"features", r.hardware.features}}},
          {"candidates", std::move(candidates)},
          {"best", r.best},
          {"met", r.met},
          {"pareto", r.pareto},
          {"summary", r.summary},
          {"limits", r.limits},
          {"confirmation", r.confirmation},
          {"warnings", r.warnings},
          {"activation_ranges", ranges_json(r.activation_ranges)},
          {"op_ms_before", op_ms_json(r.op_ms_before)},
          {"op_ms_after", op_ms_json(r.op_ms_after)},
          {"elapsed_s", number(r.elapsed_s)},
          {"interrupted", r.interrupted}};
}

}  // namespace hwopt::tune
