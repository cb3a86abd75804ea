#include "passes/activation_match.h"

#include <limits>

#include "passes/pattern_util.h"

namespace hwopt::passes {

namespace {

bool single_output(const ir::Node& n) { return n.outputs.size() == 1 && !n.outputs[0].empty(); }

/// Clip's bounds: attributes before opset 11, optional constant scalar inputs from 11.
std::optional<std::vector<float>> clip_bounds(const GraphView& view, const ir::Node& n) {
  float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
  if (n.opset < 11) {
    if (n.inputs.size() != 1) return std::nullopt;
    lo = attr_float(n, "min", lo);
    hi = attr_float(n, "max", hi);
  } else {
    if (n.inputs.size() > 3) return std::nullopt;
    for (size_t k = 1; k < n.inputs.size(); ++k) {
      if (n.inputs[k].empty()) continue;
      auto v = view.scalar(n.inputs[k]);
      if (!v || view.dtype(n.inputs[k]) != DType::float32) return std::nullopt;
      (k == 1 ? lo : hi) = static_cast<float>(*v);
    }
  }
  return std::vector<float>{lo, hi};
}

std::optional<ActivationMatch> match_single(const GraphView& view, size_t idx, const std::string& value) {
  const ir::Node& n = view.node(idx);
  if (!single_output(n) || n.inputs.empty() || n.inputs[0] != value) return std::nullopt;
  ActivationMatch m;
  m.nodes = {idx};
  m.output = n.outputs[0];
  if (n.domain.empty()) {
    if (n.inputs.size() != 1 && n.op_type != "Clip") return std::nullopt;
    if (n.op_type == "Relu" || n.op_type == "Sigmoid" || n.op_type == "Tanh") {
      m.name = n.op_type;
    } else if (n.op_type == "LeakyRelu") {
      m.name = n.op_type;
      m.params = {attr_float(n, "alpha", 0.01f)};
    } else if (n.op_type == "HardSigmoid") {
      m.name = n.op_type;
      m.params = {attr_float(n, "alpha", 0.2f), attr_float(n, "beta", 0.5f)};
    } else if (n.op_type == "HardSwish") {
      m.name = n.op_type;
    } else if (n.op_type == "Clip") {
      auto b = clip_bounds(view, n);
      if (!b) return std::nullopt;
      m.name = "Clip";
      m.params = *b;
    } else if (n.op_type == "Gelu") {
      const std::string approx = attr_string(n, "approximate", "none");
      if (approx == "none") {
        m.name = "Gelu";
      } else if (approx == "tanh") {
        m.name = "FastGelu";
      } else {
        return std::nullopt;
      }
    } else {
      return std::nullopt;
    }
    return m;
  }
  if (n.domain == "com.microsoft" && n.inputs.size() == 1 && (n.op_type == "Gelu" || n.op_type == "FastGelu")) {
    m.name = n.op_type;
    return m;
  }
  return std::nullopt;
}

/// HardSwish written out: x * Clip(x + 3, 0, 6) / 6 (the division as Div by 6 or Mul by 1/6, before
/// or after the product), or x * HardSigmoid(x, alpha=1/6, beta=0.5). `uses` are x's two readers.
std::optional<ActivationMatch> match_hard_swish(const GraphView& view, const std::string& x) {
  const auto& uses = view.uses(x);
  for (int s = 0; s < 2; ++s) {
    const int first = static_cast<int>(uses[s].node), mul = static_cast<int>(uses[1 - s].node);
    if (!is_node(view, mul, "Mul", 2)) continue;
    const ir::Node& fn = view.node(first);
    ActivationMatch m;
    m.name = "HardSwish";
    if (fn.domain.empty() && fn.op_type == "HardSigmoid" && fn.inputs.size() == 1 && single_output(fn)) {
      if (!near(attr_float(fn, "alpha", 0.2f), 1.0 / 6.0, 1e-6) || attr_float(fn, "beta", 0.5f) != 0.5f) continue;
      if (view.sole_user(fn.outputs[0]) != mul || other_input(view.node(mul), fn.outputs[0]) != x) continue;
      m.nodes = {static_cast<size_t>(first), static_cast<size_t>(mul)};
      m.output = view.node(mul).outputs[0];
      return m;
    }
    if (!is_node(view, first, "Add", 2) || !scalar_near(view, other_input(fn, x), 3.0, 1e-6, x)) continue;
    const int clip = view.sole_user(fn.outputs[0]);
    if (clip < 0) continue;
    const ir::Node& cn = view.node(clip);
    if (!cn.domain.empty() || cn.op_type != "Clip" || !single_output(cn) || cn.inputs.empty() ||
        cn.inputs[0] != fn.outputs[0])
      continue;
    auto bounds = clip_bounds(view, cn);
    if (!bounds || (*bounds)[0] != 0.0f || (*bounds)[1] != 6.0f) continue;
    // Divides its input by 6 (Div by 6 or Mul by 1/6): the node reading `v` alone, or -1.
    auto sixth = [&](const std::string& v) {
      const int d = view.sole_user(v);
      if (is_node(view, d, "Div", 2) && view.node(d).inputs[0] == v && scalar_near(view, view.node(d).inputs[1], 6.0, 1e-6, x))
        return d;
      if (is_node(view, d, "Mul", 2) && scalar_near(view, other_input(view.node(d), v), 1.0 / 6.0, 1e-6, x)) return d;
      return -1;
    };
    const std::string& c = cn.outputs[0];
    if (view.sole_user(c) == mul && other_input(view.node(mul), c) == x) {  // (x * clip) / 6
      const int d = sixth(view.node(mul).outputs[0]);
      if (d < 0) continue;
      m.nodes = {static_cast<size_t>(first), static_cast<size_t>(clip), static_cast<size_t>(mul), static_cast<size_t>(d)};
      m.output = view.node(d).outputs[0];
      return m;
    }
    const int d = sixth(c);  // x * (clip / 6)
    if (d < 0 || view.sole_user(view.node(d).outputs[0]) != mul ||
        other_input(view.node(mul), view.node(d).outputs[0]) != x)
      continue;
    m.nodes = {static_cast<size_t>(first), static_cast<size_t>(clip), static_cast<size_t>(d), static_cast<size_t>(mul)};
    m.output = view.node(mul).outputs[0];
    return m;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ActivationMatch> match_activation(const GraphView& view, const std::string& value) {
  if (view.pinned(value) || !dtype_is_float(view.dtype(value))) return std::nullopt;
  const auto& uses = view.uses(value);
  if (uses.size() == 1) return match_single(view, uses[0].node, value);
  if (uses.size() != 2 || uses[0].node == uses[1].node) return std::nullopt;
  // Silu / Swish: Mul(x, Sigmoid(x)); Mish: Mul(x, Tanh(Softplus(x))); either operand order.
  auto unary = [&](size_t i, const char* op) {
    const ir::Node& n = view.node(i);
    return n.op_type == op && n.domain.empty() && n.inputs.size() == 1 && single_output(n);
  };
  for (int s = 0; s < 2; ++s) {
    const size_t first = uses[s].node, mul = uses[1 - s].node;
    const ir::Node& nm = view.node(mul);
    if (nm.op_type != "Mul" || !nm.domain.empty() || nm.inputs.size() != 2 || !single_output(nm)) continue;
    ActivationMatch m;
    if (unary(first, "Sigmoid")) {
      m.name = "Silu";
      m.nodes = {first, mul};
    } else if (unary(first, "Softplus")) {
      const int t = view.sole_user(view.node(first).outputs[0]);
      if (t < 0 || !unary(static_cast<size_t>(t), "Tanh")) continue;
      m.name = "Mish";
      m.nodes = {first, static_cast<size_t>(t), mul};
    } else {
      continue;
    }
    const std::string& gate = view.node(m.nodes[m.nodes.size() - 2]).outputs[0];
    if (view.sole_user(gate) != static_cast<int>(mul)) continue;
    const bool operands =
        (nm.inputs[0] == value && nm.inputs[1] == gate) || (nm.inputs[1] == value && nm.inputs[0] == gate);
    if (!operands) continue;
    m.output = nm.outputs[0];
    return m;
  }
  return match_hard_swish(view, value);
}

void add_activation_attrs(ir::Node& node, const ActivationMatch& act, bool gemm_style) {
  node.attributes.push_back(make_attr("activation", act.name));
  if (gemm_style) {
    if (act.params.size() > 0) node.attributes.push_back(make_attr("activation_alpha", act.params[0]));
    if (act.params.size() > 1) node.attributes.push_back(make_attr("activation_beta", act.params[1]));
  } else if (!act.params.empty()) {
    node.attributes.push_back(make_attr("activation_params", act.params));
  }
}

}  // namespace hwopt::passes
