// eliminate_dead_nodes: removes nodes none of whose outputs is read (by a node, a subgraph, or as a
// graph output), transitively, and with them the initializers only they read. ONNX ops have no
// side effects, so a node whose results are unused can go.
#include <unordered_set>

#include "passes/graph_patch.h"
#include "passes/pass.h"
#include "passes/passes.h"

namespace hwopt::passes {

namespace {

class EliminateDeadNodes final : public Pass {
 public:
  std::string name() const override { return "eliminate_dead_nodes"; }
  std::string description() const override { return "remove nodes whose outputs are never used"; }

  Expected<int> run(ir::Graph& graph, PassContext&) override {
    std::unordered_set<std::string> live;
    for (const auto& o : graph.outputs) live.insert(o.name);
    std::vector<bool> alive(graph.nodes.size(), false);
    // Sweep from the end (nodes are in topological order, so one sweep usually settles it; repeat
    // in case they are not).
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t i = graph.nodes.size(); i-- > 0;) {
        if (alive[i]) continue;
        const ir::Node& n = graph.nodes[i];
        bool used = false;
        for (const auto& o : n.outputs) used |= !o.empty() && live.count(o);
        if (!used) continue;
        alive[i] = true;
        changed = true;
        for (const auto& in : n.inputs)
          if (!in.empty()) live.insert(in);
        for (const ir::Graph* sg : subgraphs_of(n))
          for (const auto& r : outer_reads(*sg)) live.insert(r);
      }
    }
    GraphPatch patch;
    int count = 0;
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
      if (alive[i]) continue;
      patch.remove_node(i);
      ++count;
    }
    if (count) HWOPT_RETURN_IF_ERROR(patch.apply(graph));
    return count;
  }
};

}  // namespace

std::unique_ptr<Pass> make_eliminate_dead_nodes() { return std::make_unique<EliminateDeadNodes>(); }

}  // namespace hwopt::passes
