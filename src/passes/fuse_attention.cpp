// fuse_attention: recognizes scaled dot-product attention over [B, H, S, D] tensors
//   scores = MatMul(Q', K^T) [* or / c]   (Q' = Q, or Q scaled by a constant: Q*c, c*Q, Q/c)
//   scores = scores + mask                (optional; mask broadcasts to the scores' shape)
//   out    = MatMul(Softmax(scores, last axis), V)
// and replaces it by ai.hwopt ScaledDotProductAttention(Q, K, V, mask?; scale, k_transposed).
// K^T is Transpose(K, perm [0,1,3,2]) (removed; K passed as [B,H,S_kv,D]), or any other value of
// shape [B,H,D,S_kv], passed as is with k_transposed=1. Every intermediate must have no other reader.
#include <algorithm>

#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"
#include "passes/pattern_util.h"

namespace hwopt::passes {

namespace {

constexpr int64_t kRank = 4;

/// Node `idx` multiplies or divides value `v` by a one-element constant: returns the factor it
/// applies to `v` (c or 1/c) and sets `v` to the other operand.
std::optional<double> scaling(const GraphView& view, int idx, std::string& v) {
  const bool mul = is_node(view, idx, "Mul", 2), div = is_node(view, idx, "Div", 2);
  if (!mul && !div) return std::nullopt;
  const ir::Node& n = view.node(static_cast<size_t>(idx));
  for (int side = 0; side < 2; ++side) {
    if (div && side == 0) continue;  // c / x is not a scaling of x
    const Tensor* c = view.constant(n.inputs[side]);
    const std::string& other = n.inputs[1 - side];
    if (!c || c->numel() != 1 || c->rank() > kRank || c->dtype() != view.dtype(other)) continue;
    const double f = c->element_as_double(0);
    if (div && f == 0) return std::nullopt;
    v = other;
    return div ? 1.0 / f : f;
  }
  return std::nullopt;
}

/// True if `mask` broadcasts to the shape of `scores` without changing it (every mask dim is a
/// known 1 or provably equal to the scores dim).
bool mask_fits(const GraphView& view, const std::string& mask, const std::string& scores) {
  const ir::ValueInfo* m = view.info(mask);
  const ir::ValueInfo* s = view.info(scores);
  if (!m || !s || !m->has_shape || !s->has_shape || s->shape.size() != kRank || m->shape.size() > kRank) return false;
  if (m->dtype != s->dtype) return false;
  const size_t off = kRank - m->shape.size();
  for (size_t j = 0; j < m->shape.size(); ++j) {
    const ir::Dim& md = m->shape[j];
    const ir::Dim& sd = s->shape[off + j];
    if (md.known() && md.value == 1) continue;
    if (md.known() && sd.known() && md.value == sd.value) continue;
    if (!md.known() && !sd.known() && !md.param.empty() && md.param == sd.param) continue;
    return false;
  }
  return true;
}

bool rank4(const GraphView& view, const std::string& v) {
  auto r = view.rank(v);
  return r && *r == kRank;
}

class FuseAttention final : public Pass {
 public:
  std::string name() const override { return "fuse_attention"; }
  std::string description() const override {
    return "recognize MatMul-Scale-(Add mask)-Softmax-MatMul attention as ai.hwopt ScaledDotProductAttention";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    Claims claims;
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      if (!is_node(view, static_cast<int>(i), "Softmax", 1)) continue;
      const ir::Node& sm = view.node(i);
      std::string v = sm.inputs[0];
      if (!rank4(view, v) || !dtype_is_float(view.dtype(v))) continue;
      int64_t axis = attr_int(sm, "axis", sm.opset >= 13 ? -1 : 1);
      if (axis < 0) axis += kRank;
      if (axis != kRank - 1) continue;
      const int mm2 = sole_user_op(view, sm.outputs[0], "MatMul", 2);
      if (mm2 < 0 || view.node(mm2).inputs[0] != sm.outputs[0]) continue;
      const std::string& V = view.node(mm2).inputs[1];
      std::vector<size_t> nodes = {i, static_cast<size_t>(mm2)};
      double scale = 1.0;
      std::string mask;
      // Walk back from the Softmax input: (Add mask)? then (Mul|Div c)? then MatMul.
      auto step = [&](const std::string& value) -> int {
        const int p = view.producer(value);
        return p >= 0 && view.sole_user(value) >= 0 ? p : -1;
      };
      int p = step(v);
      if (is_node(view, p, "Add", 2)) {
        const ir::Node& add = view.node(p);
        for (int side = 0; side < 2 && mask.empty(); ++side) {
          const int q = step(add.inputs[side]);
          if ((is_node(view, q, "MatMul", 2) || is_node(view, q, "Mul", 2) || is_node(view, q, "Div", 2)) &&
              add.inputs[0] != add.inputs[1] && mask_fits(view, add.inputs[1 - side], add.inputs[side])) {
            mask = add.inputs[1 - side];
            nodes.push_back(static_cast<size_t>(p));
            v = add.inputs[side];
            p = q;
          }
        }
        if (mask.empty()) continue;
      }
      if (!is_node(view, p, "MatMul", 2)) {
        std::string inner = v;
        auto f = scaling(view, p, inner);
        if (!f) continue;
        scale *= *f;
        nodes.push_back(static_cast<size_t>(p));
        v = inner;
        p = step(v);
      }
      if (!is_node(view, p, "MatMul", 2)) continue;
      const size_t mm1 = static_cast<size_t>(p);
      nodes.push_back(mm1);
      std::string Q = view.node(mm1).inputs[0];
      std::string K = view.node(mm1).inputs[1];
      if (const int qs = step(Q); qs >= 0) {
        std::string inner = Q;
        if (auto f = scaling(view, qs, inner)) {
          scale *= *f;
          nodes.push_back(static_cast<size_t>(qs));
          Q = inner;
        }
      }
      int64_t k_transposed = 1;
      if (const int kt = step(K); is_node(view, kt, "Transpose", 1)) {
        auto perm = attr_ints(view.node(kt), "perm");
        if (perm && *perm == std::vector<int64_t>{0, 1, 3, 2}) {
          nodes.push_back(static_cast<size_t>(kt));
          K = view.node(kt).inputs[0];
          k_transposed = 0;
        }
      }
      if (!rank4(view, Q) || !rank4(view, K) || !rank4(view, V)) continue;
      if (view.dtype(Q) != view.dtype(v) || view.dtype(K) != view.dtype(v) || view.dtype(V) != view.dtype(v)) continue;
      if (claims.any(nodes)) continue;
      const std::string& out = view.node(mm2).outputs[0];
      ir::Node fused;
      fused.name = ctx.unique_name(out + "_attention");
      fused.op_type = "ScaledDotProductAttention";
      fused.domain = kHwoptDomain;
      fused.opset = ctx.use_domain(kHwoptDomain);
      fused.inputs = {Q, K, V};
      if (!mask.empty()) fused.inputs.push_back(mask);
      fused.outputs = {out};
      fused.attributes = {make_attr("scale", static_cast<float>(scale))};
      if (k_transposed) fused.attributes.push_back(make_attr("k_transposed", int64_t{1}));
      patch.replace_nodes(nodes, std::move(fused));
      claims.take(nodes);
      ++count;
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_attention() { return std::make_unique<FuseAttention>(); }

}  // namespace hwopt::passes
