// fuse_elementwise_chain: a run of two or more float32 element-wise ai.onnx nodes, each reading
// the one before as its only reader, becomes one ai.hwopt ElementwiseChain (ir/elementwise_chain.h),
// which the CPU backend computes in one pass over memory instead of one per node: YOLO-style heads
// (Sigmoid -> Mul 2 -> Sub 0.5 -> Add grid -> Mul stride), activations written out op by op
// (Mish as x * Tanh(Softplus(x)), Swish as x * Sigmoid(x) after a non-convolution), attention
// mask arithmetic ((1 - mask) * -10000).
//
// It runs after every other fusion: a convolution's or matrix product's activation and scalar
// affine are better as that op's post-ops, and only what those passes left forms chains. A step's
// other inputs may be any float32 values that broadcast (computing every step at the final shape
// gives what the nodes gave, element-wise ops commuting with broadcasting); Clip's bounds must be
// constant scalars no wider than its input, Pow's exponent a constant 1, 2 or 0.5. A value that
// is read twice (by the chain and elsewhere) or is a graph output ends the chain.
#include <algorithm>
#include <limits>
#include <optional>

#include "ir/elementwise_chain.h"
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

/// Most distinct inputs of one chain (the CPU kernel's limit).
constexpr size_t kMaxInputs = 8;

class FuseElementwiseChain final : public Pass {
 public:
  std::string name() const override { return "fuse_elementwise_chain"; }
  std::string description() const override {
    return "fuse runs of element-wise ops (activations, unary math, arithmetic) into one ai.hwopt ElementwiseChain";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    Claims claims;
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      if (claims.has(i) || !is_step(view, view.node(i), "")) continue;
      ir::ElementwiseChain chain;
      chain.onnx_opset = view.node(i).opset;
      std::vector<std::string> inputs;
      std::vector<size_t> nodes;
      std::string value;  // the last step's output
      for (int u = static_cast<int>(i); u >= 0 && chain.steps.size() < ir::kMaxChainSteps;
           u = view.sole_user(value)) {
        const ir::Node& n = view.node(static_cast<size_t>(u));
        if (claims.has(static_cast<size_t>(u)) || !is_step(view, n, value) || n.opset != chain.onnx_opset) break;
        std::vector<std::string> added = inputs;
        ir::ChainStep step = make_step(n, value, added);
        if (added.size() > kMaxInputs) break;
        inputs = std::move(added);
        chain.steps.push_back(std::move(step));
        nodes.push_back(static_cast<size_t>(u));
        value = n.outputs[0];
      }
      if (chain.steps.size() < 2) continue;
      ir::Node fused;
      fused.name = view.node(i).name.empty() ? value + "_chain" : view.node(i).name + "_chain";
      fused.op_type = "ElementwiseChain";
      fused.domain = kHwoptDomain;
      fused.opset = ctx.use_domain(kHwoptDomain);
      fused.inputs = inputs;
      fused.outputs = {value};
      fused.attributes = ir::chain_attributes(chain);
      patch.replace_nodes(nodes, std::move(fused));
      claims.take(nodes);
      ++count;
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }

 private:
  /// True if `n` can be a step reading `running` (the previous step's output; "" for the first
  /// step): a float32 element-wise op whose other inputs are what the chain can read.
  static bool is_step(const GraphView& view, const ir::Node& n, const std::string& running) {
    if (!n.domain.empty() || !ir::is_chain_op(n.op_type) || n.outputs.size() != 1 || n.outputs[0].empty()) return false;
    const std::string& op = n.op_type;
    const bool binary = ir::is_chain_binary_op(op);
    if (binary && (n.inputs.size() != 2 || n.opset < 7)) return false;
    if (op == "Clip" && (n.inputs.empty() || n.inputs.size() > (n.opset < 11 ? 1u : 3u))) return false;
    if (!binary && op != "Clip" && n.inputs.size() != 1) return false;
    if (view.dtype(n.outputs[0]) != DType::float32) return false;
    size_t reads = 0;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const std::string& in = n.inputs[k];
      if (in.empty()) {
        if (op != "Clip" || k == 0) return false;
        continue;
      }
      if (view.dtype(in) != DType::float32) return false;
      if (!running.empty() && in == running) {
        ++reads;
        // Clip transforms its input 0 and Pow its base; the bounds and the exponent are constants.
        if ((op == "Clip" || op == "Pow") && k != 0) return false;
      }
    }
    if (!running.empty() && reads != 1) return false;
    // The first step's input 0 is the value it transforms (a variable read at run time).
    const std::string& x = n.inputs[0];
    const std::optional<int64_t> rank = view.rank(x);
    if (op == "Clip")
      for (size_t k = 1; k < n.inputs.size(); ++k) {
        const Tensor* c = n.inputs[k].empty() ? nullptr : view.constant(n.inputs[k]);
        if (!n.inputs[k].empty() && (!c || c->numel() != 1 || !rank || c->rank() > *rank)) return false;
      }
    if (op == "Pow") {
      const std::optional<double> e = view.scalar(n.inputs[1]);
      if (!e || (*e != 1.0 && *e != 2.0 && *e != 0.5)) return false;
    }
    return true;
  }

  /// The step of node `n` reading `running` ("" for the first step); its other inputs are
  /// appended to `inputs` if not already there.
  static ir::ChainStep make_step(const ir::Node& n, const std::string& running, std::vector<std::string>& inputs) {
    ir::ChainStep step;
    step.op = n.op_type;
    for (const std::string& in : n.inputs) {
      if (in.empty()) {
        step.inputs.push_back(ir::kChainAbsent);
      } else if (!running.empty() && in == running) {
        step.inputs.push_back(ir::kChainRunning);
      } else {
        auto it = std::find(inputs.begin(), inputs.end(), in);
        if (it == inputs.end()) it = inputs.insert(inputs.end(), in);
        step.inputs.push_back(static_cast<int>(it - inputs.begin()));
      }
    }
    auto attr_f = [&](const char* name, float def) {
      const ir::Attribute* a = n.attr(name);
      return a ? a->f : def;
    };
    if (n.op_type == "LeakyRelu") step.alpha = attr_f("alpha", 0.01f);
    if (n.op_type == "Elu") step.alpha = attr_f("alpha", 1.0f);
    if (n.op_type == "HardSigmoid") {
      step.alpha = attr_f("alpha", 0.2f);
      step.beta = attr_f("beta", 0.5f);
    }
    if (n.op_type == "Clip" && n.opset < 11) {
      step.alpha = attr_f("min", std::numeric_limits<float>::lowest());
      step.beta = attr_f("max", std::numeric_limits<float>::max());
    }
    return step;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_elementwise_chain() { return std::make_unique<FuseElementwiseChain>(); }

}  // namespace hwopt::passes
