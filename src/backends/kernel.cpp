#include "backends/kernel.h"

namespace hwopt {

const Tensor& KernelContext::input(size_t i) const {
  HWOPT_KCHECK(has_input(i), "input {} is required but missing", i);
  HWOPT_KCHECK(inputs_[i]->is_tensor(), "input {} ('{}') must be a tensor", i, node_.inputs[i]);
  return inputs_[i]->tensor;
}

const std::vector<Tensor>& KernelContext::input_sequence(size_t i) const {
  HWOPT_KCHECK(has_input(i), "input {} is required but missing", i);
  HWOPT_KCHECK(inputs_[i]->is_sequence(), "input {} ('{}') must be a sequence", i, node_.inputs[i]);
  return inputs_[i]->sequence;
}

Tensor& KernelContext::allocate_output(size_t i, DType dtype, const Shape& shape) {
  return allocate(i, dtype, shape, true);
}

Tensor& KernelContext::allocate_uninitialized_output(size_t i, DType dtype, const Shape& shape) {
  return allocate(i, dtype, shape, false);
}

Tensor& KernelContext::allocate(size_t i, DType dtype, const Shape& shape, bool zero) {
  HWOPT_KCHECK(i < outputs_.size(), "output {} does not exist (node has {})", i, outputs_.size());
  for (int64_t d : shape) HWOPT_KCHECK(d >= 0, "output {} would have negative dim in {}", i, shape_str(shape));
  auto t = Tensor::create(dtype, shape, zero);
  if (!t.ok()) throw KernelError(fmt::format("output {} ('{}'): {}", i, i < node_.outputs.size() ? node_.outputs[i] : std::string(), t.status().message()));
  outputs_[i] = RtValue::of(std::move(t).value());
  return outputs_[i].tensor;
}

void KernelContext::set_output(size_t i, Tensor t) {
  HWOPT_KCHECK(i < outputs_.size(), "output {} does not exist (node has {})", i, outputs_.size());
  outputs_[i] = RtValue::of(std::move(t));
}

void KernelContext::set_output_sequence(size_t i, std::vector<Tensor> seq, DType elem) {
  HWOPT_KCHECK(i < outputs_.size(), "output {} does not exist (node has {})", i, outputs_.size());
  outputs_[i] = RtValue::of_sequence(std::move(seq), elem);
}

void KernelContext::set_output_value(size_t i, RtValue v) {
  HWOPT_KCHECK(i < outputs_.size(), "output {} does not exist (node has {})", i, outputs_.size());
  outputs_[i] = std::move(v);
}

int64_t KernelContext::attr_int(const std::string& name, int64_t def) const {
  const ir::Attribute* a = node_.attr(name);
  if (!a) return def;
  HWOPT_KCHECK(a->type == ir::AttrType::i, "attribute '{}' must be an int", name);
  return a->i;
}

float KernelContext::attr_float(const std::string& name, float def) const {
  const ir::Attribute* a = node_.attr(name);
  if (!a) return def;
  if (a->type == ir::AttrType::i) return static_cast<float>(a->i);
  HWOPT_KCHECK(a->type == ir::AttrType::f, "attribute '{}' must be a float", name);
  return a->f;
}

std::string KernelContext::attr_string(const std::string& name, const std::string& def) const {
  const ir::Attribute* a = node_.attr(name);
  if (!a) return def;
  HWOPT_KCHECK(a->type == ir::AttrType::s, "attribute '{}' must be a string", name);
  return a->s;
}

std::vector<int64_t> KernelContext::attr_ints(const std::string& name, std::vector<int64_t> def) const {
  const ir::Attribute* a = node_.attr(name);
  if (!a) return def;
  HWOPT_KCHECK(a->type == ir::AttrType::ints || a->type == ir::AttrType::undefined,
               "attribute '{}' must be a list of ints", name);
  return a->ints;
}

std::vector<float> KernelContext::attr_floats(const std::string& name, std::vector<float> def) const {
  const ir::Attribute* a = node_.attr(name);
  if (!a) return def;
  HWOPT_KCHECK(a->type == ir::AttrType::floats || a->type == ir::AttrType::undefined,
               "attribute '{}' must be a list of floats", name);
  return a->floats;
}

std::vector<std::string> KernelContext::attr_strings(const std::string& name,
                                                     std::vector<std::string> def) const {
  const ir::Attribute* a = node_.attr(name);
  if (!a) return def;
  HWOPT_KCHECK(a->type == ir::AttrType::strings || a->type == ir::AttrType::undefined,
               "attribute '{}' must be a list of strings", name);
  return a->strings;
}

const Tensor* KernelContext::attr_tensor(const std::string& name) const {
  const ir::Attribute* a = node_.attr(name);
  if (!a || a->type != ir::AttrType::t) return nullptr;
  return &a->t;
}

const ir::Graph* KernelContext::attr_graph(const std::string& name) const {
  const ir::Attribute* a = node_.attr(name);
  if (!a || a->type != ir::AttrType::g) return nullptr;
  return a->g.get();
}

}  // namespace hwopt
