// `hwopt bench`: trustworthy latency and throughput. A single batch size gets the full
// statistics; a list of batch sizes (or `auto`) is a batch sweep; `--scenario` runs one of
// MLPerf LoadGen's scenarios (single-stream, multi-stream, offline, server with a dynamic
// batcher, `--find-max-qps`); `--vs` compares two models or configurations interleaved.
// Outputs: a table (progress bar on stderr), `--json`/`--json-file`, `--csv`, `--svg`.
// The statistics and schemas are described in docs/bench.md.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <nlohmann/json.hpp>

#include "artifact_options.h"
#include "bench/compare.h"
#include "bench/measure.h"
#include "bench/scenarios.h"
#include "bench/sweep.h"
#include "bench/workload.h"
#include "commands.h"
#include "core/atomic_file.h"
#include "core/interrupt.h"
#include "kernel_options.h"
#include "model_inputs.h"
#include "precision_options.h"
#include "report/svg_plot.h"
#include "tune/artifact.h"

namespace hwopt::cli {

namespace {

using bench::Summary;
using nlohmann::json;

struct BenchArgs {
  std::string model;
  std::string vs;
  std::string vs_backend;
  std::string vs_precision;
  PrecisionArgs precision;
  int vs_threads = -1;
  bool vs_no_optimize = false, vs_optimize = false;
  std::vector<std::string> disabled_passes, vs_disabled_passes;
  KernelArgs kernel;
  std::string vs_layout, vs_conv_algorithm;
  std::string backend = "cpu";
  int threads = 0;
  bool pin_threads = false;
  int inter_op = 1;
  bool no_optimize = false;
  std::vector<std::string> dims;
  uint64_t seed = 0;
  int input_sets = 4;
  std::string batch = "1";
  std::string scenario;
  int64_t samples_per_query = 8;
  int64_t offline_samples = 0;
  double qps = 0;
  int64_t max_batch = 8;
  double max_queue_delay_ms = 2;
  int workers = 1;
  double duration_s = 5;
  size_t min_queries = 64;
  bool find_max_qps = false;
  double max_latency_ms = 0;
  double target_ci = 2;
  double max_seconds = 10;
  double min_seconds = 1;
  int min_runs = 10;
  size_t max_memory_mb = 0;
  bool json_stdout = false;
  std::string json_file, csv_file, svg_file;
  bool quiet = false;
};

// The table goes to stdout, or nowhere with --json (which prints JSON instead).
std::ostringstream g_discard;
std::ostream* g_out = &std::cout;
std::ostream& out() { return *g_out; }

int fail(const Status& st) {
  std::cerr << "error: " << st.to_string() << "\n";
  return 1;
}

double mib(size_t bytes) { return static_cast<double>(bytes) / 1048576.0; }

// A progress bar on stderr: shown only on a terminal, without --quiet, and once a phase has
// run for more than a second; redrawn at most 10 times a second and erased when done.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO)) {}
  void start(std::string phase) {
    clear();
    phase_ = std::move(phase);
    t0_ = bench::steady_seconds();
    last_ = 0;
  }
  void update(double fraction, const char* what) {
    if (!enabled_) return;
    const double now = bench::steady_seconds();
    if (now - t0_ < 1.0 || now - last_ < 0.1) return;
    last_ = now;
    const int width = 30;
    const int filled = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * width);
    std::cerr << fmt::format("\r{} [{}{}] {:3.0f}% {:<12}", phase_, std::string(filled, '#'), std::string(width - filled, '.'),
                             fraction * 100, what)
              << std::flush;
    shown_ = true;
  }
  void clear() {
    if (shown_) std::cerr << "\r" << std::string(phase_.size() + 60, ' ') << "\r" << std::flush;
    shown_ = false;
  }
  ~Progress() { clear(); }

 private:
  bool enabled_;
  bool shown_ = false;
  std::string phase_;
  double t0_ = 0, last_ = 0;
};

json summary_json(const Summary& s) {
  return {{"n", s.n},       {"min", s.min},   {"median", s.median}, {"median_ci", {s.median_ci_low, s.median_ci_high}},
          {"mean", s.mean}, {"p90", s.p90},   {"p95", s.p95},       {"p99", s.p99},
          {"p999", s.p999}, {"max", s.max},   {"stdev", s.stdev},   {"cov", s.cov}};
}

json measurement_json(const bench::Measurement& m) {
  return {{"latency_ms", summary_json(m.summary)}, {"cold_ms", m.cold_ms},        {"warmup_runs", m.warmup_ms.size()},
          {"converged", m.converged},               {"stop_reason", m.stop_reason}, {"wall_s", m.wall_s},
          {"noisy", m.noisy}};
}

std::string summary_line(const Summary& s) {
  return fmt::format("min {:.3f}  mean {:.3f}  p90 {:.3f}  p95 {:.3f}  p99 {:.3f}  p99.9 {:.3f}  max {:.3f}  stdev {:.3f}  CoV {:.1f} %",
                     s.min, s.mean, s.p90, s.p95, s.p99, s.p999, s.max, s.stdev, s.cov * 100);
}

// CSV: one row per measured configuration; the columns are documented in docs/bench.md.
const char* kCsvHeader =
    "mode,name,batch,qps,n,min_ms,median_ms,ci_low_ms,ci_high_ms,mean_ms,p90_ms,p95_ms,p99_ms,p999_ms,max_ms,stdev_ms,cov,"
    "throughput_sps,predicted_bytes,peak_rss_bytes,status\n";

std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string csv_row(const std::string& mode, const std::string& name, int64_t batch, double qps, const Summary& s, double tp,
                    size_t predicted, size_t rss, const std::string& status) {
  return fmt::format("{},{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{},{},{}\n",
                     mode, csv_quote(name), batch, qps, s.n, s.min, s.median, s.median_ci_low, s.median_ci_high, s.mean, s.p90,
                     s.p95, s.p99, s.p999, s.max, s.stdev, s.cov, tp, predicted, rss, csv_quote(status));
}

struct Loaded {
  std::unique_ptr<Session> session;
  std::string batch_dim;  // name of the symbolic first dimension ("" if static)
  int64_t static_batch = 0;
  std::optional<tune::Config> tuned;  // a tuned artifact's configuration
};

Expected<Loaded> load(const std::string& path, const std::string& backend, int threads, bool pin_threads, int inter_op,
                      bool optimize,
                      const std::vector<std::string>& disabled_passes, const KernelArgs& kernel,
                      const PrecisionArgs& precision) {
  Expected<std::unique_ptr<Session>> s = Status(StatusCode::internal, "not loaded");
  std::optional<tune::Config> tuned;
  if (tune::is_artifact_dir(path)) {
    // A tuned artifact runs exactly as tuned: its plan fixes backend, precision, ranges, layout,
    // convolution algorithm and passes (run_bench refuses those options with it); --threads may override.
    auto plan = tune::load_plan(path, false);
    if (!plan.ok()) return plan.status();
    std::cerr << fmt::format("bench: tuned artifact {}: {} (tuned at batch {})\n", path, plan->config.key(),
                             plan->config.batch);
    SessionOptions so = plan->options;
    if (threads > 0) so.threads = threads;
    so.pin_threads = pin_threads;
    so.inter_op = inter_op;
    s = Session::load(plan->model_path, so);
    tuned = plan->config;
  } else {
    SessionOptions so;
    so.backend = backend;
    so.threads = threads;
    so.pin_threads = pin_threads;
    so.inter_op = inter_op;
    so.optimize = optimize;
    so.disabled_passes = disabled_passes;
    apply_kernel_options(kernel, so);
    HWOPT_RETURN_IF_ERROR(apply_precision(path, precision, so));
    s = Session::load(path, so);
  }
  if (!s.ok()) return s.status();
  Loaded l;
  l.session = std::move(s).value();
  const BatchDim b = batch_dim_of(*l.session);
  l.batch_dim = b.name;
  l.static_batch = b.fixed;
  l.tuned = tuned;
  return l;
}

bench::InputFactory input_factory(const Loaded& l, const std::map<std::string, std::string>& dims) {
  return random_input_factory(*l.session, dims);
}

struct Context {
  const BenchArgs& a;
  Progress progress;
  bench::MachineLoad load;
  bench::CpuSnapshot snap_before;
  bool load_done = false;
  json doc;
  std::string csv = kCsvHeader;
  explicit Context(const BenchArgs& args) : a(args), progress(!args.quiet) {}

  bench::MeasureOptions measure_options() {
    bench::MeasureOptions mo;
    mo.target_rel_ci = a.target_ci / 100.0;
    mo.max_seconds = a.max_seconds;
    mo.min_seconds = std::min(a.min_seconds, a.max_seconds);
    mo.min_ci_rel = bench::busy_machine_ci_floor(load);
    mo.min_runs = a.min_runs;
    mo.should_stop = [] { return interrupted(); };
    mo.progress = [this](double f, const char* what) { progress.update(f, what); };
    return mo;
  }
  void say(const std::string& line) {
    progress.clear();
    if (!a.quiet) std::cerr << "bench: " << line << "\n";
  }
};

void print_measurement(const bench::Measurement& m, int64_t batch) {
  const Summary& s = m.summary;
  out() << fmt::format("  cold start   {:.2f} ms (first run, {:.1f}x the median); {} warm-up run(s) after it\n", m.cold_ms,
                           s.median > 0 ? m.cold_ms / s.median : 0, m.warmup_ms.size());
  out() << fmt::format("  latency      median {:.3f} ms  [95 % CI {:.3f} .. {:.3f}, +-{:.2f} %]  {} runs in {:.1f} s ({})\n",
                           s.median, s.median_ci_low, s.median_ci_high, s.median_ci_rel_halfwidth() * 100, s.n, m.wall_s,
                           m.stop_reason);
  out() << "               " << summary_line(s) << "\n";
  if (batch > 1) out() << fmt::format("  per sample   {:.3f} ms\n", s.median / static_cast<double>(batch));
  out() << fmt::format("  throughput   {:.1f} samples/s (batch {} at the median)\n",
                           s.median > 0 ? 1000.0 * static_cast<double>(batch) / s.median : 0, batch);
}

// Other processes' load during (since the snapshot before the first measurement) and after.
void finish_load(Context& c) {
  if (c.load_done) return;
  c.load_done = true;
  c.load.during = bench::other_load(c.snap_before, bench::cpu_snapshot());
  c.load.after = bench::sample_other_load(0.25);
}

void print_machine(Context& c, bool noisy_cov) {
  finish_load(c);
  const auto& l = c.load;
  out() << fmt::format("  machine      other processes used {:.2f} / {:.2f} / {:.2f} cores before / during / after ({} CPUs)\n",
                           l.before, l.during, l.after, l.cpus);
  out() << fmt::format("  memory       peak RSS {:.1f} MiB\n", mib(bench::peak_rss_bytes()));
  if (l.busy() || noisy_cov)
    out() << fmt::format("  NOISY        {}{}{}: treat small differences with care\n", noisy_cov ? "high CoV" : "",
                             noisy_cov && l.busy() ? " and " : "", l.busy() ? "the machine was busy with other processes" : "");
}

// ---- modes ----

int run_sweep_mode(Context& c, Loaded& l, bench::Workload& w, const std::map<std::string, std::string>& dims) {
  const BenchArgs& a = c.a;
  bench::SweepOptions base;
  base.max_latency_ms = a.max_latency_ms;
  base.max_memory_bytes = a.max_memory_mb * 1048576;
  base.measure = c.measure_options();
  auto so = bench::parse_batches(a.batch, base);
  if (!so.ok()) return fail(so.status());
  // Memory prediction: see SweepOptions (the planner's peak at batch 1 scaled by the batch, plus
  // the input sets kept for rotation).
  auto one = input_factory(l, dims)(1, a.seed);
  const size_t in_bytes = one.ok() ? bench::tensor_bytes(*one) : 0;
  const size_t rss = bench::peak_rss_bytes();
  so->bytes_per_sample = l.session->planned_peak_bytes() + in_bytes * static_cast<size_t>(a.input_sets + 1);
  so->fixed_bytes = rss;
  const size_t avail = bench::mem_available_bytes();
  so->available_bytes = avail > 0 ? avail + rss : 0;
  so->on_batch_start = [&](int64_t b) { c.progress.start(fmt::format("batch {}", b)); };
  const bool single = !so->automatic && so->batches.size() == 1;

  const auto r = bench::run_sweep(w, *so);
  c.progress.clear();
  c.doc["mode"] = single ? "latency" : "sweep";
  json pts = json::array();
  for (const auto& p : r.points) {
    json j = {{"batch", p.batch},
              {"status", p.status.ok() ? "ok" : p.status.to_string()},
              {"per_sample_ms", p.per_sample_ms},
              {"throughput", p.throughput},
              {"predicted_bytes", p.predicted_bytes},
              {"peak_rss_bytes", p.peak_rss_bytes},
              {"within_latency", p.within_latency}};
    j.update(measurement_json(p.measurement));
    pts.push_back(j);
    c.csv += csv_row("sweep", a.model, p.batch, 0, p.measurement.summary, p.throughput, p.predicted_bytes, p.peak_rss_bytes,
                     p.status.ok() ? "ok" : p.status.to_string());
  }
  c.doc["sweep"] = {{"points", pts},
                    {"best_batch", r.best_batch},
                    {"stop_reason", r.stop_reason},
                    {"max_latency_ms", a.max_latency_ms},
                    {"bytes_per_sample_predicted", so->bytes_per_sample},
                    {"available_bytes", so->available_bytes}};

  bool noisy = false;
  if (single && !r.points.empty() && r.points[0].status.ok()) {
    print_measurement(r.points[0].measurement, r.points[0].batch);
    noisy = r.points[0].measurement.noisy;
  } else {
    out() << fmt::format("  {:>6} {:>11} {:>9} {:>9} {:>13} {:>11} {:>10} {:>10} {:>6} {:>6}\n", "batch", "median ms", "+-CI %",
                             "p90 ms", "per sample ms", "samples/s", "pred. MiB", "RSS MiB", "runs", "CoV%");
    for (const auto& p : r.points) {
      const Summary& s = p.measurement.summary;
      if (!p.status.ok()) {
        out() << fmt::format("  {:>6} {}\n", p.batch, p.status.to_string());
        continue;
      }
      noisy |= p.measurement.noisy;
      out() << fmt::format("  {:>6} {:>11.3f} {:>9} {:>9.3f} {:>13.3f} {:>11.1f} {:>10.1f} {:>10.1f} {:>6} {:>6.1f}{}{}\n", p.batch,
                               s.median, s.n >= 6 ? fmt::format("{:.2f}", s.median_ci_rel_halfwidth() * 100) : "n<6", s.p90, p.per_sample_ms, p.throughput,
                               mib(p.predicted_bytes), mib(p.peak_rss_bytes), s.n, s.cov * 100,
                               p.within_latency ? "" : "  over latency bound", p.batch == r.best_batch ? "  <- best" : "");
    }
    out() << fmt::format("  sweep ended: {}\n", r.stop_reason);
    if (r.best_batch > 0)
      out() << fmt::format("  best batch   {} (highest throughput{})\n", r.best_batch,
                               a.max_latency_ms > 0 ? fmt::format(" with p90 latency <= {} ms", a.max_latency_ms) : "");
    else if (a.max_latency_ms > 0)
      out() << fmt::format("  no batch met p90 latency <= {} ms\n", a.max_latency_ms);
  }
  if (!a.svg_file.empty() && !single) {
    report::Series lat, tp;
    lat.name = "median latency ms";
    tp.name = "throughput samples/s";
    tp.right_axis = true;
    for (const auto& p : r.points)
      if (p.status.ok()) {
        lat.x.push_back(static_cast<double>(p.batch));
        lat.y.push_back(p.latency_ms);
        tp.x.push_back(static_cast<double>(p.batch));
        tp.y.push_back(p.throughput);
      }
    report::PlotOptions po;
    po.title = fmt::format("hwopt bench: batch sweep of {}", a.model);
    po.x_label = "batch size";
    po.y_label = "latency per batch (ms)";
    po.y2_label = "throughput (samples/s)";
    po.log2_x = true;
    if (a.max_latency_ms > 0) {
      po.y_reference = a.max_latency_ms;
      po.y_reference_label = "--max-latency-ms";
    }
    if (Status st = write_file_atomic(a.svg_file, report::render_line_plot(po, {lat, tp})); !st.ok()) return fail(st);
    c.say("wrote " + a.svg_file);
  }
  c.doc["noisy"] = noisy || c.load.busy();
  print_machine(c, noisy);
  if (!r.status.ok()) return fail(r.status);
  return 0;
}

int run_scenario_mode(Context& c, bench::Workload& w, bench::Scenario sc) {
  const BenchArgs& a = c.a;
  bench::ScenarioOptions o;
  o.measure = c.measure_options();
  o.samples_per_query = a.samples_per_query;
  o.batcher.max_batch = a.max_batch;
  o.batcher.max_queue_delay_ms = a.max_queue_delay_ms;
  o.batcher.workers = a.workers;
  o.offline_samples = a.offline_samples > 0 ? a.offline_samples : 8 * a.max_batch;
  o.qps = a.qps;
  o.duration_s = a.duration_s;
  o.min_queries = a.min_queries;
  o.max_latency_ms = a.max_latency_ms;
  o.seed = a.seed + 1;
  o.should_stop = [] { return interrupted(); };
  o.progress = [&c](double f, const char* what) { c.progress.update(f, what); };
  c.doc["mode"] = "scenario";
  json sj = {{"name", bench::scenario_name(sc)},
             {"max_batch", a.max_batch},
             {"max_queue_delay_ms", a.max_queue_delay_ms},
             {"workers", a.workers}};
  auto server_json = [](const bench::ServerResult& r) {
    return json{{"target_qps", r.target_qps}, {"achieved_qps", r.achieved_qps}, {"queries", r.queries},
                {"failed", r.failed},         {"latency_ms", summary_json(r.latency)}, {"mean_batch", r.mean_batch},
                {"max_batch_seen", r.max_batch_seen}, {"duration_s", r.duration_s}, {"valid", r.valid},
                {"status", r.status.ok() ? "ok" : r.status.to_string()}};
  };
  auto print_server = [](const bench::ServerResult& r) {
    out() << fmt::format("  {:>9.2f} {:>9.2f} {:>7} {:>9.3f} {:>9.3f} {:>9.3f} {:>10.2f} {:>6}{}\n", r.target_qps, r.achieved_qps,
                             r.queries, r.latency.median, r.latency.p90, r.latency.p99, r.mean_batch,
                             r.valid ? "yes" : "no", r.status.ok() ? "" : "  " + r.status.to_string());
  };
  const std::string server_header = fmt::format("  {:>9} {:>9} {:>7} {:>9} {:>9} {:>9} {:>10} {:>6}\n", "qps", "achieved",
                                                 "queries", "p50 ms", "p90 ms", "p99 ms", "mean batch", "valid");
  bool noisy = false;
  Status status;
  if (sc == bench::Scenario::server && a.find_max_qps) {
    // Start from the single-stream estimate: one query at a time gives 1000/median QPS per worker.
    c.progress.start("estimate");
    bench::MeasureOptions quick = o.measure;
    quick.max_seconds = std::min(a.max_seconds, 2.0);
    auto run = w.runner(1);
    if (!run.ok()) return fail(run.status());
    const auto m = bench::measure(*run, quick);
    if (!m.status.ok()) return fail(m.status);
    const double start = m.summary.median > 0 ? 1000.0 / m.summary.median * 0.5 : 1;
    c.say(fmt::format("searching the highest QPS with p99 <= {} ms, starting at {:.1f} QPS", a.max_latency_ms, start));
    c.progress.start("find-max-qps");
    const auto s = bench::find_max_qps(w, o, start);
    c.progress.clear();
    status = s.status;
    json tried = json::array();
    out() << fmt::format("  server scenario, --find-max-qps (p99 <= {} ms, max batch {}, queue delay {} ms, {} worker(s))\n",
                             a.max_latency_ms, a.max_batch, a.max_queue_delay_ms, a.workers);
    out() << server_header;
    std::vector<const bench::ServerResult*> sorted;
    for (const auto& r : s.tried) sorted.push_back(&r);
    std::sort(sorted.begin(), sorted.end(), [](auto* x, auto* y) { return x->target_qps < y->target_qps; });
    for (const auto* r : sorted) {
      print_server(*r);
      tried.push_back(server_json(*r));
      c.csv += csv_row("server", a.model, 1, r->target_qps, r->latency, r->achieved_qps, 0, 0, r->valid ? "valid" : "invalid");
    }
    out() << fmt::format("  max QPS      {:.2f}{}\n", s.max_qps, s.max_qps > 0 ? "" : " (no tried rate met the bound)");
    sj["find_max_qps"] = {{"max_qps", s.max_qps}, {"max_latency_ms", a.max_latency_ms}, {"tried", tried}};
    if (!a.svg_file.empty()) {
      report::Series p50, p99;
      p50.name = "p50 latency ms";
      p99.name = "p99 latency ms";
      for (const auto* r : sorted) {
        p50.x.push_back(r->target_qps);
        p50.y.push_back(r->latency.median);
        p99.x.push_back(r->target_qps);
        p99.y.push_back(r->latency.p99);
      }
      report::PlotOptions po;
      po.title = fmt::format("hwopt bench: server latency vs QPS, {}", a.model);
      po.x_label = "offered load (queries/s, Poisson)";
      po.y_label = "latency incl. queueing (ms)";
      po.y_reference = a.max_latency_ms;
      po.y_reference_label = "--max-latency-ms";
      if (Status st = write_file_atomic(a.svg_file, report::render_line_plot(po, {p50, p99})); !st.ok()) return fail(st);
      c.say("wrote " + a.svg_file);
    }
  } else {
    if (sc == bench::Scenario::server && a.qps <= 0)
      return fail(Status(StatusCode::invalid_argument, "the server scenario needs --qps (or --find-max-qps with --max-latency-ms)"));
    c.progress.start(bench::scenario_name(sc));
    const auto r = bench::run_scenario(w, sc, o);
    c.progress.clear();
    status = r.status;
    sj["metric"] = r.metric;
    sj["metric_name"] = r.metric_name;
    sj["throughput"] = r.throughput;
    sj["samples_per_query"] = r.samples_per_query;
    out() << fmt::format("  scenario     {} ({} sample(s) per query)\n", bench::scenario_name(sc), r.samples_per_query);
    if (sc == bench::Scenario::server) {
      sj["server"] = server_json(r.server);
      out() << server_header;
      print_server(r.server);
      out() << "  latency      " << summary_line(r.server.latency) << "\n";
      c.csv += csv_row("server", a.model, 1, a.qps, r.server.latency, r.server.achieved_qps, 0, 0, r.server.valid ? "valid" : "invalid");
    } else {
      sj.update(measurement_json(r.measurement));
      noisy = r.measurement.noisy;
      if (r.status.ok()) print_measurement(r.measurement, r.samples_per_query);
      if (sc == bench::Scenario::offline)
        out() << fmt::format("  offline      {} samples in batches of {} on {} worker(s): {:.1f} samples/s\n", r.samples_per_query,
                                 a.max_batch, a.workers, r.throughput);
      c.csv += csv_row(bench::scenario_name(sc), a.model, r.samples_per_query, 0, r.measurement.summary, r.throughput, 0,
                       bench::peak_rss_bytes(), r.status.ok() ? "ok" : r.status.to_string());
    }
    out() << fmt::format("  metric       {} = {:.3f}\n", r.metric_name, r.metric);
  }
  c.doc["scenario"] = sj;
  c.doc["noisy"] = noisy || c.load.busy();
  print_machine(c, noisy);
  return status.ok() ? 0 : fail(status);
}

int run_compare_mode(Context& c, bench::Workload& wa, bench::Workload& wb, int64_t batch, const std::string& name_b) {
  const BenchArgs& a = c.a;
  auto ra = wa.runner(batch);
  if (!ra.ok()) return fail(ra.status());
  auto rb = wb.runner(batch);
  if (!rb.ok()) return fail(rb.status());
  c.progress.start("compare");
  const auto r = bench::compare(*ra, *rb, c.measure_options());
  c.progress.clear();
  c.doc["mode"] = "compare";
  c.doc["compare"] = {{"a", {{"name", a.model}, {"latency_ms", summary_json(r.a)}, {"cold_ms", r.cold_a_ms}}},
                      {"b", {{"name", name_b}, {"latency_ms", summary_json(r.b)}, {"cold_ms", r.cold_b_ms}}},
                      {"batch", batch},
                      {"ratio_b_over_a", r.ratio.ratio},
                      {"ratio_ci", {r.ratio.low, r.ratio.high}},
                      {"significant", r.ratio.significant()},
                      {"pairs", r.ratio.pairs},
                      {"converged", r.converged},
                      {"stop_reason", r.stop_reason}};
  c.csv += csv_row("compare-a", a.model, batch, 0, r.a, r.a.median > 0 ? 1000.0 * batch / r.a.median : 0, 0, 0, "ok");
  c.csv += csv_row("compare-b", name_b, batch, 0, r.b, r.b.median > 0 ? 1000.0 * batch / r.b.median : 0, 0, 0, "ok");
  out() << fmt::format("  A            {}\n  B            {}\n", a.model, name_b);
  out() << fmt::format("  A median     {:.3f} ms [CI {:.3f} .. {:.3f}]  CoV {:.1f} %  (cold {:.1f} ms)\n", r.a.median,
                           r.a.median_ci_low, r.a.median_ci_high, r.a.cov * 100, r.cold_a_ms);
  out() << fmt::format("  B median     {:.3f} ms [CI {:.3f} .. {:.3f}]  CoV {:.1f} %  (cold {:.1f} ms)\n", r.b.median,
                           r.b.median_ci_low, r.b.median_ci_high, r.b.cov * 100, r.cold_b_ms);
  out() << fmt::format("  B / A        {:.4f}  [95 % CI {:.4f} .. {:.4f}]  from {} interleaved pairs in {:.1f} s ({})\n",
                           r.ratio.ratio, r.ratio.low, r.ratio.high, r.ratio.pairs, r.wall_s, r.stop_reason);
  if (r.ratio.significant())
    out() << fmt::format("  verdict      B takes {:.3f}x the time of A ({:+.1f} %): {}, beyond the noise\n", r.ratio.ratio,
                             (r.ratio.ratio - 1) * 100, r.ratio.ratio < 1 ? "B is faster" : "B is slower");
  else if (r.ratio.pairs < 6)
    out() << "  verdict      too few pairs for a verdict (raise --max-seconds)\n";
  else
    out() << "  verdict      no difference beyond the noise (the interval contains 1)\n";
  c.doc["noisy"] = c.load.busy() || r.a.cov > 0.1 || r.b.cov > 0.1;
  print_machine(c, r.a.cov > 0.1 || r.b.cov > 0.1);
  return r.status.ok() ? 0 : fail(r.status);
}

int run_bench(const BenchArgs& given, const CLI::App& cmd) {
  BenchArgs a = given;
  install_interrupt_handler();
  g_out = a.json_stdout ? static_cast<std::ostream*>(&g_discard) : &std::cout;
  auto dims = parse_pairs(a.dims, "--dim");
  if (!dims.ok()) return fail(dims.status());
  bench::Scenario sc = bench::Scenario::single_stream;
  if (!a.scenario.empty() && !bench::parse_scenario(a.scenario, &sc))
    return fail(Status(StatusCode::invalid_argument,
                       fmt::format("--scenario '{}': expected single-stream, multi-stream, offline or server", a.scenario)));
  if (a.find_max_qps && (a.scenario != "server" || a.max_latency_ms <= 0))
    return fail(Status(StatusCode::invalid_argument, "--find-max-qps needs --scenario server and --max-latency-ms"));
  if (tune::is_artifact_dir(a.model)) {
    if (Status st = refuse_plan_fixed(cmd, a.model); !st.ok()) return fail(st);
    // An artifact tuned for the server pattern brings its batcher: its settings are the defaults.
    if (auto plan = tune::load_plan(a.model, false); plan.ok() && plan->config.server_max_batch > 0) {
      if (!cmd.count("--max-batch")) a.max_batch = plan->config.server_max_batch;
      if (!cmd.count("--max-queue-delay-ms")) a.max_queue_delay_ms = plan->config.server_queue_delay_ms;
      if (!cmd.count("--workers")) a.workers = plan->config.server_workers;
    }
  }
  Context c(a);
  c.say("loading " + a.model);
  auto l = load(a.model, a.backend, a.threads, a.pin_threads, a.inter_op, !a.no_optimize, a.disabled_passes, a.kernel, a.precision);
  if (!l.ok()) return fail(l.status());
  auto w = bench::Workload::for_session(*l->session, input_factory(*l, *dims), a.input_sets, a.seed);

  c.load.cpus = bench::online_cpus();
  c.load.before = bench::sample_other_load(0.25);
  c.snap_before = bench::cpu_snapshot();
  const int threads = a.threads > 0 ? a.threads : -1;
  if (l->tuned) {
    out() << fmt::format("hwopt bench  {}\n  run          tuned artifact: {}\n", a.model, l->tuned->key());
  } else {
    out() << fmt::format("hwopt bench  {}\n  run          {} backend, {} intra-op thread(s), {}{}\n", a.model, a.backend,
                         threads > 0 ? std::to_string(threads) : "default (physical cores)", a.precision.precision,
                         a.no_optimize ? ", not optimized" : "");
  }
  c.doc = {{"schema", "hwopt-bench/1"}, {"model", a.model}, {"backend", a.backend}, {"threads", a.threads},
           {"precision", l->tuned ? l->tuned->precision : a.precision.precision},
           {"optimize", !a.no_optimize}, {"target_ci_rel", a.target_ci / 100}, {"max_seconds", a.max_seconds}};
  if (l->tuned) {
    c.doc["tuned"] = tune::to_json(*l->tuned);
    c.doc["threads"] = a.threads > 0 ? a.threads : l->tuned->threads;
  }

  int rc = 0;
  if (!a.vs.empty() || !a.vs_backend.empty() || a.vs_threads >= 0 || a.vs_no_optimize || a.vs_optimize ||
      !a.vs_precision.empty() || !a.vs_disabled_passes.empty() || !a.vs_layout.empty() ||
      !a.vs_conv_algorithm.empty()) {
    auto sb = bench::parse_batches(a.batch, {});
    if (!sb.ok()) return fail(sb.status());
    if (sb->automatic || sb->batches.size() != 1) return fail(Status(StatusCode::invalid_argument, "--vs takes one --batch size"));
    const std::string path_b = a.vs.empty() ? a.model : a.vs;
    const std::string backend_b = a.vs_backend.empty() ? a.backend : a.vs_backend;
    const int threads_b = a.vs_threads >= 0 ? a.vs_threads : a.threads;
    const bool optimize_b = a.vs_optimize ? true : a.vs_no_optimize ? false : !a.no_optimize;
    PrecisionArgs precision_b = a.precision;
    if (!a.vs_precision.empty()) precision_b.precision = a.vs_precision;
    // B calibrates anew only if it is int8 and A is not (else it reuses nothing: A's table
    // would have to be saved; calibration is deterministic for the same data).
    if (tune::is_artifact_dir(path_b) && (!a.vs_backend.empty() || !a.vs_precision.empty() || !a.vs_layout.empty() ||
                                          !a.vs_conv_algorithm.empty() || !a.vs_disabled_passes.empty() || a.vs_no_optimize || a.vs_optimize))
      return fail(Status(StatusCode::invalid_argument,
                         fmt::format("--vs-* options other than --vs-threads cannot be used with the tuned artifact '{}': "
                                     "its plan.json fixes them",
                                     path_b)));
    c.say("loading " + path_b);
    std::vector<std::string> disabled_b = a.disabled_passes;
    disabled_b.insert(disabled_b.end(), a.vs_disabled_passes.begin(), a.vs_disabled_passes.end());
    KernelArgs kernel_b = a.kernel;
    if (!a.vs_layout.empty()) kernel_b.layout = a.vs_layout;
    if (!a.vs_conv_algorithm.empty()) kernel_b.conv_algorithm = a.vs_conv_algorithm;
    auto lb = load(path_b, backend_b, threads_b, a.pin_threads, a.inter_op, optimize_b, disabled_b, kernel_b, precision_b);
    if (!lb.ok()) return fail(lb.status());
    auto wb = bench::Workload::for_session(*lb->session, input_factory(*lb, *dims), a.input_sets, a.seed);
    std::string name_b = fmt::format("{} ({} backend, {} threads, {}{}", path_b, backend_b,
                                     threads_b > 0 ? std::to_string(threads_b) : std::string("physical cores"),
                                     precision_b.precision, optimize_b ? "" : ", not optimized");
    for (const auto& p : a.vs_disabled_passes) name_b += ", without " + p;
    if (kernel_b.layout != a.kernel.layout) name_b += ", layout " + kernel_b.layout;
    if (kernel_b.conv_algorithm != a.kernel.conv_algorithm) name_b += ", " + kernel_b.conv_algorithm + " convolutions";
    name_b += ")";
    rc = run_compare_mode(c, w, wb, sb->batches[0], name_b);
  } else if (!a.scenario.empty()) {
    rc = run_scenario_mode(c, w, sc);
  } else {
    rc = run_sweep_mode(c, *l, w, *dims);
  }
  finish_load(c);
  c.doc["noisy"] = c.doc.value("noisy", false) || c.load.busy();
  c.doc["machine"] = {{"cpus", c.load.cpus},          {"other_load_before", c.load.before},
                      {"other_load_during", c.load.during}, {"other_load_after", c.load.after},
                      {"busy", c.load.busy()},        {"mem_available_bytes", bench::mem_available_bytes()}};
  c.doc["peak_rss_bytes"] = bench::peak_rss_bytes();
  c.doc["interrupted"] = interrupted();
  if (interrupted()) out() << "  interrupted: the results above are what was measured before the interrupt\n";
  if (!a.json_file.empty()) {
    if (Status st = write_file_atomic(a.json_file, c.doc.dump(2) + "\n"); !st.ok()) return fail(st);
    c.say("wrote " + a.json_file);
  }
  if (!a.csv_file.empty()) {
    if (a.csv_file == "-") {
      std::cout << c.csv;
    } else {
      if (Status st = write_file_atomic(a.csv_file, c.csv); !st.ok()) return fail(st);
      c.say("wrote " + a.csv_file);
    }
  }
  if (a.json_stdout) std::cout << c.doc.dump(2) << "\n";
  if (interrupted()) return 128 + interrupt_signal();
  return rc;
}

}  // namespace

CommandRunner add_bench_command(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Latency and throughput you can trust: batch sweeps, MLPerf-style scenarios, comparisons (docs/bench.md).");
  cmd->add_option("model", a->model, "ONNX model file, or a tuned artifact directory (hwopt tune -o DIR)")->required();
  cmd->add_option("--backend", a->backend, "cpu or reference")->default_val("cpu")->check(CLI::IsMember({"cpu", "reference"}));
  cmd->add_option("--threads", a->threads, "intra-op threads (0 = physical cores)")->default_val(0)->check(CLI::Range(0, 1024));
  cmd->add_flag("--pin-threads", a->pin_threads, "bind each intra-op thread to its own core (with --vs: both models)");
  cmd->add_option("--inter-op", a->inter_op,
                  "independent steps run at once, each with threads / N intra-op threads (with --vs: both models)")
      ->check(CLI::Range(1, 1024));
  add_precision_options(cmd, &a->precision);
  cmd->add_flag("--no-optimize", a->no_optimize, "run the graph as imported");
  cmd->add_option("--dim", a->dims, "NAME=SIZE: a symbolic dimension other than the batch (e.g. sequence=128)");
  cmd->add_option("--seed", a->seed, "seed of the random inputs and arrivals")->default_val(0);
  cmd->add_option("--input-sets", a->input_sets, "random input sets rotated between runs")->default_val(4)->check(CLI::Range(1, 64));
  cmd->add_option("--batch", a->batch, "batch size, a list (1,2,4,8) for a sweep, or auto")->default_val("1");
  cmd->add_option("--scenario", a->scenario, "single-stream, multi-stream, offline or server");
  cmd->add_option("--samples-per-query", a->samples_per_query, "multi-stream: samples per query")->default_val(8)->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--samples", a->offline_samples, "offline: samples in the query (default 8 x --max-batch)")->check(CLI::Range(1, 1 << 24));
  cmd->add_option("--qps", a->qps, "server: mean Poisson arrival rate (queries/s)");
  cmd->add_option("--max-batch", a->max_batch, "server/offline: largest batch the batcher forms")->default_val(8)->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-queue-delay-ms", a->max_queue_delay_ms, "server: longest a query waits for others to batch with")
      ->default_val(2)->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--workers", a->workers, "server/offline: worker threads sharing the session")->default_val(1)->check(CLI::Range(1, 256));
  cmd->add_option("--duration", a->duration_s, "server: seconds of arrivals per QPS tried")->default_val(5)->check(CLI::Range(0.01, 1e6));
  cmd->add_option("--min-queries", a->min_queries, "server: arrivals per QPS tried, at least (extends --duration)")
      ->default_val(64)->check(CLI::Range(1, 1 << 30));
  cmd->add_flag("--find-max-qps", a->find_max_qps, "server: search the highest QPS with p99 <= --max-latency-ms");
  cmd->add_option("--max-latency-ms", a->max_latency_ms, "latency bound: p90 per batch (sweep), p99 (server)")->default_val(0);
  cmd->add_option("--target-ci", a->target_ci, "stop when the median's 95 % CI is within +- this percent")->default_val(2)->check(CLI::Range(0.01, 100.0));
  cmd->add_option("--max-seconds", a->max_seconds, "time budget per measurement (warm-up included)")->default_val(10)->check(CLI::Range(0.01, 1e6));
  cmd->add_option("--min-seconds", a->min_seconds, "measure at least this long (sees more of the machine's drift)")
      ->default_val(1)->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--min-runs", a->min_runs, "timed runs at least")->default_val(10)->check(CLI::Range(1, 1 << 30));
  cmd->add_option("--max-memory-mb", a->max_memory_mb, "sweep: do not try batches predicted to need more (MiB, whole process)");
  cmd->add_option("--vs", a->vs, "compare with this model (interleaved; same model with --vs-* options)");
  cmd->add_option("--vs-backend", a->vs_backend, "backend of B (default: --backend)");
  cmd->add_option("--vs-precision", a->vs_precision, "precision of B (default: --precision)")
      ->check(CLI::IsMember({"fp32", "bf16", "int8", "int8-dynamic"}));
  cmd->add_option("--vs-threads", a->vs_threads, "threads of B (default: --threads)");
  cmd->add_flag("--vs-no-optimize", a->vs_no_optimize, "B runs the graph as imported");
  cmd->add_flag("--vs-optimize", a->vs_optimize, "B runs the optimized graph");
  cmd->add_option("--disable-pass", a->disabled_passes, "skip an optimization pass (repeatable; see 'hwopt optimize --list-passes')");
  add_kernel_options(cmd, &a->kernel);
  cmd->add_option("--vs-layout", a->vs_layout, "layout of B (default: --layout)")->check(CLI::IsMember(layout_names()));
  cmd->add_option("--vs-conv-algorithm", a->vs_conv_algorithm, "convolution algorithm of B (default: --conv-algorithm)")
      ->check(CLI::IsMember(conv_algorithm_names()));
  cmd->add_option("--vs-disable-pass", a->vs_disabled_passes,
                  "B also skips this pass (repeatable): measures what one pass is worth");
  cmd->add_flag("--json", a->json_stdout, "print the results as JSON instead of tables (schema: docs/bench.md)");
  cmd->add_option("--json-file", a->json_file, "write the JSON results to this file");
  cmd->add_option("--csv", a->csv_file, "write CSV rows (schema: docs/bench.md) to this file; - for stdout");
  cmd->add_option("--svg", a->svg_file, "write an SVG plot: the batch sweep, or latency vs QPS (--find-max-qps)");
  cmd->add_flag("--quiet,-q", a->quiet, "no progress bar or progress lines on stderr");
  return [a, cmd]() { return run_bench(*a, *cmd); };
}

}  // namespace hwopt::cli
