#include "bench/scenarios.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

namespace hwopt::bench {

const char* scenario_name(Scenario s) {
  switch (s) {
    case Scenario::single_stream: return "single-stream";
    case Scenario::multi_stream: return "multi-stream";
    case Scenario::offline: return "offline";
    case Scenario::server: return "server";
  }
  return "?";
}

bool parse_scenario(const std::string& name, Scenario* out) {
  for (Scenario s : {Scenario::single_stream, Scenario::multi_stream, Scenario::offline, Scenario::server})
    if (name == scenario_name(s)) {
      *out = s;
      return true;
    }
  return false;
}

std::vector<double> poisson_arrivals(double qps, size_t n, uint64_t seed) {
  std::vector<double> t;
  t.reserve(n);
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(qps > 0 ? qps : 1);
  double now = 0;
  for (size_t i = 0; i < n; ++i) {
    now += gap(rng);
    t.push_back(now);
  }
  return t;
}

namespace {

// The offline query: `total` samples in batches of at most max_batch, run by the workers.
Status run_offline_query(Workload& w, const std::vector<std::pair<int64_t, std::shared_ptr<std::vector<TensorMap>>>>& batches,
                         int workers, size_t iteration) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error;
  auto body = [&] {
    for (size_t i = next++; i < batches.size(); i = next++) {
      const auto& sets = *batches[i].second;
      auto out = w.run()(sets[(iteration + i) % sets.size()]);
      if (!out.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = out.status();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int k = 1; k < workers; ++k) threads.emplace_back(body);
  body();
  for (auto& t : threads) t.join();
  return first_error;
}

}  // namespace

ScenarioResult run_scenario(Workload& w, Scenario s, const ScenarioOptions& o) {
  ScenarioResult r;
  r.scenario = s;
  MeasureOptions mo = o.measure;
  if (!mo.should_stop) mo.should_stop = o.should_stop;
  if (!mo.progress) mo.progress = o.progress;
  switch (s) {
    case Scenario::single_stream:
    case Scenario::multi_stream: {
      r.samples_per_query = s == Scenario::single_stream ? 1 : std::max<int64_t>(o.samples_per_query, 1);
      auto run = w.runner(r.samples_per_query);
      if (!run.ok()) {
        r.status = run.status();
        return r;
      }
      r.measurement = measure(*run, mo);
      r.status = r.measurement.status;
      const Summary& sm = r.measurement.summary;
      r.metric = s == Scenario::single_stream ? sm.p90 : sm.p99;
      r.metric_name = s == Scenario::single_stream ? "p90 latency ms" : "p99 latency ms per query";
      r.throughput = sm.median > 0 ? 1000.0 * static_cast<double>(r.samples_per_query) / sm.median : 0;
      return r;
    }
    case Scenario::offline: {
      const int64_t total = std::max<int64_t>(o.offline_samples, 1);
      const int64_t mb = std::max<int64_t>(o.batcher.max_batch, 1);
      r.samples_per_query = total;
      std::vector<std::pair<int64_t, std::shared_ptr<std::vector<TensorMap>>>> batches;
      std::map<int64_t, std::shared_ptr<std::vector<TensorMap>>> by_size;
      for (int64_t done = 0; done < total; done += mb) {
        const int64_t b = std::min(mb, total - done);
        if (!by_size.count(b)) {
          auto sets = w.input_sets(b);
          if (!sets.ok()) {
            r.status = sets.status();
            return r;
          }
          by_size[b] = std::make_shared<std::vector<TensorMap>>(std::move(sets).value());
        }
        batches.emplace_back(b, by_size[b]);
      }
      const int workers = std::max(o.batcher.workers, 1);
      mo.min_runs = std::min(mo.min_runs, 6);
      mo.min_warmup = std::min(mo.min_warmup, 1);
      mo.warmup_window = std::min(mo.warmup_window, 2);
      r.measurement = measure([&](size_t it) { return run_offline_query(w, batches, workers, it); }, mo);
      r.status = r.measurement.status;
      r.throughput = r.measurement.summary.median > 0 ? 1000.0 * static_cast<double>(total) / r.measurement.summary.median : 0;
      r.metric = r.throughput;
      r.metric_name = "throughput samples/s";
      return r;
    }
    case Scenario::server: {
      r.samples_per_query = 1;
      r.server = run_server(w, o);
      r.status = r.server.status;
      r.metric = r.server.latency.p99;
      r.metric_name = "p99 latency ms (with queueing)";
      r.throughput = r.server.achieved_qps;
      return r;
    }
  }
  return r;
}

ServerResult run_server(Workload& w, const ScenarioOptions& o) {
  ServerResult res;
  res.target_qps = o.qps;
  if (o.qps <= 0) {
    res.status = Status(StatusCode::invalid_argument, "the server scenario needs --qps > 0");
    res.valid = false;
    return res;
  }
  auto sets = w.input_sets(1);
  if (!sets.ok()) {
    res.status = sets.status();
    res.valid = false;
    return res;
  }
  const size_t n = std::max(o.min_queries, static_cast<size_t>(o.qps * o.duration_s));
  const std::vector<double> arrivals = poisson_arrivals(o.qps, n, o.seed);
  // Warm-up: one run of every batch size the batcher can form, so that no query pays for the
  // creation of kernels for a new shape (tens of ms) and the p99 measures serving, not start-up
  // (at most 3 s of it: a very large --max-batch warms up its first sizes only).
  const double warm_until = steady_seconds() + 3.0;
  for (int64_t b = 1; o.warm_up && b <= o.batcher.max_batch && steady_seconds() < warm_until; ++b) {
    if (o.should_stop && o.should_stop()) break;
    std::vector<const TensorMap*> parts(static_cast<size_t>(b), &(*sets)[0]);
    auto batch = concat_batch(parts);
    if (!batch.ok()) break;  // the runs below report the problem per query
    if (auto warm = w.run()(*batch); !warm.ok()) break;
  }

  std::mutex mu;
  std::vector<double> latencies;
  latencies.reserve(n);
  size_t failed = 0;
  Status first_error;
  std::vector<double> scheduled(n);
  double last_done = 0;
  const double t0 = steady_seconds() + 0.001;
  {
    DynamicBatcher batcher(w.run(), o.batcher);
    for (size_t i = 0; i < n; ++i) {
      if (o.should_stop && o.should_stop()) break;
      const double when = t0 + arrivals[i];
      const double now = steady_seconds();
      if (when > now) std::this_thread::sleep_for(std::chrono::duration<double>(when - now));
      if (o.progress && i % 16 == 0) o.progress(static_cast<double>(i) / static_cast<double>(n), "server");
      Status st = batcher.submit((*sets)[i % sets->size()], [&, when](Completion&& c) {
        std::lock_guard<std::mutex> lock(mu);
        last_done = std::max(last_done, c.done_s);
        if (!c.status.ok()) {
          ++failed;
          if (first_error.ok()) first_error = c.status;
          return;
        }
        // From the scheduled arrival: a late generator thread counts against the system.
        latencies.push_back((c.done_s - when) * 1000.0);
      });
      if (!st.ok()) {
        res.status = st;
        break;
      }
    }
    batcher.shutdown();
    const auto recs = batcher.batches();
    int64_t samples = 0;
    for (const auto& r : recs) {
      samples += r.samples;
      res.max_batch_seen = std::max(res.max_batch_seen, r.samples);
    }
    res.mean_batch = recs.empty() ? 0 : static_cast<double>(samples) / static_cast<double>(recs.size());
  }
  res.queries = latencies.size() + failed;
  res.failed = failed;
  res.latency = summarize(latencies);
  res.duration_s = std::max(last_done - t0, 1e-9);
  res.achieved_qps = static_cast<double>(latencies.size()) / res.duration_s;
  if (res.status.ok() && !first_error.ok()) res.status = first_error;
  res.valid = res.status.ok() && failed == 0 && (o.max_latency_ms <= 0 || res.latency.p99 <= o.max_latency_ms);
  if (o.progress) o.progress(1.0, "done");
  return res;
}

QpsSearch find_max_qps(Workload& w, const ScenarioOptions& o, double start_qps, int steps) {
  QpsSearch s;
  if (o.max_latency_ms <= 0) {
    s.status = Status(StatusCode::invalid_argument, "--find-max-qps needs --max-latency-ms");
    return s;
  }
  auto attempt = [&](double qps) {
    ScenarioOptions so = o;
    so.qps = qps;
    so.seed = o.seed + s.tried.size();
    so.warm_up = o.warm_up && s.tried.empty();  // the kernels of every batch size exist after the first rate
    s.tried.push_back(run_server(w, so));
    const ServerResult& r = s.tried.back();
    if (!r.status.ok() && r.status.code() != StatusCode::out_of_memory && s.status.ok()) s.status = r.status;
    // A system that cannot keep up builds a queue, which shows in the p99 (queueing included).
    return r.valid;
  };
  auto stopped = [&] { return (o.should_stop && o.should_stop()) || !s.status.ok(); };
  double lo = 0, hi = 0;
  double q = std::max(start_qps, 0.1);
  // Grow (or shrink) until the bound is passed by one and met by the other.
  for (int i = 0; i < 12 && !stopped(); ++i) {
    if (attempt(q)) {
      lo = q;
      if (hi > 0) break;
      q *= 2;
    } else {
      hi = q;
      if (lo > 0) break;
      q /= 2;
    }
  }
  for (int i = 0; i < steps && lo > 0 && hi > 0 && !stopped(); ++i) {
    const double mid = (lo + hi) / 2;
    if (attempt(mid))
      lo = mid;
    else
      hi = mid;
  }
  s.max_qps = lo;
  return s;
}

}  // namespace hwopt::bench
