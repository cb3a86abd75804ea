// ONNX backend conformance runner: runs every test model of the ONNX backend test data with its
// recorded inputs and compares against the recorded outputs. Ends with "N passed, N failed, N skipped".
#include <fmt/format.h>
#include <onnx/onnx-data_pb.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>

#include "onnx/import.h"
#include "runtime/plan.h"

namespace fs = std::filesystem;
using namespace hwopt;

namespace {

struct Override {
  std::string pattern;  // exact test id "suite/test_name", or a prefix ending in '*'
  bool skip = false;
  double rtol = 0, atol = 0;
  std::string reason;
};

struct Options {
  std::string data = "/usr/share/libonnx-testdata/data";
  std::string skip_list;
  std::string filter;
  std::vector<std::string> suites = {"node", "simple", "pytorch-converted", "pytorch-operator"};
  bool verbose = false;
  std::string backend = "reference";
};

bool matches(const std::string& pattern, const std::string& id) {
  if (!pattern.empty() && pattern.back() == '*') return id.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  return pattern == id;
}

std::vector<Override> read_overrides(const std::string& path, std::string& error) {
  std::vector<Override> out;
  if (path.empty()) return out;
  std::ifstream in(path);
  if (!in) {
    error = "cannot read skip list " + path;
    return out;
  }
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::string kind;
    Override o;
    ss >> kind >> o.pattern;
    if (kind == "skip") {
      o.skip = true;
    } else if (kind == "tolerance") {
      ss >> o.rtol >> o.atol;
    } else {
      error = fmt::format("{}:{}: expected 'skip' or 'tolerance'", path, lineno);
      return out;
    }
    std::getline(ss, o.reason);
    o.reason.erase(0, o.reason.find_first_not_of(" \t"));
    if (o.reason.empty()) {
      error = fmt::format("{}:{}: every entry needs a reason", path, lineno);
      return out;
    }
    out.push_back(o);
  }
  return out;
}

bool read_file(const fs::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

Expected<RtValue> value_from_file(const fs::path& p, const ir::ValueInfo* info, const std::string& base_dir) {
  std::string bytes;
  if (!read_file(p, bytes)) return Status(StatusCode::io_error, "cannot read " + p.string());
  ir::ValueKind kind = info ? info->kind : ir::ValueKind::tensor;
  auto tensor_of = [&](const onnx::TensorProto& tp) -> Expected<Tensor> {
    auto t = onnx_import::tensor_from_proto(tp, base_dir, p.filename().string());
    // ONNX 1.12's test data stores bfloat16 values as uint16 bits; read them as bfloat16.
    if (t.ok() && info && info->dtype == DType::bfloat16 && t->dtype() == DType::uint16)
      return Tensor(DType::bfloat16, t->shape(), t->storage(), t->offset());
    return t;
  };
  if (kind == ir::ValueKind::sequence) {
    onnx::SequenceProto sp;
    if (!sp.ParseFromString(bytes)) return Status(StatusCode::invalid_argument, "bad SequenceProto " + p.string());
    std::vector<Tensor> seq;
    for (const auto& tp : sp.tensor_values()) {
      auto t = tensor_of(tp);
      if (!t.ok()) return t.status();
      seq.push_back(std::move(t).value());
    }
    return RtValue::of_sequence(std::move(seq), info->dtype);
  }
  if (kind == ir::ValueKind::optional_tensor || kind == ir::ValueKind::optional_sequence) {
    onnx::OptionalProto op;
    if (!op.ParseFromString(bytes)) return Status(StatusCode::invalid_argument, "bad OptionalProto " + p.string());
    if (op.has_tensor_value()) {
      auto t = tensor_of(op.tensor_value());
      if (!t.ok()) return t.status();
      return RtValue::of(std::move(t).value());
    }
    if (op.has_sequence_value()) {
      std::vector<Tensor> seq;
      for (const auto& tp : op.sequence_value().tensor_values()) {
        auto t = tensor_of(tp);
        if (!t.ok()) return t.status();
        seq.push_back(std::move(t).value());
      }
      return RtValue::of_sequence(std::move(seq), info->dtype);
    }
    return RtValue{};
  }
  onnx::TensorProto tp;
  if (!tp.ParseFromString(bytes)) return Status(StatusCode::invalid_argument, "bad TensorProto " + p.string());
  auto t = tensor_of(tp);
  if (!t.ok()) return t.status();
  return RtValue::of(std::move(t).value());
}

std::string compare_tensor(const Tensor& got, const Tensor& want, double rtol, double atol, const std::string& name) {
  if (got.dtype() != want.dtype())
    return fmt::format("{}: dtype {} but expected {}", name, dtype_name(got.dtype()), dtype_name(want.dtype()));
  if (got.shape() != want.shape())
    return fmt::format("{}: shape {} but expected {}", name, shape_str(got.shape()), shape_str(want.shape()));
  Tensor g = got.contiguous(), w = want.contiguous();
  if (g.dtype() == DType::string) {
    for (int64_t i = 0; i < g.numel(); ++i)
      if (g.data<std::string>()[i] != w.data<std::string>()[i])
        return fmt::format("{}[{}]: '{}' but expected '{}'", name, i, g.data<std::string>()[i], w.data<std::string>()[i]);
    return "";
  }
  const bool exact = !dtype_is_float(g.dtype());
  int64_t bad = 0, first = -1;
  double worst = 0;
  for (int64_t i = 0; i < g.numel(); ++i) {
    double a = g.element_as_double(i), e = w.element_as_double(i);
    bool ok;
    if (exact) {
      ok = a == e;
      if (g.dtype() == DType::int64 || g.dtype() == DType::uint64)
        ok = std::memcmp(static_cast<const char*>(g.raw_data()) + i * 8, static_cast<const char*>(w.raw_data()) + i * 8, 8) == 0;
    } else if (std::isnan(e)) {
      ok = std::isnan(a);
    } else if (std::isinf(e)) {
      ok = a == e;
    } else {
      ok = std::fabs(a - e) <= atol + rtol * std::fabs(e);
      worst = std::max(worst, std::fabs(a - e));
    }
    if (!ok) {
      ++bad;
      if (first < 0) first = i;
    }
  }
  if (bad == 0) return "";
  return fmt::format("{}: {} of {} elements differ; first at {}: got {} expected {} (max abs diff {:.3g})", name, bad,
                     g.numel(), first, g.element_as_double(first), w.element_as_double(first), worst);
}

std::string compare_value(const RtValue& got, const RtValue& want, double rtol, double atol, const std::string& name) {
  if (want.is_none()) return got.is_none() ? "" : name + ": expected an empty optional";
  if (want.is_sequence()) {
    if (!got.is_sequence()) return name + ": expected a sequence";
    if (got.sequence.size() != want.sequence.size())
      return fmt::format("{}: sequence of {} tensors but expected {}", name, got.sequence.size(), want.sequence.size());
    for (size_t i = 0; i < got.sequence.size(); ++i) {
      auto m = compare_tensor(got.sequence[i], want.sequence[i], rtol, atol, fmt::format("{}[{}]", name, i));
      if (!m.empty()) return m;
    }
    return "";
  }
  if (!got.is_tensor()) return name + ": expected a tensor";
  return compare_tensor(got.tensor, want.tensor, rtol, atol, name);
}

// Runs one test directory; returns "" on success or the reason for failure.
std::string run_test(const fs::path& dir, double rtol, double atol, const std::string& backend) {
  auto model = onnx_import::load_model((dir / "model.onnx").string());
  if (!model.ok()) return "load: " + model.status().to_string();
  PlanOptions po;
  po.backend = backend;
  auto plan = Plan::create(model->graph, po);
  if (!plan.ok()) return "plan: " + plan.status().to_string();
  const ir::Graph& g = *model->graph;
  std::vector<const ir::ValueInfo*> feed;
  for (const auto& v : g.inputs)
    if (!g.initializers.count(v.name)) feed.push_back(&v);
  std::vector<fs::path> sets;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) return "no test_data_set_* directories";
  for (const auto& set : sets) {
    std::vector<RtValue> inputs(g.inputs.size());
    for (size_t i = 0;; ++i) {
      fs::path p = set / fmt::format("input_{}.pb", i);
      if (!fs::exists(p)) break;
      if (i >= feed.size()) return fmt::format("{} has more inputs than the model", set.filename().string());
      auto v = value_from_file(p, feed[i], dir.string());
      if (!v.ok()) return v.status().to_string();
      for (size_t k = 0; k < g.inputs.size(); ++k)
        if (&g.inputs[k] == feed[i]) inputs[k] = std::move(v).value();
    }
    auto outs = plan.value()->run(std::move(inputs), RunOptions{}, nullptr);
    if (!outs.ok()) return "run: " + outs.status().to_string();
    for (size_t i = 0; i < g.outputs.size(); ++i) {
      fs::path p = set / fmt::format("output_{}.pb", i);
      if (!fs::exists(p)) break;
      auto want = value_from_file(p, &g.outputs[i], dir.string());
      if (!want.ok()) return want.status().to_string();
      std::string m = compare_value((*outs)[i], *want, rtol, atol, fmt::format("output '{}'", g.outputs[i].name));
      if (!m.empty()) return set.filename().string() + ": " + m;
    }
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--data") opt.data = next();
    else if (a == "--skip-list") opt.skip_list = next();
    else if (a == "--filter") opt.filter = next();
    else if (a == "--verbose" || a == "-v") opt.verbose = true;
    else if (a == "--backend") opt.backend = next();
    else if (a == "--suites") {
      opt.suites.clear();
      std::stringstream ss(next());
      std::string s;
      while (std::getline(ss, s, ',')) opt.suites.push_back(s);
    } else if (a == "--help" || a == "-h") {
      std::cout << "usage: hwopt_conformance [--data DIR] [--skip-list FILE] [--filter REGEX] [--suites a,b] [--backend reference|cpu] [--verbose]\n";
      return 0;
    } else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  std::string error;
  auto overrides = read_overrides(opt.skip_list, error);
  if (!error.empty()) {
    std::cerr << error << "\n";
    return 2;
  }
  if (!fs::exists(opt.data)) {
    std::cerr << "conformance data not found at " << opt.data << " (install libonnx-testdata)\n";
    return 2;
  }
  std::regex filter(opt.filter.empty() ? ".*" : opt.filter);
  struct Tally { int passed = 0, failed = 0, skipped = 0; };
  std::map<std::string, Tally> tallies;
  int passed = 0, failed = 0, skipped = 0;
  auto start = std::chrono::steady_clock::now();
  for (const auto& suite : opt.suites) {
    fs::path sdir = fs::path(opt.data) / suite;
    if (!fs::exists(sdir)) continue;
    std::vector<fs::path> tests;
    for (const auto& e : fs::directory_iterator(sdir))
      if (e.is_directory() && fs::exists(e.path() / "model.onnx")) tests.push_back(e.path());
    std::sort(tests.begin(), tests.end());
    for (const auto& t : tests) {
      std::string id = suite + "/" + t.filename().string();
      if (!std::regex_search(id, filter)) continue;
      double rtol = 1e-3, atol = 1e-5;
      const Override* skip = nullptr;
      for (const auto& o : overrides) {
        if (!matches(o.pattern, id)) continue;
        if (o.skip) skip = &o;
        else {
          rtol = o.rtol;
          atol = o.atol;
        }
      }
      if (skip) {
        ++skipped;
        ++tallies[suite].skipped;
        if (opt.verbose) std::cout << "SKIP " << id << ": " << skip->reason << "\n";
        continue;
      }
      auto t0 = std::chrono::steady_clock::now();
      std::string why = run_test(t, rtol, atol, opt.backend);
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (why.empty()) {
        ++passed;
        ++tallies[suite].passed;
        if (opt.verbose) std::cout << fmt::format("PASS {} ({:.0f} ms)\n", id, ms);
      } else {
        ++failed;
        ++tallies[suite].failed;
        std::cout << "FAIL " << id << ": " << why << "\n";
      }
      std::cout.flush();
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format("\n{:<20} {:>7} {:>7} {:>7} {:>7}\n", "suite", "passed", "failed", "skipped", "pass%");
  for (const auto& [suite, t] : tallies) {
    int total = t.passed + t.failed + t.skipped;
    std::cout << fmt::format("{:<20} {:>7} {:>7} {:>7} {:>6.1f}%\n", suite, t.passed, t.failed, t.skipped,
                             total ? 100.0 * t.passed / total : 0.0);
  }
  std::cout << fmt::format("conformance on backend '{}' finished in {:.1f} s\n", opt.backend, secs);
  std::cout << fmt::format("{} passed, {} failed, {} skipped\n", passed, failed, skipped);
  return failed == 0 ? 0 : 1;
}
