#include "bench/compare.h"

#include <algorithm>

namespace hwopt::bench {

CompareResult compare(const Runner& a, const Runner& b, const MeasureOptions& o, const Clock& clock) {
  CompareResult r;
  const double t0 = clock();
  auto elapsed = [&] { return clock() - t0; };
  auto stop_requested = [&] { return o.should_stop && o.should_stop(); };
  size_t it_a = 0, it_b = 0;
  auto timed = [&](const Runner& run, size_t& it, double* ms) {
    const double s = clock();
    Status st;
    try {
      st = run(it++);
    } catch (const std::bad_alloc&) {
      st = Status(StatusCode::out_of_memory, "out of memory while running");
    }
    *ms = (clock() - s) * 1000;
    return st;
  };
  auto finish = [&](const char* reason) {
    r.stop_reason = reason;
    r.converged = r.stop_reason == "converged";
    r.a = summarize_series(r.a_ms);
    r.b = summarize_series(r.b_ms);
    r.ratio = ratio_ci_bootstrap(r.a_ms, r.b_ms, 2000);
    r.wall_s = elapsed();
    if (o.progress) o.progress(1.0, "done");
    return r;
  };
  double ma = 0, mb = 0;
  if ((r.status = timed(a, it_a, &r.cold_a_ms)); !r.status.ok()) return finish("error");
  if ((r.status = timed(b, it_b, &r.cold_b_ms)); !r.status.ok()) return finish("error");
  // Warm both until both are warm (alternating).
  std::vector<double> wa, wb;
  const double warmup_budget = o.max_seconds * o.max_warmup_fraction;
  while (static_cast<int>(wa.size()) < o.max_warmup && !(warmed_up(wa, o) && warmed_up(wb, o))) {
    if (stop_requested()) return finish("interrupted");
    if (elapsed() >= warmup_budget && !wa.empty()) break;
    if ((r.status = timed(a, it_a, &ma)); !r.status.ok()) return finish("error");
    if ((r.status = timed(b, it_b, &mb)); !r.status.ok()) return finish("error");
    wa.push_back(ma);
    wb.push_back(mb);
    if (o.progress) o.progress(std::min(elapsed() / std::max(o.max_seconds, 1e-9), 1.0), "warm-up");
  }
  size_t next_check = static_cast<size_t>(std::max(o.min_runs, 2));
  while (true) {
    if (stop_requested()) return finish("interrupted");
    if (static_cast<int>(r.a_ms.size()) >= o.max_runs) return finish("max runs");
    if (elapsed() >= o.max_seconds && !r.a_ms.empty()) return finish("time budget");
    const bool a_first = r.a_ms.size() % 2 == 0;  // ABBA
    if (a_first) {
      if ((r.status = timed(a, it_a, &ma)); !r.status.ok()) return finish("error");
      if ((r.status = timed(b, it_b, &mb)); !r.status.ok()) return finish("error");
    } else {
      if ((r.status = timed(b, it_b, &mb)); !r.status.ok()) return finish("error");
      if ((r.status = timed(a, it_a, &ma)); !r.status.ok()) return finish("error");
    }
    r.a_ms.push_back(ma);
    r.b_ms.push_back(mb);
    if (o.progress) o.progress(std::min(elapsed() / std::max(o.max_seconds, 1e-9), 1.0), "measuring");
    if (r.a_ms.size() >= next_check) {
      next_check = r.a_ms.size() + std::max<size_t>(1, r.a_ms.size() / 10);
      const RatioCI ci = ratio_ci_bootstrap(r.a_ms, r.b_ms, 400);
      if (ci.rel_halfwidth() <= o.target_rel_ci && elapsed() >= o.min_seconds) return finish("converged");
    }
  }
}

}  // namespace hwopt::bench
