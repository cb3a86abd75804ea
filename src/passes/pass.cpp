#include "passes/pass.h"

#include <fmt/format.h>

#include "passes/graph_view.h"

namespace hwopt::passes {

namespace {

void collect_names(const ir::Graph& g, std::unordered_set<std::string>& names) {
  for (const auto& v : g.inputs) names.insert(v.name);
  for (const auto& v : g.outputs) names.insert(v.name);
  for (const auto& [k, v] : g.value_info) names.insert(k);
  for (const auto& [k, v] : g.initializers) names.insert(k);
  for (const auto& n : g.nodes) {
    if (!n.name.empty()) names.insert(n.name);
    for (const auto& i : n.inputs) names.insert(i);
    for (const auto& o : n.outputs) names.insert(o);
    for (const ir::Graph* sg : subgraphs_of(n)) collect_names(*sg, names);
  }
}

}  // namespace

PassContext::PassContext(onnx_import::Model& model, size_t fold_limit_bytes)
    : model_(&model), fold_limit_bytes_(fold_limit_bytes) {
  if (model.graph) collect_names(*model.graph, names_);
}

int PassContext::opset(const std::string& domain) const {
  auto it = model_->opsets.find(domain);
  return it == model_->opsets.end() ? 0 : it->second;
}

int PassContext::use_domain(const std::string& domain) {
  auto it = model_->opsets.find(domain);
  if (it != model_->opsets.end()) return it->second;
  model_->opsets[domain] = 1;
  if (model_->graph) model_->graph->opsets[domain] = 1;
  return 1;
}

std::string PassContext::unique_name(const std::string& base) {
  std::string name = base.empty() ? std::string("hwopt") : base;
  for (int k = 1; names_.count(name); ++k) name = fmt::format("{}_{}", base, k);
  names_.insert(name);
  return name;
}

}  // namespace hwopt::passes
