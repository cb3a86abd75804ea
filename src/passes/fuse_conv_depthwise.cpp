// fuse_conv_depthwise: a pointwise convolution (1x1, stride 1, no padding, one group, with its
// activation) whose only reader is a 3x3 depthwise convolution (stride 1 or 2, pads of 0 to 2:
// PyTorch's 1 and TensorFlow's "SAME" [0, 0, 1, 1] at stride 2, with its activation) becomes one
// ai.hwopt FusedConvDepthwise node
//   Y = dw_activation(DepthwiseConv(activation(Conv(X, W, B)), Wdw, Bdw))
// with inputs X, W, B?, Wdw, Bdw? and attributes activation, activation_params, dw_strides,
// dw_pads, dw_activation, dw_activation_params, and `intermediate`: the name the expanded tensor
// had. This is the expand + depthwise pair of every
// MobileNetV2/EfficientNet block: fused, the expanded tensor (6x the block's channels, the
// largest tensor of the block) is consumed tile by tile while it is still in cache instead of
// being written to memory and read back (the CPU backend runs it as one oneDNN convolution with a
// depthwise post-op in FP32, and with its own banded kernel in static INT8).
//
// The pass changes nothing a value computes, but the expanded tensor stops being a graph value,
// so static INT8 calibration, which needs its range, would not see it: the FP32 sessions that
// calibrate run the pipeline without this pass (passes::value_hiding_passes), and the INT8
// kernel finds the range under the `intermediate` name. BF16 sessions skip the pass too (the
// fused op has FP32 and INT8 kernels only).
#include <algorithm>

#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

// True if the ints attribute `name` is absent (its default) or every entry is `v`.
bool all_equal(const ir::Node& n, const char* name, int64_t v) {
  const ir::Attribute* a = n.attr(name);
  return !a || std::all_of(a->ints.begin(), a->ints.end(), [v](int64_t x) { return x == v; });
}

// Activations every backend that runs FusedConvDepthwise can fuse (the reference kernel runs all
// of FusedConv's; the CPU backend's oneDNN post-ops cover these).
bool activation_ok(const ir::Node& n) {
  const ir::Attribute* a = n.attr("activation");
  if (!a) return true;
  static const char* kOk[] = {"Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish"};
  return std::any_of(std::begin(kOk), std::end(kOk), [&](const char* k) { return a->s == k; });
}

// A Conv or FusedConv without a residual input, on float data, with a constant rank-4 weight.
const Tensor* conv_weights(const GraphView& view, const ir::Node& n) {
  const bool conv = n.domain.empty() && n.op_type == "Conv";
  const bool fused = n.domain == kMicrosoftDomain && n.op_type == "FusedConv";
  if ((!conv && !fused) || n.inputs.size() < 2 || n.inputs.size() > 3 || n.outputs.size() != 1 || n.outputs[0].empty())
    return nullptr;
  if (n.inputs.size() == 3 && !n.inputs[2].empty() && !view.constant(n.inputs[2])) return nullptr;
  if (const ir::Attribute* ap = n.attr("auto_pad"); ap && !ap->s.empty() && ap->s != "NOTSET") return nullptr;
  if (!activation_ok(n) || !all_equal(n, "dilations", 1)) return nullptr;
  const Tensor* w = view.constant(n.inputs[1]);
  if (!w || w->dtype() != DType::float32 || w->rank() != 4) return nullptr;
  return w;
}

class FuseConvDepthwise final : public Pass {
 public:
  std::string name() const override { return "fuse_conv_depthwise"; }
  std::string description() const override {
    return "fuse a 1x1 convolution and the 3x3 depthwise convolution reading it into ai.hwopt FusedConvDepthwise";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    Claims claims;
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& pw = view.node(i);
      const Tensor* w = conv_weights(view, pw);
      if (!w || claims.has(i) || w->dim(2) != 1 || w->dim(3) != 1 || attr_int(pw, "group", 1) != 1 ||
          !all_equal(pw, "strides", 1) || !all_equal(pw, "pads", 0))
        continue;
      const std::string& mid = pw.outputs[0];  // float32, as its weights are
      const int d = view.sole_user(mid);
      if (d < 0 || claims.has(static_cast<size_t>(d))) continue;
      const ir::Node& dw = view.node(d);
      const Tensor* wd = conv_weights(view, dw);
      if (!wd || dw.inputs[0] != mid || wd->dim(0) != w->dim(0) || wd->dim(1) != 1 || wd->dim(2) != 3 ||
          wd->dim(3) != 3 || attr_int(dw, "group", 1) != w->dim(0))
        continue;
      const ir::Attribute* pads_attr = dw.attr("pads");  // absent means no padding
      const std::vector<int64_t> pads = pads_attr ? pads_attr->ints : std::vector<int64_t>{0, 0, 0, 0};
      if (pads.size() != 4 || std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p < 0 || p > 2; }))
        continue;
      const ir::Attribute* st = dw.attr("strides");
      const int64_t s = st && !st->ints.empty() ? st->ints[0] : 1;
      if ((s != 1 && s != 2) || !all_equal(dw, "strides", s)) continue;
      ir::Node fused;
      fused.name = pw.name;
      fused.op_type = "FusedConvDepthwise";
      fused.domain = kHwoptDomain;
      fused.opset = ctx.use_domain(kHwoptDomain);
      fused.inputs = {pw.inputs[0], pw.inputs[1], pw.inputs.size() > 2 ? pw.inputs[2] : "", dw.inputs[1]};
      if (dw.inputs.size() > 2 && !dw.inputs[2].empty()) fused.inputs.push_back(dw.inputs[2]);
      fused.outputs = dw.outputs;
      for (const char* a : {"activation", "activation_params"})
        if (const ir::Attribute* v = pw.attr(a)) fused.attributes.push_back(*v);
      fused.attributes.push_back(make_attr("dw_strides", std::vector<int64_t>{s, s}));
      fused.attributes.push_back(make_attr("dw_pads", pads));
      fused.attributes.push_back(make_attr("intermediate", mid));
      for (const char* a : {"activation", "activation_params"})
        if (const ir::Attribute* v = dw.attr(a)) {
          fused.attributes.push_back(*v);
          fused.attributes.back().name = std::string("dw_") + a;
        }
      const std::vector<size_t> nodes = {i, static_cast<size_t>(d)};
      patch.remove_node(i);
      patch.remove_node(static_cast<size_t>(d));
      patch.add_node(static_cast<size_t>(d), std::move(fused), nodes);
      claims.take(nodes);
      ++count;
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_conv_depthwise() { return std::make_unique<FuseConvDepthwise>(); }

}  // namespace hwopt::passes
