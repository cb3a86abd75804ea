#include "backends/backend.h"

#include <algorithm>

namespace hwopt {

const ir::ValueInfo* NodeContext::input_info(size_t i) const {
  if (!has_input(i)) return nullptr;
  return graph.find_value(node.inputs[i]);
}

const ir::ValueInfo* NodeContext::output_info(size_t i) const {
  if (i >= node.outputs.size() || node.outputs[i].empty()) return nullptr;
  return graph.find_value(node.outputs[i]);
}

DType NodeContext::input_dtype(size_t i) const {
  if (const Tensor* t = constant_input(i)) return t->dtype();
  const ir::ValueInfo* vi = input_info(i);
  return vi ? vi->dtype : DType::undefined;
}

const Tensor* NodeContext::constant_input(size_t i) const {
  if (!has_input(i)) return nullptr;
  auto it = graph.initializers.find(node.inputs[i]);
  if (it == graph.initializers.end()) return nullptr;
  // A graph input with the same name may override the initializer at run time.
  for (const auto& in : graph.inputs)
    if (in.name == node.inputs[i]) return nullptr;
  return &it->second;
}

int64_t NodeContext::input_rank(size_t i) const {
  if (const Tensor* t = constant_input(i)) return t->rank();
  const ir::ValueInfo* vi = input_info(i);
  return vi && vi->has_shape ? static_cast<int64_t>(vi->shape.size()) : -1;
}

const ActivationRange* NodeContext::range_of(const std::string& value) const {
  if (!ranges) return nullptr;
  auto it = ranges->find(value);
  return it == ranges->end() ? nullptr : &it->second;
}

std::vector<const ir::Node*> NodeContext::consumers_of(const std::string& value) const {
  std::vector<const ir::Node*> out;
  for (const auto& n : graph.nodes)
    for (const auto& i : n.inputs)
      if (i == value) {
        out.push_back(&n);
        break;
      }
  return out;
}

bool NodeContext::kept_fp32(const ir::Node* n) const {
  if (!fp32_nodes) return false;
  const ir::Node& x = n ? *n : node;
  return fp32_nodes->count(x.name.empty() ? (x.outputs.empty() ? std::string() : x.outputs[0]) : x.name) > 0;
}

bool NodeContext::is_graph_output(const std::string& value) const {
  for (const auto& o : graph.outputs)
    if (o.name == value) return true;
  return false;
}

CandidateRegistry& CandidateRegistry::instance() {
  static CandidateRegistry registry;
  return registry;
}

void CandidateRegistry::add(Candidate c) { candidates_.push_back(std::move(c)); }

std::vector<const Candidate*> CandidateRegistry::find(const std::string& backend, const std::string& op_type,
                                                      const std::string& domain, int opset) const {
  std::vector<const Candidate*> out;
  for (const auto& c : candidates_)
    if (c.backend == backend && c.op_type == op_type && c.domain == domain && c.since_version <= opset)
      out.push_back(&c);
  std::stable_sort(out.begin(), out.end(), [](const Candidate* a, const Candidate* b) { return a->priority < b->priority; });
  return out;
}

std::vector<const Candidate*> CandidateRegistry::all() const {
  std::vector<const Candidate*> out;
  for (const auto& c : candidates_) out.push_back(&c);
  return out;
}

std::vector<std::string> known_backends() { return {"cpu", "reference"}; }

KernelChoice choose_kernel(const std::string& backend, const NodeContext& nctx, const KernelFn& reference) {
  const ir::Node& node = nctx.node;
  KernelChoice choice{reference, "ref:" + node.op_type, {}};
  if (backend == "reference") return choice;
  for (const Candidate* c : CandidateRegistry::instance().find(backend, node.op_type, node.domain, node.opset)) {
    std::string why = c->check ? c->check(nctx) : "";
    if (!why.empty()) {
      choice.declined.push_back(c->backend + ":" + c->name + ": " + why);
      continue;
    }
    KernelFn noted = [reference](KernelContext& ctx) {
      reference(ctx);
      ctx.set_kernel_detail(kReferenceFallback);
    };
    choice.fn = c->make(nctx, std::move(noted));
    choice.implementation = c->backend + ":" + c->name;
    if (c->variant)
      if (std::string v = c->variant(nctx); !v.empty()) choice.implementation += "[" + v + "]";
    choice.accepts_layouts = c->accepts_layouts;
    choice.accepts_quantized = c->accepts_quantized;
    break;
  }
  return choice;
}

}  // namespace hwopt
