#include "passes/pattern_util.h"

namespace hwopt::passes {

bool is_node(const GraphView& view, int idx, const char* op, size_t inputs) {
  if (idx < 0) return false;
  const ir::Node& n = view.node(static_cast<size_t>(idx));
  if (!n.domain.empty() || n.op_type != op || n.inputs.size() != inputs || n.outputs.size() != 1 ||
      n.outputs[0].empty())
    return false;
  for (const auto& in : n.inputs)
    if (in.empty()) return false;
  // Binary ops before opset 7 broadcast only with the 'broadcast' attribute (legacy semantics).
  if ((n.op_type == "Add" || n.op_type == "Sub" || n.op_type == "Mul" || n.op_type == "Div" || n.op_type == "Pow") &&
      n.opset < 7)
    return false;
  return true;
}

int producer_op(const GraphView& view, const std::string& value, const char* op, size_t inputs) {
  const int p = view.producer(value);
  return is_node(view, p, op, inputs) ? p : -1;
}

int sole_user_op(const GraphView& view, const std::string& value, const char* op, size_t inputs) {
  const int u = view.sole_user(value);
  return is_node(view, u, op, inputs) ? u : -1;
}

std::string other_input(const ir::Node& node, const std::string& value) {
  if (node.inputs.size() != 2 || node.inputs[0] == node.inputs[1]) return "";
  if (node.inputs[0] == value) return node.inputs[1];
  if (node.inputs[1] == value) return node.inputs[0];
  return "";
}

bool scalar_near(const GraphView& view, const std::string& name, double target, double rtol, const std::string& x) {
  const Tensor* t = view.constant(name);
  if (!t || t->numel() != 1 || t->dtype() != view.dtype(x)) return false;
  if (t->rank() > 0) {
    auto r = view.rank(x);
    if (!r || *r < t->rank()) return false;
  }
  const double v = t->element_as_double(0);
  return target == 0 ? v == 0 : near(v, target, rtol);
}

}  // namespace hwopt::passes
