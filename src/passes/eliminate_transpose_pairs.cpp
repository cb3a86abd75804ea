// eliminate_transpose_pairs: Transpose(Transpose(x, p1), p2) is Transpose(x, q) with
// q[i] = p1[p2[i]]. When q is the identity both nodes go; otherwise the pair becomes one Transpose.
// The first Transpose must have no other reader.
#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

/// The permutation of a Transpose node (default: reversed axes, which needs the rank).
std::optional<std::vector<int64_t>> perm_of(const GraphView& view, const ir::Node& n) {
  if (auto p = attr_ints(n, "perm")) return p;
  auto r = view.rank(n.inputs[0]);
  if (!r) return std::nullopt;
  std::vector<int64_t> p(static_cast<size_t>(*r));
  for (int64_t i = 0; i < *r; ++i) p[i] = *r - 1 - i;
  return p;
}

bool is_transpose(const ir::Node& n) {
  return n.domain.empty() && n.op_type == "Transpose" && n.inputs.size() == 1 && !n.inputs[0].empty() &&
         n.outputs.size() == 1 && !n.outputs[0].empty();
}

class EliminateTransposePairs final : public Pass {
 public:
  std::string name() const override { return "eliminate_transpose_pairs"; }
  std::string description() const override {
    return "remove Transpose pairs whose permutations cancel; compose other pairs into one Transpose";
  }

  Expected<int> run(ir::Graph& graph, PassContext&) override {
    int total = 0;
    for (int round = 0; round < 8; ++round) {
      GraphView view(graph);
      GraphPatch patch;
      Claims claims;
      int count = 0;
      for (size_t i = 0; i < view.num_nodes(); ++i) {
        const ir::Node& second = view.node(i);
        if (!is_transpose(second)) continue;
        const int f = view.producer(second.inputs[0]);
        if (f < 0 || !is_transpose(view.node(f)) || view.sole_user(second.inputs[0]) != static_cast<int>(i)) continue;
        const size_t first_idx = static_cast<size_t>(f);
        const ir::Node& first = view.node(first_idx);
        if (claims.any({first_idx, i})) continue;
        auto p1 = perm_of(view, first);
        auto p2 = perm_of(view, second);
        if (!p1 || !p2 || p1->size() != p2->size()) continue;
        const size_t r = p1->size();
        std::vector<int64_t> q(r);
        bool valid = true, identity = true;
        for (size_t k = 0; k < r && valid; ++k) {
          const int64_t a = (*p2)[k];
          valid = a >= 0 && static_cast<size_t>(a) < r && (*p1)[a] >= 0 && static_cast<size_t>((*p1)[a]) < r;
          if (valid) q[k] = (*p1)[a];
          identity &= valid && q[k] == static_cast<int64_t>(k);
        }
        if (!valid) continue;
        const std::string& x = first.inputs[0];
        if (identity) {
          claims.take({first_idx});
          if (bypass_node(view, patch, claims, i, x, second.outputs[0])) {
            patch.remove_node(first_idx);
            ++count;
            continue;
          }
        }
        ir::Node merged = second;
        merged.inputs = {x};
        merged.attributes = {make_attr("perm", q)};
        patch.remove_node(first_idx);
        patch.remove_node(i);
        patch.add_node(i, std::move(merged), {first_idx, i});
        claims.take({first_idx, i});
        ++count;
      }
      if (count == 0) break;
      HWOPT_RETURN_IF_ERROR(patch.apply(graph));
      total += count;
    }
    return total;
  }
};

}  // namespace

std::unique_ptr<Pass> make_eliminate_transpose_pairs() { return std::make_unique<EliminateTransposePairs>(); }

}  // namespace hwopt::passes
