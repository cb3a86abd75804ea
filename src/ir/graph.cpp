#include "ir/graph.h"

#include <fmt/format.h>

#include <set>
#include <unordered_map>
#include <unordered_set>

namespace hwopt::ir {

std::optional<Shape> ValueInfo::static_shape() const {
  if (!has_shape) return std::nullopt;
  Shape s;
  for (const Dim& d : shape) {
    if (!d.known()) return std::nullopt;
    s.push_back(d.value);
  }
  return s;
}

std::string ValueInfo::type_str() const {
  std::string out;
  if (kind == ValueKind::sequence) out += "seq(";
  if (kind == ValueKind::optional_tensor || kind == ValueKind::optional_sequence) out += "optional(";
  out += dtype_name(dtype);
  if (has_shape) {
    out += "[";
    for (size_t i = 0; i < shape.size(); ++i) {
      if (i) out += ",";
      out += shape[i].known() ? std::to_string(shape[i].value) : (shape[i].param.empty() ? "?" : shape[i].param);
    }
    out += "]";
  }
  if (kind != ValueKind::tensor && kind != ValueKind::unknown) out += ")";
  return out;
}

const Attribute* Node::attr(const std::string& attr_name) const {
  for (const auto& a : attributes)
    if (a.name == attr_name) return &a;
  return nullptr;
}

std::string Node::provenance_name() const {
  if (!name.empty()) return name;
  return outputs.empty() ? op_type : outputs[0];
}

std::string Node::label() const {
  std::string n = name;
  if (n.empty() && !outputs.empty()) n = outputs[0];
  std::string dom = domain.empty() ? "" : domain + ".";
  return fmt::format("node '{}' ({}{})", n, dom, op_type);
}

const ValueInfo* Graph::find_value(const std::string& value_name) const {
  for (const auto& v : inputs)
    if (v.name == value_name) return &v;
  for (const auto& v : outputs)
    if (v.name == value_name) return &v;
  auto it = value_info.find(value_name);
  if (it != value_info.end()) return &it->second;
  return nullptr;
}

size_t Graph::total_nodes() const {
  size_t n = nodes.size();
  for (const auto& node : nodes)
    for (const auto& a : node.attributes) {
      if (a.g) n += a.g->total_nodes();
      for (const auto& g : a.graphs) n += g->total_nodes();
    }
  return n;
}

namespace {

// Names a node reads implicitly from the enclosing scope through its subgraphs.
void collect_outer_reads(const Graph& g, std::set<std::string>& defined_here,
                         std::set<std::string>& reads) {
  std::set<std::string> local = defined_here;
  for (const auto& v : g.inputs) local.insert(v.name);
  for (const auto& [k, v] : g.initializers) local.insert(k);
  for (const auto& n : g.nodes)
    for (const auto& o : n.outputs) local.insert(o);
  for (const auto& n : g.nodes) {
    for (const auto& i : n.inputs)
      if (!i.empty() && !local.count(i)) reads.insert(i);
    for (const auto& a : n.attributes) {
      if (a.g) collect_outer_reads(*a.g, local, reads);
      for (const auto& sg : a.graphs) collect_outer_reads(*sg, local, reads);
    }
  }
  for (const auto& o : g.outputs)
    if (!local.count(o.name)) reads.insert(o.name);
}

std::vector<std::string> implicit_inputs(const Node& node) {
  std::set<std::string> reads;
  for (const auto& a : node.attributes) {
    std::set<std::string> none;
    if (a.g) collect_outer_reads(*a.g, none, reads);
    for (const auto& sg : a.graphs) collect_outer_reads(*sg, none, reads);
  }
  return {reads.begin(), reads.end()};
}

}  // namespace

Expected<std::vector<size_t>> topological_order(const Graph& graph,
                                                const std::vector<std::string>& outer_names) {
  std::unordered_map<std::string, size_t> producer;
  std::unordered_set<std::string> available(outer_names.begin(), outer_names.end());
  for (const auto& v : graph.inputs) available.insert(v.name);
  for (const auto& [k, v] : graph.initializers) available.insert(k);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    for (const auto& o : graph.nodes[i].outputs) {
      if (o.empty()) continue;
      if (producer.count(o))
        return Status(StatusCode::invalid_model,
                      fmt::format("value '{}' is produced twice: by {} and by {}", o,
                                  graph.nodes[producer[o]].label(), graph.nodes[i].label()));
      for (const auto& gi : graph.inputs)
        if (gi.name == o && !graph.initializers.count(o))
          return Status(StatusCode::invalid_model,
                        fmt::format("value '{}' is a graph input and also produced by {}", o, graph.nodes[i].label()));
      producer[o] = i;
    }
  }
  const size_t n = graph.nodes.size();
  std::vector<std::vector<size_t>> consumers(n);
  std::vector<size_t> pending(n, 0);
  for (size_t i = 0; i < n; ++i) {
    std::vector<std::string> reads = graph.nodes[i].inputs;
    for (auto& r : implicit_inputs(graph.nodes[i])) reads.push_back(r);
    std::set<size_t> deps;
    for (size_t k = 0; k < reads.size(); ++k) {
      const std::string& in = reads[k];
      if (in.empty()) continue;
      auto it = producer.find(in);
      if (it != producer.end()) {
        if (available.count(in) && !graph.initializers.count(in)) continue;  // outer name shadowed
        deps.insert(it->second);
      } else if (!available.count(in)) {
        const bool from_subgraph = k >= graph.nodes[i].inputs.size();
        return Status(StatusCode::invalid_model,
                      fmt::format("{} reads '{}'{}, which no node, input or initializer produces",
                                  graph.nodes[i].label(), in, from_subgraph ? " in one of its subgraphs" : ""));
      }
    }
    for (size_t d : deps) {
      consumers[d].push_back(i);
      ++pending[i];
    }
  }
  std::vector<size_t> order;
  std::vector<size_t> ready;
  for (size_t i = n; i-- > 0;)
    if (pending[i] == 0) ready.push_back(i);
  // Keep the file's order where possible: take the lowest index first.
  std::set<size_t> ready_set(ready.begin(), ready.end());
  while (!ready_set.empty()) {
    size_t i = *ready_set.begin();
    ready_set.erase(ready_set.begin());
    order.push_back(i);
    for (size_t c : consumers[i])
      if (--pending[c] == 0) ready_set.insert(c);
  }
  if (order.size() != n) {
    for (size_t i = 0; i < n; ++i)
      if (pending[i] != 0)
        return Status(StatusCode::invalid_model,
                      fmt::format("the graph has a cycle through {}", graph.nodes[i].label()));
  }
  for (const auto& o : graph.outputs) {
    if (!producer.count(o.name) && !available.count(o.name))
      return Status(StatusCode::invalid_model,
                    fmt::format("graph output '{}' is not produced by any node, input or initializer", o.name));
  }
  return order;
}

namespace {
Status validate_rec(const Graph& graph, const std::vector<std::string>& outer, int depth, int max_depth) {
  if (depth > max_depth)
    return Status(StatusCode::invalid_model,
                  fmt::format("subgraphs are nested more than {} deep (graph '{}')", max_depth, graph.name));
  std::set<std::string> names;
  for (const auto& v : graph.inputs)
    if (!names.insert(v.name).second)
      return Status(StatusCode::invalid_model, fmt::format("graph input '{}' is declared twice", v.name));
  auto order = topological_order(graph, outer);
  if (!order.ok()) return order.status();
  std::vector<std::string> scope = outer;
  for (const auto& v : graph.inputs) scope.push_back(v.name);
  for (const auto& [k, v] : graph.initializers) scope.push_back(k);
  for (const auto& node : graph.nodes)
    for (const auto& o : node.outputs)
      if (!o.empty()) scope.push_back(o);
  for (const auto& node : graph.nodes) {
    for (const auto& a : node.attributes) {
      std::vector<const Graph*> subs;
      if (a.g) subs.push_back(a.g.get());
      for (const auto& sg : a.graphs) subs.push_back(sg.get());
      for (const Graph* sg : subs) {
        Status st = validate_rec(*sg, scope, depth + 1, max_depth);
        if (!st.ok())
          return Status(st.code(), fmt::format("in subgraph '{}' of {}: {}", a.name, node.label(), st.message()));
      }
    }
  }
  return Status::OK();
}
}  // namespace

Status validate_graph(const Graph& graph, int max_depth) { return validate_rec(graph, {}, 0, max_depth); }

}  // namespace hwopt::ir
