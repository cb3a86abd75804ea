// `hwopt profile`'s engine: runs a session (warm-up, then timed repeats with per-step timers),
// aggregates the step times, maps each step back to the imported ONNX nodes it stands for,
// costs each step (FLOPs, bytes) and places it on the roofline of the measured ceilings.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bench/stats.h"
#include "hwopt/session.h"
#include "ir/graph.h"
#include "profile/cost_model.h"

namespace hwopt::profile {

/// The machine's measured ceilings a step is compared with (0: not known).
struct Roofs {
  double fp32_gflops = 0;
  double bf16_gflops = 0;
  double int8_gops = 0;
  double bandwidth_gbs = 0;  // main memory, all cores
  int threads = 0;           // cores these ceilings were measured on
};

/// What limits a step: arithmetic (at or above the ridge point), memory traffic (below it), or
/// neither (`overhead`: a tiny step — under kOverheadRoofUs at its roof — that reaches under
/// kOverheadRoofFraction of that roof, so fixed per-step costs dominate its time).
enum class Bound { compute, memory, overhead, unknown };
std::string_view bound_name(Bound b);
inline constexpr double kOverheadRoofFraction = 0.10;
inline constexpr double kOverheadRoofUs = 20;
/// Run times whose coefficient of variation exceeds this are flagged as noisy.
inline constexpr double kNoisyCov = 0.10;

struct RooflinePoint {
  Bound bound = Bound::unknown;
  double gflops = 0;       // achieved
  double gbs = 0;          // achieved (minimum bytes over time)
  double roof_fraction = 0;  // achieved / attainable on the relevant roof, 0..1+
};
/// The type a step's arithmetic runs in: what its implementation says ("cpu:onednn:conv[int8(u8->s8)]",
/// "...[int8-dynamic]", "...[bf16(->f32)]"), else the graph type of its first input.
DType kernel_compute_dtype(std::string_view implementation, DType graph_dtype);

/// Classifies a step of `cost` that took `ms`, computing with `dtype`, against `roofs`.
RooflinePoint place_on_roofline(const OpCost& cost, double ms, DType dtype, const Roofs& roofs);

/// One step of the plan (a node of the optimized graph) over the timed runs.
struct StepProfile {
  size_t node_index = 0;
  std::string name;            // the optimized node's name (a fused node keeps a new name)
  std::string op_type, domain, implementation;
  std::string kernel;  // what it ran as in the timed runs (StepStat::kernel); may be empty
  std::vector<std::string> onnx_nodes;  // imported nodes it stands for (itself when not fused)
  std::vector<ValueDesc> inputs, outputs;
  bench::Summary ms;
  double first_run_ms = 0;  // the step in the session's first run (kernel creation, weight reorders)
  double layout_ms = 0;  // median time converting inputs out of a backend layout
  double share = 0;      // of the summed step medians
  /// What the step's first use cost beyond its steady time (kernel creation, weight reorders).
  double first_use_ms() const { return first_run_ms > ms.median ? first_run_ms - ms.median : 0.0; }
  OpCost cost;
  RooflinePoint roofline;
};

struct OpTypeProfile {
  std::string op_type;  // with the domain prefix for non-ONNX ops: "com.microsoft.FusedConv"
  int steps = 0;
  double ms = 0;  // sum of step medians
  double share = 0;
  double flops = 0, bytes = 0;
  double gflops = 0;
};

struct StageTimes {
  double import_ms = 0, optimize_ms = 0, plan_ms = 0;
  double first_run_ms = 0;  // includes lazily created primitives and first-touch page faults
  double steady_ms = 0;     // median of the unprofiled timed runs
  double pre_ms = 0, post_ms = 0;  // supplied by the user (--pre/--post), 0 if not
};

struct Finding {
  std::string id;        // stable: "threads_below_cores", "reference_kernels", ...
  double impact = 0;     // share of the run time it concerns (for ranking), 0..1
  std::string message;   // cites the figure it comes from
  std::string action;    // what to try
};

struct Profile {
  std::string model;
  std::string backend;
  int threads = 0;
  std::map<std::string, Shape> input_shapes;
  Roofs roofs;
  StageTimes stages;
  bench::Summary end_to_end;        // unprofiled runs, ms
  bench::Summary profiled_runs;     // runs with per-step timers, ms
  double steps_sum_ms = 0;          // sum of step medians
  double gap_ms = 0;                // end_to_end.median - steps_sum_ms
  double executor_ms = 0;           // mean time per profiled run between steps (dispatch, frees)
  double load_average = 0;          // 1-minute load average of the machine when timing began
  double load_average_after = 0;
  double layout_ms = 0;             // sum of step layout-conversion medians
  std::vector<StepProfile> steps;   // in execution order
  std::vector<OpTypeProfile> op_types;  // by time, descending
  std::vector<std::string> removed_nodes;  // imported nodes no step stands for (folded/eliminated)
  size_t imported_nodes = 0;
  double total_flops = 0, total_bytes = 0;
  size_t planned_peak_bytes = 0, measured_peak_bytes = 0, peak_rss_bytes = 0;
  double cpu_utilization = 0;  // process CPU time / (wall time x threads) over the unprofiled runs
  std::vector<Finding> findings;  // ranked, most impactful first
  std::vector<std::vector<StepStat>> trace_runs;  // raw steps of a few profiled runs, for --trace
};

struct ProfileOptions {
  int warmup = 3;
  int runs = 20;                    // timed runs of each kind (unprofiled and profiled)
  double max_seconds = 60;          // stop timing earlier when this is spent (after 3 runs)
  int trace_runs = 3;               // profiled runs kept for the trace
  int threads = 1;                  // the session's intra-op threads (for CPU utilization)
  double pre_ms = 0, post_ms = 0;   // user-supplied pre/post-processing times
  std::function<void(std::string_view)> progress;  // one line per phase; may be empty
};

/// Profiles `session` on `inputs`. The nodes the optimizer removed are those of the imported
/// graph (Session::optimization().imported_nodes) that no step stands for.
Expected<Profile> profile_session(const Session& session, const std::map<std::string, Tensor>& inputs,
                                  const Roofs& roofs, const ProfileOptions& options);

/// Applies the decision tree to a profile: ranked findings, each citing its figure.
/// `cpu_features` are the ISA features present ("avx512_vnni", "avx512_bf16", "amx_int8", ...).
std::vector<Finding> find_opportunities(const Profile& profile, int physical_cores,
                                        const std::vector<std::string>& cpu_features, bool batch_is_dynamic);

}  // namespace hwopt::profile
