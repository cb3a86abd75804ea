#include "passes/graph_view.h"

#include <cmath>

namespace hwopt::passes {

namespace {

void collect_outer_reads(const ir::Graph& g, const std::set<std::string>& enclosing_local, std::set<std::string>& reads) {
  std::set<std::string> local = enclosing_local;
  for (const auto& v : g.inputs) local.insert(v.name);
  for (const auto& [k, v] : g.initializers) local.insert(k);
  for (const auto& n : g.nodes)
    for (const auto& o : n.outputs)
      if (!o.empty()) local.insert(o);
  for (const auto& n : g.nodes) {
    for (const auto& i : n.inputs)
      if (!i.empty() && !local.count(i)) reads.insert(i);
    for (const ir::Graph* sg : subgraphs_of(n)) {
      std::set<std::string> inner;
      collect_outer_reads(*sg, {}, inner);
      for (const auto& r : inner)
        if (!local.count(r)) reads.insert(r);
    }
  }
  for (const auto& o : g.outputs)
    if (!local.count(o.name)) reads.insert(o.name);
}

/// The tensor a Constant node holds, if it has one of the tensor-valued attributes.
std::optional<Tensor> constant_node_value(const ir::Node& n) {
  if (n.attributes.size() != 1) return std::nullopt;
  const ir::Attribute& a = n.attributes[0];
  if (a.name == "value" && a.type == ir::AttrType::t && a.t.defined() && a.t.dtype() != DType::string) return a.t;
  if (a.name == "value_float" && a.type == ir::AttrType::f) return Tensor::scalar<float>(a.f);
  if (a.name == "value_int" && a.type == ir::AttrType::i) return Tensor::scalar<int64_t>(a.i);
  if (a.name == "value_floats" && a.type == ir::AttrType::floats)
    return Tensor::from_vector<float>({static_cast<int64_t>(a.floats.size())}, a.floats);
  if (a.name == "value_ints" && a.type == ir::AttrType::ints)
    return Tensor::from_vector<int64_t>({static_cast<int64_t>(a.ints.size())}, a.ints);
  return std::nullopt;
}

ir::ValueInfo info_of(const std::string& name, const Tensor& t) {
  ir::ValueInfo vi;
  vi.name = name;
  vi.dtype = t.dtype();
  vi.has_shape = true;
  for (int64_t d : t.shape()) vi.shape.push_back(ir::Dim{d, ""});
  return vi;
}

}  // namespace

std::set<std::string> outer_reads(const ir::Graph& graph) {
  std::set<std::string> reads;
  collect_outer_reads(graph, {}, reads);
  return reads;
}

std::vector<ir::Graph*> subgraphs_of(ir::Node& node) {
  std::vector<ir::Graph*> out;
  for (auto& a : node.attributes) {
    if (a.g) out.push_back(a.g.get());
    for (auto& g : a.graphs)
      if (g) out.push_back(g.get());
  }
  return out;
}

std::vector<const ir::Graph*> subgraphs_of(const ir::Node& node) {
  std::vector<const ir::Graph*> out;
  for (const auto& a : node.attributes) {
    if (a.g) out.push_back(a.g.get());
    for (const auto& g : a.graphs)
      if (g) out.push_back(g.get());
  }
  return out;
}

GraphView::GraphView(const ir::Graph& graph) : graph_(graph) {
  for (const auto& v : graph.inputs) inputs_.insert(v.name);
  for (const auto& v : graph.outputs) outputs_.insert(v.name);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const ir::Node& n = graph.nodes[i];
    for (const auto& o : n.outputs)
      if (!o.empty()) producer_[o] = static_cast<int>(i);
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (!n.inputs[k].empty()) uses_[n.inputs[k]].push_back({i, k});
    for (const ir::Graph* sg : subgraphs_of(n))
      for (const auto& r : outer_reads(*sg)) subgraph_reads_.insert(r);
    if (n.op_type == "Constant" && n.domain.empty() && n.outputs.size() == 1 && !n.outputs[0].empty() &&
        !inputs_.count(n.outputs[0])) {
      if (auto t = constant_node_value(n)) constants_[n.outputs[0]] = *t;
    }
  }
  for (const auto& [name, t] : graph.initializers)
    if (!inputs_.count(name)) constants_[name] = t;
  for (const auto& [name, t] : constants_) const_info_[name] = info_of(name, t);
}

int GraphView::producer(const std::string& name) const {
  auto it = producer_.find(name);
  return it == producer_.end() ? -1 : it->second;
}

const std::vector<Use>& GraphView::uses(const std::string& name) const {
  static const std::vector<Use> none;
  auto it = uses_.find(name);
  return it == uses_.end() ? none : it->second;
}

int GraphView::sole_user(const std::string& name) const {
  if (pinned(name)) return -1;
  const auto& u = uses(name);
  if (u.size() != 1) return -1;
  return static_cast<int>(u[0].node);
}

size_t GraphView::use_count(const std::string& name) const { return uses(name).size() + (pinned(name) ? 1 : 0); }

const Tensor* GraphView::constant(const std::string& name) const {
  auto it = constants_.find(name);
  return it == constants_.end() ? nullptr : &it->second;
}

std::optional<double> GraphView::scalar(const std::string& name) const {
  const Tensor* t = constant(name);
  if (!t || t->numel() != 1 || t->dtype() == DType::string) return std::nullopt;
  return t->element_as_double(0);
}

const ir::ValueInfo* GraphView::info(const std::string& name) const {
  auto it = const_info_.find(name);
  if (it != const_info_.end()) return &it->second;
  return graph_.find_value(name);
}

DType GraphView::dtype(const std::string& name) const {
  const ir::ValueInfo* vi = info(name);
  return vi ? vi->dtype : DType::undefined;
}

std::optional<int64_t> GraphView::rank(const std::string& name) const {
  const ir::ValueInfo* vi = info(name);
  if (!vi || vi->kind != ir::ValueKind::tensor || !vi->has_shape) return std::nullopt;
  return static_cast<int64_t>(vi->shape.size());
}

std::optional<Shape> GraphView::static_shape(const std::string& name) const {
  const ir::ValueInfo* vi = info(name);
  if (!vi || vi->kind != ir::ValueKind::tensor) return std::nullopt;
  return vi->static_shape();
}

bool GraphView::same_shape(const std::string& a, const std::string& b) const {
  const ir::ValueInfo* va = info(a);
  const ir::ValueInfo* vb = info(b);
  if (!va || !vb || !va->has_shape || !vb->has_shape) return false;
  if (va->kind != ir::ValueKind::tensor || vb->kind != ir::ValueKind::tensor) return false;
  if (va->shape.size() != vb->shape.size()) return false;
  for (size_t i = 0; i < va->shape.size(); ++i) {
    const ir::Dim& x = va->shape[i];
    const ir::Dim& y = vb->shape[i];
    if (x.known() && y.known()) {
      if (x.value != y.value) return false;
    } else if (x.known() || y.known() || x.param.empty() || x.param != y.param) {
      return false;
    }
  }
  return true;
}

int64_t attr_int(const ir::Node& node, const std::string& name, int64_t def) {
  const ir::Attribute* a = node.attr(name);
  return a && a->type == ir::AttrType::i ? a->i : def;
}

float attr_float(const ir::Node& node, const std::string& name, float def) {
  const ir::Attribute* a = node.attr(name);
  return a && a->type == ir::AttrType::f ? a->f : def;
}

std::string attr_string(const ir::Node& node, const std::string& name, const std::string& def) {
  const ir::Attribute* a = node.attr(name);
  return a && a->type == ir::AttrType::s ? a->s : def;
}

std::optional<std::vector<int64_t>> attr_ints(const ir::Node& node, const std::string& name) {
  const ir::Attribute* a = node.attr(name);
  if (!a || a->type != ir::AttrType::ints) return std::nullopt;
  return a->ints;
}

ir::Attribute make_attr(const std::string& name, int64_t v) {
  ir::Attribute a;
  a.name = name;
  a.type = ir::AttrType::i;
  a.i = v;
  return a;
}

ir::Attribute make_attr(const std::string& name, float v) {
  ir::Attribute a;
  a.name = name;
  a.type = ir::AttrType::f;
  a.f = v;
  return a;
}

ir::Attribute make_attr(const std::string& name, const std::string& v) {
  ir::Attribute a;
  a.name = name;
  a.type = ir::AttrType::s;
  a.s = v;
  return a;
}

ir::Attribute make_attr(const std::string& name, std::vector<int64_t> v) {
  ir::Attribute a;
  a.name = name;
  a.type = ir::AttrType::ints;
  a.ints = std::move(v);
  return a;
}

ir::Attribute make_attr(const std::string& name, std::vector<float> v) {
  ir::Attribute a;
  a.name = name;
  a.type = ir::AttrType::floats;
  a.floats = std::move(v);
  return a;
}

bool near(double a, double b, double rtol) { return std::fabs(a - b) <= rtol * std::fabs(b); }

}  // namespace hwopt::passes
