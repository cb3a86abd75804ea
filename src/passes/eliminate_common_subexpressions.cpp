// eliminate_common_subexpressions: a node that computes what an earlier node computes (same op,
// domain, opset, attributes and inputs) is removed and its readers read the earlier node's
// outputs. Inputs compare by name, except small constants, which compare by value (exporters
// write the same [12, 64] head shape as a new constant in every layer); the two inputs of a
// commutative op (Add, Mul, Max, Min, And, Or, Xor, Equal) compare in either order, which IEEE
// arithmetic and broadcasting make exact. In a transformer export this merges the repeated shape
// reads of one value (Shape(x) twice, once per dim it needs).
//
// Two values whose shapes carry the same dim name are not taken to have the same Shape: models
// in the wild reuse one name for dims of different sizes, and a merge would compute wrong shapes.
//
// Not merged: random ops and Dropout, nodes with subgraphs, nodes with large tensor attributes,
// and nodes whose output is a graph output (it must keep its producer).
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <unordered_map>

#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

const std::set<std::string> kNeverMerge = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                                           "Multinomial", "Bernoulli", "Dropout", "Constant"};
/// Two-input ops whose result does not depend on the order of their inputs.
const std::set<std::string> kCommutative = {"Add", "Mul", "Max", "Min", "And", "Or", "Xor", "Equal"};
/// Constants up to this many bytes compare by value (shape vectors, scalars, axes).
constexpr size_t kMaxValueKeyBytes = 256;
/// Tensor attributes up to this many bytes compare by value; nodes with larger ones are left alone.
constexpr size_t kMaxAttrTensorBytes = 4096;

/// Raw bytes into the key (compared, never printed); each run's length is fixed by what precedes it
/// (a dtype and shape, an attribute type, an element count).
void append_bytes(std::string& key, const void* p, size_t n) { key.append(static_cast<const char*>(p), n); }

/// dtype, shape and contents of a plain tensor; false if it is too large to key by value.
bool append_tensor(std::string& key, const Tensor& t, size_t max_bytes) {
  if (!t.defined() || t.nbytes() > max_bytes || !t.is_plain() || t.dtype() == DType::string) return false;
  const Tensor c = t.contiguous();
  key += fmt::format("{}{}:", dtype_name(c.dtype()), shape_str(c.shape()));
  append_bytes(key, c.raw_data(), c.nbytes());
  return true;
}

/// The attributes in a canonical order and form; false where one cannot be compared cheaply.
bool append_attributes(std::string& key, const ir::Node& n) {
  std::vector<const ir::Attribute*> attrs;
  for (const auto& a : n.attributes) attrs.push_back(&a);
  std::sort(attrs.begin(), attrs.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  for (const ir::Attribute* a : attrs) {
    key += fmt::format("|{}:{}={}:", a->name.size(), a->name, static_cast<int>(a->type));
    switch (a->type) {
      case ir::AttrType::f: append_bytes(key, &a->f, sizeof a->f); break;
      case ir::AttrType::i: key += std::to_string(a->i); break;
      case ir::AttrType::s: key += fmt::format("{}:{}", a->s.size(), a->s); break;
      case ir::AttrType::floats:
        key += fmt::format("{}:", a->floats.size());
        append_bytes(key, a->floats.data(), a->floats.size() * sizeof(float));
        break;
      case ir::AttrType::ints:
        for (int64_t v : a->ints) key += fmt::format("{},", v);
        break;
      case ir::AttrType::strings:
        for (const auto& v : a->strings) key += fmt::format("{}:{},", v.size(), v);
        break;
      case ir::AttrType::t:
        if (!append_tensor(key, a->t, kMaxAttrTensorBytes)) return false;
        break;
      default: return false;  // graphs, tensor lists, type protos
    }
  }
  return true;
}

class EliminateCommonSubexpressions final : public Pass {
 public:
  std::string name() const override { return "eliminate_common_subexpressions"; }
  std::string description() const override {
    return "remove nodes that recompute an earlier node's result (same op, attributes and inputs; small constants "
           "compared by value)";
  }

  Expected<int> run(ir::Graph& graph, PassContext&) override {
    GraphView view(graph);
    GraphPatch patch;
    std::unordered_map<std::string, std::string> alias;  // removed output -> the earlier output it equals
    std::unordered_map<std::string, size_t> first;       // key -> index of the first node computing it
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& n = view.node(i);
      std::string key;
      if (!node_key(view, n, alias, key)) continue;
      auto [it, inserted] = first.emplace(std::move(key), i);
      if (inserted) continue;
      bool pinned = false;
      for (const auto& o : n.outputs) pinned |= !o.empty() && view.pinned(o);
      if (pinned) continue;
      const ir::Node& kept = view.node(it->second);
      for (size_t k = 0; k < n.outputs.size(); ++k) {
        if (n.outputs[k].empty()) continue;
        alias[n.outputs[k]] = kept.outputs[k];
        patch.redirect(n.outputs[k], kept.outputs[k]);
      }
      patch.remove_node(i);
      ++count;
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }

 private:
  /// What node `n` computes, as a string; false if it must not be merged.
  static bool node_key(const GraphView& view, const ir::Node& n,
                       const std::unordered_map<std::string, std::string>& alias, std::string& key) {
    if (kNeverMerge.count(n.op_type) || n.outputs.empty() || !subgraphs_of(n).empty()) return false;
    key = fmt::format("{}:{}:{}:{}:{}:", n.domain.size(), n.domain, n.op_type.size(), n.op_type, n.opset);
    for (const auto& o : n.outputs) key += o.empty() ? '_' : 'o';  // which optional outputs exist
    if (!append_attributes(key, n)) return false;
    std::vector<std::string> inputs;
    for (const auto& in : n.inputs) {
      std::string k = "|";
      if (!in.empty()) {
        auto a = alias.find(in);
        const std::string& name = a == alias.end() ? in : a->second;
        const Tensor* c = view.constant(name);
        if (!c || !append_tensor(k, *c, kMaxValueKeyBytes)) k += fmt::format("${}:{}", name.size(), name);
      }
      inputs.push_back(std::move(k));
    }
    if (n.domain.empty() && inputs.size() == 2 && kCommutative.count(n.op_type)) std::sort(inputs.begin(), inputs.end());
    for (const auto& k : inputs) key += k;
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> make_eliminate_common_subexpressions() {
  return std::make_unique<EliminateCommonSubexpressions>();
}

}  // namespace hwopt::passes
