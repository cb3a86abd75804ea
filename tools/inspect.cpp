// `hwopt inspect`: the hardware as the optimizer sees it: CPU (vendor, model, topology, caches,
// the ISA features that matter), the measured ceilings (matmul peak per precision, memory
// bandwidth; cached per machine fingerprint) and the NVIDIA GPUs, if any.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.h"
#include "hw/ceilings.h"
#include "hw/cpu_info.h"
#include "hw/gpu_info.h"
#include "inspect_model.h"

namespace hwopt::cli {

namespace {

struct InspectArgs {
  bool json = false;
  bool refresh = false;
  bool no_measure = false;
  std::string cache_dir;
  int threads = 0;
  ModelInspectOptions model;  // model.model empty: hardware only
};

void add_model_arguments(CLI::App* cmd, InspectArgs& args) {
  cmd->add_option("model", args.model.model, "ONNX model: add its inputs, ops, parameters, FLOPs, traffic and memory");
  cmd->add_option("--batch", args.model.batch, "size of the symbolic first (batch) dimension for the model's figures")
      ->default_val(1)
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--dim", args.model.dims, "NAME=SIZE: value of another symbolic dimension (default 1)");
}

std::string bytes_text(uint64_t b) {
  if (b >= (uint64_t{1} << 30) && b % (uint64_t{1} << 30) == 0) return fmt::format("{} GiB", b >> 30);
  if (b >= (uint64_t{1} << 20)) return b % (1 << 20) == 0 ? fmt::format("{} MiB", b >> 20) : fmt::format("{:.1f} MiB", b / 1048576.0);
  if (b >= 1024) return fmt::format("{} KiB", b >> 10);
  return fmt::format("{} B", b);
}

std::string plural(int n, const char* word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

void print_cpu(const hw::CpuInfo& cpu) {
  std::string arch = cpu.architecture + (cpu.uarch.empty() ? "" : ", " + cpu.uarch);
  std::cout << fmt::format("cpu       {} ({}, {})\n", cpu.model.empty() ? "unknown model" : cpu.model,
                           cpu.vendor.empty() ? "unknown vendor" : cpu.vendor, arch);
  std::cout << fmt::format("topology  {}, {}, {}, {}; {} usable here\n", plural(cpu.sockets, "socket"),
                           plural(cpu.physical_cores, "physical core"), plural(cpu.logical_processors, "logical processor"),
                           plural(cpu.numa_nodes, "NUMA node"), plural(cpu.usable_cores, "core"));
  std::string caches;
  for (const auto& c : cpu.caches) {
    std::string name = fmt::format("L{}{}", c.level, c.kind == "data" ? "d" : c.kind == "instruction" ? "i" : "");
    caches += fmt::format("{}{} {} x{} (shared by {})", caches.empty() ? "" : ", ", name, bytes_text(c.size_bytes),
                          c.instances, c.shared_by);
  }
  std::cout << fmt::format("caches    {}\n", caches.empty() ? "unknown" : caches);
  std::string feats;
  for (const auto& name : hw::feature_names())
    feats += fmt::format("{}{} {}", feats.empty() ? "" : "  ", name, cpu.has(name) ? "yes" : "no");
  std::cout << fmt::format("features  {}\n", feats.empty() ? "(none tracked for this architecture)" : feats);
  std::cout << fmt::format("fingerprint {}\n", cpu.fingerprint());
}

std::string peak_cell(double v) { return v > 0 ? fmt::format("{:.1f}", v) : "-"; }

void print_ceilings(const hw::Ceilings& c, const std::string& cache_file) {
  std::cout << "\n"
            << (c.from_cache ? fmt::format("ceilings  (cached from {}, {}; --refresh measures again)\n", c.measured_at, cache_file)
                             : fmt::format("ceilings  (measured {}, oneDNN {})\n", c.measured_at, c.onednn_version));
  std::cout << fmt::format("  {:<22} {:>16} {:>12}  {:<9} {}\n", "", fmt::format("{} threads", c.threads), "1 thread", "unit", "");
  auto row = [&](const char* name, const hw::MatmulPeak& p, const char* unit) {
    std::string note = !p.why.empty() ? p.why : p.impl;
    std::cout << fmt::format("  {:<22} {:>16} {:>12}  {:<9} {}\n", name, peak_cell(p.all_cores), peak_cell(p.one_core), unit, note);
  };
  row(fmt::format("FP32 matmul {}^3", c.matmul_size).c_str(), c.fp32, "GFLOP/s");
  row("BF16 matmul (f32 acc)", c.bf16, "GFLOP/s");
  row("INT8 matmul (u8*s8)", c.int8, "GOP/s");
  std::cout << fmt::format("  {:<22} {:>16} {:>12}  {:<9} {}\n", "memory (triad)", peak_cell(c.triad_all_cores_gbs),
                           peak_cell(c.triad_one_core_gbs), "GB/s",
                           c.triad_why.empty() ? fmt::format("3 x {}, 24 B/element", bytes_text(c.triad_array_bytes)) : c.triad_why);
  // Compute-bound matmul should scale almost linearly with cores; when it does not, other work
  // was competing for them while measuring.
  if (c.threads > 1 && c.fp32.one_core > 0 && c.fp32.all_cores < 0.6 * c.threads * c.fp32.one_core)
    std::cout << fmt::format("  note: FP32 scales only x{:.1f} on {} threads: the machine was probably busy; "
                             "measure again with --refresh when it is quiet\n",
                             c.fp32.all_cores / c.fp32.one_core, c.threads);
}

void print_gpus(const std::vector<hw::GpuInfo>& gpus, const std::string& why_none) {
  std::cout << "\n";
  if (gpus.empty()) {
    std::cout << fmt::format("gpu       none ({})\n", why_none);
    return;
  }
  for (const auto& g : gpus) {
    std::string tc;
    for (const auto& p : g.tensor_core_precisions) tc += (tc.empty() ? "" : " ") + p;
    std::cout << fmt::format("gpu {}     {} (compute capability {}.{}, {} SMs)\n", g.index, g.name, g.cc_major, g.cc_minor, g.sms);
    std::cout << fmt::format("          memory {} ({} MHz, {}-bit, {:.0f} GB/s theoretical), L2 {}, SM clock {} MHz\n",
                             g.memory_bytes ? bytes_text(g.memory_bytes) : "unknown", g.memory_clock_mhz, g.memory_bus_bits,
                             g.memory_bandwidth_gbs, bytes_text(static_cast<uint64_t>(g.l2_bytes)), g.clock_mhz);
    std::cout << fmt::format("          tensor cores: {}; CUDA runtime {}.{}, driver supports {}.{}\n", tc.empty() ? "none" : tc,
                             g.runtime_version / 1000, g.runtime_version % 1000 / 10, g.driver_version / 1000,
                             g.driver_version % 1000 / 10);
  }
}

int inspect(const InspectArgs& a) {
  const hw::CpuInfo cpu = hw::detect_cpu();
  std::optional<hw::Ceilings> ceilings;
  std::string ceilings_error;
  const std::filesystem::path cache_dir = a.cache_dir.empty() ? hw::default_cache_dir() : std::filesystem::path(a.cache_dir);
  if (!a.no_measure) {
    hw::CacheOptions co;
    co.cache_dir = cache_dir;
    co.refresh = a.refresh;
    co.measure.threads = a.threads;
    co.measure.progress = [](std::string_view line) { std::cerr << line << "\n" << std::flush; };
    auto c = hw::load_or_measure(co);
    if (c.ok())
      ceilings = std::move(c).value();
    else
      ceilings_error = c.status().to_string();
  }
  std::string why_no_gpu;
  const auto gpus = hw::detect_gpus(&why_no_gpu);
  const std::string cache_file = hw::ceilings_cache_file(cache_dir, cpu.fingerprint()).string();
  std::optional<nlohmann::json> model_report;
  if (!a.model.model.empty()) {
    auto m = inspect_model(a.model, ceilings);
    if (!m.ok()) {
      std::cerr << "error: " << m.status().to_string() << "\n";
      return 1;
    }
    model_report = std::move(m).value();
  }

  if (a.json) {
    nlohmann::json j;
    j["schema"] = 1;
    j["cpu"] = cpu;
    if (ceilings) {
      j["ceilings"] = *ceilings;
      j["ceilings"]["from_cache"] = ceilings->from_cache;
      j["ceilings"]["cache_file"] = cache_file;
    } else {
      j["ceilings"] = nullptr;
      if (!ceilings_error.empty()) j["ceilings_error"] = ceilings_error;
    }
    j["gpus"] = gpus;
    if (gpus.empty()) j["gpus_why_none"] = why_no_gpu;
    if (model_report) j["model"] = *model_report;
    std::cout << j.dump(2) << "\n";
  } else {
    print_cpu(cpu);
    if (ceilings)
      print_ceilings(*ceilings, cache_file);
    else if (!ceilings_error.empty())
      std::cout << "\nceilings  not measured: " << ceilings_error << "\n";
    else
      std::cout << "\nceilings  not measured (--no-measure)\n";
    print_gpus(gpus, why_no_gpu);
    if (model_report) print_model_report(*model_report);
  }
  if (!ceilings_error.empty()) {
    std::cerr << "error: " << ceilings_error << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

CommandRunner add_inspect_command(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show the hardware as the optimizer sees it: CPU, ISA features, measured ceilings, GPUs.");
  cmd->add_flag("--json", args->json, "print one JSON object (keys documented in docs/cli.md)");
  cmd->add_flag("--refresh", args->refresh, "measure the ceilings again, ignoring the cache");
  cmd->add_flag("--no-measure", args->no_measure, "detection only: neither measure nor read the ceilings");
  cmd->add_option("--cache-dir", args->cache_dir,
                  "where measured ceilings are cached (default $HWOPT_CACHE_DIR, $XDG_CACHE_HOME/hwopt or ~/.cache/hwopt)");
  cmd->add_option("--threads", args->threads, "threads of the all-cores figures (0 = physical cores usable)")
      ->default_val(0)
      ->check(CLI::Range(0, 1024));
  cmd->get_option("--no-measure")->excludes("--refresh");
  add_model_arguments(cmd, *args);
  return [args]() { return inspect(*args); };
}

}  // namespace hwopt::cli
