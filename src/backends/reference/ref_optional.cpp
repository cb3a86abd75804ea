// Optionals: Optional, OptionalGetElement, OptionalHasElement (an empty optional is an RtValue of kind none).
#include "backends/reference/registry.h"

namespace hwopt::reference {
namespace {

void ref_optional(KernelContext& ctx) {
  if (ctx.has_input(0)) {
    ctx.set_output_value(0, *ctx.input_value(0));
    return;
  }
  const ir::Attribute* type = ctx.node().attr("type");
  HWOPT_KCHECK(type != nullptr, "Optional without an input needs the 'type' attribute");
  RtValue empty;
  empty.elem_dtype = type->type_info.dtype;
  ctx.set_output_value(0, std::move(empty));
}

void ref_optional_get_element(KernelContext& ctx) {
  HWOPT_KCHECK(ctx.has_input(0), "OptionalGetElement: the optional input is empty");
  ctx.set_output_value(0, *ctx.input_value(0));
}

void ref_optional_has_element(KernelContext& ctx) {
  // An absent input (allowed from opset 18) counts as empty, like an empty optional.
  ctx.allocate_output(0, DType::boolean, {}).data<bool>()[0] = ctx.has_input(0);
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Optional", "", 15, ref_optional);
HWOPT_REGISTER_REF_KERNEL("OptionalGetElement", "", 15, ref_optional_get_element);
HWOPT_REGISTER_REF_KERNEL("OptionalHasElement", "", 15, ref_optional_has_element);

}  // namespace hwopt::reference
