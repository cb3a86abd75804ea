// Identity: output is the input (shares storage; works for tensors, sequences and optionals).
#include "backends/reference/registry.h"

namespace hwopt::reference {
namespace {

void ref_identity(KernelContext& ctx) {
  const RtValue* v = ctx.input_value(0);
  HWOPT_KCHECK(v != nullptr, "input 0 is required but missing");
  ctx.set_output_value(0, *v);
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Identity", "", 1, ref_identity);

}  // namespace hwopt::reference
