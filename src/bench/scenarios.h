// MLPerf Inference LoadGen's four scenarios on a Workload:
//  - single-stream: one query of one sample at a time; metric: p90 latency.
//  - multi-stream:  one query of N samples at a time; metric: p99 latency per query.
//  - offline:       all samples at once (batched by max_batch, run by the workers); metric:
//                   throughput in samples/s.
//  - server:        queries of one sample arrive as a Poisson process at `qps`; a dynamic
//                   batcher groups them; metric: p99 latency including queueing, valid when it
//                   stays under the bound. find_max_qps searches the highest such QPS.
#pragma once

#include <string>
#include <vector>

#include "bench/batcher.h"
#include "bench/measure.h"
#include "bench/workload.h"

namespace hwopt::bench {

enum class Scenario { single_stream, multi_stream, offline, server };
const char* scenario_name(Scenario s);
/// "single-stream", "multi-stream", "offline", "server"; false if unknown.
bool parse_scenario(const std::string& name, Scenario* out);

struct ScenarioOptions {
  MeasureOptions measure;             // single-stream, multi-stream and offline repeats
  int64_t samples_per_query = 8;      // multi-stream
  int64_t offline_samples = 64;       // offline: samples in the one query
  double qps = 10;                    // server: mean arrival rate
  double duration_s = 5;              // server: how long queries arrive
  size_t min_queries = 64;            // server: arrivals at least (extends the duration)
  BatcherOptions batcher;             // offline and server
  double max_latency_ms = 0;          // server validity bound on p99 (0: none)
  bool warm_up = true;                // server: one untimed run per batch size first (find_max_qps: the first rate only)
  uint64_t seed = 1;                  // arrival times
  std::function<bool()> should_stop;  // server: interrupt
  std::function<void(double, const char*)> progress;
};

struct ServerResult {
  double target_qps = 0, achieved_qps = 0;  // arrivals per second asked for / completions per second
  size_t queries = 0, failed = 0;
  Summary latency;           // ms, from the scheduled arrival to completion (queueing included)
  double mean_batch = 0;     // samples per dispatched batch
  int64_t max_batch_seen = 0;
  double duration_s = 0;
  bool valid = true;         // p99 within max_latency_ms (when given) and no failures
  Status status;
};

struct ScenarioResult {
  Scenario scenario = Scenario::single_stream;
  int64_t samples_per_query = 1;
  Measurement measurement;     // single-stream / multi-stream: per query; offline: per whole query
  double metric = 0;           // p90 ms, p99 ms, samples/s, or p99 ms (server)
  std::string metric_name;     // "p90 latency ms", ...
  double throughput = 0;       // samples/s
  ServerResult server;         // server only
  Status status;
};

/// `n` Poisson arrival times (seconds from 0) at rate `qps`: exponential inter-arrival gaps
/// with mean 1/qps from a seeded std::mt19937_64.
std::vector<double> poisson_arrivals(double qps, size_t n, uint64_t seed);

ScenarioResult run_scenario(Workload& w, Scenario s, const ScenarioOptions& o);
/// The server scenario at `o.qps`.
ServerResult run_server(Workload& w, const ScenarioOptions& o);

struct QpsSearch {
  std::vector<ServerResult> tried;  // in the order tried
  double max_qps = 0;               // highest valid QPS found (0: none)
  Status status;
};
/// Highest QPS whose p99 latency stays under `o.max_latency_ms` (required): doubles from
/// `start_qps` until a run fails the bound, then bisects `steps` times.
QpsSearch find_max_qps(Workload& w, const ScenarioOptions& o, double start_qps, int steps = 5);

}  // namespace hwopt::bench
