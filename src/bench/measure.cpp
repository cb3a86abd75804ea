#include "bench/measure.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <fstream>
#include <sstream>
#include <thread>

namespace hwopt::bench {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Warm-up is over when times stopped falling: the last run is close to the window's median and
// the window holds no run much faster than it.
bool warmed_up(const std::vector<double>& w, const MeasureOptions& o) {
  const size_t k = static_cast<size_t>(std::max(o.warmup_window, 1));
  if (w.size() < std::max<size_t>(static_cast<size_t>(std::max(o.min_warmup, 0)), k)) return false;
  std::vector<double> last(w.end() - static_cast<std::ptrdiff_t>(k), w.end());
  const double med = median_of(last);
  const double lo = *std::min_element(last.begin(), last.end());
  const double x = w.back();
  return med > 0 && std::abs(x - med) <= o.warmup_tolerance * med && x <= lo * (1 + o.warmup_tolerance);
}

Measurement measure(const Runner& run, const MeasureOptions& o, const Clock& clock) {
  Measurement m;
  const double t_begin = clock();
  auto elapsed = [&] { return clock() - t_begin; };
  auto stop_requested = [&] { return o.should_stop && o.should_stop(); };
  size_t iteration = 0;
  auto timed = [&](double* ms) -> Status {
    const double t0 = clock();
    Status st;
    try {
      st = run(iteration++);
    } catch (const std::bad_alloc&) {
      st = Status(StatusCode::out_of_memory, "out of memory while running");
    } catch (const std::exception& e) {
      st = Status(StatusCode::internal, e.what());
    }
    *ms = (clock() - t0) * 1000.0;
    return st;
  };
  auto summary = [&] {
    Summary s = summarize_series(m.samples_ms);
    const double floor = o.min_ci_rel * s.median;
    s.median_ci_low = std::min(s.median_ci_low, s.median - floor);
    s.median_ci_high = std::max(s.median_ci_high, s.median + floor);
    return s;
  };
  auto finish = [&](const char* reason) {
    m.stop_reason = reason;
    m.summary = summary();
    m.converged = m.stop_reason == "converged";
    m.noisy = m.summary.cov > o.noisy_cov;
    m.wall_s = elapsed();
    if (o.progress) o.progress(1.0, "done");
    return m;
  };

  // Cold start and warm-up.
  double ms = 0;
  if (stop_requested()) return finish("interrupted");
  if (m.status = timed(&ms); !m.status.ok()) return finish("error");
  m.cold_ms = ms;
  const double warmup_budget = o.max_seconds * o.max_warmup_fraction;
  while (static_cast<int>(m.warmup_ms.size()) < o.max_warmup && !warmed_up(m.warmup_ms, o)) {
    if (stop_requested()) return finish("interrupted");
    if (elapsed() >= warmup_budget && static_cast<int>(m.warmup_ms.size()) >= std::min(o.min_warmup, 1)) break;
    if (m.status = timed(&ms); !m.status.ok()) return finish("error");
    m.warmup_ms.push_back(ms);
    if (o.progress) o.progress(std::min(elapsed() / std::max(o.max_seconds, 1e-9), 1.0), "warm-up");
  }

  // Timed runs; the summary is recomputed every ~5 % more samples (it sorts them).
  size_t next_check = static_cast<size_t>(std::max(o.min_runs, 1));
  while (true) {
    if (stop_requested()) return finish("interrupted");
    if (static_cast<int>(m.samples_ms.size()) >= o.max_runs) return finish("max runs");
    if (elapsed() >= o.max_seconds && !m.samples_ms.empty()) return finish("time budget");
    if (m.status = timed(&ms); !m.status.ok()) return finish("error");
    m.samples_ms.push_back(ms);
    if (o.progress) {
      double frac = elapsed() / std::max(o.max_seconds, 1e-9);
      o.progress(std::min(frac, 1.0), "measuring");
    }
    if (m.samples_ms.size() >= next_check) {
      next_check = m.samples_ms.size() + std::max<size_t>(1, m.samples_ms.size() / 20);
      const Summary s = summary();
      // Below 6 samples the "interval" is the range, which covers the median less than 95 % of the time.
      if (m.samples_ms.size() >= 6 && s.median_ci_rel_halfwidth() <= o.target_rel_ci && elapsed() >= o.min_seconds)
        return finish("converged");
    }
  }
}

// ---- machine state ----

CpuSnapshot cpu_snapshot() {
  CpuSnapshot s;
  s.wall_s = steady_seconds();
  std::ifstream f("/proc/stat");
  std::string line;
  if (!f || !std::getline(f, line) || line.rfind("cpu ", 0) != 0) return s;
  std::istringstream in(line.substr(4));
  // user nice system idle iowait irq softirq steal ...
  std::vector<double> v;
  double x;
  while (in >> x) v.push_back(x);
  if (v.size() < 4) return s;
  double busy = 0;
  for (size_t i = 0; i < v.size() && i < 8; ++i)
    if (i != 3 && i != 4) busy += v[i];
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  s.machine_busy_s = busy / hz;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  s.self_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
             static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  s.valid = true;
  return s;
}

double other_load(const CpuSnapshot& a, const CpuSnapshot& b) {
  const double wall = b.wall_s - a.wall_s;
  if (!a.valid || !b.valid || wall <= 0) return 0;
  // /proc/stat ticks (10 ms) are coarser than rusage: clamp at zero.
  return std::max(0.0, ((b.machine_busy_s - a.machine_busy_s) - (b.self_s - a.self_s)) / wall);
}

double sample_other_load(double seconds) {
  const CpuSnapshot a = cpu_snapshot();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  return other_load(a, cpu_snapshot());
}

int online_cpus() {
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

bool MachineLoad::busy() const {
  const double limit = std::max(0.25, 0.10 * cpus);
  return before > limit || during > limit || after > limit;
}

double busy_machine_ci_floor(const MachineLoad& load) {
  MachineLoad before = load;
  before.during = before.after = 0;
  return before.busy() ? 0.01 : 0;
}

size_t peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<size_t>(ru.ru_maxrss) * 1024;  // KiB on Linux
}

size_t mem_available_bytes() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  size_t kib = 0;
  std::string unit;
  while (f >> key >> kib) {
    std::getline(f, unit);
    if (key == "MemAvailable:") return kib * 1024;
  }
  return 0;
}

}  // namespace hwopt::bench
