// fuse_layer_norm: recognizes layer normalization over the last axis written out as
//   m = ReduceMean(x), d = x - m, v = ReduceMean(d^2 or d*d), n = d / Sqrt(v + eps),
//   y = n * gamma + beta   (gamma and beta optional, constant, varying only along the last axis)
// (ReduceMean axes as the opset-13 attribute or the opset-18 input, [-1] or [rank-1], keepdims 1)
// and replaces it by LayerNormalization(x, gamma, beta, axis=-1, epsilon=eps): the ai.onnx op when
// the model imports ai.onnx opset >= 17, else the ai.hwopt op of the same definition.
#include <algorithm>

#include "passes/fold_util.h"
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"
#include "passes/pattern_util.h"

namespace hwopt::passes {

namespace {

/// ReduceMean node `idx` reading `x` over its last axis with keepdims=1.
bool mean_over_last_axis(const GraphView& view, int idx, const std::string& x) {
  if (idx < 0) return false;
  const ir::Node& n = view.node(static_cast<size_t>(idx));
  const bool axes_input = n.opset >= 18;
  if (!is_node(view, idx, "ReduceMean", axes_input ? 2 : 1) || n.inputs[0] != x) return false;
  if (attr_int(n, "keepdims", 1) != 1) return false;
  std::vector<int64_t> axes;
  if (axes_input) {
    const Tensor* t = view.constant(n.inputs[1]);
    if (!t || t->dtype() != DType::int64) return false;
    for (int64_t i = 0; i < t->numel(); ++i) axes.push_back(t->data<int64_t>()[i]);
  } else if (auto a = attr_ints(n, "axes")) {
    axes = *a;
  }
  if (axes.size() != 1) return false;
  if (axes[0] == -1) return true;
  auto r = view.rank(x);
  return r && axes[0] == *r - 1;
}

/// A constant that varies only along the last axis (D values), or a single value, as D values;
/// its rank must not exceed x's.
std::optional<std::vector<double>> last_axis_values(const GraphView& view, const std::string& name, int64_t D,
                                                    int64_t x_rank, DType dtype) {
  const Tensor* t = view.constant(name);
  if (!t || t->dtype() != dtype || t->rank() > x_rank) return std::nullopt;
  for (int64_t j = 0; j + 1 < t->rank(); ++j)
    if (t->dim(j) != 1) return std::nullopt;
  if (t->numel() != D && t->numel() != 1) return std::nullopt;
  if (t->rank() >= 1 && t->dim(-1) != D && t->dim(-1) != 1) return std::nullopt;
  auto v = float_values(*t);
  if (!v) return std::nullopt;
  if (v->size() == 1) v->assign(static_cast<size_t>(D), (*v)[0]);
  return v;
}

class FuseLayerNorm final : public Pass {
 public:
  std::string name() const override { return "fuse_layer_norm"; }
  std::string description() const override {
    return "recognize LayerNormalization over the last axis from ReduceMean/Sub/Pow/Sqrt/Div (+ Mul/Add)";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    Claims claims;
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& r1 = view.node(i);
      if (!r1.domain.empty() || r1.op_type != "ReduceMean" || r1.inputs.empty()) continue;
      const std::string x = r1.inputs[0];
      const ir::ValueInfo* xi = view.info(x);
      if (!xi || !xi->has_shape || xi->shape.empty() || !xi->shape.back().known()) continue;
      const DType dt = xi->dtype;
      if (dt != DType::float32 && dt != DType::float64) continue;
      const int64_t x_rank = static_cast<int64_t>(xi->shape.size());
      const int64_t D = xi->shape.back().value;
      if (!mean_over_last_axis(view, static_cast<int>(i), x)) continue;
      const std::string& mean = r1.outputs[0];
      const int sub = sole_user_op(view, mean, "Sub", 2);
      if (sub < 0 || view.node(sub).inputs[0] != x || view.node(sub).inputs[1] != mean) continue;
      const std::string& d = view.node(sub).outputs[0];
      if (view.pinned(d)) continue;
      // d feeds exactly the square and the Div.
      std::set<size_t> d_users;
      for (const Use& u : view.uses(d)) d_users.insert(u.node);
      if (d_users.size() != 2) continue;
      int sq = -1, div = -1;
      for (size_t u : d_users) {
        const ir::Node& n = view.node(u);
        const int ui = static_cast<int>(u);
        const Tensor* exponent = n.inputs.size() == 2 ? view.constant(n.inputs[1]) : nullptr;
        if (is_node(view, ui, "Pow", 2) && n.inputs[0] == d && exponent && exponent->numel() == 1 &&
            exponent->rank() <= x_rank && exponent->element_as_double(0) == 2.0) {
          sq = ui;
        } else if (is_node(view, ui, "Mul", 2) && n.inputs[0] == d && n.inputs[1] == d) {
          sq = ui;
        } else if (is_node(view, ui, "Div", 2) && n.inputs[0] == d && n.inputs[1] != d) {
          div = ui;
        }
      }
      if (sq < 0 || div < 0) continue;
      const std::string& p = view.node(sq).outputs[0];
      const int r2 = view.sole_user(p);
      if (!mean_over_last_axis(view, r2, p)) continue;
      const std::string& v = view.node(r2).outputs[0];
      const int add_eps = sole_user_op(view, v, "Add", 2);
      if (add_eps < 0) continue;
      const std::string eps_name = other_input(view.node(add_eps), v);
      auto eps = eps_name.empty() ? std::nullopt : view.scalar(eps_name);
      if (!eps || !scalar_near(view, eps_name, *eps, 0.0, x)) continue;
      const std::string& e = view.node(add_eps).outputs[0];
      const int sqrt = sole_user_op(view, e, "Sqrt", 1);
      if (sqrt < 0 || view.sole_user(view.node(sqrt).outputs[0]) != div ||
          view.node(div).inputs[1] != view.node(sqrt).outputs[0])
        continue;
      std::vector<size_t> nodes = {i, static_cast<size_t>(sub), static_cast<size_t>(sq), static_cast<size_t>(r2),
                                   static_cast<size_t>(add_eps), static_cast<size_t>(sqrt), static_cast<size_t>(div)};
      std::string out = view.node(div).outputs[0];
      std::vector<double> gamma(static_cast<size_t>(D), 1.0), beta;
      if (const int mul = sole_user_op(view, out, "Mul", 2); mul >= 0) {
        if (auto g = last_axis_values(view, other_input(view.node(mul), out), D, x_rank, dt)) {
          gamma = *g;
          nodes.push_back(static_cast<size_t>(mul));
          out = view.node(mul).outputs[0];
          if (const int add = sole_user_op(view, out, "Add", 2); add >= 0) {
            if (auto b = last_axis_values(view, other_input(view.node(add), out), D, x_rank, dt)) {
              beta = *b;
              nodes.push_back(static_cast<size_t>(add));
              out = view.node(add).outputs[0];
            }
          }
        }
      }
      if (claims.any(nodes)) continue;
      const std::string g_name = ctx.unique_name(out + "_ln_scale");
      patch.add_initializer(g_name, float_tensor(dt, {D}, gamma));
      ir::Node ln;
      ln.name = ctx.unique_name(out + "_LayerNormalization");
      ln.op_type = "LayerNormalization";
      if (ctx.opset("") >= 17) {
        ln.opset = ctx.opset("");
      } else {
        ln.domain = kHwoptDomain;
        ln.opset = ctx.use_domain(kHwoptDomain);
      }
      ln.inputs = {x, g_name};
      if (!beta.empty()) {
        const std::string b_name = ctx.unique_name(out + "_ln_bias");
        patch.add_initializer(b_name, float_tensor(dt, {D}, beta));
        ln.inputs.push_back(b_name);
      }
      ln.outputs = {out};
      ln.attributes = {make_attr("axis", int64_t{-1}), make_attr("epsilon", static_cast<float>(*eps))};
      patch.replace_nodes(nodes, std::move(ln));
      claims.take(nodes);
      ++count;
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_layer_norm() { return std::make_unique<FuseLayerNorm>(); }

}  // namespace hwopt::passes
