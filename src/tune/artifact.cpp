#include "tune/artifact.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/utc_time.h"
#include "hw/cpu_info.h"
#include "onnx/export.h"
#include "onnx/import.h"

namespace hwopt::tune {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kModelFile = "model.onnx";
constexpr const char* kPlanFile = "plan.json";
constexpr const char* kLogFile = "tune.json";
constexpr uintmax_t kMaxPlanBytes = uintmax_t{256} << 20;  // ranges of a large model are a few MiB
constexpr int kMaxThreads = 4096;

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// A name next to `out` that no other writer (thread or process) uses.
fs::path sibling(const fs::path& out, const char* what) {
  static std::atomic<unsigned> counter{0};
  return out.parent_path() /
         fmt::format(".{}.{}-{}-{}", out.filename().string(), what, static_cast<long>(::getpid()), counter++);
}

// Leftovers of a write_artifact whose process died (".NAME.tmp-PID-N", ".NAME.old-PID-N" with
// PID no longer running): temporary directories are removed; an aside copy of the previous
// artifact is put back if nothing took its place, else removed.
void clean_stale_siblings(const fs::path& out) {
  std::error_code ec;
  const std::string name = out.filename().string();
  std::vector<std::pair<fs::path, bool>> stale;  // path, is an aside copy
  for (const auto& e : fs::directory_iterator(out.parent_path(), ec)) {
    const std::string f = e.path().filename().string();
    for (const char* what : {"tmp", "old"}) {
      const std::string prefix = fmt::format(".{}.{}-", name, what);
      if (f.rfind(prefix, 0) != 0) continue;
      long pid = 0;
      try {
        pid = std::stol(f.substr(prefix.size()));
      } catch (const std::exception&) {
        continue;
      }
      if (pid > 0 && pid != static_cast<long>(::getpid()) && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
        stale.emplace_back(e.path(), what[0] == 'o');
    }
  }
  for (const auto& [path, aside] : stale) {
    if (aside && !fs::exists(fs::symlink_status(out, ec))) {
      fs::rename(path, out, ec);
      if (!ec) continue;
    }
    fs::remove_all(path, ec);
  }
}

Status io_error(const std::string& what, const fs::path& path, const std::error_code& ec) {
  return Status(StatusCode::io_error, fmt::format("{} '{}': {}", what, path.string(), ec.message()));
}

// Removes the temporary directory on every path out of write_artifact that does not commit it.
struct TempDir {
  fs::path path;
  bool keep = false;
  ~TempDir() {
    if (keep || path.empty()) return;
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

Status write_text(const fs::path& path, const std::string& text) { return write_file_atomic(path.string(), text); }

// The output directory as given, without trailing separators ("OUT/" -> "OUT"), made absolute.
Expected<fs::path> normalize_out_dir(const std::string& out_dir) {
  std::string s = out_dir;
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  if (s.empty()) return Status(StatusCode::invalid_argument, "the artifact directory (-o) is empty");
  std::error_code ec;
  fs::path p = fs::absolute(fs::path(s), ec).lexically_normal();
  if (ec) return io_error("cannot resolve the artifact directory", s, ec);
  while (p.filename().empty() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
  const std::string name = p.filename().string();
  if (name.empty() || name == "." || name == "..")
    return Status(StatusCode::invalid_argument,
                  fmt::format("'{}' cannot be the artifact directory: name a directory to create, e.g. out/tuned", out_dir));
  return p;
}

// An existing out_dir may be replaced only if it is a previous artifact (or empty).
Status check_replaceable(const fs::path& out) {
  std::error_code ec;
  const auto st = fs::symlink_status(out, ec);
  if (ec || !fs::exists(st)) return Status::OK();
  if (!fs::is_directory(st))
    return Status(StatusCode::invalid_argument,
                  fmt::format("'{}' exists and is not a directory; the artifact needs a directory there", out.string()));
  if (fs::exists(out / kPlanFile) || fs::exists(out / kLogFile) || fs::is_empty(out, ec)) return Status::OK();
  return Status(StatusCode::invalid_argument,
                fmt::format("'{}' exists and is not a hwopt tune artifact (no plan.json or tune.json); refusing to replace "
                            "it: choose another output directory or remove it",
                            out.string()));
}

json figures_json(const Candidate& c) {
  return {{"median_ms", number(c.median_ms)},       {"p99_ms", number(c.p99_ms)},
          {"ci_low_ms", number(c.ci_low_ms)},       {"ci_high_ms", number(c.ci_high_ms)},
          {"cov", number(c.cov)},                   {"noisy", c.noisy},
          {"throughput", number(c.throughput)},     {"memory_mb", number(c.memory_mb)},
          {"validated", c.validated},               {"top1_agreement", number(c.top1_agreement)},
          {"accuracy_drop", number(c.accuracy_drop)}, {"cosine", number(c.cosine)},
          {"accuracy_ok", c.accuracy_ok},           {"accuracy_note", c.accuracy_note},
          {"meets", c.meets},                       {"misses", c.misses}};
}

Status plan_error(const fs::path& file, const std::string& field, const std::string& what) {
  return Status(StatusCode::invalid_argument, fmt::format("{}: {} {}", file.string(), field, what));
}

Expected<json> read_plan_file(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    return Status(StatusCode::not_found, fmt::format("'{}' does not exist: not a hwopt tune artifact", file.string()));
  const uintmax_t size = fs::file_size(file, ec);
  if (ec) return io_error("cannot read", file, ec);
  if (size > kMaxPlanBytes)
    return Status(StatusCode::invalid_argument,
                  fmt::format("'{}' is {} bytes, over the {} MiB a plan may have", file.string(), size, kMaxPlanBytes >> 20));
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) return Status(StatusCode::io_error, fmt::format("cannot read '{}'", file.string()));
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    return Status(StatusCode::invalid_argument, fmt::format("{}: not valid JSON: {}", file.string(), e.what()));
  }
}

// Reads plan.json's "session" object into SessionOptions, naming the field at fault.
Status read_session(const fs::path& file, const json& s, SessionOptions& o) {
  if (!s.is_object()) return plan_error(file, "session", "must be an object");
  static const std::set<std::string> kBackends{"cpu", "reference"};
  static const std::set<std::string> kPrecisions{"fp32", "bf16", "int8", "int8-dynamic"};
  auto backend = s.find("backend");
  if (backend == s.end() || !backend->is_string() || !kBackends.count(backend->get<std::string>()))
    return plan_error(file, "session.backend", "must be \"cpu\" or \"reference\"");
  o.backend = backend->get<std::string>();
  auto threads = s.find("threads");
  if (threads == s.end() || !threads->is_number_integer() || threads->get<int64_t>() < 0 ||
      threads->get<int64_t>() > kMaxThreads)
    return plan_error(file, "session.threads", fmt::format("must be an integer from 0 to {}", kMaxThreads));
  o.threads = static_cast<int>(threads->get<int64_t>());
  auto precision = s.find("precision");
  if (precision == s.end() || !precision->is_string() || !kPrecisions.count(precision->get<std::string>()))
    return plan_error(file, "session.precision", "must be one of fp32, bf16, int8, int8-dynamic");
  o.precision = precision->get<std::string>();
  o.optimize = false;
  if (auto opt = s.find("optimize"); opt != s.end()) {
    if (!opt->is_boolean()) return plan_error(file, "session.optimize", "must be true or false");
    o.optimize = opt->get<bool>();
  }
  o.layout = "blocked";
  if (auto layout = s.find("layout"); layout != s.end()) {
    const auto& layouts = layout_names();
    if (!layout->is_string() ||
        std::find(layouts.begin(), layouts.end(), layout->get<std::string>()) == layouts.end())
      return plan_error(file, "session.layout", fmt::format("must be one of {}", fmt::join(layouts, ", ")));
    o.layout = layout->get<std::string>();
  }
  o.conv_algorithm = "winograd";  // plans written before the field existed: the default
  if (auto algorithm = s.find("conv_algorithm"); algorithm != s.end()) {
    const auto& algorithms = conv_algorithm_names();
    if (!algorithm->is_string() ||
        std::find(algorithms.begin(), algorithms.end(), algorithm->get<std::string>()) == algorithms.end())
      return plan_error(file, "session.conv_algorithm", fmt::format("must be one of {}", fmt::join(algorithms, ", ")));
    o.conv_algorithm = algorithm->get<std::string>();
  }
  o.fp32_nodes.clear();
  if (auto nodes = s.find("fp32_nodes"); nodes != s.end()) {
    if (!nodes->is_array()) return plan_error(file, "session.fp32_nodes", "must be an array of node names");
    for (size_t i = 0; i < nodes->size(); ++i) {
      if (!(*nodes)[i].is_string()) return plan_error(file, fmt::format("session.fp32_nodes[{}]", i), "must be a string");
      o.fp32_nodes.push_back((*nodes)[i].get<std::string>());
    }
  }
  o.activation_ranges.clear();
  if (auto ranges = s.find("activation_ranges"); ranges != s.end()) {
    if (!ranges->is_object())
      return plan_error(file, "session.activation_ranges", "must be an object {value: {min, max, threshold}}");
    for (const auto& [name, r] : ranges->items()) {
      const std::string field = fmt::format("session.activation_ranges['{}']", name);
      if (!r.is_object()) return plan_error(file, field, "must be an object {min, max, threshold}");
      ActivationRange ar;
      for (auto [key, dst] : {std::pair<const char*, float*>{"min", &ar.min}, {"max", &ar.max}, {"threshold", &ar.threshold}}) {
        auto v = r.find(key);
        if (v == r.end() || !v->is_number() || !std::isfinite(v->get<double>()))
          return plan_error(file, field + "." + key, "must be a finite number");
        *dst = v->get<float>();
      }
      if (ar.min > ar.max || ar.threshold < 0)
        return plan_error(file, field, fmt::format("is invalid (min {}, max {}, threshold {})", ar.min, ar.max, ar.threshold));
      o.activation_ranges.emplace(name, ar);
    }
  }
  return Status::OK();
}

// Loads the best configuration and exports the graph it runs (with hwopt's fused ops) as ONNX
// bytes, and makes plan.json; the session and models are released on return.
Status export_best(const TuneResult& result, const SessionOptions& best_options, std::string& model_bytes, json& plan) {
  auto session = Session::load(result.model_path, best_options);
  if (!session.ok())
    return Status(session.status().code(), fmt::format("loading the best configuration ({}) of '{}': {}",
                                                       result.candidates[result.best].config.key(), result.model_path,
                                                       session.status().message()));
  // The source's ir_version and opsets, with the domains the passes added (com.microsoft, ai.hwopt).
  onnx_import::ImportOptions no_inference;
  no_inference.infer_shapes = false;
  auto source = onnx_import::load_model(result.model_path, no_inference);
  if (!source.ok()) return source.status();
  onnx_import::Model optimized;
  optimized.graph = std::make_shared<ir::Graph>((*session)->graph());
  optimized.ir_version = source->ir_version;
  optimized.opsets = source->opsets;
  for (const auto& [domain, version] : optimized.graph->opsets) optimized.opsets[domain] = version;
  HWOPT_ASSIGN_OR_RETURN(model_bytes, onnx_import::save_model_to_bytes(optimized));
  plan = make_plan_json(result, best_options, (*session)->plan_steps());
  return Status::OK();
}

}  // namespace

json make_plan_json(const TuneResult& result, const SessionOptions& options, const std::vector<PlanStepInfo>& model_steps) {
  const HardwareInfo hw = result.hardware.fingerprint.empty() ? this_machine() : result.hardware;
  const bool have_best = result.best >= 0 && static_cast<size_t>(result.best) < result.candidates.size();
  const Candidate best = have_best ? result.candidates[result.best] : Candidate{};
  // The search's calibrated ranges, overridden by any the options carry explicitly.
  std::map<std::string, ActivationRange> ranges = options.activation_ranges;
  ranges.insert(result.activation_ranges.begin(), result.activation_ranges.end());
  json jranges = json::object();
  for (const auto& [name, r] : ranges) jranges[name] = {{"min", r.min}, {"max", r.max}, {"threshold", r.threshold}};
  json steps = json::array();
  for (const auto& s : model_steps) steps.push_back({{"node", s.node}, {"op_type", s.op_type}, {"implementation", s.implementation}});
  return {{"schema", kPlanSchema},
          {"model", kModelFile},
          {"source_model", result.model_path},
          {"hardware",
           {{"fingerprint", hw.fingerprint},
            {"cpu_model", hw.cpu_model},
            {"physical_cores", hw.physical_cores},
            {"features", hw.features}}},
          {"config", to_json(best.config)},
          {"session",
           {{"backend", options.backend},
            {"threads", options.threads},
            {"precision", options.precision},
            {"optimize", false},
            {"layout", options.layout},
            {"conv_algorithm", options.conv_algorithm},
            {"fp32_nodes", options.fp32_nodes},
            {"activation_ranges", std::move(jranges)}}},
          {"measured", figures_json(best)},
          {"requirements", to_json(result.requirements)},
          {"met", result.met},
          {"steps", std::move(steps)},
          {"created", utc_now_iso8601()}};
}

Status write_artifact(const std::string& out_dir, const TuneResult& result, const SessionOptions& best_options,
                      const std::vector<std::pair<std::string, std::string>>& documents) {
  if (result.best < 0 || static_cast<size_t>(result.best) >= result.candidates.size())
    return Status(StatusCode::invalid_argument,
                  fmt::format("no artifact to write: the result names no best candidate (best = {}, {} candidates)",
                              result.best, result.candidates.size()));
  HWOPT_ASSIGN_OR_RETURN(fs::path out, normalize_out_dir(out_dir));
  HWOPT_RETURN_IF_ERROR(check_replaceable(out));

  // Everything that can fail without touching the disk comes first.
  std::string model_bytes;
  json plan;
  HWOPT_RETURN_IF_ERROR(export_best(result, best_options, model_bytes, plan));

  std::error_code ec;
  fs::create_directories(out.parent_path(), ec);
  if (ec) return io_error("cannot create the parent of the artifact directory", out.parent_path(), ec);
  clean_stale_siblings(out);
  TempDir tmp{sibling(out, "tmp")};
  if (!fs::create_directory(tmp.path, ec) || ec) {
    tmp.path.clear();
    return io_error("cannot create a temporary directory next to the artifact", out.parent_path(), ec);
  }
  HWOPT_RETURN_IF_ERROR(write_text(tmp.path / kModelFile, model_bytes));
  // The artifact must run as written: load the exported model the way `hwopt run OUT/` will.
  {
    SessionOptions check = best_options;
    check.optimize = false;
    check.activation_ranges.insert(result.activation_ranges.begin(), result.activation_ranges.end());
    auto reloaded = Session::load((tmp.path / kModelFile).string(), check);
    if (!reloaded.ok())
      return Status(StatusCode::internal,
                    fmt::format("the exported model does not load with the tuned options: {}", reloaded.status().to_string()));
  }
  HWOPT_RETURN_IF_ERROR(write_text(tmp.path / kPlanFile, plan.dump(2) + "\n"));
  HWOPT_RETURN_IF_ERROR(write_text(tmp.path / kLogFile, to_json(result).dump(2) + "\n"));
  for (const auto& [name, text] : documents) {
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == ".." || name == kModelFile ||
        name == kPlanFile || name == kLogFile)
      return Status(StatusCode::invalid_argument, fmt::format("artifact document name '{}' is not allowed", name));
    HWOPT_RETURN_IF_ERROR(write_text(tmp.path / name, text));
  }

  // Swap: the previous artifact moves aside, the new one takes its name, then the old one goes.
  fs::path old;
  if (fs::exists(fs::symlink_status(out, ec))) {
    old = sibling(out, "old");
    fs::rename(out, old, ec);
    if (ec) return io_error("cannot move the previous artifact aside", out, ec);
  }
  fs::rename(tmp.path, out, ec);
  if (ec) {
    const Status st = io_error("cannot move the new artifact into place at", out, ec);
    if (!old.empty()) {
      std::error_code back;
      fs::rename(old, out, back);
    }
    return st;
  }
  tmp.keep = true;
  if (!old.empty()) fs::remove_all(old, ec);  // the new artifact is in place; a leftover is only litter
  return Status::OK();
}

bool is_artifact_dir(const std::string& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) && fs::is_regular_file(fs::path(dir) / kPlanFile, ec);
}

Expected<LoadedPlan> load_plan(const std::string& dir, bool relower) {
  const fs::path file = fs::path(dir) / kPlanFile;
  HWOPT_ASSIGN_OR_RETURN(json j, read_plan_file(file));
  if (!j.is_object()) return plan_error(file, "the document", "must be a JSON object");
  auto schema = j.find("schema");
  if (schema == j.end() || !schema->is_string() || schema->get<std::string>() != kPlanSchema)
    return plan_error(file, "schema", fmt::format("must be \"{}\"{}", kPlanSchema,
                                                  schema != j.end() && schema->is_string()
                                                      ? fmt::format(" (it is \"{}\")", schema->get<std::string>())
                                                      : ""));
  LoadedPlan out;
  auto model = j.find("model");
  if (model == j.end() || !model->is_string() || model->get<std::string>().empty())
    return plan_error(file, "model", "must name the model file inside the artifact directory");
  const fs::path model_rel(model->get<std::string>());
  for (const auto& part : model_rel)
    if (part == "..")
      return plan_error(file, "model", fmt::format("'{}' must stay inside the artifact directory", model_rel.string()));
  if (model_rel.is_absolute())
    return plan_error(file, "model", fmt::format("'{}' must be a path inside the artifact directory", model_rel.string()));
  const fs::path model_path = fs::path(dir) / model_rel;
  std::error_code ec;
  if (!fs::is_regular_file(model_path, ec))
    return Status(StatusCode::not_found, fmt::format("{}: model '{}' does not exist", file.string(), model_path.string()));
  out.model_path = model_path.string();

  auto hardware = j.find("hardware");
  if (hardware == j.end() || !hardware->is_object()) return plan_error(file, "hardware", "must be an object");
  auto fingerprint = hardware->find("fingerprint");
  if (fingerprint == hardware->end() || !fingerprint->is_string() || fingerprint->get<std::string>().empty())
    return plan_error(file, "hardware.fingerprint", "must be a non-empty string");
  std::string tuned_cpu = "an unknown CPU";
  if (auto m = hardware->find("cpu_model"); m != hardware->end() && m->is_string() && !m->get<std::string>().empty())
    tuned_cpu = m->get<std::string>();

  auto config = j.find("config");
  if (config == j.end() || !config->is_object()) return plan_error(file, "config", "must be an object");
  try {
    out.config = config_from_json(*config);
  } catch (const json::exception& e) {
    return plan_error(file, "config", fmt::format("is invalid: {}", e.what()));
  }
  auto session = j.find("session");
  if (session == j.end()) return plan_error(file, "session", "is missing");
  HWOPT_RETURN_IF_ERROR(read_session(file, *session, out.options));

  const hw::CpuInfo cpu = hw::detect_cpu();
  const std::string here = cpu.fingerprint();
  const std::string there = fingerprint->get<std::string>();
  if (here != there) {
    const std::string this_cpu = cpu.model.empty() ? "an unknown CPU" : cpu.model;
    if (!relower)
      return Status(StatusCode::invalid_argument,
                    fmt::format("plan.json was tuned for {} (fingerprint {}); this machine is {} ({}): re-tune, or pass "
                                "--relower to run its configuration re-lowered for this CPU",
                                tuned_cpu, there, this_cpu, here));
    out.notes.push_back(fmt::format("plan.json was tuned for {} (fingerprint {}); re-lowered for this machine, {} ({})",
                                    tuned_cpu, there, this_cpu, here));
    if (cpu.physical_cores > 0 && out.options.threads > cpu.physical_cores) {
      out.notes.push_back(fmt::format("threads {} -> {}: this machine has {} physical cores", out.options.threads,
                                      cpu.physical_cores, cpu.physical_cores));
      out.options.threads = cpu.physical_cores;
    }
    if (out.options.precision == "bf16" && !cpu.has("avx512_bf16") && !cpu.has("amx_bf16")) {
      out.notes.push_back("precision bf16 -> fp32: this CPU has no native BF16 arithmetic (AVX-512 BF16 or AMX)");
      out.options.precision = "fp32";
    }
  }
  out.plan = std::move(j);
  return out;
}

}  // namespace hwopt::tune
