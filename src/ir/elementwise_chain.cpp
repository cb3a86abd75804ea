#include "ir/elementwise_chain.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace hwopt::ir {
namespace {

constexpr std::array<const char*, 16> kUnary = {"Relu", "LeakyRelu",  "Elu", "Sigmoid", "HardSigmoid", "HardSwish",
                                                "Softplus", "Tanh", "Exp", "Log", "Sqrt", "Abs",
                                                "Neg",  "Reciprocal", "Erf", "Clip"};
constexpr std::array<const char*, 7> kBinary = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Pow"};

template <size_t N>
bool contains(const std::array<const char*, N>& list, const std::string& op) {
  return std::any_of(list.begin(), list.end(), [&](const char* o) { return op == o; });
}

/// An attribute `name` of `type` holding `value` in `member`.
template <typename T>
Attribute make(const char* name, AttrType type, T Attribute::*member, T value) {
  Attribute a;
  a.name = name;
  a.type = type;
  a.*member = std::move(value);
  return a;
}

}  // namespace

bool is_chain_binary_op(const std::string& op) { return contains(kBinary, op); }
bool is_chain_op(const std::string& op) { return contains(kUnary, op) || contains(kBinary, op); }

std::vector<Attribute> chain_attributes(const ElementwiseChain& chain) {
  std::vector<std::string> ops;
  std::vector<int64_t> arity, inputs;
  std::vector<float> alpha, beta;
  for (const ChainStep& s : chain.steps) {
    ops.push_back(s.op);
    arity.push_back(static_cast<int64_t>(s.inputs.size()));
    inputs.insert(inputs.end(), s.inputs.begin(), s.inputs.end());
    alpha.push_back(s.alpha);
    beta.push_back(s.beta);
  }
  return {make("ops", AttrType::strings, &Attribute::strings, std::move(ops)),
          make("step_arity", AttrType::ints, &Attribute::ints, std::move(arity)),
          make("step_inputs", AttrType::ints, &Attribute::ints, std::move(inputs)),
          make("alpha", AttrType::floats, &Attribute::floats, std::move(alpha)),
          make("beta", AttrType::floats, &Attribute::floats, std::move(beta)),
          make("onnx_opset", AttrType::i, &Attribute::i, static_cast<int64_t>(chain.onnx_opset))};
}

std::string parse_chain(const Node& node, ElementwiseChain& chain) {
  chain = ElementwiseChain{};
  const Attribute* ops = node.attr("ops");
  const Attribute* arity = node.attr("step_arity");
  const Attribute* inputs = node.attr("step_inputs");
  const Attribute* alpha = node.attr("alpha");
  const Attribute* beta = node.attr("beta");
  const Attribute* opset = node.attr("onnx_opset");
  if (!ops || ops->type != AttrType::strings || ops->strings.empty()) return "attribute 'ops' is missing or empty";
  const size_t n = ops->strings.size();
  if (n > kMaxChainSteps) return fmt::format("{} steps (at most {})", n, kMaxChainSteps);
  if (!arity || arity->type != AttrType::ints || arity->ints.size() != n)
    return "attribute 'step_arity' must have one entry per step";
  if (!alpha || alpha->type != AttrType::floats || alpha->floats.size() != n || !beta ||
      beta->type != AttrType::floats || beta->floats.size() != n)
    return "attributes 'alpha' and 'beta' must have one entry per step";
  if (!opset || opset->type != AttrType::i || opset->i < 1) return "attribute 'onnx_opset' is missing";
  if (!inputs || inputs->type != AttrType::ints) return "attribute 'step_inputs' is missing";
  chain.onnx_opset = static_cast<int>(opset->i);
  const int64_t num_inputs = static_cast<int64_t>(node.inputs.size());
  size_t pos = 0;
  for (size_t s = 0; s < n; ++s) {
    ChainStep step;
    step.op = ops->strings[s];
    step.alpha = alpha->floats[s];
    step.beta = beta->floats[s];
    if (!is_chain_op(step.op)) return fmt::format("step {}: '{}' is not an element-wise op a chain holds", s, step.op);
    const int64_t k = arity->ints[s];
    const bool binary = is_chain_binary_op(step.op);
    if ((binary && k != 2) || (step.op == "Clip" && (k < 1 || k > 3)) || (!binary && step.op != "Clip" && k != 1))
      return fmt::format("step {} ({}) has {} inputs", s, step.op, k);
    if (pos + static_cast<size_t>(k) > inputs->ints.size())
      return "attribute 'step_inputs' is shorter than 'step_arity' says";
    int running = 0;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t v = inputs->ints[pos++];
      if (v != kChainRunning && v != kChainAbsent && (v < 0 || v >= num_inputs))
        return fmt::format("step {} ({}) reads input {} of {}", s, step.op, v, num_inputs);
      // Only Clip's bounds may be omitted; the value a step transforms is never omitted.
      if (v == kChainAbsent && (step.op != "Clip" || j == 0))
        return fmt::format("step {} ({}) omits input {}", s, step.op, j);
      if (v == kChainRunning && step.op == "Clip" && j != 0)
        return fmt::format("step {} (Clip) takes the previous result as a bound", s);
      running += v == kChainRunning ? 1 : 0;
      step.inputs.push_back(static_cast<int>(v));
    }
    if (s == 0 && running != 0) return "the first step reads a previous result";
    if (s > 0 && running != 1) return fmt::format("step {} ({}) does not read the previous result exactly once", s, step.op);
    chain.steps.push_back(std::move(step));
  }
  if (pos != inputs->ints.size()) return "attribute 'step_inputs' is longer than 'step_arity' says";
  return "";
}

std::vector<Attribute> step_attributes(const ChainStep& step, int onnx_opset) {
  auto f = [](const char* name, float v) { return make(name, AttrType::f, &Attribute::f, v); };
  if (step.op == "LeakyRelu" || step.op == "Elu") return {f("alpha", step.alpha)};
  if (step.op == "HardSigmoid") return {f("alpha", step.alpha), f("beta", step.beta)};
  if (step.op == "Clip" && onnx_opset < 11) return {f("min", step.alpha), f("max", step.beta)};
  return {};
}

}  // namespace hwopt::ir
