#include "tune/search.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "bench/compare.h"
#include "bench/measure.h"
#include "bench/scenarios.h"
#include "hw/cpu_info.h"
#include "ir/graph.h"
#include "passes/pipeline.h"
#include "quant/accuracy.h"
#include "quant/calibrate.h"
#include "quant/dataset.h"
#include "quant/sensitivity.h"

namespace hwopt::tune {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Samples in one validation batch (accuracy does not depend on the timed batch size).
constexpr int64_t kValidationBatch = 8;
// A candidate must beat the current best by more than the noise: the medians' relative CI
// half-widths added, and at least this much.
constexpr double kMinGain = 0.03;
// A rival scoring within this fraction of the chosen candidate is re-measured against it,
// interleaved, before the choice is final.
constexpr double kConfirmWindow = 0.10;

}  // namespace

Status apply_preset(const std::string& preset, Requirements& r) {
  r.preset = preset;
  if (preset.empty()) return Status::OK();
  if (preset == "online") {
    r.goal = Goal::latency;
    r.min_batch = r.max_batch = 1;
  } else if (preset == "batch") {
    r.goal = Goal::throughput;
    r.min_batch = 1;
    r.max_batch = 64;
  } else if (preset == "server") {
    r.goal = Goal::throughput;
    r.server = true;
    r.min_batch = 1;
    r.max_batch = 32;
  } else if (preset == "edge") {
    r.goal = Goal::latency;
    r.min_batch = r.max_batch = 1;
    if (r.max_threads == 0) r.max_threads = 1;
  } else {
    return Status(StatusCode::invalid_argument, fmt::format("unknown preset '{}' (online, batch, edge or server)", preset));
  }
  return Status::OK();
}

SessionOptions session_options(const Config& c, const std::map<std::string, ActivationRange>& ranges) {
  SessionOptions o;
  o.backend = "cpu";
  o.optimize = true;
  o.threads = c.threads;
  o.precision = c.precision;
  o.fp32_nodes = c.fp32_nodes;
  o.layout = c.layout;
  o.conv_algorithm = c.conv_algorithm;
  o.disabled_passes = c.disabled_passes;
  if (c.precision == "int8") o.activation_ranges = ranges;
  return o;
}

namespace {

class Search {
 public:
  Search(std::string model, const TuneOptions& options) : model_(std::move(model)), o_(options), r_(options.requirements) {}

  Expected<TuneResult> run() {
    t0_ = Clock::now();
    result_.model_path = model_;
    result_.requirements = r_;
    const hw::CpuInfo cpu = hw::detect_cpu();
    result_.hardware = this_machine();
    cores_ = std::max(1, cpu.usable_cores > 0 ? cpu.usable_cores : cpu.physical_cores);
    if (r_.max_threads > 0) cores_ = std::min(cores_, r_.max_threads);
    bf16_ = cpu.has("avx512_bf16") || cpu.has("amx_bf16");
    vnni_ = cpu.has("avx512_vnni") || cpu.has("amx_int8") || cpu.has("avx_vnni");

    HWOPT_RETURN_IF_ERROR(prepare());
    // 1. Baseline: FP32 on all cores at the goal's batch.
    Config base;
    base.threads = cores_;
    base.batch = r_.goal == Goal::throughput ? std::min<int64_t>(std::max<int64_t>(r_.min_batch, 8), r_.max_batch)
                                             : r_.min_batch;
    const int baseline = evaluate(base, "baseline");
    if (baseline < 0 || !result_.candidates[baseline].measured)
      return Status(StatusCode::runtime_error, "the FP32 baseline could not be measured: " +
                                                   (baseline >= 0 ? result_.candidates[baseline].error : std::string("?")));
    decide(baseline, best_);  // best_ is -1: the baseline is kept
    // 2. Precision, by the speed-up this CPU can give.
    for (const Config& c : precision_candidates(result_.candidates[best_].config)) {
      if (done()) break;
      const int i = evaluate(c, "precision");
      if (i < 0) continue;
      if (!result_.candidates[i].accuracy_ok && c.precision == "int8") {
        const int j = fallback(c, i);
        if (j >= 0) decide(j, best_);
      }
      decide(i, best_);
    }
    // 3. Layout of FP32 convolutions: nChw16c throughout (the default) against nhwc and oneDNN's
    // per-convolution choice; which wins depends on the model and the batch.
    if (!done()) {
      const Config b = result_.candidates[best_].config;  // a copy: evaluate() grows the list
      if (!has_convolutions())
        say("pruned: layouts (no convolutions)");
      else if (b.precision != "fp32" && b.fp32_nodes.empty())
        say("pruned: layouts (they apply to FP32 convolutions; the best runs them in " + b.precision + ")");
      else
        for (const char* l : {"channels_last", "any"}) {
          if (done()) break;
          Config c = b;
          c.layout = l;
          decide(evaluate(c, "layout"), best_);
        }
    }
    // 3b. Algorithm of FP32 convolutions: Winograd (the default; validated against the direct
    // reference like a precision) against the direct kernel, which a model may run faster where
    // oneDNN's Winograd kernels suit its shapes badly, and which keeps the reference's rounding.
    if (!done()) {
      const Config b = result_.candidates[best_].config;
      if (!has_convolutions())
        say("pruned: direct convolutions (no convolutions)");
      else if (b.precision != "fp32" && b.fp32_nodes.empty())
        say("pruned: direct convolutions (the algorithm applies to FP32 convolutions; the best runs them in " +
            b.precision + ")");
      else if (b.conv_algorithm != "direct") {
        Config c = b;
        c.conv_algorithm = "direct";
        decide(evaluate(c, "conv_algorithm"), best_);
      }
    }
    // 4. Fusions that trade off with the kernels (passes::tunable_passes): the best with each one
    // off, where it fused something (in a graph a candidate ran).
    for (const auto& [pass, fused_op] : passes::tunable_passes()) {
      if (done()) break;
      Config c = result_.candidates[best_].config;
      if (std::find(c.disabled_passes.begin(), c.disabled_passes.end(), pass) != c.disabled_passes.end()) continue;
      if (!ran_ops_.count(fused_op)) {
        say(fmt::format("pruned: turning off {} (no {} in the optimized graph)", pass, fused_op));
        continue;
      }
      c.disabled_passes.push_back(pass);
      decide_interleaved(evaluate(c, "passes"), best_);
    }
    // 5. Threads (latency): fewer threads can be faster for small models (less synchronisation).
    if (r_.goal == Goal::latency)
      for (int t = cores_ - 1; t >= 1 && !done(); --t) {
        Config c = result_.candidates[best_].config;
        c.threads = t;
        decide(evaluate(c, "threads"), best_);
      }
    // 6. Batch size (throughput): the sweep, within the latency bound.
    if (r_.goal == Goal::throughput)
      for (int64_t b = r_.min_batch; b <= r_.max_batch && !done(); b *= 2) {
        Config c = result_.candidates[best_].config;
        if (b == c.batch) continue;
        c.batch = b;
        decide(evaluate(c, "batch"), best_);
      }
    // 7. Server pattern: the best configuration behind a dynamic batcher, per batch size.
    if (r_.server && !stopped()) serve();
    finish();
    return result_;
  }

 private:
  Status prepare() {
    // The reference outputs and the calibration come from this FP32 session; it runs the graph
    // the reduced-precision candidates run (quant::calibration_session_options), with direct
    // convolutions: Winograd's rounding is validated like a precision's.
    SessionOptions fp32;
    fp32.backend = "cpu";
    fp32.optimize = true;
    fp32.threads = cores_;
    fp32.conv_algorithm = "direct";
    auto ref = Session::load(model_, quant::calibration_session_options(fp32));
    if (!ref.ok()) return ref.status();
    reference_ = std::move(ref).value();
    for (const auto& n : reference_->graph().nodes) ops_.insert(n.op_type);
    if (!o_.calibration.empty()) {
      auto cal = quant::load_dataset(o_.calibration, reference_->inputs(), kValidationBatch, o_.calibration_limit);
      if (!cal.ok()) return Status(cal.status().code(), "calibration data: " + cal.status().message());
      calibration_ = std::move(cal).value();
    }
    const std::string val = o_.validation.empty() ? o_.calibration : o_.validation;
    if (!val.empty()) {
      auto v = quant::load_dataset(val, reference_->inputs(), kValidationBatch, o_.validation_limit);
      if (!v.ok()) return Status(v.status().code(), "validation data: " + v.status().message());
      validation_ = std::move(v).value();
      if (!o_.labels.empty()) {
        auto l = quant::load_labels(o_.labels, validation_);
        if (!l.ok()) return Status(l.status().code(), "labels: " + l.status().message());
        labels_ = std::move(l).value();
      }
      accuracy_note_ = o_.validation.empty() ? "validated on the calibration data (no --validation given)" : "";
    } else {
      // No data: random inputs judged by cosine similarity only.
      auto factory = o_.input_factory(*reference_);
      for (uint64_t s = 0; s < 4; ++s) {
        auto in = factory(1, 1000 + s);
        if (!in.ok()) return in.status();
        validation_.push_back(std::move(in).value());
      }
      accuracy_note_ = "no validation data: judged on random inputs by cosine similarity";
    }
    auto ref_out = quant::run_batches(*reference_, validation_);
    if (!ref_out.ok()) return ref_out.status();
    reference_out_ = std::move(ref_out).value();
    // Real data: classifiers keep their top-1 (agreement within the drop, and the task accuracy
    // with labels); random inputs: every output judged by cosine similarity.
    const bool real_data = !val.empty();
    budget_.min_top1_agreement = real_data ? 1.0 - r_.max_accuracy_drop / 100.0 : -1;
    budget_.max_accuracy_drop = labels_.empty() ? -1 : r_.max_accuracy_drop / 100.0;
    budget_.min_cosine = r_.min_cosine;
    // A budget finer than one validation sample cannot be resolved: with N samples, agreement
    // and accuracy move in steps of 100/N points, so a 0.01-point budget on 256 samples means
    // "no sample may change", a far stricter test than asked and a lucky pass says little.
    if (real_data && r_.max_accuracy_drop > 0) {
      size_t rows = 0;
      for (const auto& b : validation_)
        if (!b.empty()) rows += static_cast<size_t>(b.begin()->second.shape().empty() ? 1 : b.begin()->second.dim(0));
      const double step = rows > 0 ? 100.0 / static_cast<double>(rows) : 100.0;
      if (step > r_.max_accuracy_drop) {
        result_.warnings.push_back(fmt::format(
            "the accuracy budget of {:g} points is finer than the validation set resolves ({} samples: steps of {:.3g} "
            "points); give at least {:.0f} samples (--validation-limit) for it to mean what it says",
            r_.max_accuracy_drop, rows, step, std::ceil(100.0 / r_.max_accuracy_drop)));
        say("warning: " + result_.warnings.back());
      }
    }
    return Status::OK();
  }

  // The model has convolutions (the layout and algorithm knobs apply).
  bool has_convolutions() const { return ops_.count("Conv") || ops_.count("FusedConv"); }

  bool out_of_time() const { return seconds_since(t0_) > r_.time_budget_s; }
  bool stopped() const { return (o_.should_stop && o_.should_stop()) || out_of_time(); }
  // Stop proposing: interrupted, out of time, or (not exhaustive) the requirements are met.
  bool done() const {
    if (stopped()) return true;
    if (r_.exhaustive) return false;
    // The server pattern's requirements are about requests served through the batcher: only a
    // server configuration can meet them, and its latency bound is not a target (every rate it
    // reports keeps it) but the condition of its measurement: only a rate to reach is one.
    const bool has_target = r_.server ? r_.min_throughput > 0 : r_.max_latency_ms > 0 || r_.min_throughput > 0;
    const int b = r_.server ? server_best_ : best_;
    return has_target && b >= 0 && result_.candidates[static_cast<size_t>(b)].meets;
  }

  // Step 7, the server pattern (Triton's dynamic batching and instance count): the best
  // configuration so far (precision, layout) serves single-sample requests arriving at random
  // through a dynamic batcher of at most B requests, each waiting at most d ms for others. For
  // each batch size B of the range up to the batch sweep's fastest, whose own p99 leaves room in
  // the latency bound, with d = half of the batch's median time (waiting a fraction of one
  // batch's time costs little latency and fills batches under load) capped by half the room
  // left, and for each way of sharing the cores (one worker on all intra-op threads; one worker
  // on one core fewer, leaving a core to the threads that receive and batch requests; as many
  // single-threaded workers as cores): the highest arrival rate whose p99 latency, queueing
  // included, stays within the bound (bench::find_max_qps, started at 70 % of the rate the
  // batch's throughput allows).
  void serve() {
    const Config base = result_.candidates[static_cast<size_t>(best_)].config;
    // The batch sweep's fastest batch size: a batcher allowed larger batches cannot sustain more.
    int64_t fastest = base.batch;
    double fastest_throughput = 0;
    for (int64_t B = r_.min_batch; B <= r_.max_batch; B *= 2) {
      Config c = base;
      c.batch = B;
      if (const Candidate* t = batch_measurement(c); t && t->throughput > fastest_throughput) {
        fastest = B;
        fastest_throughput = t->throughput;
      }
    }
    std::vector<std::pair<int, int>> shares = {{cores_, 1}};  // (intra-op threads, workers)
    if (cores_ > 2) shares.emplace_back(cores_ - 1, 1);
    if (cores_ > 1) shares.emplace_back(1, cores_);
    for (int64_t B = r_.min_batch; B <= std::min(r_.max_batch, fastest) && !done(); B *= 2) {
      Config c = base;
      c.batch = B;
      const Candidate* found = batch_measurement(c);
      if (!found) {
        say(fmt::format("server: b{} skipped (the batch sweep did not measure it)", B));
        continue;
      }
      const Candidate batch = *found;  // a copy: evaluate() below grows the candidate list
      const Candidate* t = &batch;
      if (t->p99_ms >= r_.max_latency_ms) {
        say(fmt::format("pruned: server b{} (one batch alone takes p99 {:.2f} ms, the bound is {:.2f} ms)", B,
                        t->p99_ms, r_.max_latency_ms));
        break;
      }
      c.server_max_batch = B;
      c.server_queue_delay_ms =
          B == 1 ? 0 : std::round(10 * std::min(t->median_ms / 2, (r_.max_latency_ms - t->p99_ms) / 2)) / 10;
      for (const auto& [threads, workers] : shares) {
        if (done()) break;
        c.threads = threads;
        c.server_workers = workers;
        serve_one(c, *t);
      }
    }
    if (fastest < r_.max_batch)
      say(fmt::format("pruned: server batches above b{} (the batch sweep's fastest, {:.1f}/s)", fastest,
                      fastest_throughput));
  }

  // Measures one server configuration; `t` is its batch size's measurement (for the accuracy).
  void serve_one(const Config& c, const Candidate& t) {
    const int i = evaluate(c, "server");
    if (i < 0) return;
    // Accuracy does not depend on how requests are batched: the configuration's own verdict.
    Candidate& s = result_.candidates[static_cast<size_t>(i)];
    if (!s.resumed) {
      s.validated = t.validated;
      s.top1_agreement = t.top1_agreement;
      s.accuracy_drop = t.accuracy_drop;
      s.cosine = t.cosine;
      s.accuracy_ok = t.accuracy_ok;
      s.accuracy_note = t.accuracy_note;
      check_requirements(s);
    }
    decide(i, server_best_);  // against the server configurations only
  }

  // The batch measurement (the same configuration, not served) of `c`'s batch size, or null.
  const Candidate* batch_measurement(Config c) const {
    c.server_max_batch = 0;
    c.server_queue_delay_ms = 0;
    c.server_workers = 1;
    c.threads = result_.candidates[static_cast<size_t>(best_)].config.threads;  // the sweep's
    const std::string key = c.key();
    for (const Candidate& x : result_.candidates)
      if (x.measured && x.config.key() == key) return &x;
    return nullptr;
  }

  std::vector<Config> precision_candidates(const Config& base) {
    std::vector<Config> out;
    auto with = [&](const std::string& p, const std::string& method) {
      Config c = base;
      c.precision = p;
      c.calibration_method = method;
      out.push_back(c);
    };
    const bool has_dense = ops_.count("Conv") || ops_.count("FusedConv") || ops_.count("Gemm") ||
                           ops_.count("FusedGemm") || ops_.count("MatMul") || ops_.count("FusedMatMul");
    const bool has_matmul = ops_.count("Gemm") || ops_.count("FusedGemm") || ops_.count("MatMul") || ops_.count("FusedMatMul");
    if (!has_dense) {
      say("pruned: no Conv/Gemm/MatMul in the model, so no reduced precision would change anything");
      return out;
    }
    if (!calibration_.empty()) {
      if (vnni_ || r_.preset == "edge") {
        with("int8", "entropy");
        with("int8", "minmax");
      }
    } else {
      say("pruned: static INT8 needs calibration data (--calibration)");
    }
    if (bf16_)
      with("bf16", "");
    else
      say("pruned: BF16 (this CPU has no AVX-512 BF16 or AMX)");
    if (has_matmul) with("int8-dynamic", "");
    if (!vnni_ && !calibration_.empty() && r_.preset != "edge") {
      say("INT8 last: this CPU has no VNNI, INT8 may not beat FP32");
      with("int8", "entropy");
    }
    return out;
  }

  Expected<const std::map<std::string, ActivationRange>*> ranges(const std::string& method) {
    auto it = tables_.find(method);
    if (it != tables_.end()) return &it->second;
    auto m = quant::parse_calibration_method(method);
    if (!m.ok()) return m.status();
    quant::CalibrationOptions co;
    co.method = *m;
    say(fmt::format("calibrating ({}, {} batch(es))", method, calibration_.size()));
    auto table = quant::calibrate(*reference_, calibration_, co);
    if (!table.ok()) return table.status();
    return &(tables_[method] = std::move(table).value());
  }

  // Measures and validates `c` (or takes an earlier run's measurement); returns its index.
  int evaluate(const Config& c, const std::string& step) {
    const std::string key = c.key();
    for (size_t i = 0; i < result_.candidates.size(); ++i)
      if (result_.candidates[i].config.key() == key) return static_cast<int>(i);
    Candidate cand;
    cand.config = c;
    cand.step = step;
    for (const Candidate& p : o_.previous)
      if (p.config.key() == key && p.measured) {
        cand = p;
        cand.step = step;
        cand.decision.clear();  // decided again against this run's best
        cand.reason.clear();
        cand.resumed = true;
        say(fmt::format("resumed {}", key));
        result_.candidates.push_back(cand);
        return static_cast<int>(result_.candidates.size()) - 1;
      }
    const auto t0 = Clock::now();
    say(fmt::format("measuring {} ({})", key, step));
    const std::map<std::string, ActivationRange>* table = nullptr;
    if (c.precision == "int8") {
      auto t = ranges(c.calibration_method);
      if (!t.ok()) {
        cand.error = t.status().to_string();
        return push(std::move(cand), t0);
      }
      table = *t;
    }
    auto session = Session::load(model_, session_options(c, table ? *table : std::map<std::string, ActivationRange>{}));
    if (!session.ok()) {
      cand.error = session.status().to_string();
      return push(std::move(cand), t0);
    }
    for (const auto& n : (*session)->graph().nodes) ran_ops_.insert(n.op_type);
    if (c.server_max_batch > 0) {
      measure_server(**session, cand);
    } else {
      measure(**session, cand);
      if (cand.measured && (c.precision != "fp32" || (c.conv_algorithm != "direct" && has_convolutions())))
        validate(**session, cand);
    }
    check_requirements(cand);
    return push(std::move(cand), t0);
  }

  int push(Candidate cand, Clock::time_point t0) {
    cand.seconds = seconds_since(t0);
    if (!cand.error.empty()) {
      cand.decision = "rejected";
      cand.reason = "could not run: " + cand.error;
      say(fmt::format("  {}: {}", cand.config.key(), cand.reason));
    }
    result_.candidates.push_back(std::move(cand));
    return static_cast<int>(result_.candidates.size()) - 1;
  }

  void measure(const Session& session, Candidate& cand) {
    auto work = bench::Workload::for_session(session, o_.input_factory(*reference_), 3, 7);
    auto runner = work.runner(cand.config.batch);
    if (!runner.ok()) {
      cand.error = runner.status().to_string();
      return;
    }
    bench::MeasureOptions mo;
    mo.max_seconds = std::max(0.5, std::min(o_.max_seconds_per_candidate, r_.time_budget_s - seconds_since(t0_)));
    mo.min_runs = 10;
    mo.target_rel_ci = 0.02;
    mo.should_stop = o_.should_stop;
    const bench::Measurement m = bench::measure(*runner, mo);
    if (!m.status.ok()) {
      cand.error = m.status.to_string();
      return;
    }
    cand.measured = !m.samples_ms.empty();
    cand.median_ms = m.summary.median;
    cand.p99_ms = m.summary.p99;
    cand.ci_low_ms = m.summary.median_ci_low;
    cand.ci_high_ms = m.summary.median_ci_high;
    cand.cov = m.summary.cov;
    cand.noisy = m.noisy;
    cand.throughput = cand.median_ms > 0 ? static_cast<double>(cand.config.batch) * 1000.0 / cand.median_ms : 0;
    cand.memory_mb = memory_mb(session, cand.config.batch);
  }

  // Planned peak of the intermediates at `batch` plus the weights, MiB.
  static double memory_mb(const Session& session, int64_t batch) {
    size_t weights = 0;
    for (const auto& [name, t] : session.graph().initializers) weights += t.nbytes();
    return static_cast<double>(session.planned_peak_bytes() * static_cast<size_t>(batch) + weights) / 1048576.0;
  }

  // The server pattern: the highest rate of single-sample requests, arriving at random and
  // grouped by a dynamic batcher of this configuration, whose p99 latency (queueing included)
  // stays within the bound. The rate's median and p99 latency are the candidate's.
  void measure_server(const Session& session, Candidate& cand) {
    auto work = bench::Workload::for_session(session, o_.input_factory(*reference_), 3, 7);
    const Candidate* t = batch_measurement(cand.config);
    bench::ScenarioOptions so;
    so.batcher.max_batch = cand.config.server_max_batch;
    so.batcher.max_queue_delay_ms = cand.config.server_queue_delay_ms;
    so.batcher.workers = cand.config.server_workers;
    so.max_latency_ms = r_.max_latency_ms;
    so.duration_s = o_.server_seconds_per_rate;
    so.min_queries = 32;
    so.should_stop = [this] { return stopped(); };
    const double capacity = t && t->median_ms > 0 ? 1000.0 * static_cast<double>(cand.config.batch) / t->median_ms : 10;
    const bench::QpsSearch q = bench::find_max_qps(work, so, 0.7 * capacity, 4);
    if (!q.status.ok()) {
      cand.error = q.status.to_string();
      return;
    }
    const bench::ServerResult* at = nullptr;  // the run at the highest valid rate
    for (const auto& r : q.tried)
      if (r.valid && r.target_qps == q.max_qps) at = &r;
    if (!at) {
      cand.error = fmt::format("no request rate kept the p99 within {:.2f} ms (tried {} rates down to {:.2f}/s)",
                               r_.max_latency_ms, q.tried.size(), q.tried.empty() ? 0.0 : q.tried.back().target_qps);
      return;
    }
    cand.measured = true;
    cand.throughput = q.max_qps;
    cand.median_ms = at->latency.median;
    cand.p99_ms = at->latency.p99;
    cand.ci_low_ms = at->latency.median_ci_low;
    cand.ci_high_ms = at->latency.median_ci_high;
    cand.cov = at->latency.cov;
    cand.server_mean_batch = at->mean_batch;
    double above = 0;  // the lowest rate tried that broke the bound, above the highest kept
    for (const auto& r : q.tried)
      if (!r.valid && r.target_qps > q.max_qps && (above == 0 || r.target_qps < above)) above = r.target_qps;
    cand.server_rate_resolution = above > 0 ? (above - q.max_qps) / q.max_qps : 1.0;
    cand.memory_mb = memory_mb(session, cand.config.batch);
    say(fmt::format("  server {}: {} rates tried, highest within p99 {:.2f} ms: {:.1f} requests/s (mean batch {:.1f})",
                    cand.config.key(), q.tried.size(), r_.max_latency_ms, q.max_qps, at->mean_batch));
  }

  void validate(const Session& session, Candidate& cand) {
    quant::AccuracyMeter meter(budget_);
    for (size_t b = 0; b < validation_.size(); ++b) {
      auto out = session.run(validation_[b]);
      if (!out.ok()) {
        cand.accuracy_ok = false;
        cand.accuracy_note = "validation run failed: " + out.status().to_string();
        return;
      }
      Status st = meter.add(reference_out_[b], *out, labels_.empty() ? nullptr : &labels_[b]);
      if (!st.ok()) {
        cand.accuracy_ok = false;
        cand.accuracy_note = st.to_string();
        return;
      }
    }
    const quant::AccuracyReport rep = meter.report();
    const quant::Verdict v = quant::judge(rep, budget_);
    cand.validated = true;
    cand.accuracy_ok = v.pass;
    for (const auto& o : rep.outputs) {
      cand.cosine = std::min(cand.cosine, o.cosine);
      if (o.classifier && cand.top1_agreement < 0) {
        cand.top1_agreement = 100.0 * o.top1_agreement();
        if (o.has_labels) cand.accuracy_drop = 100.0 * o.accuracy_drop();
      }
    }
    std::string reasons;
    for (const auto& r : v.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
    cand.accuracy_note = v.pass ? accuracy_note_ : reasons;
  }

  void check_requirements(Candidate& c) {
    c.misses.clear();
    if (!c.measured) return;
    if (!c.accuracy_ok) c.misses.push_back("accuracy: " + c.accuracy_note);
    if (r_.max_latency_ms > 0 && c.p99_ms > r_.max_latency_ms)
      c.misses.push_back(fmt::format("p99 {:.2f} ms > {:.2f} ms", c.p99_ms, r_.max_latency_ms));
    if (r_.min_throughput > 0 && c.throughput < r_.min_throughput)
      c.misses.push_back(fmt::format("throughput {:.1f}/s < {:.1f}/s", c.throughput, r_.min_throughput));
    if (r_.max_memory_mb > 0 && c.memory_mb > r_.max_memory_mb)
      c.misses.push_back(fmt::format("memory {:.1f} MiB > {:.1f} MiB", c.memory_mb, r_.max_memory_mb));
    c.meets = c.misses.empty();
  }

  // The goal's figure (larger is better).
  double score(const Candidate& c) const {
    return r_.goal == Goal::throughput ? c.throughput : (c.median_ms > 0 ? 1000.0 / c.median_ms : 0);
  }
  // Relative noise of a candidate's median; a server configuration's rate is known to the
  // resolution of its bisection instead.
  static double noise(const Candidate& c) {
    if (c.config.server_max_batch > 0) return c.server_rate_resolution;
    return c.median_ms > 0 ? (c.ci_high_ms - c.ci_low_ms) / (2.0 * c.median_ms) : 1.0;
  }

  // Keeps candidate i instead of `best` (the search's best_, or server_best_ for the server step,
  // whose candidates are ranked among themselves) if it is valid and better beyond the noise.
  void decide(int i, int& best) {
    if (i < 0) return;
    Candidate& c = result_.candidates[static_cast<size_t>(i)];
    if (!c.decision.empty()) return;  // already decided (an earlier proposal of the same config)
    if (i == best) return;
    if (best < 0) {
      c.decision = "kept";
      c.reason = c.config.server_max_batch > 0 ? "the first server configuration" : "baseline";
      best = i;
      report(c);
      return;
    }
    const Candidate& b = result_.candidates[static_cast<size_t>(best)];
    if (!c.measured) return;
    if (!c.accuracy_ok) {
      c.decision = "rejected";
      c.reason = "accuracy budget missed: " + c.accuracy_note;
    } else if (r_.max_latency_ms > 0 && c.p99_ms > r_.max_latency_ms && b.p99_ms <= r_.max_latency_ms) {
      c.decision = "rejected";
      c.reason = fmt::format("p99 {:.2f} ms breaks the latency bound of {:.2f} ms", c.p99_ms, r_.max_latency_ms);
    } else if (r_.max_memory_mb > 0 && c.memory_mb > r_.max_memory_mb && b.memory_mb <= r_.max_memory_mb) {
      c.decision = "rejected";
      c.reason = fmt::format("memory {:.1f} MiB over the cap of {:.1f} MiB", c.memory_mb, r_.max_memory_mb);
    } else {
      const double gain = score(c) / std::max(score(b), 1e-12) - 1.0;
      const double needed = std::max(kMinGain, noise(c) + noise(b));
      const bool fixes = !b.meets && c.meets;
      if (gain > needed || fixes) {
        c.decision = "kept";
        c.reason = fixes && gain <= needed ? fmt::format("meets the requirements that {} missed", b.config.key())
                                           : fmt::format("{:+.1f} % {} vs {} (noise ±{:.1f} %)", 100 * gain,
                                                         r_.goal == Goal::throughput ? "throughput" : "speed",
                                                         b.config.key(), 100 * needed);
        best = i;
      } else {
        c.decision = "rejected";
        c.reason = fmt::format("{:+.1f} % vs {}: within the noise (±{:.1f} %) or slower", 100 * gain, b.config.key(),
                               100 * needed);
      }
    }
    report(c);
  }

  void report(Candidate& c) {
    if (c.resumed && c.reason.rfind("resumed", 0) != 0) c.reason = "resumed from the earlier run's log; " + c.reason;
    say(fmt::format("  {} {}: median {:.2f} ms, p99 {:.2f} ms, {:.1f}/s{} -> {} ({})", c.config.key(), c.step,
                    c.median_ms, c.p99_ms, c.throughput,
                    c.validated ? (c.top1_agreement >= 0 ? fmt::format(", top-1 {:.2f} %", c.top1_agreement)
                                                         : fmt::format(", cosine {:.5f}", c.cosine))
                                : "",
                    c.decision, c.reason));
  }

  // INT8 missed the accuracy budget: keep the most sensitive layers in FP32 until it is met.
  int fallback(const Config& c, int failed) {
    auto table = ranges(c.calibration_method);
    if (!table.ok()) return -1;
    say(fmt::format("fallback: ranking the layers of {} by sensitivity", c.key()));
    quant::FallbackOptions fo;
    fo.max_layers = 8;
    fo.ranking_batches = 2;
    fo.timing_runs = 1;
    auto fb = quant::fallback_until_budget(model_, session_options(c, **table), validation_, labels_, reference_out_,
                                           budget_, fo);
    if (!fb.ok() || !fb->met) {
      Candidate& f = result_.candidates[static_cast<size_t>(failed)];
      f.accuracy_note += fb.ok() ? "; the fallback with up to 8 layers in FP32 did not meet the budget"
                                 : "; fallback failed: " + fb.status().to_string();
      return -1;
    }
    Config k = c;
    k.fp32_nodes = fb->steps.back().fp32_nodes;
    return evaluate(k, "fallback");
  }

  void finish() {
    // The best: meets everything and best for the goal; else the closest (fewest misses).
    int chosen = -1;
    // The server pattern is served through the batcher: its configurations only, once any ran.
    const bool serving = r_.server && server_best_ >= 0;
    for (size_t i = 0; i < result_.candidates.size(); ++i) {
      const Candidate& c = result_.candidates[i];
      if (!c.measured || (serving && c.config.server_max_batch == 0)) continue;
      if (chosen < 0) {
        chosen = static_cast<int>(i);
        continue;
      }
      const Candidate& b = result_.candidates[static_cast<size_t>(chosen)];
      const auto rank = [&](const Candidate& x) { return std::make_pair(!x.meets, x.misses.size()); };
      if (rank(c) < rank(b) || (rank(c) == rank(b) && c.accuracy_ok >= b.accuracy_ok && score(c) > score(b)))
        chosen = static_cast<int>(i);
    }
    // Prefer the search's own choice when it meets as much (it was kept beyond the noise).
    const int kept = serving ? server_best_ : best_;
    if (kept >= 0 && chosen >= 0) {
      const Candidate& k = result_.candidates[static_cast<size_t>(kept)];
      const Candidate& c = result_.candidates[static_cast<size_t>(chosen)];
      if (k.meets == c.meets && k.misses.size() == c.misses.size()) chosen = kept;
    }
    if (serving)
      result_.confirmation = "Server configurations are ranked by the highest request rate each sustained within the "
                             "p99 bound (a bisection of rates per configuration), not re-measured interleaved.";
    else
      chosen = confirm(chosen);
    if (r_.server && !serving)
      result_.warnings.push_back("no server configuration could be measured (time budget, or no batch size whose p99 "
                                 "leaves room in the bound): the choice is the best batch configuration, not served "
                                 "through a batcher");
    result_.best = chosen;
    result_.met = chosen >= 0 && result_.candidates[static_cast<size_t>(chosen)].meets;
    if (chosen >= 0 && result_.candidates[static_cast<size_t>(chosen)].config.precision == "int8") {
      const std::string& m = result_.candidates[static_cast<size_t>(chosen)].config.calibration_method;
      if (tables_.count(m)) result_.activation_ranges = tables_.at(m);
    }
    // Pareto: not dominated in (p99 per sample, throughput, accuracy, memory).
    for (size_t i = 0; i < result_.candidates.size(); ++i) {
      const Candidate& a = result_.candidates[i];
      if (!a.measured || !a.accuracy_ok) continue;
      bool dominated = false;
      for (size_t j = 0; j < result_.candidates.size() && !dominated; ++j) {
        const Candidate& b = result_.candidates[j];
        if (i == j || !b.measured || !b.accuracy_ok) continue;
        const bool no_worse = b.p99_ms <= a.p99_ms && b.throughput >= a.throughput && b.cosine >= a.cosine &&
                              b.memory_mb <= a.memory_mb;
        const bool better = b.p99_ms < a.p99_ms || b.throughput > a.throughput || b.cosine > a.cosine ||
                            b.memory_mb < a.memory_mb;
        dominated = no_worse && better;
      }
      if (!dominated) result_.pareto.push_back(static_cast<int>(i));
    }
    result_.interrupted = o_.should_stop && o_.should_stop();
    result_.elapsed_s = seconds_since(t0_);
    const Candidate* base = result_.candidates.empty() ? nullptr : &result_.candidates[0];
    if (chosen >= 0 && base && serving) {
      const Candidate& b = result_.candidates[static_cast<size_t>(chosen)];
      result_.summary = fmt::format(
          "Baseline {}: {:.1f} samples/s back to back. Served through a dynamic batcher, {} sustains {:.1f} "
          "requests/s of one sample with p99 {:.2f} ms (queueing included; bound {:.2f} ms), batches of {:.1f} on "
          "average{}. {} configuration(s) measured in {:.0f} s{}.",
          base->config.key(), base->throughput, b.config.key(), b.throughput, b.p99_ms, r_.max_latency_ms,
          b.server_mean_batch,
          b.validated ? (b.top1_agreement >= 0 ? fmt::format(", top-1 agreement {:.2f} %", b.top1_agreement)
                                               : fmt::format(", cosine {:.5f}", b.cosine))
                      : "",
          result_.candidates.size(), result_.elapsed_s,
          out_of_time() ? " (time budget reached)" : result_.interrupted ? " (interrupted)" : "");
    } else if (chosen >= 0 && base) {
      const Candidate& b = result_.candidates[static_cast<size_t>(chosen)];
      result_.summary = fmt::format(
          "Baseline {}: median {:.2f} ms, p99 {:.2f} ms, {:.1f} samples/s. Chosen {}: median {:.2f} ms, p99 {:.2f} ms, "
          "{:.1f} samples/s ({:.2f}x the baseline's {}){}. {} configuration(s) measured in {:.0f} s{}.",
          base->config.key(), base->median_ms, base->p99_ms, base->throughput, b.config.key(), b.median_ms, b.p99_ms,
          b.throughput,
          r_.goal == Goal::throughput ? b.throughput / std::max(base->throughput, 1e-12)
                                      : base->median_ms / std::max(b.median_ms, 1e-12),
          r_.goal == Goal::throughput ? "throughput" : "speed",
          b.validated ? (b.top1_agreement >= 0 ? fmt::format(", top-1 agreement {:.2f} %", b.top1_agreement)
                                               : fmt::format(", cosine {:.5f}", b.cosine))
                      : "",
          result_.candidates.size(), result_.elapsed_s,
          out_of_time() ? " (time budget reached)" : result_.interrupted ? " (interrupted)" : "");
      if (!result_.met) {
        std::string misses;
        for (const auto& m : b.misses) misses += (misses.empty() ? "" : "; ") + m;
        result_.limits = fmt::format("No configuration meets every requirement. The closest, {}, misses: {}.",
                                     b.config.key(), misses);
      }
    }
    profile_ops(base, chosen);
    // What limits the closest candidate, from its profile: where its time goes.
    if (!result_.met && !result_.limits.empty() && !result_.op_ms_after.empty()) {
      double total = 0;
      for (const auto& [op, ms] : result_.op_ms_after) total += ms;
      std::vector<std::pair<double, std::string>> by_time;
      for (const auto& [op, ms] : result_.op_ms_after) by_time.emplace_back(ms, op);
      std::sort(by_time.rbegin(), by_time.rend());
      std::string where;
      for (size_t k = 0; k < by_time.size() && k < 3; ++k)
        where += fmt::format("{}{} {:.1f} ms ({:.0f} %)", k ? ", " : "", by_time[k].second, by_time[k].first,
                             total > 0 ? 100.0 * by_time[k].first / total : 0.0);
      result_.limits += fmt::format(" Its profile: {:.1f} ms per run in ops, most in {}; to go lower, those ops "
                                    "must get faster (precision, fusion) or do less work per request.",
                                    total, where);
    }
  }

  // A session of a configuration measured before (its calibration table, if int8, is cached).
  Expected<std::unique_ptr<Session>> load_measured(const Config& c) const {
    static const std::map<std::string, ActivationRange> kNone;
    const auto t = tables_.find(c.calibration_method);
    return Session::load(model_, session_options(c, c.precision == "int8" && t != tables_.end() ? t->second : kNone));
  }

  // The chosen candidate against its closest rival (meets as much, valid accuracy, scores within
  // kConfirmWindow or higher), both loaded again and measured interleaved in one process
  // (bench::compare, ABBA order, paired ratio with a bootstrap CI): medians measured minutes
  // apart on a noisy machine can rank two close configurations either way. The rival replaces
  // the choice only when it wins beyond the paired noise. Returns the final choice.
  int confirm(int chosen) {
    if (chosen < 0 || stopped()) return chosen;
    const Candidate& a = result_.candidates[static_cast<size_t>(chosen)];
    int rival = -1;
    for (size_t i = 0; i < result_.candidates.size(); ++i) {
      const Candidate& x = result_.candidates[i];
      if (static_cast<int>(i) == chosen || !x.measured || !x.accuracy_ok || x.meets != a.meets ||
          x.misses.size() != a.misses.size() || x.config.key() == a.config.key())
        continue;
      if (rival < 0 || score(x) > score(result_.candidates[static_cast<size_t>(rival)])) rival = static_cast<int>(i);
    }
    if (rival < 0 || score(result_.candidates[static_cast<size_t>(rival)]) < (1.0 - kConfirmWindow) * score(a))
      return chosen;
    const Candidate& b = result_.candidates[static_cast<size_t>(rival)];
    say(fmt::format("confirming {} against {} (interleaved)", a.config.key(), b.config.key()));
    const Paired pr = interleaved(a.config, b.config);
    if (!pr.error.empty()) {
      result_.confirmation = "not re-measured: " + pr.error;
      return chosen;
    }
    const bool b_wins = pr.b_wins();
    result_.confirmation = fmt::format(
        "Re-measured interleaved ({} pairs): {} takes {:.3f}x [95 % CI {:.3f} .. {:.3f}] the time {} of {}, so {} {}.",
        pr.pairs, b.config.key(), pr.ratio, pr.low, pr.high, r_.goal == Goal::throughput ? "per sample" : "per run",
        a.config.key(), b_wins ? b.config.key() : a.config.key(),
        b_wins ? "is chosen instead" : (pr.low > 1.0 ? "stays chosen (faster beyond the noise)" : "stays chosen (the difference is within the noise)"));
    say(result_.confirmation);
    return b_wins ? rival : chosen;
  }

  // Time of B over time of A per unit of the goal (per sample for throughput, per run for
  // latency), measured interleaved in one process: both loaded again, bench::compare (ABBA
  // order, the pair's ratio with a bootstrap CI).
  struct Paired {
    std::string error;  // not measured: why
    double ratio = 1, low = 0, high = 2;
    size_t pairs = 0;
    bool b_wins() const { return error.empty() && pairs >= 6 && high < 1.0; }
  };
  Paired interleaved(const Config& ca, const Config& cb) {
    Paired p;
    auto sa = load_measured(ca);
    auto sb = load_measured(cb);
    if (!sa.ok() || !sb.ok()) {
      p.error = (sa.ok() ? sb.status() : sa.status()).to_string();
      return p;
    }
    auto wa = bench::Workload::for_session(**sa, o_.input_factory(*reference_), 3, 7);
    auto wb = bench::Workload::for_session(**sb, o_.input_factory(*reference_), 3, 7);
    auto ra = wa.runner(ca.batch);
    auto rb = wb.runner(cb.batch);
    if (!ra.ok() || !rb.ok()) {
      p.error = (ra.ok() ? rb.status() : ra.status()).to_string();
      return p;
    }
    bench::MeasureOptions mo;
    mo.max_seconds = std::max(1.0, std::min(2 * o_.max_seconds_per_candidate, r_.time_budget_s - seconds_since(t0_)));
    mo.min_runs = 10;
    mo.target_rel_ci = 0.01;
    mo.should_stop = o_.should_stop;
    const bench::CompareResult cr = bench::compare(*ra, *rb, mo);
    if (!cr.status.ok()) {
      p.error = cr.status.to_string();
      return p;
    }
    const double per = r_.goal == Goal::throughput ? static_cast<double>(ca.batch) / static_cast<double>(cb.batch) : 1.0;
    p.ratio = cr.ratio.ratio * per;
    p.low = cr.ratio.low * per;
    p.high = cr.ratio.high * per;
    p.pairs = cr.ratio.pairs;
    return p;
  }

  // decide(), and for a candidate it rejected as within the noise of the best (valid, at most
  // kConfirmWindow slower): the two measured interleaved, and the candidate kept if it is faster
  // beyond the paired noise. For knobs worth a few percent (a fusion on or off), which two
  // medians measured apart on a noisy machine cannot resolve.
  void decide_interleaved(int i, int& best) {
    decide(i, best);
    if (i < 0 || i == best || best < 0 || stopped()) return;
    Candidate& c = result_.candidates[static_cast<size_t>(i)];
    const Candidate& b = result_.candidates[static_cast<size_t>(best)];
    if (c.decision != "rejected" || !c.measured || !c.accuracy_ok || c.resumed || (b.meets && !c.meets) ||
        score(c) < (1.0 - kConfirmWindow) * score(b))
      return;
    say(fmt::format("re-measuring {} against {} (interleaved)", c.config.key(), b.config.key()));
    const Paired pr = interleaved(b.config, c.config);
    if (!pr.error.empty()) return;
    const std::string measured = fmt::format("interleaved ({} pairs): {:.3f}x [95 % CI {:.3f} .. {:.3f}] the time {} of {}",
                                             pr.pairs, pr.ratio, pr.low, pr.high,
                                             r_.goal == Goal::throughput ? "per sample" : "per run", b.config.key());
    if (pr.b_wins()) {
      c.decision = "kept";
      c.reason = measured;
      best = i;
    } else {
      c.reason += "; " + measured;
    }
    report(c);
  }

  // Per-op-type time of the baseline and the chosen configuration (median of 5 profiled runs).
  void profile_ops(const Candidate* base, int chosen) {
    auto op_times = [&](const Config& c, std::map<std::string, double>& out) {
      auto s = load_measured(c);
      if (!s.ok()) return;
      auto in = o_.input_factory(*reference_)(c.batch, 11);
      if (!in.ok()) return;
      std::map<std::string, std::vector<double>> runs;
      for (int r = 0; r < 6; ++r) {
        RunStats st;
        if (!(*s)->run(*in, RunOptions{true, {}}, &st).ok()) return;
        if (r == 0) continue;  // the cold run
        std::map<std::string, double> per;
        for (const auto& step : st.steps) per[step.op_type] += step.ms;
        for (const auto& [op, ms] : per) runs[op].push_back(ms);
      }
      for (auto& [op, v] : runs) {
        std::sort(v.begin(), v.end());
        out[op] = v[v.size() / 2];
      }
    };
    if (base) op_times(base->config, result_.op_ms_before);
    if (chosen >= 0) op_times(result_.candidates[static_cast<size_t>(chosen)].config, result_.op_ms_after);
  }

  void say(const std::string& s) const {
    if (o_.progress) o_.progress(s);
  }

  std::string model_;
  const TuneOptions& o_;
  Requirements r_;
  TuneResult result_;
  Clock::time_point t0_;
  int cores_ = 1;
  bool bf16_ = false, vnni_ = false;
  std::unique_ptr<Session> reference_;
  std::set<std::string> ops_;
  std::set<std::string> ran_ops_;  // op types of the optimized graphs the candidates ran
  std::vector<quant::Batch> calibration_, validation_;
  std::vector<Tensor> labels_;
  std::vector<quant::Outputs> reference_out_;
  quant::AccuracyBudget budget_;
  std::string accuracy_note_;
  std::map<std::string, std::map<std::string, ActivationRange>> tables_;
  int best_ = -1;
  int server_best_ = -1;  // the best server configuration (step 7)
};

}  // namespace

Expected<TuneResult> run_tune(const std::string& model_path, const TuneOptions& options) {
  if (!options.input_factory) return Status(StatusCode::invalid_argument, "run_tune needs an input factory");
  const Requirements& r = options.requirements;
  if (r.min_batch < 1 || r.max_batch < r.min_batch)
    return Status(StatusCode::invalid_argument, fmt::format("batch range {}..{} is empty", r.min_batch, r.max_batch));
  if (r.server && r.max_latency_ms <= 0)
    return Status(StatusCode::invalid_argument,
                  "the server preset needs --max-latency-ms: the p99 bound, queueing included, under which the "
                  "highest request rate is searched");
  if (r.max_accuracy_drop < 0 || r.max_accuracy_drop > 100)
    return Status(StatusCode::invalid_argument, "max accuracy drop must be in [0, 100] percentage points");
  Search search(model_path, options);
  return search.run();
}

}  // namespace hwopt::tune
