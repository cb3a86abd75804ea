#include "backends/reference/registry.h"

#include <algorithm>
#include <set>

namespace hwopt::reference {

KernelRegistry& KernelRegistry::instance() {
  static KernelRegistry registry;
  return registry;
}

void KernelRegistry::add(KernelDef def) { defs_.push_back(std::move(def)); }

const KernelDef* KernelRegistry::find(const std::string& op_type, const std::string& domain, int opset) const {
  const KernelDef* best = nullptr;
  std::string dom = domain == "ai.onnx" ? "" : domain;
  for (const auto& d : defs_) {
    if (d.op_type != op_type || d.domain != dom) continue;
    if (d.since_version > opset) continue;
    if (!best || d.since_version > best->since_version) best = &d;
  }
  return best;
}

std::vector<std::string> KernelRegistry::op_names() const {
  std::set<std::string> names;
  for (const auto& d : defs_) names.insert((d.domain.empty() ? "" : d.domain + ":") + d.op_type);
  return {names.begin(), names.end()};
}

}  // namespace hwopt::reference
