// The reference backend's kernel registry: one plain, obviously-correct kernel per ONNX op.
#pragma once

#include <string>
#include <vector>

#include "backends/kernel.h"

namespace hwopt::reference {

struct KernelDef {
  std::string op_type;
  std::string domain;  // "" for ai.onnx
  int since_version = 1;
  KernelFn fn;
};

class KernelRegistry {
 public:
  static KernelRegistry& instance();
  void add(KernelDef def);
  /// The kernel with the largest since_version <= opset; nullptr if none.
  const KernelDef* find(const std::string& op_type, const std::string& domain, int opset) const;
  /// Sorted "domain:op" names, for coverage reports.
  std::vector<std::string> op_names() const;

 private:
  std::vector<KernelDef> defs_;
};

struct KernelRegistrar {
  KernelRegistrar(const char* op, const char* domain, int since, KernelFn fn) {
    KernelRegistry::instance().add({op, domain, since, std::move(fn)});
  }
};

}  // namespace hwopt::reference

/// Registers `fn` (void(KernelContext&)) as the reference kernel for ONNX op `op` of `domain`
/// ("" = ai.onnx) from opset `since`. A kernel may branch on ctx.opset() for older semantics.
#define HWOPT_REGISTER_REF_KERNEL(op, domain, since, fn)                                           \
  static ::hwopt::reference::KernelRegistrar HWOPT_CONCAT(_hwopt_ref_kernel_, __COUNTER__)(op, domain, \
                                                                                        since, fn)
