// The tuner's data model: what the user requires, one configuration of the search space, what
// was measured for it, and the whole tuning run. Shared by the search (search.cpp), the
// artifact (artifact.cpp: plan.json, model.onnx) and the report (report/tune_report.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hwopt/session.h"

namespace hwopt::tune {

enum class Goal { latency, throughput };

/// The user's requirements (hard constraints) and goal. 0 / negative = not required.
struct Requirements {
  Goal goal = Goal::latency;
  double max_latency_ms = 0;     // p99 of one run at the chosen batch (latency) or per batch (throughput)
  double min_throughput = 0;     // samples per second
  double max_memory_mb = 0;      // planned peak of intermediate tensors plus weights, MiB
  double max_accuracy_drop = 1;  // percentage points of top-1 agreement lost (classifiers), see accuracy below
  double min_cosine = 0.99;      // outputs that are not classifiers
  int64_t min_batch = 1, max_batch = 1;  // --batch-range A..B
  int max_threads = 0;                   // --cores N (0 = the machine's physical cores)
  double time_budget_s = 600;
  bool exhaustive = false;
  std::string preset;  // "online", "batch", "edge", "server" or ""
  /// The server pattern (preset "server"): single-sample requests arriving at random (Poisson),
  /// grouped by a dynamic batcher; the goal is the highest request rate whose p99 latency,
  /// queueing included, stays within max_latency_ms (required), and min_throughput is that rate.
  bool server = false;
};

/// One point of the search space.
struct Config {
  std::string precision = "fp32";      // fp32, bf16, int8, int8-dynamic
  std::string calibration_method;      // int8: minmax, percentile, entropy
  std::vector<std::string> fp32_nodes;  // int8/bf16: layers kept in FP32 (accuracy fallback)
  int threads = 0;                      // intra-op threads
  int64_t batch = 1;
  std::string layout = "blocked";       // SessionOptions::layout (FP32 convolutions)
  std::string conv_algorithm = "winograd";  // SessionOptions::conv_algorithm (FP32 convolutions)
  std::vector<std::string> disabled_passes;  // fusions turned off (passes::tunable_passes)
  /// The server pattern's dynamic batcher (0 = not served through one): batches of at most
  /// server_max_batch requests (= batch), each request waiting at most server_queue_delay_ms
  /// for others to batch with.
  int64_t server_max_batch = 0;
  double server_queue_delay_ms = 0;
  int server_workers = 1;  // threads running batches concurrently on the one session
  /// "fp32 2t b1", "int8(entropy, 1 layer fp32) 2t b8", "fp32 2t b8 nhwc", "fp32 2t b1 direct-conv",
  /// "int8(entropy) 2t b8 -fuse_conv_depthwise", "int8(entropy) 1t b8 server(delay 3.5 ms, 2 workers)":
  /// unique per config, used as its key (the layout and convolution algorithm only when not the default).
  std::string key() const;
};

/// What was measured for one configuration, and what the search decided.
struct Candidate {
  Config config;
  std::string step;  // the decision-tree step that proposed it: "baseline", "precision", "layout", "conv_algorithm", "threads", "batch", "fallback"
  bool measured = false;
  std::string error;             // the configuration could not be loaded or run
  double median_ms = 0, p99_ms = 0, ci_low_ms = 0, ci_high_ms = 0;  // per run of `batch` samples
  double cov = 0;
  bool noisy = false;
  double throughput = 0;         // samples per second = batch * 1000 / median_ms; server: the highest request rate within the p99 bound
  // Server configurations: median_ms and p99_ms are per request, queueing included, at that rate;
  // the batches the batcher formed there averaged server_mean_batch requests.
  double server_mean_batch = 0;
  double server_rate_resolution = 0;  // relative gap to the lowest rate that broke the bound
  double memory_mb = 0;          // planned peak (intermediates) + weights
  bool validated = false;        // an accuracy check ran (any precision other than fp32)
  double top1_agreement = -1;    // percent, classifiers; -1 = not a classifier
  double accuracy_drop = -1;     // percentage points with labels; -1 = no labels
  double cosine = 1;             // worst output
  bool accuracy_ok = true;
  std::string accuracy_note;     // the verdict's reasons, or how it was judged
  bool meets = false;            // every requirement
  std::vector<std::string> misses;  // the requirements it misses, with figures
  std::string decision;          // "kept", "rejected"
  std::string reason;            // why (figures, the noise taken into account)
  double seconds = 0;            // spent on it (calibration, load, measure, validate)
  bool resumed = false;          // taken from an earlier run's log (--resume), not measured again
};

/// The hardware a plan was made for.
struct HardwareInfo {
  std::string fingerprint;  // hw::CpuInfo::fingerprint()
  std::string cpu_model;
  int physical_cores = 0;
  std::vector<std::string> features;  // present ISA features
};

struct TuneResult {
  std::string model_path;
  Requirements requirements;
  HardwareInfo hardware;
  std::vector<Candidate> candidates;  // in the order measured (the measurements log)
  int best = -1;                      // index of the chosen candidate (-1: none could run)
  bool met = false;                   // the best meets every requirement
  std::vector<int> pareto;            // indices on the latency / throughput / accuracy / memory front
  std::string summary;                // one paragraph: what was done and why
  std::string limits;                 // when not met: what limits the closest candidate
  /// The final check of the choice against its closest rival, measured interleaved (empty when
  /// no rival was within reach).
  std::string confirmation;
  /// What the user should know about the inputs of the search (e.g. a budget finer than the
  /// validation set can resolve).
  std::vector<std::string> warnings;
  /// Calibrated ranges of the best configuration (int8) — written into plan.json.
  std::map<std::string, ActivationRange> activation_ranges;
  /// Per op type, ms per run: the baseline and the best (from their profiles), for the report.
  std::map<std::string, double> op_ms_before, op_ms_after;
  double elapsed_s = 0;
  bool interrupted = false;
};

/// This machine's HardwareInfo (hw::detect_cpu).
HardwareInfo this_machine();

const char* goal_name(Goal goal);
nlohmann::json to_json(const Config& c);
Config config_from_json(const nlohmann::json& j);  // throws nlohmann::json::exception on bad input
nlohmann::json to_json(const Candidate& c);
Candidate candidate_from_json(const nlohmann::json& j);
nlohmann::json to_json(const Requirements& r);
nlohmann::json to_json(const TuneResult& r);

}  // namespace hwopt::tune
