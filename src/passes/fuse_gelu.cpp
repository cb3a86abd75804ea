// fuse_gelu: recognizes GELU written out with elementary ops and replaces it by one node.
//   erf form:  x * 0.5 * (1 + Erf(x / sqrt(2)))       -> com.microsoft Gelu(x)
//              (x / 1.4142... or x * 0.7071...; the product with x and 0.5 in any grouping and
//              operand order: (0.5*x)*(1+erf), (x*(1+erf))*0.5, x*((1+erf)*0.5))
//   tanh form: x * 0.5 * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))  -> com.microsoft FastGelu(x)
//              (x^3 as Pow(x, 3) or x*x*x)
// Constants must match within a relative 1e-4 (exporters write sqrt(2) as 1.4142 or 1.4142135).
#include <algorithm>

#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"
#include "passes/pattern_util.h"

namespace hwopt::passes {

namespace {

constexpr double kConstRtol = 1e-4;
constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kGeluCubic = 0.044715;

struct Match {
  std::vector<size_t> nodes;
  std::string x, output;
};

/// Matches the common tail: `one_plus` (= 1 + f(x), produced by node `add`) times x times 0.5,
/// and appends its nodes and the result to `m`.
bool match_tail(const GraphView& view, const std::string& one_plus, const std::string& x, Match& m) {
  const int u = sole_user_op(view, one_plus, "Mul", 2);
  if (u < 0) return false;
  const ir::Node& un = view.node(u);
  const std::string other = other_input(un, one_plus);
  if (other.empty()) return false;
  if (other == x) {  // (x * (1 + f)) * 0.5
    const int f = sole_user_op(view, un.outputs[0], "Mul", 2);
    if (f < 0 || !scalar_near(view, other_input(view.node(f), un.outputs[0]), 0.5, 1e-6, x)) return false;
    m.nodes.insert(m.nodes.end(), {static_cast<size_t>(u), static_cast<size_t>(f)});
    m.output = view.node(f).outputs[0];
    return true;
  }
  if (scalar_near(view, other, 0.5, 1e-6, x)) {  // x * ((1 + f) * 0.5)
    const int f = sole_user_op(view, un.outputs[0], "Mul", 2);
    if (f < 0 || other_input(view.node(f), un.outputs[0]) != x) return false;
    m.nodes.insert(m.nodes.end(), {static_cast<size_t>(u), static_cast<size_t>(f)});
    m.output = view.node(f).outputs[0];
    return true;
  }
  // (x * 0.5) * (1 + f)
  const int h = producer_op(view, other, "Mul", 2);
  if (h < 0 || view.sole_user(other) != u) return false;
  const std::string half = other_input(view.node(h), x);
  if (half.empty() || !scalar_near(view, half, 0.5, 1e-6, x)) return false;
  m.nodes.insert(m.nodes.end(), {static_cast<size_t>(h), static_cast<size_t>(u)});
  m.output = un.outputs[0];
  return true;
}

/// 1 + v, where v is produced by node `f` alone read by that Add; returns the Add node.
int match_one_plus(const GraphView& view, const std::string& v, const std::string& x) {
  const int a = sole_user_op(view, v, "Add", 2);
  if (a < 0 || !scalar_near(view, other_input(view.node(a), v), 1.0, 1e-6, x)) return -1;
  return a;
}

std::optional<Match> match_erf(const GraphView& view, size_t e) {
  const ir::Node& erf = view.node(e);
  const std::string& t = erf.inputs[0];
  Match m;
  int tn = producer_op(view, t, "Div", 2);
  if (tn >= 0) {
    const ir::Node& d = view.node(tn);
    m.x = d.inputs[0];
    if (!scalar_near(view, d.inputs[1], kSqrt2, kConstRtol, m.x)) return std::nullopt;
  } else {
    tn = producer_op(view, t, "Mul", 2);
    if (tn < 0) return std::nullopt;
    const ir::Node& mul = view.node(tn);
    for (int side = 0; side < 2 && m.x.empty(); ++side)
      if (scalar_near(view, mul.inputs[1 - side], 1.0 / kSqrt2, kConstRtol, mul.inputs[side])) m.x = mul.inputs[side];
    if (m.x.empty()) return std::nullopt;
  }
  if (view.sole_user(t) != static_cast<int>(e) || !dtype_is_float(view.dtype(m.x))) return std::nullopt;
  const int a = match_one_plus(view, erf.outputs[0], m.x);
  if (a < 0) return std::nullopt;
  m.nodes = {static_cast<size_t>(tn), e, static_cast<size_t>(a)};
  if (!match_tail(view, view.node(a).outputs[0], m.x, m)) return std::nullopt;
  return m;
}

/// x^3 as Pow(x, 3), Mul(x, Mul(x, x)) or Mul(Mul(x, x), x); appends its nodes.
bool match_cube(const GraphView& view, const std::string& c3, const std::string& x, std::vector<size_t>& nodes) {
  if (const int p = producer_op(view, c3, "Pow", 2); p >= 0) {
    const ir::Node& pn = view.node(p);
    if (pn.inputs[0] != x || !scalar_near(view, pn.inputs[1], 3.0, 1e-6, x)) return false;
    nodes.push_back(static_cast<size_t>(p));
    return true;
  }
  const int m = producer_op(view, c3, "Mul", 2);
  if (m < 0) return false;
  const std::string sq = other_input(view.node(m), x);
  const int s = producer_op(view, sq, "Mul", 2);
  if (s < 0 || view.sole_user(sq) != m || view.node(s).inputs[0] != x || view.node(s).inputs[1] != x) return false;
  nodes.insert(nodes.end(), {static_cast<size_t>(s), static_cast<size_t>(m)});
  return true;
}

std::optional<Match> match_tanh(const GraphView& view, size_t th) {
  const ir::Node& tanh = view.node(th);
  const std::string& u = tanh.inputs[0];
  const int un = producer_op(view, u, "Mul", 2);
  if (un < 0 || view.sole_user(u) != static_cast<int>(th)) return std::nullopt;
  Match m;
  std::string s;
  // sqrt(2/pi) * s: find which operand is the constant.
  for (int side = 0; side < 2 && s.empty(); ++side) {
    const std::string& cand = view.node(un).inputs[side];
    const int sn = producer_op(view, cand, "Add", 2);
    if (sn < 0 || view.sole_user(cand) != un) continue;
    // s = x + k, k = 0.044715 * x^3
    for (int xs = 0; xs < 2; ++xs) {
      const std::string& x = view.node(sn).inputs[xs];
      const std::string& k = view.node(sn).inputs[1 - xs];
      if (!scalar_near(view, view.node(un).inputs[1 - side], kSqrt2OverPi, kConstRtol, x)) continue;
      const int kn = producer_op(view, k, "Mul", 2);
      if (kn < 0 || view.sole_user(k) != sn) continue;
      for (int ks = 0; ks < 2; ++ks) {
        const std::string& c3 = view.node(kn).inputs[ks];
        if (!scalar_near(view, view.node(kn).inputs[1 - ks], kGeluCubic, kConstRtol, x)) continue;
        std::vector<size_t> cube;
        if (view.sole_user(c3) != kn || !match_cube(view, c3, x, cube)) continue;
        m.x = x;
        s = cand;
        m.nodes = cube;
        m.nodes.insert(m.nodes.end(), {static_cast<size_t>(kn), static_cast<size_t>(sn), static_cast<size_t>(un), th});
        break;
      }
      if (!s.empty()) break;
    }
  }
  if (s.empty() || !dtype_is_float(view.dtype(m.x))) return std::nullopt;
  const int a = match_one_plus(view, tanh.outputs[0], m.x);
  if (a < 0) return std::nullopt;
  m.nodes.push_back(static_cast<size_t>(a));
  if (!match_tail(view, view.node(a).outputs[0], m.x, m)) return std::nullopt;
  return m;
}

class FuseGelu final : public Pass {
 public:
  std::string name() const override { return "fuse_gelu"; }
  std::string description() const override {
    return "recognize GELU from its Erf form (-> com.microsoft Gelu) and Tanh form (-> com.microsoft FastGelu)";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    Claims claims;
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      std::optional<Match> m;
      const char* op = nullptr;
      if (is_node(view, static_cast<int>(i), "Erf", 1)) {
        m = match_erf(view, i);
        op = "Gelu";
      } else if (is_node(view, static_cast<int>(i), "Tanh", 1)) {
        m = match_tanh(view, i);
        op = "FastGelu";
      }
      if (!m || claims.any(m->nodes)) continue;
      ir::Node fused;
      fused.name = ctx.unique_name(m->output + "_" + op);
      fused.op_type = op;
      fused.domain = kMicrosoftDomain;
      fused.opset = ctx.use_domain(kMicrosoftDomain);
      fused.inputs = {m->x};
      fused.outputs = {m->output};
      patch.replace_nodes(m->nodes, std::move(fused));
      claims.take(m->nodes);
      ++count;
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_gelu() { return std::make_unique<FuseGelu>(); }

}  // namespace hwopt::passes
