// fuse_gemm_batchnorm: an inference BatchNormalization after a Gemm with a constant B (and C, if
// given) is folded into them. Gemm's output [M, N] is normalized over N (axis 1); with
// s = scale / sqrt(var + eps) and t = beta - mean * s:
//   alpha * A * op(B) * s + (beta * C * s + t)  ->  B' = B with column n of op(B) scaled by s[n],
//   C' = beta * C * s + t broadcast to C's shape and [N], beta' = 1.
#include "passes/fold_util.h"
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

class FuseGemmBatchnorm final : public Pass {
 public:
  std::string name() const override { return "fuse_gemm_batchnorm"; }
  std::string description() const override {
    return "fold an inference BatchNormalization into the constant B and C of the Gemm before it";
  }

  Expected<int> run(ir::Graph& graph, PassContext& ctx) override {
    GraphView view(graph);
    GraphPatch patch;
    Claims claims;
    int count = 0;
    for (size_t i = 0; i < view.num_nodes(); ++i) {
      const ir::Node& bn = view.node(i);
      if (!bn.domain.empty() || bn.op_type != "BatchNormalization" || bn.inputs.empty()) continue;
      const int p = view.producer(bn.inputs[0]);
      if (p < 0 || view.sole_user(bn.inputs[0]) != static_cast<int>(i) || claims.any({static_cast<size_t>(p), i}))
        continue;
      const ir::Node& gemm = view.node(p);
      if (!gemm.domain.empty() || gemm.op_type != "Gemm" || gemm.opset < 7 || gemm.inputs.size() < 2 ||
          gemm.outputs.size() != 1)
        continue;
      const Tensor* b = view.constant(gemm.inputs[1]);
      if (!b || b->rank() != 2) continue;
      auto bv = float_values(*b);
      if (!bv) continue;
      const bool trans_b = attr_int(gemm, "transB", 0) != 0;
      const int64_t N = trans_b ? b->dim(0) : b->dim(1);
      const double beta = attr_float(gemm, "beta", 1.0f);
      Shape c_shape{N};
      std::vector<double> c_values;  // C as given (broadcast below), empty if absent
      Shape c_given;
      if (gemm.inputs.size() > 2 && !gemm.inputs[2].empty()) {
        const Tensor* c = view.constant(gemm.inputs[2]);
        if (!c || c->dtype() != b->dtype() || c->rank() > 2) continue;
        c_given = c->shape();
        // C' has the broadcast shape of C and [N]; C must still broadcast to [M, N].
        const int64_t c_last = c->rank() >= 1 ? c->dim(-1) : 1;
        if (c_last != 1 && c_last != N) continue;
        c_shape = c->rank() == 2 ? Shape{c->dim(0), N} : Shape{N};
        c_values = *float_values(*c);
      }
      auto affine = batchnorm_affine(view, bn, N);
      if (!affine) continue;
      for (int64_t r = 0; r < b->dim(0); ++r)
        for (int64_t col = 0; col < b->dim(1); ++col) (*bv)[r * b->dim(1) + col] *= affine->scale[trans_b ? r : col];
      std::vector<double> cv(static_cast<size_t>(shape_numel(c_shape)));
      for (size_t e = 0; e < cv.size(); ++e) {
        const int64_t r = static_cast<int64_t>(e) / N, n = static_cast<int64_t>(e) % N;
        double c = 0.0;
        if (!c_values.empty()) {
          // Element of the given C that broadcasts to position (r, n).
          const int64_t cn = c_given.empty() || c_given.back() == 1 ? 0 : n;
          const int64_t cr = c_given.size() == 2 && c_given[0] != 1 ? r : 0;
          c = beta * c_values[c_given.size() == 2 ? cr * c_given[1] + cn : cn];
        }
        cv[e] = c * affine->scale[n] + affine->shift[n];
      }
      const std::string b_name = ctx.unique_name(gemm.inputs[1] + "_bn");
      const std::string c_name = ctx.unique_name(gemm.outputs[0] + "_bn_bias");
      patch.add_initializer(b_name, float_tensor(b->dtype(), b->shape(), *bv));
      patch.add_initializer(c_name, float_tensor(b->dtype(), c_shape, cv));
      ir::Node fused = gemm;
      fused.inputs = {gemm.inputs[0], b_name, c_name};
      fused.outputs = {bn.outputs[0]};
      std::erase_if(fused.attributes, [](const ir::Attribute& a) { return a.name == "beta"; });
      fused.attributes.push_back(make_attr("beta", 1.0f));
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

std::unique_ptr<Pass> make_fuse_gemm_batchnorm() { return std::make_unique<FuseGemmBatchnorm>(); }

}  // namespace hwopt::passes
