// Loading a model and running it: the embeddable C++ entry point of hwopt.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hwopt/status.h"
#include "hwopt/tensor.h"

namespace hwopt {

/// A model input or output as declared by the model. Unknown dims are -1 with a name in
/// `dim_names` when the model gives one ("batch").
struct TensorInfo {
  std::string name;
  DType dtype = DType::undefined;
  bool has_shape = false;
  std::vector<int64_t> shape;
  std::vector<std::string> dim_names;
  bool is_sequence = false;  // a sequence of tensors rather than one tensor
};

/// The calibrated range of one intermediate value (from quant::calibrate). Symmetric INT8
/// quantization clips to [-threshold, threshold], or to [0, threshold] when min >= 0.
struct ActivationRange {
  float min = 0, max = 0;
  float threshold = 0;
};

struct SessionOptions {
  /// Backend that runs the plan: "cpu" (oneDNN and own kernels, reference as the last
  /// candidate per node) or "reference" (the oracle only).
  std::string backend = "reference";
  /// Intra-op threads; 0 = the number of physical cores.
  int threads = 0;
  /// Bind intra-op thread i (the thread calling run() is thread 0) to one CPU of the process's
  /// affinity mask, a different physical core per thread while there are cores: no migration
  /// between cores mid-run. Done before a run, once per calling thread and thread count.
  bool pin_threads = false;
  /// Inter-op parallelism: up to this many independent steps of the main graph run at once (a
  /// step starts when the steps writing its inputs have finished), each with `threads` /
  /// inter_op intra-op threads, so the two levels together stay within `threads` (inter_op is
  /// capped at `threads`); a step that is the only one ready runs alone on all of them. 1 (the
  /// default) runs the steps one after another. Worth it for graphs with parallel branches
  /// whose steps are too small to use every thread; pinning covers the calling thread's team.
  int inter_op = 1;
  /// Run the graph optimization pipeline (constant folding, eliminations, fusions) before planning.
  bool optimize = false;
  /// Pass names to skip when optimizing (see `hwopt optimize --list-passes`).
  std::vector<std::string> disabled_passes;
  /// Reject NaN/Inf with an error naming the tensor: in inputs as invalid_argument, in outputs
  /// as runtime_error.
  bool check_finite = false;
  /// Cap, in MiB, on the tensor memory one run allocates (intermediates and outputs; not the
  /// inputs or weights). 0 = no cap. A model whose memory plan already needs more is refused at
  /// load, and a run that would pass the cap stops with out_of_memory naming the node.
  size_t max_memory_mb = 0;
  /// Arithmetic precision of the compute-heavy ops (Conv, Gemm, MatMul, attention) on the cpu
  /// backend: "fp32"; "bf16" (BF16 inputs and weights, FP32 accumulation; norms, softmax and
  /// reductions stay FP32; refused where the CPU has no native BF16); "int8" (static
  /// quantization: per-channel symmetric INT8 weights, activations quantized with the ranges in
  /// `activation_ranges`; an op whose input or output has no range stays FP32); "int8-dynamic"
  /// (Gemm/MatMul with constant weights only: INT8 weights, each run's activations quantized
  /// with their own largest |value|, no calibration; for transformers).
  std::string precision = "fp32";
  /// Calibrated ranges of the optimized graph's values, by value name (for precision "int8").
  std::map<std::string, ActivationRange> activation_ranges;
  /// Nodes of the optimized graph (by name; a node without a name by its first output) kept in
  /// FP32 at precision bf16/int8: the accuracy fallback of quant::fallback_until_budget.
  std::vector<std::string> fp32_nodes;
  /// Memory format of FP32 activations between the cpu backend's plain and depthwise 2-D
  /// convolutions: "blocked" (nChw16c throughout: no reorder between convolutions, and oneDNN's
  /// fused 1x1 + depthwise kernel applies; measured fastest on ResNet-50 and MobileNetV2, see
  /// docs/benchmarks.md), "channels_last" (nhwc throughout) or "any" (oneDNN picks per
  /// convolution, which mixes formats and reorders between them).
  std::string layout = "blocked";
  /// Algorithm of the cpu backend's FP32 convolutions: "winograd" (the default: ungrouped 3x3
  /// stride-1 convolutions on oneDNN's Winograd kernels where it has one for the shape, 1.2-2.5x
  /// faster than the direct kernel here, outputs within ~1e-6 of the largest |y| instead of
  /// ~1e-7; every other convolution direct) or "direct" (every convolution direct: the closest
  /// to the reference kernel). BF16 and INT8 convolutions are always direct.
  std::string conv_algorithm = "winograd";
};

/// The values SessionOptions::layout takes: "blocked", "channels_last", "any".
const std::vector<std::string>& layout_names();
/// The values SessionOptions::conv_algorithm takes: "winograd", "direct".
const std::vector<std::string>& conv_algorithm_names();

/// One step of a session's plan: a node of the optimized graph and what runs it.
struct PlanStepInfo {
  std::string node;            // the node's name, or its first output when it has none
  std::string op_type;
  std::string implementation;  // "cpu:onednn:conv[int8(u8->u8)]"
};

/// What the optimization pipeline did when the session was created.
struct OptimizationSummary {
  bool ran = false;
  size_t nodes_before = 0, nodes_after = 0;
  /// The main graph's nodes as imported (ir::Node::provenance_name, in order): with the plan's
  /// fused_from, what profiles use to list the nodes the passes removed.
  std::vector<std::string> imported_nodes;
  std::vector<std::pair<std::string, int>> rewrites;  // pass name -> rewrites, in pipeline order
  double ms = 0;
};

/// Where the time of Session::load went.
struct LoadTimes {
  double import_ms = 0;    // reading and validating the ONNX file, shape inference
  double optimize_ms = 0;  // the graph optimization pipeline (0 when off)
  double plan_ms = 0;      // lowering: kernel choice, weight reorders, memory plan
};

struct RunOptions {
  /// Collect per-step wall time into RunStats (off: no timing cost).
  bool profile = false;
  /// Called with every tensor a step of the main graph produces (plain row-major, by value
  /// name), for calibration and debugging; empty: nothing observed. Called from the thread
  /// that runs the step.
  std::function<void(const std::string& value, const Tensor& tensor)> observe;
};

/// A tensor's dtype and shape as a step saw it (for the cost model and profiles).
struct ValueDesc {
  bool present = false;  // false: an omitted optional value, or a sequence
  DType dtype = DType::undefined;
  std::vector<int64_t> shape;
};

/// Timings of one step of the main graph (a node, possibly fused from several imported nodes).
struct StepStat {
  std::string node_name;
  std::string op_type;
  std::string domain;
  std::string implementation;           // e.g. "ref:Conv"
  std::string kernel;  // what it ran as, where decided at run time: "jit_wino_4x3:avx512_core", "gemv",
                       // "ref fallback" (a backend kernel handing these inputs to the reference); may be empty
  std::vector<std::string> fused_from;  // imported nodes this step stands for (empty: itself)
  size_t node_index = 0;                // index of the node in the session's (optimized) graph
  double start_ms = 0;                  // since the run began
  double ms = 0;                        // the step, including any input layout conversion
  double layout_ms = 0;                 // of `ms`: converting inputs out of a backend layout
  int worker = 0;                       // inter-op worker that ran it (0: the thread calling run())
  std::vector<ValueDesc> inputs, outputs;
};

/// Timings and memory of one run.
struct RunStats {
  double total_ms = 0;
  size_t peak_bytes = 0;  // largest total of live intermediate tensors
  double profiling_ms = 0;  // with profiling: time spent measuring live memory (part of total_ms)
  std::vector<StepStat> steps;
};

class Plan;
namespace ir {
struct Graph;
}

/// A loaded, planned model. Thread-safe: one Session may run from several threads at once.
class Session {
 public:
  static Expected<std::unique_ptr<Session>> load(const std::string& path, const SessionOptions& options = {});
  static Expected<std::unique_ptr<Session>> load_from_bytes(const void* data, size_t size,
                                                            const SessionOptions& options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::vector<TensorInfo>& inputs() const { return inputs_; }
  const std::vector<TensorInfo>& outputs() const { return outputs_; }
  /// Arena bytes the memory planner needs for intermediate tensors at the declared input shapes,
  /// with named symbolic dims (batch, sequence length) taken as 1. Values whose size is unknown
  /// until run time are not counted; planned_unknown_values() says how many there are.
  size_t planned_peak_bytes() const;
  size_t planned_unknown_values() const;
  size_t num_nodes() const;
  const OptimizationSummary& optimization() const { return optimization_; }
  const LoadTimes& load_times() const { return load_times_; }
  /// The graph the plan runs (after optimization), for profilers and tools inside hwopt.
  /// Not part of the stable API: ir::Graph is internal to hwopt.
  const ir::Graph& graph() const;
  /// One line per node: its implementation and, with `declines`, why faster candidates declined.
  std::vector<std::string> describe_plan(bool declines = false) const;
  /// The plan's steps in execution order (main graph).
  std::vector<PlanStepInfo> plan_steps() const;

  /// Runs the model. Inputs are checked against the model (names, dtype, rank, static dims).
  Expected<std::map<std::string, Tensor>> run(const std::map<std::string, Tensor>& inputs,
                                             const RunOptions& options = {}, RunStats* stats = nullptr) const;

 private:
  Session() = default;
  std::unique_ptr<Plan> plan_;
  SessionOptions options_;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
  OptimizationSummary optimization_;
  LoadTimes load_times_;
};

}  // namespace hwopt
