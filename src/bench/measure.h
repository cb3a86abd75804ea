// The adaptive measurement loop shared by `hwopt bench`, `profile`-style tools and the tuner:
// warm up until first-run effects are gone (the cold start is reported separately), then repeat
// until the median's confidence interval is narrow enough or the time budget is spent. The clock
// and the thing measured are injected, so tests drive it with synthetic timings. Also: the
// machine's state around a measurement (load from other processes, peak RSS, free memory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/stats.h"
#include "hwopt/status.h"

namespace hwopt::bench {

/// Seconds on a monotonic clock.
using Clock = std::function<double()>;
/// std::chrono::steady_clock in seconds.
double steady_seconds();

/// One run of what is measured; `iteration` counts all runs (warm-up included), e.g. to rotate
/// input sets. A non-ok Status ends the measurement with that status.
using Runner = std::function<Status(size_t iteration)>;

struct MeasureOptions {
  /// Warm-up: at least `min_warmup` runs after the cold one, at most `max_warmup` (or
  /// `max_warmup_fraction` of the time budget); done when the last run is within
  /// `warmup_tolerance` of the median of the last `warmup_window` runs and not the fastest
  /// run of the window by more than that (times no longer falling).
  int min_warmup = 2;
  int max_warmup = 50;
  int warmup_window = 3;
  double warmup_tolerance = 0.10;
  double max_warmup_fraction = 0.25;
  /// Timed runs: at least `min_runs`, at most `max_runs`; stop once the 95 % CI of the median
  /// has a relative half-width <= `target_rel_ci` and at least `min_seconds` passed, or when
  /// `max_seconds` (warm-up included) is spent.
  int min_runs = 10;
  int max_runs = 1000000;
  double target_rel_ci = 0.02;
  double min_seconds = 0;
  double max_seconds = 10;
  /// Smallest relative half-width reported for the median's CI (see busy_machine_ci_floor).
  double min_ci_rel = 0;
  /// CoV above which the result is flagged noisy.
  double noisy_cov = 0.10;
  /// Polled between runs; true stops the loop (keeps what was measured).
  std::function<bool()> should_stop;
  /// Called between runs with the fraction of the budget used (0..1) and the phase name.
  std::function<void(double, const char*)> progress;
};

struct Measurement {
  Status status;               // not ok: the runner failed (samples so far are kept)
  double cold_ms = 0;          // the first run
  std::vector<double> warmup_ms;  // runs after the cold one, before timing
  std::vector<double> samples_ms;  // timed runs
  Summary summary;              // of samples_ms
  bool converged = false;       // the CI target was reached
  std::string stop_reason;      // "converged", "time budget", "max runs", "interrupted", "error"
  double wall_s = 0;            // the whole measurement, warm-up included
  bool noisy = false;           // CoV above MeasureOptions::noisy_cov (see also MachineLoad)
};

/// The warm-up criterion on the warm-up times so far (cold run excluded).
bool warmed_up(const std::vector<double>& warmup_ms, const MeasureOptions& options);

/// Measures `run`; never throws. Everything is timed with `clock`.
Measurement measure(const Runner& run, const MeasureOptions& options, const Clock& clock = steady_seconds);

/// CPU time of the whole machine and of this process, for load from other processes.
struct CpuSnapshot {
  double wall_s = 0;
  double machine_busy_s = 0;  // all CPUs, non-idle time (/proc/stat)
  double self_s = 0;          // this process, user + system
  bool valid = false;
};
CpuSnapshot cpu_snapshot();
/// Cores' worth of CPU time used by other processes between two snapshots.
double other_load(const CpuSnapshot& a, const CpuSnapshot& b);
/// Other processes' load over a short idle window of `seconds` (this process sleeps).
double sample_other_load(double seconds = 0.1);
/// Logical CPUs online.
int online_cpus();

/// Load from other processes before, during and after a measurement.
struct MachineLoad {
  double before = 0, during = 0, after = 0;  // cores' worth of other processes' CPU time
  int cpus = 1;
  /// Busy: other processes used more than a quarter of a core, or 10 % of the machine, at any point.
  bool busy() const;
};

/// The CI floor `hwopt bench` uses: on a machine busy with other processes (`before` alone, as
/// known when the measurement starts), repeat runs differ by level shifts of the background
/// load that one run cannot see in its own samples; the median's CI is then reported at least
/// +-1 % wide. 0 on a quiet machine.
double busy_machine_ci_floor(const MachineLoad& load);

/// Peak resident set size of this process so far (bytes).
size_t peak_rss_bytes();
/// MemAvailable from /proc/meminfo (bytes); 0 if unknown.
size_t mem_available_bytes();

}  // namespace hwopt::bench
