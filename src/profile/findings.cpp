// The decision tree applied to a profile: each rule looks at one figure of the profile and, when
// it points at an opportunity, says so citing the figure. Ranked by the share of time concerned.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "backends/kernel.h"
#include "profile/profiler.h"

namespace hwopt::profile {

namespace {

bool has(const std::vector<std::string>& features, std::string_view f) {
  return std::find(features.begin(), features.end(), f) != features.end();
}

std::string pct(double fraction) { return fmt::format("{:.0f} %", fraction * 100); }

bool is_compute_class(OpClass c) { return c == OpClass::conv || c == OpClass::matmul || c == OpClass::attention; }

}  // namespace

std::vector<Finding> find_opportunities(const Profile& p, int physical_cores, const std::vector<std::string>& features,
                                        bool batch_is_dynamic) {
  std::vector<Finding> out;
  const double total = p.steps_sum_ms > 0 ? p.steps_sum_ms : 1;
  auto add = [&](std::string id, double impact, std::string message, std::string action) {
    out.push_back({std::move(id), impact, std::move(message), std::move(action)});
  };

  if (p.backend == "reference")
    add("reference_backend", 1.0,
        fmt::format("the whole model runs on the reference backend ({:.2f} ms median): plain loops, no vector kernels",
                    p.end_to_end.median),
        "run with --backend cpu");

  // Steps that ran reference code on a fast backend: planned on a reference kernel ("ref:Conv"),
  // handed to it at run time ("ref fallback"), or on oneDNN's own reference implementation.
  if (p.backend != "reference") {
    double ref_ms = 0;
    std::set<std::string> ops;
    int n = 0;
    for (const auto& s : p.steps)
      if (s.implementation.rfind("ref:", 0) == 0 || s.kernel == kReferenceFallback ||
          s.kernel.find(" ref:") != std::string::npos) {
        ref_ms += s.ms.median;
        ops.insert(s.op_type);
        ++n;
      }
    if (ref_ms / total > 0.02) {
      std::string list;
      for (const auto& o : ops) list += (list.empty() ? "" : ", ") + o;
      add("reference_kernels", ref_ms / total,
          fmt::format("{} steps ({} of step time, {:.2f} ms) run reference code: {}", n, pct(ref_ms / total), ref_ms,
                      list),
          "no fast kernel for these shapes or layouts: the per-node table's kernel shows 'ref fallback' (the backend "
          "kernel handed the inputs over at run time) or oneDNN's 'ref:' implementation; `hwopt run --verbose` "
          "shows why each planned candidate declined");
    }
  }

  if (physical_cores > 0 && p.threads < physical_cores)
    add("threads_below_cores", 1.0 - static_cast<double>(p.threads) / physical_cores,
        fmt::format("threads={} on a machine with {} physical cores", p.threads, physical_cores),
        "use --threads 0 (one thread per physical core)");
  if (physical_cores > 0 && p.threads > physical_cores)
    add("threads_above_cores", 0.3,
        fmt::format("threads={} exceeds the {} physical cores: hyper-threads share FMA units and caches", p.threads,
                    physical_cores),
        "use --threads 0 (one thread per physical core)");

  // Where the arithmetic is, how close it gets to its roof, and in which precision it runs (the
  // roof of an INT8 or BF16 step is that precision's, so "near the roof" means that precision
  // is exhausted, not FP32).
  double compute_ms = 0, compute_roof_ms = 0, int8_ms = 0, bf16_ms = 0;
  for (const auto& s : p.steps)
    if (is_compute_class(s.cost.op_class)) {
      compute_ms += s.ms.median;
      compute_roof_ms += s.ms.median * s.roofline.roof_fraction;
      const DType k = kernel_compute_dtype(s.implementation, DType::float32);
      if (k == DType::int8) int8_ms += s.ms.median;
      if (k == DType::bfloat16) bf16_ms += s.ms.median;
    }
  const double compute_share = compute_ms / total;
  const double compute_eff = compute_ms > 0 ? compute_roof_ms / compute_ms : 0;
  // The precision most of the compute time runs in.
  const std::string_view precision = int8_ms > compute_ms / 2   ? "INT8"
                                     : bf16_ms > compute_ms / 2 ? "BF16"
                                                                : "FP32";
  if (compute_share > 0.3 && p.roofs.fp32_gflops > 0) {
    if (compute_eff < 0.5)
      add("compute_below_roof", compute_share * (1 - compute_eff),
          fmt::format("{} of step time in conv/matmul/attention steps at {} of their roof (time-weighted)",
                      pct(compute_share), pct(compute_eff)),
          "check their implementations (blocked layouts, fused post-ops) in the per-node table; small or "
          "depthwise convolutions are memory-bound by nature");
    else
      add("compute_near_roof", compute_share * 0.5,
          fmt::format("{} of step time in conv/matmul/attention steps at {} of their {} roof: {} is nearly exhausted",
                      pct(compute_share), pct(compute_eff), precision, precision),
          precision == "INT8" ? "this is the CPU's highest-throughput arithmetic; what is left is in the other "
                                "steps, larger batches, or more cores"
                              : "lower precision raises the roof (see the BF16/INT8 findings)");
  }

  // Memory-bound and overhead-bound time outside the big compute ops.
  double mem_ms = 0, overhead_ms = 0;
  int mem_n = 0, overhead_n = 0;
  for (const auto& s : p.steps) {
    if (s.roofline.bound == Bound::memory && !is_compute_class(s.cost.op_class)) {
      mem_ms += s.ms.median;
      ++mem_n;
    }
    if (s.roofline.bound == Bound::overhead) {
      overhead_ms += s.ms.median;
      ++overhead_n;
    }
  }
  if (mem_ms / total > 0.15)
    add("memory_bound_ops", mem_ms / total,
        fmt::format("{} of step time in {} memory-bound elementwise/normalization/data-movement steps", pct(mem_ms / total),
                    mem_n),
        "fuse them into their producers (post-ops) so the data is not written and read again");
  if (overhead_ms / total > 0.1)
    add("overhead_bound_ops", overhead_ms / total,
        fmt::format("{} of step time in {} tiny steps that reach under {} of their roof: fixed per-op costs dominate",
                    pct(overhead_ms / total), overhead_n, pct(kOverheadRoofFraction)),
        "fuse small ops, or raise the batch size to amortize per-op costs");
  if (p.layout_ms / total > 0.05)
    add("layout_conversions", p.layout_ms / total,
        fmt::format("{} of step time ({:.2f} ms) converts tensors out of blocked layouts before non-oneDNN steps",
                    pct(p.layout_ms / total), p.layout_ms),
        "extend the oneDNN region (kernels that accept blocked layouts) or move the conversion to the region's edge");
  if (p.end_to_end.median > 0 && p.executor_ms / p.end_to_end.median > 0.1)
    add("executor_overhead", p.executor_ms / p.end_to_end.median,
        fmt::format("{:.2f} ms ({}) of the end-to-end time is spent between steps (dispatch, allocation, frees)",
                    p.executor_ms, pct(p.executor_ms / p.end_to_end.median)),
        "fewer, larger steps (fusion) or a static memory arena");
  // Noise first: when the machine is busy, every other figure is suspect.
  if (p.end_to_end.cov > kNoisyCov)
    add("noisy_measurement", 2.0,
        fmt::format("run times vary a lot (CoV {}, median {:.2f} ms, p90 {:.2f} ms; load average {:.1f} before, {:.1f} "
                    "after): other processes share the CPU and the figures below are unreliable",
                    pct(p.end_to_end.cov), p.end_to_end.median, p.end_to_end.p90, p.load_average, p.load_average_after),
        "profile again on a quiet machine (or with more --runs)");

  // Throughput: batch 1 leaves a compute-bound model's cores under-used.
  int64_t batch = -1;
  for (const auto& [name, shape] : p.input_shapes)
    if (!shape.empty()) batch = shape[0];
  if (batch == 1 && compute_share > 0.5 && batch_is_dynamic)
    add("batch_one", 0.25,
        fmt::format("batch 1 on a model that spends {} of its time in conv/matmul: larger batches run the same "
                    "weights over more data per load",
                    pct(compute_share)),
        "for throughput, measure larger batches: hwopt bench MODEL --batch 1,2,4,8,16");

  if (p.threads > 1 && p.cpu_utilization > 0 && p.cpu_utilization < 0.6)
    add("idle_cores", 1 - p.cpu_utilization,
        fmt::format("the {} threads were busy {} of the wall time: serial steps or waits leave cores idle",
                    p.threads, pct(p.cpu_utilization)),
        "look for serial steps (reference kernels, small ops) in the table");

  // Lower precision where this CPU has the instructions for it and the model does not use it yet.
  if (compute_share > 0.3 && precision != "INT8") {
    if ((has(features, "avx512_vnni") || has(features, "avx_vnni") || has(features, "amx_int8")))
      add("int8_available", compute_share * 0.75,
          fmt::format("INT8 would use {} on this CPU: {} of step time is conv/matmul{}",
                      has(features, "amx_int8") ? "AMX" : "VNNI", pct(compute_share),
                      p.roofs.int8_gops > 0 && p.roofs.fp32_gflops > 0
                          ? fmt::format(" and the INT8 roof is {:.1f}x the FP32 one ({:.0f} vs {:.0f} G/s)",
                                        p.roofs.int8_gops / p.roofs.fp32_gflops, p.roofs.int8_gops, p.roofs.fp32_gflops)
                          : std::string()),
          "quantize (static INT8 with calibration) and validate the accuracy");
    if (precision == "FP32" && (has(features, "avx512_bf16") || has(features, "amx_bf16")))
      add("bf16_available", compute_share * 0.5,
          fmt::format("BF16 is native on this CPU ({}): {} of step time is conv/matmul{}",
                      has(features, "amx_bf16") ? "AMX" : "AVX-512 BF16", pct(compute_share),
                      p.roofs.bf16_gflops > 0 && p.roofs.fp32_gflops > 0
                          ? fmt::format(" and the BF16 roof is {:.1f}x the FP32 one", p.roofs.bf16_gflops / p.roofs.fp32_gflops)
                          : std::string()),
          "run conv/matmul in BF16 and validate the accuracy");
  }

  if (p.stages.steady_ms > 0 && p.stages.first_run_ms > 3 * p.stages.steady_ms) {
    // Each step's first use beyond its steady time: kernel creation, weight reordering (Winograd's
    // weight transform above all), first touch of memory.
    double extra = 0, wino_extra = 0;
    int wino_steps = 0;
    for (const auto& s : p.steps) {
      const double e = s.first_use_ms();
      extra += e;
      if (s.kernel.find("wino") != std::string::npos) {
        wino_extra += e;
        ++wino_steps;
      }
    }
    std::string where = fmt::format("; {:.1f} ms of it is the steps' first use (kernel creation, weight reordering)", extra);
    if (wino_steps > 0)
      where += fmt::format(", {:.1f} ms of that in {} Winograd convolutions (kernel creation and the weight transform)", wino_extra,
                           wino_steps);
    const bool winograd_dominates = wino_extra > 0.3 * extra;
    add("cold_start", 0.05,
        fmt::format("the first run took {:.1f} ms, {:.1f}x a steady run{}", p.stages.first_run_ms,
                    p.stages.first_run_ms / p.stages.steady_ms, extra > 0 ? where : std::string()),
        winograd_dominates
            ? "warm the session up before serving traffic; where the first inference's latency matters, "
              "--conv-algorithm direct skips the Winograd weight transform at the cost of slower steady runs "
              "(hwopt bench --vs-conv-algorithm direct measures both)"
            : "warm the session up before serving traffic");
  }

  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) { return a.impact > b.impact; });
  return out;
}

}  // namespace hwopt::profile
