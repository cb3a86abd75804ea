// The tuner's data model in JSON, its artifact (model.onnx, plan.json, tune.json, reports; written
// atomically; refused on another CPU unless re-lowered) and the report's figures.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "hw/cpu_info.h"
#include "quant/calibrate.h"
#include "report/tune_report.h"
#include "tune/artifact.h"
#include "tune/tune_types.h"

namespace hwopt::tune {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path kRoot = fs::path(__FILE__).parent_path().parent_path().parent_path();
const fs::path kModel = kRoot / "models/real/fmnist_cnn.onnx";

// A fresh directory under the system's temp directory, removed with everything in it.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    static int counter = 0;
    path = fs::temp_directory_path() / fmt::format("hwopt_tune_artifact_{}_{}", static_cast<long>(::getpid()), counter++);
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}


Candidate candidate(const std::string& step, const std::string& precision, int threads, int64_t batch, double median_ms,
                    double p99_ms, const std::string& decision) {
  Candidate c;
  c.config.precision = precision;
  c.config.threads = threads;
  c.config.batch = batch;
  c.step = step;
  c.measured = true;
  c.median_ms = median_ms;
  c.p99_ms = p99_ms;
  c.ci_low_ms = median_ms * 0.98;
  c.ci_high_ms = median_ms * 1.03;
  c.cov = 0.021;
  c.throughput = static_cast<double>(batch) * 1000.0 / median_ms;
  c.memory_mb = 1.23456 * static_cast<double>(batch);
  c.decision = decision;
  c.reason = fmt::format("{} | measured", decision);  // a '|' the Markdown table must escape
  return c;
}

// A hand-made result for the fmnist CNN: a baseline, a rejected precision, threads, a batch
// sweep and a candidate that failed; the last batch candidate is the best.
TuneResult make_result(const std::string& model) {
  TuneResult r;
  r.model_path = model;
  r.requirements.goal = Goal::throughput;
  r.requirements.min_throughput = 1000;
  r.requirements.max_latency_ms = 50;
  r.requirements.min_batch = 1;
  r.requirements.max_batch = 16;
  r.requirements.preset = "batch";
  r.hardware = this_machine();
  r.candidates.push_back(candidate("baseline", "fp32", 1, 1, 0.43219, 0.51287, "kept"));
  Candidate bf16 = candidate("precision", "bf16", 1, 1, 0.38871, 0.40049, "rejected");
  bf16.validated = true;
  bf16.top1_agreement = 97.5;
  bf16.cosine = 0.99871;
  bf16.accuracy_ok = false;
  bf16.reason = "top-1 agreement 97.50 % is below 99 %";
  r.candidates.push_back(bf16);
  r.candidates.push_back(candidate("threads", "fp32", 2, 1, 0.31234, 0.36666, "kept"));
  r.candidates.push_back(candidate("batch", "fp32", 2, 4, 0.91111, 1.04449, "kept"));
  r.candidates.push_back(candidate("batch", "fp32", 2, 16, 3.33337, 4.00051, "kept"));
  Candidate failed;
  failed.config.precision = "int8";
  failed.config.calibration_method = "entropy";
  failed.config.threads = 2;
  failed.config.batch = 16;
  failed.step = "precision";
  failed.error = "calibration failed";
  failed.decision = "rejected";
  r.candidates.push_back(failed);
  r.best = 4;
  r.met = true;
  r.pareto = {2, 4};
  r.summary = "Threads and batching helped; bf16 lost accuracy.";
  r.op_ms_before = {{"Conv", 0.2}, {"Gemm", 0.1}, {"Relu", 0.05}};
  r.op_ms_after = {{"FusedConv", 0.12}, {"Gemm", 0.08}};
  r.elapsed_s = 12.5;
  for (auto& c : r.candidates) c.meets = c.measured && c.error.empty() && c.throughput >= 1000;
  return r;
}

SessionOptions fp32_options() {
  SessionOptions so;
  so.backend = "cpu";
  so.threads = 2;
  so.optimize = true;
  so.precision = "fp32";
  return so;
}

std::map<std::string, Tensor> random_inputs(const Session& s, int64_t batch, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(0.f, 1.f);
  std::map<std::string, Tensor> inputs;
  for (const auto& info : s.inputs()) {
    Shape shape;
    for (int64_t d : info.shape) shape.push_back(d < 0 ? batch : d);
    Tensor t(DType::float32, shape);
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
    inputs.emplace(info.name, std::move(t));
  }
  return inputs;
}

// Runs `a` and `b` on the same random inputs and expects the same outputs within `tol`.
void expect_same_outputs(const Session& a, const Session& b, float tol) {
  auto inputs = random_inputs(a, 3, 7);
  auto ra = a.run(inputs);
  auto rb = b.run(inputs);
  ASSERT_TRUE(ra.ok()) << ra.status().to_string();
  ASSERT_TRUE(rb.ok()) << rb.status().to_string();
  ASSERT_EQ(ra->size(), rb->size());
  for (const auto& [name, ta] : *ra) {
    ASSERT_TRUE(rb->count(name)) << name;
    const Tensor& tb = rb->at(name);
    ASSERT_EQ(ta.shape(), tb.shape()) << name;
    const Tensor ca = ta.contiguous(), cb = tb.contiguous();
    for (int64_t i = 0; i < ca.numel(); ++i)
      ASSERT_NEAR(ca.element_as_double(i), cb.element_as_double(i), tol) << name << " at " << i;
  }
}

// The options a plan must give back: what the best configuration ran, without re-optimizing.
void expect_same_options(const SessionOptions& want, const SessionOptions& got) {
  EXPECT_EQ(got.backend, want.backend);
  EXPECT_EQ(got.threads, want.threads);
  EXPECT_EQ(got.precision, want.precision);
  EXPECT_FALSE(got.optimize);
  EXPECT_EQ(got.fp32_nodes, want.fp32_nodes);
  EXPECT_EQ(got.layout, want.layout);
  EXPECT_EQ(got.conv_algorithm, want.conv_algorithm);
  ASSERT_EQ(got.activation_ranges.size(), want.activation_ranges.size());
  for (const auto& [name, r] : want.activation_ranges) {
    ASSERT_TRUE(got.activation_ranges.count(name)) << name;
    const ActivationRange& g = got.activation_ranges.at(name);
    EXPECT_EQ(g.min, r.min) << name;
    EXPECT_EQ(g.max, r.max) << name;
    EXPECT_EQ(g.threshold, r.threshold) << name;
  }
}

TEST(TuneTypes, ConfigKeyIsShortAndNamesEveryDimension) {
  Config c;
  c.threads = 2;
  EXPECT_EQ(c.key(), "fp32 2t b1");
  c.precision = "int8";
  c.calibration_method = "entropy";
  c.fp32_nodes = {"conv1", "fc"};
  c.batch = 8;
  EXPECT_EQ(c.key(), "int8(entropy,+2 fp32) 2t b8");
  c.calibration_method.clear();
  c.precision = "bf16";
  c.fp32_nodes = {"fc"};
  EXPECT_EQ(c.key(), "bf16(+1 fp32) 2t b8");
  c.disabled_passes = {"fuse_conv_depthwise"};
  EXPECT_EQ(c.key(), "bf16(+1 fp32) 2t b8 -fuse_conv_depthwise");
  c.layout = "channels_last";
  c.conv_algorithm = "direct";
  EXPECT_EQ(c.key(), "bf16(+1 fp32) 2t b8 nhwc direct-conv -fuse_conv_depthwise");
  EXPECT_STREQ(goal_name(Goal::latency), "latency");
  EXPECT_STREQ(goal_name(Goal::throughput), "throughput");
}

TEST(TuneTypes, ConfigAndCandidateRoundTripThroughJson) {
  Config c;
  c.precision = "int8";
  c.calibration_method = "percentile";
  c.fp32_nodes = {"a", "b/c"};
  c.threads = 3;
  c.batch = 32;
  c.disabled_passes = {"fuse_conv_depthwise"};
  c.layout = "any";
  c.conv_algorithm = "direct";
  const json jc = json::parse(to_json(c).dump());
  const Config c2 = config_from_json(jc);
  EXPECT_EQ(c2.precision, c.precision);
  EXPECT_EQ(c2.calibration_method, c.calibration_method);
  EXPECT_EQ(c2.fp32_nodes, c.fp32_nodes);
  EXPECT_EQ(c2.threads, c.threads);
  EXPECT_EQ(c2.batch, c.batch);
  EXPECT_EQ(c2.disabled_passes, c.disabled_passes);
  EXPECT_EQ(c2.layout, c.layout);
  EXPECT_EQ(c2.conv_algorithm, c.conv_algorithm);
  EXPECT_EQ(c2.key(), c.key());

  Candidate k = candidate("fallback", "int8", 3, 32, 1.234567, 2.345678, "kept");
  k.config = c;
  k.noisy = true;
  k.validated = true;
  k.top1_agreement = 99.25;
  k.accuracy_drop = 0.5;
  k.cosine = 0.999123;
  k.accuracy_ok = false;
  k.accuracy_note = "drop 0.5 pp";
  k.meets = true;
  k.misses = {"p99 2.346 ms > 2 ms"};
  k.error = "none really";
  k.seconds = 4.5;
  k.resumed = true;
  const Candidate k2 = candidate_from_json(json::parse(to_json(k).dump()));
  EXPECT_EQ(k2.config.key(), k.config.key());
  EXPECT_EQ(k2.step, k.step);
  EXPECT_EQ(k2.measured, k.measured);
  EXPECT_EQ(k2.error, k.error);
  EXPECT_EQ(k2.median_ms, k.median_ms);
  EXPECT_EQ(k2.p99_ms, k.p99_ms);
  EXPECT_EQ(k2.ci_low_ms, k.ci_low_ms);
  EXPECT_EQ(k2.ci_high_ms, k.ci_high_ms);
  EXPECT_EQ(k2.cov, k.cov);
  EXPECT_EQ(k2.noisy, k.noisy);
  EXPECT_EQ(k2.throughput, k.throughput);
  EXPECT_EQ(k2.memory_mb, k.memory_mb);
  EXPECT_EQ(k2.validated, k.validated);
  EXPECT_EQ(k2.top1_agreement, k.top1_agreement);
  EXPECT_EQ(k2.accuracy_drop, k.accuracy_drop);
  EXPECT_EQ(k2.cosine, k.cosine);
  EXPECT_EQ(k2.accuracy_ok, k.accuracy_ok);
  EXPECT_EQ(k2.accuracy_note, k.accuracy_note);
  EXPECT_EQ(k2.meets, k.meets);
  EXPECT_EQ(k2.misses, k.misses);
  EXPECT_EQ(k2.decision, k.decision);
  EXPECT_EQ(k2.reason, k.reason);
  EXPECT_EQ(k2.seconds, k.seconds);
  EXPECT_EQ(k2.resumed, k.resumed);

  // A figure that is not finite is written as null and read back as the default.
  Candidate nan_figure;
  nan_figure.median_ms = std::nan("");
  const json jn = to_json(nan_figure);
  EXPECT_TRUE(jn["median_ms"].is_null());
  EXPECT_EQ(candidate_from_json(jn).median_ms, 0);
  // Wrong types throw (the callers catch).
  EXPECT_THROW(config_from_json(json{{"threads", "two"}}), json::exception);
  EXPECT_THROW(candidate_from_json(json::array()), json::exception);

  const json jr = to_json(make_result("m.onnx"));
  EXPECT_EQ(jr["candidates"].size(), 6u);
  EXPECT_EQ(jr["best"], 4);
  EXPECT_EQ(jr["requirements"]["goal"], "throughput");
  EXPECT_EQ(jr["hardware"]["fingerprint"], hw::detect_cpu().fingerprint());
}

TEST(TuneArtifact, WritesAllFilesAndRunsAsTuned) {
  ScratchDir dir;
  const fs::path out = dir.path / "tuned";
  const TuneResult result = make_result(kModel.string());
  SessionOptions best = fp32_options();
  best.fp32_nodes = {"some_node"};  // recorded and given back even where fp32 ignores it
  best.layout = "channels_last";
  best.conv_algorithm = "direct";
  ASSERT_TRUE(write_artifact(out.string() + "/", result, best, report::tune_report_documents(result)).ok());

  for (const char* f : {"model.onnx", "plan.json", "tune.json", "report.md", "report.html"})
    EXPECT_TRUE(fs::is_regular_file(out / f)) << f;
  EXPECT_TRUE(fs::is_regular_file(out / "pareto.svg"));
  for (const auto& name : entries(dir.path)) EXPECT_EQ(name, "tuned") << "left behind: " << name;

  const json plan = json::parse(read_file(out / "plan.json"));
  EXPECT_EQ(plan["schema"], "hwopt-plan/1");
  EXPECT_EQ(plan["model"], "model.onnx");
  EXPECT_EQ(plan["source_model"], kModel.string());
  EXPECT_EQ(plan["hardware"]["fingerprint"], hw::detect_cpu().fingerprint());
  EXPECT_EQ(plan["config"]["batch"], 16);
  EXPECT_EQ(plan["session"]["optimize"], false);
  EXPECT_EQ(plan["session"]["conv_algorithm"], "direct");
  EXPECT_EQ(plan["measured"]["median_ms"], result.candidates[4].median_ms);
  EXPECT_EQ(plan["met"], true);
  EXPECT_FALSE(plan["steps"].empty());
  EXPECT_TRUE(plan["created"].get<std::string>().ends_with("Z"));
  const json log = json::parse(read_file(out / "tune.json"));
  EXPECT_EQ(log, json::parse(to_json(result).dump()));

  auto loaded = load_plan(out.string(), false);
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  EXPECT_TRUE(loaded->notes.empty());
  EXPECT_EQ(loaded->model_path, (out / "model.onnx").string());
  EXPECT_EQ(loaded->config.key(), result.candidates[4].config.key());
  expect_same_options(best, loaded->options);

  auto source = Session::load(kModel.string(), fp32_options());
  ASSERT_TRUE(source.ok()) << source.status().to_string();
  auto tuned = Session::load(loaded->model_path, loaded->options);
  ASSERT_TRUE(tuned.ok()) << tuned.status().to_string();
  EXPECT_EQ((*tuned)->num_nodes(), (*source)->num_nodes());  // already optimized: nothing to redo
  expect_same_outputs(**source, **tuned, 1e-5f);
}

TEST(TuneArtifact, Int8PlanCarriesItsRangesToTheExportedGraph) {
  ScratchDir dir;
  SessionOptions base = fp32_options();
  auto probe = Session::load(kModel.string(), base);
  ASSERT_TRUE(probe.ok()) << probe.status().to_string();
  std::vector<quant::Batch> batches;
  for (uint32_t i = 0; i < 3; ++i) batches.push_back(random_inputs(**probe, 4, 100 + i));
  auto table = quant::calibrate(kModel.string(), base, batches, quant::CalibrationOptions{});
  ASSERT_TRUE(table.ok()) << table.status().to_string();
  SessionOptions best = base;
  best.precision = "int8";
  best.activation_ranges = *table;
  TuneResult result = make_result(kModel.string());
  result.activation_ranges = *table;
  ASSERT_TRUE(write_artifact((dir.path / "int8").string(), result, best, report::tune_report_documents(result)).ok());

  auto loaded = load_plan((dir.path / "int8").string(), false);
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  expect_same_options(best, loaded->options);
  auto source = Session::load(kModel.string(), best);
  ASSERT_TRUE(source.ok()) << source.status().to_string();
  auto tuned = Session::load(loaded->model_path, loaded->options);
  ASSERT_TRUE(tuned.ok()) << tuned.status().to_string();
  EXPECT_EQ((*source)->describe_plan(), (*tuned)->describe_plan());  // the same int8 kernels chosen
  expect_same_outputs(**source, **tuned, 1e-4f);
}

TEST(TuneArtifact, FailuresLeaveNothingHalfWrittenAndKeepThePreviousArtifact) {
  ScratchDir dir;
  const TuneResult result = make_result(kModel.string());

  // The parent is a file: nothing can be created under it.
  write_file(dir.path / "not_a_dir", "x");
  Status st = write_artifact((dir.path / "not_a_dir" / "out").string(), result, fp32_options(),
                             report::tune_report_documents(result));
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(entries(dir.path), std::vector<std::string>{"not_a_dir"});

  const fs::path out = dir.path / "out";
  ASSERT_TRUE(write_artifact(out.string(), result, fp32_options(), report::tune_report_documents(result)).ok());
  const std::string plan_before = read_file(out / "plan.json");
  const auto files_before = entries(out);

  // A second write that fails (its model does not exist) leaves the first artifact as it was.
  TuneResult missing = result;
  missing.model_path = (dir.path / "no_such_model.onnx").string();
  st = write_artifact(out.string(), missing, fp32_options(), report::tune_report_documents(missing));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no_such_model.onnx"), std::string::npos) << st.message();
  EXPECT_EQ(read_file(out / "plan.json"), plan_before);
  EXPECT_EQ(entries(out), files_before);
  EXPECT_EQ(entries(dir.path), (std::vector<std::string>{"not_a_dir", "out"}));

  // No best candidate: nothing to write.
  TuneResult none = result;
  none.best = -1;
  EXPECT_EQ(write_artifact(out.string(), none, fp32_options()).code(), StatusCode::invalid_argument);
  EXPECT_EQ(read_file(out / "plan.json"), plan_before);

  // A successful rewrite replaces the artifact and leaves no aside copy.
  TuneResult second = result;
  second.summary = "second run";
  ASSERT_TRUE(write_artifact(out.string(), second, fp32_options(), report::tune_report_documents(second)).ok());
  EXPECT_NE(read_file(out / "report.md").find("second run"), std::string::npos);
  EXPECT_EQ(entries(dir.path), (std::vector<std::string>{"not_a_dir", "out"}));

  // What a killed writer left (its process is gone) is cleaned up by the next write.
  fs::create_directories(dir.path / ".out.tmp-999999999-0" / "half");
  ASSERT_TRUE(write_artifact(out.string(), second, fp32_options(), report::tune_report_documents(second)).ok());
  EXPECT_EQ(entries(dir.path), (std::vector<std::string>{"not_a_dir", "out"}));

  // A directory that is not an artifact is never replaced.
  const fs::path user = dir.path / "user_data";
  fs::create_directories(user);
  write_file(user / "precious.txt", "keep me");
  st = write_artifact(user.string(), result, fp32_options(), report::tune_report_documents(result));
  EXPECT_EQ(st.code(), StatusCode::invalid_argument);
  EXPECT_NE(st.message().find("not a hwopt tune artifact"), std::string::npos) << st.message();
  EXPECT_EQ(read_file(user / "precious.txt"), "keep me");
}

TEST(TuneArtifact, PlanFromAnotherCpuIsRefusedUnlessRelowered) {
  ScratchDir dir;
  const fs::path out = dir.path / "out";
  SessionOptions best = fp32_options();
  const TuneResult made = make_result(kModel.string());
  ASSERT_TRUE(write_artifact(out.string(), made, best, report::tune_report_documents(made)).ok());
  json plan = json::parse(read_file(out / "plan.json"));
  plan["hardware"]["fingerprint"] = "0123456789abcdef";
  plan["hardware"]["cpu_model"] = "Imaginary CPU 9000";
  plan["session"]["threads"] = 4096;
  write_file(out / "plan.json", plan.dump(2));

  auto refused = load_plan(out.string(), false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::invalid_argument);
  const hw::CpuInfo cpu = hw::detect_cpu();
  EXPECT_EQ(refused.status().message(),
            fmt::format("plan.json was tuned for Imaginary CPU 9000 (fingerprint 0123456789abcdef); this machine is {} "
                        "({}): re-tune, or pass --relower to run its configuration re-lowered for this CPU",
                        cpu.model.empty() ? "an unknown CPU" : cpu.model, cpu.fingerprint()));

  auto relowered = load_plan(out.string(), true);
  ASSERT_TRUE(relowered.ok()) << relowered.status().to_string();
  ASSERT_GE(relowered->notes.size(), 2u);
  EXPECT_NE(relowered->notes[0].find("re-lowered"), std::string::npos) << relowered->notes[0];
  EXPECT_NE(relowered->notes[1].find("threads 4096"), std::string::npos) << relowered->notes[1];
  EXPECT_EQ(relowered->options.threads, cpu.physical_cores);
  EXPECT_EQ(relowered->options.precision, "fp32");
  auto session = Session::load(relowered->model_path, relowered->options);
  EXPECT_TRUE(session.ok()) << session.status().to_string();

  // bf16 becomes fp32 where this CPU has no native BF16.
  plan["session"]["precision"] = "bf16";
  write_file(out / "plan.json", plan.dump(2));
  relowered = load_plan(out.string(), true);
  ASSERT_TRUE(relowered.ok()) << relowered.status().to_string();
  const bool native_bf16 = cpu.has("avx512_bf16") || cpu.has("amx_bf16");
  EXPECT_EQ(relowered->options.precision, native_bf16 ? "bf16" : "fp32");
  EXPECT_EQ(relowered->notes.back().find("bf16 -> fp32") != std::string::npos, !native_bf16);
}

TEST(TuneArtifact, InvalidPlansNameTheFieldAtFault) {
  ScratchDir dir;
  const fs::path out = dir.path / "out";
  const TuneResult made = make_result(kModel.string());
  ASSERT_TRUE(write_artifact(out.string(), made, fp32_options(), report::tune_report_documents(made)).ok());
  const json good = json::parse(read_file(out / "plan.json"));
  auto expect_error = [&](const std::function<void(json&)>& edit, const std::string& field) {
    json plan = good;
    edit(plan);
    write_file(out / "plan.json", plan.dump());
    auto r = load_plan(out.string(), false);
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_NE(r.status().message().find(field), std::string::npos) << r.status().message();
  };
  expect_error([](json& p) { p["schema"] = "hwopt-plan/99"; }, "schema");
  expect_error([](json& p) { p["model"] = "../elsewhere.onnx"; }, "model");
  expect_error([](json& p) { p["model"] = "missing.onnx"; }, "missing.onnx");
  expect_error([](json& p) { p.erase("hardware"); }, "hardware");
  expect_error([](json& p) { p["hardware"]["fingerprint"] = 5; }, "hardware.fingerprint");
  expect_error([](json& p) { p["config"]["batch"] = "eight"; }, "config");
  expect_error([](json& p) { p["session"]["threads"] = "two"; }, "session.threads");
  expect_error([](json& p) { p["session"]["precision"] = "fp8"; }, "session.precision");
  expect_error([](json& p) { p["session"]["backend"] = "tpu"; }, "session.backend");
  expect_error([](json& p) { p["session"]["layout"] = "nchw"; }, "session.layout");
  expect_error([](json& p) { p["session"]["conv_algorithm"] = "fft"; }, "session.conv_algorithm");
  expect_error([](json& p) { p["session"]["fp32_nodes"] = {1}; }, "session.fp32_nodes[0]");
  expect_error([](json& p) { p["session"]["activation_ranges"] = {{"x", {{"min", 0}, {"max", 1}}}}; },
               "session.activation_ranges['x'].threshold");
  write_file(out / "plan.json", "{ not json");
  auto r = load_plan(out.string(), false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not valid JSON"), std::string::npos);
  EXPECT_EQ(load_plan((dir.path / "nowhere").string(), false).status().code(), StatusCode::not_found);
}

// The cells of the Markdown table that follows the heading `## <section>`, by row.
std::vector<std::vector<std::string>> markdown_table(const std::string& md, const std::string& section) {
  std::vector<std::vector<std::string>> rows;
  const size_t at = md.find("## " + section + "\n");
  if (at == std::string::npos) return rows;
  std::istringstream in(md.substr(at));
  std::string line;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("|", 0) != 0) {
      if (in_table) break;
      continue;
    }
    in_table = true;
    std::vector<std::string> cells;
    std::string cell;
    for (size_t i = 1; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
        cell += '|';
        ++i;
      } else if (line[i] == '|') {
        const size_t b = cell.find_first_not_of(' '), e = cell.find_last_not_of(' ');
        cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
        cell.clear();
      } else {
        cell += line[i];
      }
    }
    rows.push_back(cells);
  }
  if (rows.size() >= 2) rows.erase(rows.begin(), rows.begin() + 2);  // header and rule
  return rows;
}

TEST(TuneReport, FiguresEqualTheMeasurementsLog) {
  const TuneResult r = make_result("models/real/fmnist_cnn.onnx");
  const std::string md = report::tune_report_markdown(r);
  const auto rows = markdown_table(md, "Candidates");
  ASSERT_EQ(rows.size(), r.candidates.size()) << md;
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const Candidate& c = r.candidates[i];
    ASSERT_EQ(rows[i].size(), 10u) << i;
    EXPECT_EQ(rows[i][0], std::to_string(i));
    EXPECT_EQ(rows[i][1], c.step);
    EXPECT_EQ(rows[i][2], c.config.key());
    if (!c.error.empty()) {
      EXPECT_EQ(rows[i][3], "—");
      EXPECT_EQ(rows[i][8], "error");
      EXPECT_NE(rows[i][9].find(c.error), std::string::npos);
      continue;
    }
    EXPECT_EQ(rows[i][3], fmt::format("{:.3f}", c.median_ms)) << i;
    EXPECT_EQ(rows[i][4], fmt::format("{:.3f}", c.p99_ms)) << i;
    EXPECT_EQ(rows[i][5], fmt::format("{:.1f}", c.throughput)) << i;
    EXPECT_EQ(rows[i][6], fmt::format("{:.1f}", c.memory_mb)) << i;
    EXPECT_EQ(rows[i][8], c.decision) << i;
    EXPECT_EQ(rows[i][9], c.reason) << i;
  }
  EXPECT_NE(rows[1][7].find("top-1 97.50 %"), std::string::npos) << rows[1][7];

  const auto pareto = markdown_table(md, "Pareto set");
  ASSERT_EQ(pareto.size(), r.pareto.size());
  for (size_t k = 0; k < r.pareto.size(); ++k) {
    const Candidate& c = r.candidates[r.pareto[k]];
    EXPECT_EQ(pareto[k][0], std::to_string(r.pareto[k]));
    EXPECT_EQ(pareto[k][2], fmt::format("{:.3f}", c.median_ms));
    EXPECT_EQ(pareto[k][4], fmt::format("{:.1f}", c.throughput));
  }
  const auto verdicts = markdown_table(md, "Result");
  ASSERT_FALSE(verdicts.empty());
  EXPECT_EQ(verdicts[0][0], "p99 latency");
  EXPECT_EQ(verdicts[0][2], fmt::format("{:.3f} ms", r.candidates[4].p99_ms));
  EXPECT_EQ(verdicts[0][3], "met");
  EXPECT_NE(md.find(r.summary), std::string::npos);
  // Where the time goes, per sample: the baseline ran batch 1, the chosen configuration batch 16.
  const auto ops = markdown_table(md, "Where the time goes");
  ASSERT_EQ(ops.size(), 5u) << "Conv, Gemm, Relu, FusedConv and the total";
  EXPECT_EQ(ops[0][0], "Conv");
  EXPECT_EQ(ops[0][1], "0.200");
  EXPECT_EQ(ops[0][2], fmt::format("{:.1f} %", 100 * 0.2 / 0.35));
  EXPECT_EQ(ops[0][3], "—");
  const auto gemm = std::find_if(ops.begin(), ops.end(), [](const auto& row) { return row[0] == "Gemm"; });
  ASSERT_NE(gemm, ops.end());
  EXPECT_EQ((*gemm)[1], "0.100");
  EXPECT_EQ((*gemm)[3], fmt::format("{:.3f}", 0.08 / 16));
  EXPECT_EQ(ops.back()[0], "total");
  EXPECT_EQ(ops.back()[3], fmt::format("{:.3f}", 0.12 / 16 + 0.08 / 16));
  EXPECT_NE(md.find("](batch_sweep.svg)"), std::string::npos);
  EXPECT_NE(md.find("](op_types.svg)"), std::string::npos);

  // The HTML page shows the same figures and needs no network.
  const std::string html = report::tune_report_html(r);
  for (const auto& c : r.candidates) {
    if (!c.error.empty()) continue;
    EXPECT_NE(html.find(">" + fmt::format("{:.3f}", c.median_ms) + "<"), std::string::npos);
    EXPECT_NE(html.find(">" + fmt::format("{:.1f}", c.throughput) + "<"), std::string::npos);
  }
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  size_t svgs = 0;
  for (size_t p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1)) ++svgs;
  EXPECT_EQ(svgs, 3u);
}

TEST(TuneReport, SaysWhenNothingCouldRunOrNothingMeetsTheRequirements) {
  TuneResult r;
  r.model_path = "m.onnx";
  std::string md = report::tune_report_markdown(r);
  EXPECT_NE(md.find("No configuration was tried."), std::string::npos);
  EXPECT_NE(md.find("no result"), std::string::npos);
  EXPECT_TRUE(report::tune_report_plots(r).empty());

  r = make_result("m.onnx");
  r.met = false;
  r.requirements.min_throughput = 1e6;
  r.limits = "memory bandwidth: the convolutions are memory bound";
  md = report::tune_report_markdown(r);
  EXPECT_NE(md.find("does NOT meet every requirement"), std::string::npos);
  EXPECT_NE(md.find(r.limits), std::string::npos);
  const auto verdicts = markdown_table(md, "Result");
  bool throughput_not_met = false;
  for (const auto& row : verdicts)
    if (row.size() == 4 && row[0] == "throughput") throughput_not_met = row[3] == "not met";
  EXPECT_TRUE(throughput_not_met) << md;
}

}  // namespace
}  // namespace hwopt::tune
