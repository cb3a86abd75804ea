#include "passes/graph_patch.h"

#include <algorithm>
#include <fmt/format.h>

#include <unordered_set>

namespace hwopt::passes {

namespace {
// The imported nodes that the nodes at `indices` stand for, each once, in order.
std::vector<std::string> provenance(const ir::Graph& graph, const std::vector<size_t>& indices) {
  std::vector<std::string> names;
  std::unordered_set<std::string> seen;
  for (size_t i : indices) {
    if (i >= graph.nodes.size()) continue;
    const ir::Node& node = graph.nodes[i];
    std::vector<std::string> own = node.fused_from;
    if (own.empty()) own.push_back(node.provenance_name());
    for (auto& s : own)
      if (seen.insert(s).second) names.push_back(std::move(s));
  }
  return names;
}
}  // namespace

Status GraphPatch::apply(ir::Graph& graph) const {
  auto resolve = [&](std::string name) {
    // Chains are short; the bound only guards against a cycle a buggy pass might create.
    for (size_t hops = 0; hops <= redirect_.size(); ++hops) {
      auto it = redirect_.find(name);
      if (it == redirect_.end()) return name;
      name = it->second;
    }
    return name;
  };
  auto renamed = [&](const std::string& name) {
    auto it = rename_.find(name);
    return it == rename_.end() ? name : it->second;
  };
  for (const auto& [from, to] : redirect_)
    for (const auto& o : graph.outputs)
      if (o.name == from)
        return Status(StatusCode::internal, fmt::format("a pass redirected graph output '{}' to '{}'", from, to));
  for (const auto& [from, to] : rename_)
    for (const auto& o : graph.outputs)
      if (o.name == from)
        return Status(StatusCode::internal, fmt::format("a pass renamed graph output '{}' to '{}'", from, to));

  const size_t n = graph.nodes.size();
  std::multimap<size_t, size_t> added;  // position -> index into added_; equal keys keep insertion order
  std::vector<std::vector<std::string>> origins(added_.size());  // read before the nodes move
  for (size_t a = 0; a < added_.size(); ++a) {
    added.emplace(std::min(added_[a].position, n), a);
    origins[a] = provenance(graph, added_[a].replaces);
  }
  std::vector<ir::Node> nodes;
  nodes.reserve(n + added_.size());
  for (size_t i = 0; i <= n; ++i) {
    auto range = added.equal_range(i);
    for (auto it = range.first; it != range.second; ++it) {
      nodes.push_back(added_[it->second].node);
      nodes.back().fused_from = std::move(origins[it->second]);
    }
    if (i < n && !removed_.count(i)) nodes.push_back(std::move(graph.nodes[i]));
  }
  for (auto& node : nodes) {
    for (auto& in : node.inputs)
      if (!in.empty()) in = renamed(resolve(in));
    for (auto& out : node.outputs)
      if (!out.empty()) out = renamed(out);
  }
  graph.nodes = std::move(nodes);
  for (const auto& [name, t] : initializers_) graph.initializers[name] = t;
  for (const auto& [name, vi] : value_info_) graph.value_info[name] = vi;
  auto tidied = tidy_graph(graph);
  return tidied.ok() ? Status::OK() : tidied.status();
}

Expected<int> tidy_graph(ir::Graph& graph) {
  std::unordered_set<std::string> reads, defined, inputs;
  for (const auto& v : graph.inputs) {
    inputs.insert(v.name);
    defined.insert(v.name);
  }
  for (const auto& v : graph.outputs) reads.insert(v.name);
  for (const auto& node : graph.nodes) {
    for (const auto& in : node.inputs)
      if (!in.empty()) reads.insert(in);
    for (const auto& out : node.outputs)
      if (!out.empty()) defined.insert(out);
    for (const ir::Graph* sg : subgraphs_of(node))
      for (const auto& r : outer_reads(*sg)) reads.insert(r);
  }
  int dropped = 0;
  for (auto it = graph.initializers.begin(); it != graph.initializers.end();) {
    if (!reads.count(it->first) && !inputs.count(it->first)) {
      it = graph.initializers.erase(it);
      ++dropped;
    } else {
      defined.insert(it->first);
      ++it;
    }
  }
  for (auto it = graph.value_info.begin(); it != graph.value_info.end();) {
    // An initializer's own tensor states its type; a value no longer defined has none.
    if (!defined.count(it->first) || graph.initializers.count(it->first))
      it = graph.value_info.erase(it);
    else
      ++it;
  }
  // Restore topological order only when needed (a fused node placed before one of its inputs).
  std::unordered_set<std::string> seen = inputs;
  for (const auto& [k, v] : graph.initializers) seen.insert(k);
  bool ordered = true;
  for (const auto& node : graph.nodes) {
    for (const auto& in : node.inputs)
      if (!in.empty() && !seen.count(in) && defined.count(in)) ordered = false;
    for (const auto& out : node.outputs)
      if (!out.empty()) seen.insert(out);
  }
  if (!ordered) {
    const std::set<std::string> outer = outer_reads(graph);
    auto order = ir::topological_order(graph, std::vector<std::string>(outer.begin(), outer.end()));
    if (!order.ok())
      return Status(StatusCode::internal, fmt::format("a pass broke the graph: {}", order.status().message()));
    std::vector<ir::Node> sorted;
    sorted.reserve(graph.nodes.size());
    for (size_t i : *order) sorted.push_back(std::move(graph.nodes[i]));
    graph.nodes = std::move(sorted);
  }
  return dropped;
}

bool bypass_node(const GraphView& view, GraphPatch& patch, Claims& claims, size_t node_index, const std::string& in,
                 const std::string& out) {
  if (claims.has(node_index) || in.empty() || out.empty() || in == out) return false;
  if (!view.pinned(out)) {
    patch.remove_node(node_index);
    patch.redirect(out, in);
    claims.take({node_index});
    return true;
  }
  if (view.read_by_subgraph(out)) return false;
  // `out` is a graph output: let `in`'s producer write it directly.
  const int p = view.producer(in);
  if (p < 0 || view.pinned(in) || claims.has(static_cast<size_t>(p))) return false;
  patch.remove_node(node_index);
  patch.rename(in, out);
  claims.take({node_index, static_cast<size_t>(p)});
  return true;
}

}  // namespace hwopt::passes
