// Constant (value / value_float(s) / value_int(s) / value_string(s)) and ConstantOfShape.
#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

void ref_constant(KernelContext& ctx) {
  static const char* kNames[] = {"value",      "sparse_value", "value_float",  "value_floats",
                                 "value_int", "value_ints",   "value_string", "value_strings"};
  int given = 0;
  for (const char* n : kNames) given += ctx.has_attr(n) ? 1 : 0;
  HWOPT_KCHECK(given == 1, "Constant needs exactly one value attribute, got {}", given);
  HWOPT_KCHECK(!ctx.has_attr("sparse_value"), "attribute 'sparse_value' (sparse tensors) is not supported");
  if (ctx.has_attr("value")) {
    const Tensor* t = ctx.attr_tensor("value");
    HWOPT_KCHECK(t != nullptr && t->defined(), "attribute 'value' must be a tensor");
    ctx.set_output(0, *t);  // attribute tensors are immutable: share, no copy
  } else if (ctx.has_attr("value_float")) {
    ctx.set_output(0, Tensor::scalar<float>(ctx.attr_float("value_float", 0.0f)));
  } else if (ctx.has_attr("value_floats")) {
    std::vector<float> v = ctx.attr_floats("value_floats");
    ctx.set_output(0, Tensor::from_vector<float>({static_cast<int64_t>(v.size())}, v));
  } else if (ctx.has_attr("value_int")) {
    ctx.set_output(0, Tensor::scalar<int64_t>(ctx.attr_int("value_int", 0)));
  } else if (ctx.has_attr("value_ints")) {
    std::vector<int64_t> v = ctx.attr_ints("value_ints");
    ctx.set_output(0, Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v));
  } else if (ctx.has_attr("value_string")) {
    ctx.set_output(0, Tensor::scalar<std::string>(ctx.attr_string("value_string", "")));
  } else {
    std::vector<std::string> v = ctx.attr_strings("value_strings");
    ctx.set_output(0, Tensor::from_vector<std::string>({static_cast<int64_t>(v.size())}, v));
  }
}

void ref_constant_of_shape(KernelContext& ctx) {
  const Tensor& shape_t = ctx.input(0);
  HWOPT_KCHECK(shape_t.rank() == 1, "input must be a 1-D shape, got shape {}", shape_str(shape_t.shape()));
  const std::vector<int64_t> shape = to_int64_vector(shape_t);
  for (int64_t d : shape) HWOPT_KCHECK(d >= 0, "shape {} has a negative dim", shape_str(shape));
  // Optional one-element 'value' tensor; default float32 0.
  Tensor value = Tensor::scalar<float>(0.0f);
  if (ctx.has_attr("value")) {
    const Tensor* v = ctx.attr_tensor("value");
    HWOPT_KCHECK(v != nullptr && v->numel() == 1, "attribute 'value' must be a one-element tensor");
    value = v->contiguous();
  }
  Tensor& out = ctx.allocate_output(0, value.dtype(), shape);
  visit_numeric_bool(value.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T v = value.data<T>()[0];
    T* dst = out.data<T>();
    for (int64_t i = 0; i < out.numel(); ++i) dst[i] = v;
  });
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("Constant", "", 1, ref_constant);
HWOPT_REGISTER_REF_KERNEL("ConstantOfShape", "", 1, ref_constant_of_shape);

}  // namespace hwopt::reference
