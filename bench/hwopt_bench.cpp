// hwopt_bench: times one model on hwopt and prints the statistics as one JSON object on stdout.
// The peer of bench/ort_bench.js: both build the same inputs (bit for bit, from the same seeded
// mulberry32 stream) and follow the same protocol, so bench/compare.sh can set them side by side.
//
// Protocol: load and plan (timed: load_ms); one first run (timed alone: first_run_ms, the cold
// start with primitive creation and page faults); --warmup further untimed runs; then --runs timed
// runs, each timed on its own with a steady clock. Statistics are over the timed runs only.
//
// Inputs: a dynamic leading dim is the batch (--batch); other dynamic dims come from --dim
// NAME=VALUE. Float inputs are uniform in [-1, 1); integer inputs whose name contains "mask" are
// all ones; other integer inputs are uniform in [0, --int-high) (token ids: 30522 = BERT's vocab).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "hwopt/session.h"

namespace {

using hwopt::DType;
using hwopt::Tensor;

// mulberry32 (public-domain, Tommy Ettinger); ort_bench.js has the same generator.
struct Mulberry32 {
  uint32_t state;
  uint32_t next() {
    state += 0x6D2B79F5u;
    uint32_t t = state;
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    return t ^ (t >> 14);
  }
  // k / 2^32 in [0, 1), as a double (exact), like the JS side.
  double uniform() { return next() / 4294967296.0; }
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  double idx = p / 100.0 * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(idx);
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (idx - lo);
}

int fail(const std::string& msg) {
  std::cerr << "hwopt_bench: error: " << msg << "\n";
  return 1;
}

struct Args {
  std::string model;
  std::string backend = "reference";
  int threads = 2;
  bool optimize = false;
  int batch = 1;
  std::vector<std::string> dims;
  int warmup = 3;
  int runs = 10;
  uint32_t seed = 1234;
  int64_t int_high = 30522;
};

template <typename T>
void fill_int(Tensor& t, bool mask, int64_t high, Mulberry32& rng) {
  T* p = t.data<T>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = mask ? T(1) : static_cast<T>(std::floor(rng.uniform() * static_cast<double>(high)));
}

hwopt::Expected<std::map<std::string, Tensor>> make_inputs(const hwopt::Session& s, const Args& a,
                                                           const std::map<std::string, int64_t>& dims) {
  using hwopt::Status;
  using hwopt::StatusCode;
  std::map<std::string, Tensor> out;
  Mulberry32 rng{a.seed};
  for (const auto& info : s.inputs()) {
    if (info.is_sequence || !info.has_shape)
      return Status(StatusCode::unsupported, fmt::format("input '{}' is a sequence or has no declared shape", info.name));
    hwopt::Shape shape;
    for (size_t d = 0; d < info.shape.size(); ++d) {
      if (info.shape[d] >= 0) {
        shape.push_back(info.shape[d]);
        continue;
      }
      std::string name = d < info.dim_names.size() ? info.dim_names[d] : "";
      auto it = dims.find(name);
      if (it != dims.end()) shape.push_back(it->second);
      else if (d == 0) shape.push_back(a.batch);
      else
        return Status(StatusCode::invalid_argument,
                      fmt::format("input '{}' dim {} ('{}') is dynamic: give it with --dim {}=N", info.name, d, name,
                                  name.empty() ? "NAME" : name));
    }
    auto created = Tensor::create(info.dtype, shape);
    if (!created.ok()) return created.status();
    Tensor t = std::move(created).value();
    bool mask = lower(info.name).find("mask") != std::string::npos;
    switch (info.dtype) {
      case DType::float32: {
        float* p = t.data<float>();
        for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(rng.uniform() * 2.0 - 1.0);
        break;
      }
      case DType::int64: fill_int<int64_t>(t, mask, a.int_high, rng); break;
      case DType::int32: fill_int<int32_t>(t, mask, a.int_high, rng); break;
      case DType::boolean: {
        bool* p = t.data<bool>();
        for (int64_t i = 0; i < t.numel(); ++i) p[i] = mask ? true : rng.uniform() < 0.5;
        break;
      }
      default:
        return Status(StatusCode::unsupported, fmt::format("input '{}' has dtype {}; the benchmark makes float32, int32, "
                                                           "int64 and bool inputs only", info.name, hwopt::dtype_name(info.dtype)));
    }
    out[info.name] = std::move(t);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"Time one ONNX model on hwopt; prints JSON statistics (the peer of bench/ort_bench.js)"};
  app.add_option("model", a.model, "ONNX model file")->required();
  app.add_option("--backend", a.backend, "hwopt backend: reference or cpu")->capture_default_str();
  app.add_option("--threads", a.threads, "intra-op threads (0: physical cores)")->capture_default_str();
  app.add_flag("--optimize,!--no-optimize", a.optimize, "run the graph optimization pipeline")->capture_default_str();
  app.add_option("--batch", a.batch, "size of a dynamic leading dim")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--dim", a.dims, "other dynamic dims, NAME=VALUE (repeatable)");
  app.add_option("--warmup", a.warmup, "untimed runs after the first (cold) run")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--runs", a.runs, "timed runs")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--seed", a.seed, "input PRNG seed (same stream as ort_bench.js)")->capture_default_str();
  app.add_option("--int-high", a.int_high, "integer (non-mask) inputs are drawn from [0, this)")->check(CLI::PositiveNumber)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::map<std::string, int64_t> dims;
  for (const auto& p : a.dims) {
    size_t eq = p.rfind('=');
    try {
      if (eq == std::string::npos || eq == 0) throw std::invalid_argument(p);
      dims[p.substr(0, eq)] = std::stoll(p.substr(eq + 1));
    } catch (const std::exception&) {
      return fail(fmt::format("--dim expects NAME=INTEGER, got '{}'", p));
    }
  }

  using clock = std::chrono::steady_clock;
  auto ms_since = [](clock::time_point t0) { return std::chrono::duration<double, std::milli>(clock::now() - t0).count(); };

  hwopt::SessionOptions so;
  so.backend = a.backend;
  so.threads = a.threads;
  so.optimize = a.optimize;
  auto t0 = clock::now();
  auto loaded = hwopt::Session::load(a.model, so);
  if (!loaded.ok()) return fail(fmt::format("loading {} (backend {}): {}", a.model, a.backend, loaded.status().to_string()));
  double load_ms = ms_since(t0);
  const hwopt::Session& session = *loaded.value();

  auto inputs = make_inputs(session, a, dims);
  if (!inputs.ok()) return fail(inputs.status().to_string());

  auto run_once = [&]() -> hwopt::Status {
    auto r = session.run(*inputs);
    return r.ok() ? hwopt::Status() : r.status();
  };

  t0 = clock::now();
  auto first = session.run(*inputs);
  double first_run_ms = ms_since(t0);
  if (!first.ok()) return fail(fmt::format("first run: {}", first.status().to_string()));
  // A fingerprint of the outputs, so that compare.py can check both tools computed the same thing.
  nlohmann::ordered_json outputs_json = nlohmann::ordered_json::object();
  for (const auto& [name, t] : first.value()) {
    double sum = 0, abs_sum = 0;
    if (t.dtype() != DType::string) {
      Tensor c = t.contiguous();
      for (int64_t i = 0; i < c.numel(); ++i) {
        double v = c.element_as_double(i);
        sum += v;
        abs_sum += std::fabs(v);
      }
    }
    outputs_json[name] = {{"shape", t.shape()}, {"sum", sum}, {"abs_mean", t.numel() ? abs_sum / t.numel() : 0.0}};
  }
  for (int i = 0; i < a.warmup; ++i)
    if (auto st = run_once(); !st.ok()) return fail(fmt::format("warm-up run {}: {}", i, st.to_string()));

  std::vector<double> samples;
  samples.reserve(a.runs);
  for (int i = 0; i < a.runs; ++i) {
    t0 = clock::now();
    auto st = run_once();
    double ms = ms_since(t0);
    if (!st.ok()) return fail(fmt::format("timed run {}: {}", i, st.to_string()));
    samples.push_back(ms);
  }

  double mean = std::accumulate(samples.begin(), samples.end(), 0.0) / samples.size();
  double var = 0;
  for (double s : samples) var += (s - mean) * (s - mean);
  double stddev = samples.size() > 1 ? std::sqrt(var / (samples.size() - 1)) : 0.0;
  double median = percentile(samples, 50);

  nlohmann::ordered_json j;
  j["tool"] = "hwopt";
  j["model"] = a.model;
  j["backend"] = a.backend;
  j["threads"] = a.threads;
  j["optimize"] = a.optimize;
  j["batch"] = a.batch;
  j["load_ms"] = load_ms;
  j["first_run_ms"] = first_run_ms;
  j["warmup"] = a.warmup;
  j["runs"] = a.runs;
  j["median_ms"] = median;
  j["p90_ms"] = percentile(samples, 90);
  j["min_ms"] = *std::min_element(samples.begin(), samples.end());
  j["max_ms"] = *std::max_element(samples.begin(), samples.end());
  j["mean_ms"] = mean;
  j["cv"] = mean > 0 ? stddev / mean : 0.0;
  j["throughput_samples_per_s"] = median > 0 ? a.batch * 1000.0 / median : 0.0;
  j["samples_ms"] = samples;
  j["outputs"] = outputs_json;
  std::cout << j.dump() << "\n";
  return 0;
}
