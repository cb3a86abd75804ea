// fuse_pad_conv: a zero-valued constant-mode Pad that pads only the spatial dims of a Conv's (or
// FusedConv's) input, and feeds nothing else, becomes part of the Conv's own pads. Models
// converted from TensorFlow put such a Pad before every strided depthwise convolution.
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

const ir::Attribute* find_attr(const ir::Node& n, const char* name) { return n.attr(name); }

// The Pad's pads as [begin..., end...] over every input dim, when they are known constants.
std::optional<std::vector<int64_t>> pad_amounts(const GraphView& view, const ir::Node& pad) {
  if (pad.opset < 11) {
    const ir::Attribute* a = find_attr(pad, "pads");
    if (!a) return std::nullopt;
    if (const ir::Attribute* v = find_attr(pad, "value"); v && v->f != 0.0f) return std::nullopt;
    return a->ints;
  }
  if (pad.inputs.size() < 2 || pad.inputs[1].empty()) return std::nullopt;
  if (pad.inputs.size() > 3 && !pad.inputs[3].empty()) return std::nullopt;  // opset 18 axes
  if (pad.inputs.size() > 2 && !pad.inputs[2].empty()) {
    auto v = view.scalar(pad.inputs[2]);
    if (!v || *v != 0.0) return std::nullopt;
  }
  const Tensor* p = view.constant(pad.inputs[1]);
  if (!p || p->dtype() != DType::int64) return std::nullopt;
  const Tensor c = p->contiguous();
  return std::vector<int64_t>(c.data<int64_t>(), c.data<int64_t>() + c.numel());
}

class FusePadConv final : public Pass {
 public:
  std::string name() const override { return "fuse_pad_conv"; }
  std::string description() const override {
    return "fold a zero constant Pad of a convolution's spatial dims into the convolution's pads";
  }

  Expected<int> run(ir::Graph& graph, PassContext&) override {
    GraphView view(graph);
    GraphPatch patch;
    Claims claims;
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& conv = view.node(i);
      const bool is_conv = conv.domain.empty() && conv.op_type == "Conv";
      const bool is_fused = conv.domain == kMicrosoftDomain && conv.op_type == "FusedConv";
      if ((!is_conv && !is_fused) || conv.inputs.empty()) continue;
      if (const ir::Attribute* ap = find_attr(conv, "auto_pad"); ap && !ap->s.empty() && ap->s != "NOTSET") continue;
      const std::string& x = conv.inputs[0];
      const int p = view.producer(x);
      if (p < 0 || view.pinned(x) || view.sole_user(x) != static_cast<int>(i) || claims.any({static_cast<size_t>(p), i}))
        continue;
      const ir::Node& pad = view.node(p);
      if (!pad.domain.empty() || pad.op_type != "Pad" || pad.outputs.size() != 1) continue;
      if (const ir::Attribute* m = find_attr(pad, "mode"); m && m->s != "constant") continue;
      auto amounts = pad_amounts(view, pad);
      if (!amounts || amounts->size() % 2 != 0 || amounts->size() < 6) continue;
      const size_t rank = amounts->size() / 2;
      const size_t spatial = rank - 2;
      bool ok = (*amounts)[0] == 0 && (*amounts)[1] == 0 && (*amounts)[rank] == 0 && (*amounts)[rank + 1] == 0;
      for (int64_t v : *amounts) ok = ok && v >= 0;
      if (!ok) continue;
      std::vector<int64_t> pads(2 * spatial, 0);
      if (const ir::Attribute* cp = find_attr(conv, "pads")) {
        if (cp->ints.size() != 2 * spatial) continue;
        pads = cp->ints;
      }
      for (size_t d = 0; d < spatial; ++d) {
        pads[d] += (*amounts)[2 + d];
        pads[spatial + d] += (*amounts)[rank + 2 + d];
      }
      ir::Node fused = conv;
      fused.inputs[0] = pad.inputs[0];
      bool replaced = false;
      for (auto& a : fused.attributes)
        if (a.name == "pads") {
          a.ints = pads;
          replaced = true;
        }
      if (!replaced) {
        ir::Attribute a;
        a.name = "pads";
        a.type = ir::AttrType::ints;
        a.ints = pads;
        fused.attributes.push_back(std::move(a));
      }
      patch.remove_node(static_cast<size_t>(p));
      patch.remove_node(i);
      patch.add_node(i, std::move(fused), {static_cast<size_t>(p), i});
      claims.take({static_cast<size_t>(p), i});
      ++count;
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_pad_conv() { return std::make_unique<FusePadConv>(); }

}  // namespace hwopt::passes
