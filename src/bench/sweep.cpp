#include "bench/sweep.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace hwopt::bench {

size_t predict_bytes(const SweepOptions& o, int64_t b) {
  return o.fixed_bytes + static_cast<size_t>(b) * o.bytes_per_sample;
}

Expected<SweepOptions> parse_batches(const std::string& spec, SweepOptions base) {
  base.batches.clear();
  base.automatic = spec == "auto";
  if (base.automatic) return base;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      const long long v = std::stoll(item, &used);
      if (used != item.size() || v < 1 || v > (1 << 24)) throw std::invalid_argument(item);
      base.batches.push_back(v);
    } catch (const std::exception&) {
      return Status(StatusCode::invalid_argument, fmt::format("--batch: '{}' is not a batch size (a list like 1,2,4 or auto)", item));
    }
  }
  if (base.batches.empty()) return Status(StatusCode::invalid_argument, "--batch: no batch sizes given");
  return base;
}

SweepResult run_sweep(Workload& w, const SweepOptions& o) {
  SweepResult res;
  std::vector<int64_t> list = o.batches;
  if (o.automatic) list.clear();
  double best_tp = 0;
  auto limit_bytes = [&]() -> size_t {
    size_t l = o.available_bytes;
    if (o.max_memory_bytes > 0) l = l > 0 ? std::min(l, o.max_memory_bytes) : o.max_memory_bytes;
    return l;
  };
  int64_t b = o.automatic ? 1 : 0;
  // Measured growth of the peak RSS over the last batch, extrapolated linearly in the batch: it
  // catches what the plan does not see (per-shape primitives and reordered weights, buffer caches).
  size_t last_rss = 0, last_growth = 0;
  int64_t last_batch = 0;
  for (size_t i = 0;; ++i) {
    if (!o.automatic) {
      if (i >= list.size()) {
        res.stop_reason = "list done";
        break;
      }
      b = list[i];
    } else if (b > o.auto_limit) {
      res.stop_reason = fmt::format("reached the auto limit of batch {}", o.auto_limit);
      break;
    }
    if (o.measure.should_stop && o.measure.should_stop()) {
      res.stop_reason = "interrupted";
      break;
    }
    SweepPoint p;
    p.batch = b;
    p.predicted_bytes = predict_bytes(o, b);
    if (last_batch > 0 && o.bytes_per_sample > 0)
      p.predicted_bytes = std::max(p.predicted_bytes, last_rss + static_cast<size_t>(static_cast<double>(last_growth) *
                                                                                   static_cast<double>(b) / static_cast<double>(last_batch)));
    const size_t limit = limit_bytes();
    if (limit > 0 && o.bytes_per_sample > 0 && p.predicted_bytes > limit) {
      p.status = Status(StatusCode::out_of_memory,
                        fmt::format("batch {} would need about {:.0f} MiB (predicted from the memory plan and the memory growth so far), more than the "
                                    "{:.0f} MiB {}; not tried",
                                    b, static_cast<double>(p.predicted_bytes) / 1048576.0, static_cast<double>(limit) / 1048576.0,
                                    o.max_memory_bytes > 0 && limit == o.max_memory_bytes ? "allowed by --max-memory-mb"
                                                                                           : "available"));
      res.points.push_back(std::move(p));
      res.stop_reason = "memory";
      break;
    }
    if (o.on_batch_start) o.on_batch_start(b);
    const size_t rss_before = peak_rss_bytes();
    auto run = w.runner(b);
    if (run.ok()) {
      p.measurement = measure(*run, o.measure);
      p.status = p.measurement.status;
    } else {
      p.status = run.status();
    }
    w.release(b);
    p.peak_rss_bytes = peak_rss_bytes();
    last_rss = p.peak_rss_bytes;
    last_growth = p.peak_rss_bytes - std::min(p.peak_rss_bytes, rss_before);
    last_batch = b;
    if (!p.status.ok()) {
      const bool oom = p.status.code() == StatusCode::out_of_memory;
      res.points.push_back(std::move(p));
      if (!oom) res.status = res.points.back().status;
      res.stop_reason = oom ? "out of memory" : "error";
      break;
    }
    const Summary& s = p.measurement.summary;
    p.latency_ms = s.median;
    p.per_sample_ms = s.median / static_cast<double>(b);
    p.throughput = s.median > 0 ? 1000.0 * static_cast<double>(b) / s.median : 0;
    p.within_latency = o.max_latency_ms <= 0 || s.p90 <= o.max_latency_ms;
    const double tp = p.throughput;
    const bool within = p.within_latency;
    const bool interrupted = p.measurement.stop_reason == "interrupted";
    res.points.push_back(std::move(p));
    if (interrupted) {
      res.stop_reason = "interrupted";
      break;
    }
    if (o.automatic) {
      if (!within) {
        res.stop_reason = fmt::format("p90 latency above {} ms", o.max_latency_ms);
        break;
      }
      if (best_tp > 0 && tp < best_tp * (1 + o.min_gain)) {
        res.stop_reason = fmt::format("throughput improved by less than {:.0f} %", o.min_gain * 100);
        break;
      }
      b *= 2;
    }
    best_tp = std::max(best_tp, tp);
  }
  double best = 0;
  for (const auto& p : res.points)
    if (p.status.ok() && p.within_latency && p.throughput > best) {
      best = p.throughput;
      res.best_batch = p.batch;
    }
  return res;
}

}  // namespace hwopt::bench
