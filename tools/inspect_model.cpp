#include "inspect_model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iostream>
#include <map>

#include "model_inputs.h"
#include "onnx/import.h"
#include "profile/cost_model.h"

namespace hwopt::cli {

namespace {

using nlohmann::json;

void count_ops(const ir::Graph& g, std::map<std::string, int>& counts) {
  for (const auto& n : g.nodes) {
    ++counts[n.domain.empty() ? n.op_type : n.domain + "." + n.op_type];
    for (const auto& a : n.attributes) {
      if (a.g) count_ops(*a.g, counts);
      for (const auto& sg : a.graphs) count_ops(*sg, counts);
    }
  }
}

// Concrete input shapes: symbolic dims from `dims`, the first one from `batch`, the rest 1.
Expected<std::map<std::string, Shape>> concrete_shapes(const ir::Graph& g, int batch,
                                                       const std::map<std::string, std::string>& dims) {
  std::map<std::string, Shape> shapes;
  for (const auto& in : g.inputs) {
    if (g.initializers.count(in.name)) continue;
    if (!in.has_shape)
      return Status(StatusCode::invalid_argument, fmt::format("input '{}' has no declared shape", in.name));
    Shape s;
    for (size_t i = 0; i < in.shape.size(); ++i) {
      const auto& d = in.shape[i];
      if (d.known()) {
        s.push_back(d.value);
        continue;
      }
      auto it = dims.find(d.param);
      if (it != dims.end()) {
        try {
          s.push_back(std::stoll(it->second));
        } catch (...) {
          return Status(StatusCode::invalid_argument, fmt::format("--dim {}={}: not a number", it->first, it->second));
        }
      } else {
        s.push_back(i == 0 ? batch : 1);
      }
    }
    shapes[in.name] = s;
  }
  return shapes;
}

json cost_json(const profile::ModelCost& c, int batch) {
  std::map<std::string, double> macs_by_class, bytes_by_class;
  for (const auto& n : c.nodes) {
    macs_by_class[std::string(profile::op_class_name(n.cost.op_class))] += n.cost.macs * 1e-9;
    bytes_by_class[std::string(profile::op_class_name(n.cost.op_class))] += n.cost.bytes * 1e-6;
  }
  const double b = std::max(batch, 1);
  return json{{"gmacs", c.macs * 1e-9},
              {"gflop", c.flops * 1e-9},
              {"mbytes", c.bytes * 1e-6},
              {"gmacs_per_item", c.macs * 1e-9 / b},
              {"gflop_per_item", c.flops * 1e-9 / b},
              {"mbytes_per_item", c.bytes * 1e-6 / b},
              {"flop_per_byte", c.bytes > 0 ? c.flops / c.bytes : 0},
              {"nodes", c.nodes.size()},
              {"unknown_nodes", c.unknown_nodes},
              {"gmacs_by_class", macs_by_class},
              {"mbytes_by_class", bytes_by_class}};
}

}  // namespace

Expected<json> inspect_model(const ModelInspectOptions& o, const std::optional<hw::Ceilings>& ceilings) {
  auto dims = parse_pairs(o.dims, "--dim");
  if (!dims.ok()) return dims.status();
  auto model = onnx_import::load_model(o.model);
  if (!model.ok()) return model.status();
  const ir::Graph& g = *model->graph;
  json r;
  r["path"] = o.model;
  r["producer"] = model->producer;
  r["ir_version"] = model->ir_version;
  json opsets = json::object();
  for (const auto& [domain, v] : model->opsets) opsets[domain.empty() ? "ai.onnx" : domain] = v;
  r["opsets"] = opsets;
  json ins = json::array(), outs = json::array();
  for (const auto& v : g.inputs)
    if (!g.initializers.count(v.name)) ins.push_back({{"name", v.name}, {"type", v.type_str()}});
  for (const auto& v : g.outputs) outs.push_back({{"name", v.name}, {"type", v.type_str()}});
  r["inputs"] = ins;
  r["outputs"] = outs;
  std::map<std::string, int> hist;
  count_ops(g, hist);
  r["nodes"] = g.total_nodes();
  r["op_histogram"] = hist;

  auto shapes = concrete_shapes(g, o.batch, *dims);
  if (!shapes.ok()) return shapes.status();
  json shapes_json = json::object();
  for (const auto& [name, s] : *shapes) shapes_json[name] = s;
  r["batch"] = o.batch;
  r["input_shapes"] = shapes_json;
  auto imported_cost = profile::model_cost(g, *shapes);
  if (!imported_cost.ok()) return imported_cost.status();
  r["parameters"] = {{"count", imported_cost->param_count}, {"mbytes", imported_cost->param_bytes * 1e-6}};
  r["cost_as_imported"] = cost_json(*imported_cost, o.batch);

  // After the optimization passes (what `hwopt run` executes): fusion removes memory traffic.
  SessionOptions so;
  so.backend = "cpu";
  so.optimize = true;
  auto session = Session::load(o.model, so);
  if (!session.ok()) return session.status();
  auto optimized_cost = profile::model_cost((*session)->graph(), *shapes);
  if (optimized_cost.ok()) r["cost_optimized"] = cost_json(*optimized_cost, o.batch);
  r["optimized_nodes"] = (*session)->num_nodes();
  r["activation_memory"] = {{"planned_peak_mbytes_at_batch_1", (*session)->planned_peak_bytes() * 1e-6},
                            {"values_sized_at_run_time", (*session)->planned_unknown_values()}};

  if (ceilings && ceilings->fp32.all_cores > 0 && ceilings->triad_all_cores_gbs > 0) {
    const auto& c = optimized_cost.ok() ? *optimized_cost : *imported_cost;
    const double compute_ms = c.flops / (ceilings->fp32.all_cores * 1e9) * 1e3;
    const double memory_ms = c.bytes / (ceilings->triad_all_cores_gbs * 1e9) * 1e3;
    r["roofline"] = {{"fp32_gflops", ceilings->fp32.all_cores},
                     {"bandwidth_gbs", ceilings->triad_all_cores_gbs},
                     {"compute_ms", compute_ms},
                     {"memory_ms", memory_ms},
                     {"lower_bound_ms", std::max(compute_ms, memory_ms)},
                     {"bound", compute_ms >= memory_ms ? "compute" : "memory"}};
  }
  return r;
}

void print_model_report(const json& r) {
  std::cout << fmt::format("\nmodel     {}  (producer '{}', IR {}, opsets", r["path"].get<std::string>(),
                           r["producer"].get<std::string>(), r["ir_version"].get<int64_t>());
  for (const auto& [d, v] : r["opsets"].items()) std::cout << fmt::format(" {} {}", d, v.get<int>());
  std::cout << ")\n";
  for (const auto& i : r["inputs"]) std::cout << fmt::format("  input   {} {}\n", i["name"].get<std::string>(), i["type"].get<std::string>());
  for (const auto& o : r["outputs"]) std::cout << fmt::format("  output  {} {}\n", o["name"].get<std::string>(), o["type"].get<std::string>());
  std::cout << fmt::format("  params  {:.2f} M ({:.1f} MB)\n", r["parameters"]["count"].get<double>() * 1e-6,
                           r["parameters"]["mbytes"].get<double>());
  std::vector<std::pair<std::string, int>> ops;
  for (const auto& [k, v] : r["op_histogram"].items()) ops.emplace_back(k, v.get<int>());
  std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string hist;
  for (const auto& [k, v] : ops) hist += fmt::format("{}{} {}", hist.empty() ? "" : ", ", k, v);
  std::cout << fmt::format("  ops     {} nodes ({} after optimization): {}\n", r["nodes"].get<size_t>(),
                           r["optimized_nodes"].get<size_t>(), hist);
  std::string shapes;
  for (const auto& [k, v] : r["input_shapes"].items())
    shapes += fmt::format("{}{}[{}]", shapes.empty() ? "" : ", ", k, fmt::join(v.get<std::vector<int64_t>>(), ","));
  std::cout << fmt::format("\nwork at batch {} ({})\n", r["batch"].get<int>(), shapes);
  std::cout << fmt::format("  {:<16} {:>10} {:>10} {:>12} {:>12} {:>9} {:>8}\n", "", "GMAC", "GFLOP", "MB moved",
                           "GMAC/item", "FLOP/B", "unknown");
  for (const char* key : {"cost_as_imported", "cost_optimized"}) {
    if (!r.contains(key)) continue;
    const auto& c = r[key];
    std::cout << fmt::format("  {:<16} {:>10.3f} {:>10.3f} {:>12.1f} {:>12.3f} {:>9.1f} {:>8}\n",
                             std::string(key) == "cost_optimized" ? "optimized" : "as imported", c["gmacs"].get<double>(),
                             c["gflop"].get<double>(), c["mbytes"].get<double>(), c["gmacs_per_item"].get<double>(),
                             c["flop_per_byte"].get<double>(), c["unknown_nodes"].get<size_t>());
  }
  if (r.contains("cost_optimized")) {
    std::string by_class;
    for (const auto& [k, v] : r["cost_optimized"]["gmacs_by_class"].items())
      if (v.get<double>() > 0) by_class += fmt::format("{}{} {:.3f}", by_class.empty() ? "" : ", ", k, v.get<double>());
    if (!by_class.empty()) std::cout << fmt::format("  GMAC by class: {}\n", by_class);
  }
  const auto& am = r["activation_memory"];
  std::cout << fmt::format("  activations: planned peak {:.1f} MB at batch 1{}\n", am["planned_peak_mbytes_at_batch_1"].get<double>(),
                           am["values_sized_at_run_time"].get<size_t>() > 0
                               ? fmt::format(" (+{} values sized only at run time)", am["values_sized_at_run_time"].get<size_t>())
                               : std::string());
  if (r.contains("roofline")) {
    const auto& rf = r["roofline"];
    std::cout << fmt::format("  roofline: at least {:.2f} ms per run on this machine ({}-bound: compute {:.2f} ms at {:.0f} "
                             "GFLOP/s, memory {:.2f} ms at {:.1f} GB/s)\n",
                             rf["lower_bound_ms"].get<double>(), rf["bound"].get<std::string>(), rf["compute_ms"].get<double>(),
                             rf["fp32_gflops"].get<double>(), rf["memory_ms"].get<double>(), rf["bandwidth_gbs"].get<double>());
  }
}

}  // namespace hwopt::cli
