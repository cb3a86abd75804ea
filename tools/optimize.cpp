// `hwopt optimize`: load a model, run the graph optimization pipeline, print what each pass did and
// the node counts by op type before and after, and write the optimized portable graph as ONNX.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <map>

#include "commands.h"
#include "onnx/export.h"
#include "onnx/import.h"
#include "passes/graph_view.h"
#include "passes/pipeline.h"

namespace hwopt::cli {

namespace {

struct OptimizeArgs {
  std::string model;
  std::string output;
  std::vector<std::string> disabled;
  bool list = false;
  double fold_limit_mb = static_cast<double>(passes::kDefaultFoldLimitBytes) / 1048576.0;
};

int fail(const Status& st) {
  std::cerr << "error: " << st.to_string() << "\n";
  return 1;
}

void count_ops(const ir::Graph& g, std::map<std::string, int>& counts) {
  for (const auto& n : g.nodes) {
    ++counts[n.domain.empty() ? n.op_type : n.domain + ":" + n.op_type];
    for (const ir::Graph* sg : passes::subgraphs_of(n)) count_ops(*sg, counts);
  }
}

int optimize(const OptimizeArgs& a) {
  if (a.list) {
    for (const auto& p : passes::default_passes()) std::cout << fmt::format("{:<28} {}\n", p->name(), p->description());
    return 0;
  }
  if (a.model.empty() || a.output.empty())
    return fail(Status(StatusCode::invalid_argument, "optimize needs MODEL and -o OUT.onnx (or --list-passes)"));
  if (!(a.fold_limit_mb >= 0))
    return fail(Status(StatusCode::invalid_argument, "--fold-limit-mb must be a non-negative number"));
  auto model = onnx_import::load_model(a.model);
  if (!model.ok()) return fail(model.status());
  std::map<std::string, int> before, after;
  count_ops(*model->graph, before);
  passes::PipelineOptions options;
  options.disabled.insert(a.disabled.begin(), a.disabled.end());
  options.fold_limit_bytes = static_cast<size_t>(a.fold_limit_mb * 1048576.0);
  passes::PipelineReport report;
  Status st = passes::run_pipeline(*model, options, &report);
  if (!st.ok()) return fail(st);
  count_ops(*model->graph, after);

  std::cout << fmt::format("model    {}\n\n{:<28} {:>9} {:>14} {:>10}\n", a.model, "pass", "rewrites", "nodes removed",
                           "ms");
  double total_ms = 0;
  for (const auto& p : report.passes) {
    if (!p.enabled) {
      std::cout << fmt::format("{:<28} {:>9} {:>14} {:>10}\n", p.name, "disabled", "", "");
      continue;
    }
    total_ms += p.ms;
    std::cout << fmt::format("{:<28} {:>9} {:>14} {:>10.2f}\n", p.name, p.rewrites, p.nodes_removed, p.ms);
  }
  std::cout << fmt::format("{:<28} {:>9} {:>14} {:>10.2f}\n", "total", "", report.nodes_before - report.nodes_after,
                           total_ms);
  for (const auto& note : report.notes) std::cout << "note     " << note << "\n";

  std::cout << fmt::format("\n{:<40} {:>8} {:>8}\n", "op", "before", "after");
  std::map<std::string, std::pair<int, int>> rows;
  for (const auto& [op, n] : before) rows[op].first = n;
  for (const auto& [op, n] : after) rows[op].second = n;
  for (const auto& [op, c] : rows) std::cout << fmt::format("{:<40} {:>8} {:>8}\n", op, c.first, c.second);
  std::cout << fmt::format("{:<40} {:>8} {:>8}\n", "total (with subgraphs)", report.nodes_before, report.nodes_after);

  st = onnx_import::save_model(*model, a.output);
  if (!st.ok()) return fail(st);
  std::cout << fmt::format("\nwrote    {}\n", a.output);
  return 0;
}

}  // namespace

CommandRunner add_optimize_command(CLI::App& app) {
  auto args = std::make_shared<OptimizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "optimize", "Run the graph optimization passes (folding, eliminations, fusions) and write the optimized model.");
  cmd->add_option("model", args->model, "ONNX model file");
  cmd->add_option("--output,-o", args->output, "where to write the optimized model (.onnx)");
  cmd->add_option("--disable-pass", args->disabled, "NAME: skip this pass (repeatable; see --list-passes)");
  cmd->add_flag("--list-passes", args->list, "print the passes in pipeline order and exit");
  cmd->add_option("--fold-limit-mb", args->fold_limit_mb,
                  "largest tensor constant folding may create, in MiB (larger results stay unfolded)")
      ->default_val(args->fold_limit_mb);
  return [args]() { return optimize(*args); };
}

}  // namespace hwopt::cli
