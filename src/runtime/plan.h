// A Plan is a graph lowered for execution: nodes in topological order, each bound to a kernel
// of a backend and a device, values numbered into slots with their last use, subgraph plans
// built ahead, and the memory planner's predicted peak.
#pragma once

#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/kernel.h"
#include "hwopt/session.h"
#include "ir/graph.h"

namespace hwopt {

struct PlanOptions {
  std::string backend = "reference";  // "cpu": backend candidates first, reference last
  int threads = 0;                     // intra-op threads; 0 = physical cores
  bool pin_threads = false;            // SessionOptions::pin_threads
  int inter_op = 1;                    // SessionOptions::inter_op
  std::string precision = "fp32";      // SessionOptions::precision
  std::map<std::string, ActivationRange> ranges;  // SessionOptions::activation_ranges
  std::set<std::string> fp32_nodes;                // SessionOptions::fp32_nodes
  std::string layout = "blocked";                  // SessionOptions::layout
  std::string conv_algorithm = "winograd";         // SessionOptions::conv_algorithm
};

struct PlanStep {
  enum class Kind { kernel, copy };  // copy: an explicit transfer between devices
  Kind kind = Kind::kernel;
  const ir::Node* node = nullptr;
  KernelFn fn;
  std::string implementation;  // "ref:Conv"; the same name appears in logs and profiles
  Device device;
  std::vector<int> input_slots;   // -1: omitted optional input
  std::vector<int> output_slots;  // -1: omitted optional output
  std::vector<int> free_after;    // slots whose last reader is this step
  std::vector<int> implicit_slots;  // slots its subgraphs read from this graph
  bool accepts_layouts = false;   // inputs may stay in a backend layout (else made plain first)
  bool accepts_quantized = false; // quantized inputs may stay quantized (else dequantized first)
  std::vector<std::string> declined;  // "<candidate>: <reason>" of candidates tried before this one
};

/// The plan of one graph (the main graph or a subgraph body).
struct GraphPlan {
  const ir::Graph* graph = nullptr;
  std::unordered_map<std::string, int> slot_of;
  std::vector<std::string> slot_names;
  std::vector<int> input_slots;
  std::vector<int> output_slots;
  std::vector<std::pair<int, Tensor>> initializer_slots;
  std::vector<std::pair<int, std::string>> outer_slots;  // values read from enclosing graphs
  std::vector<PlanStep> steps;
  // For running independent steps at once (PlanOptions::inter_op): per step, the later steps
  // that read what it writes and how many earlier steps it waits for; per slot, how many steps
  // read it before it can be freed (0: never freed, e.g. a graph output).
  std::vector<std::vector<int>> successors;
  std::vector<int> predecessors;
  std::vector<int> slot_readers;
  size_t planned_peak_bytes = 0;
  size_t planned_unknown = 0;
};

/// Steps whose time was read since the process started (each profiled step reads the clock).
/// Tests use it to show that runs without profiling read no clock per step.
uint64_t timed_step_count();

class WorkerPool;

class Plan {
 public:
  static Expected<std::unique_ptr<Plan>> create(std::shared_ptr<const ir::Graph> graph, const PlanOptions& options);
  ~Plan();

  const ir::Graph& graph() const { return *graph_; }
  const GraphPlan& main() const { return *plans_.at(graph_.get()); }
  const PlanOptions& options() const { return options_; }

  /// Runs the main graph. `inputs` follow graph().inputs order; a none value means "not given"
  /// (allowed only for inputs that have an initializer). Returns the graph outputs in order.
  Expected<std::vector<RtValue>> run(std::vector<RtValue> inputs, const RunOptions& options, RunStats* stats) const;

 private:
  struct Frame;
  struct RunState;
  Status build(const ir::Graph& graph, const std::vector<std::string>& outer_names);
  std::vector<RtValue> run_graph(const GraphPlan& gp, std::vector<RtValue> inputs, const Frame* parent,
                                 RunState& state) const;
  // One step: its inputs made plain where it needs them, the kernel (errors name the node), its
  // outputs stored in the frame, profile data. `slots_mutex` (concurrent steps): held while
  // the frame's slots are written or scanned.
  void run_step(const GraphPlan& gp, const PlanStep& step, Frame& frame, RunState& state,
                const SubgraphRunner& runner, std::mutex* slots_mutex, int worker = 0) const;
  // The main graph's steps on the calling thread and workers - 1 of pool_, each step as soon as
  // what it reads is written (PlanOptions::inter_op), each with its share of the intra-op threads.
  void run_concurrently(const GraphPlan& gp, Frame& frame, RunState& state, const SubgraphRunner& runner,
                        int workers) const;

  PlanOptions options_;
  std::shared_ptr<const ir::Graph> graph_;
  std::unordered_map<const ir::Graph*, std::unique_ptr<GraphPlan>> plans_;
  std::unique_ptr<WorkerPool> pool_;  // inter-op workers besides the calling thread (or none)
};

}  // namespace hwopt
