#include "hw/ceilings.h"

#include <fmt/format.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <sstream>

#include <dnnl.hpp>

#include "core/atomic_file.h"
#include "core/utc_time.h"
#include "hw/cpu_info.h"

namespace hwopt::hw {

namespace {

using clock_type = std::chrono::steady_clock;

void say(const Progress& p, const std::string& line) {
  if (p) p(line);
}

// Restores the calling thread's OpenMP thread count on scope exit.
class OmpThreadsGuard {
 public:
  OmpThreadsGuard() : saved_(omp_get_max_threads()) {}
  ~OmpThreadsGuard() { omp_set_num_threads(saved_); }

 private:
  int saved_;
};

// Runs `fn` once untimed, then repeatedly until `budget` seconds have passed (at least
// `min_reps`, at most `max_reps`); returns the best time in seconds.
template <typename Fn>
double best_time(Fn&& fn, double budget, int min_reps = 3, int max_reps = 50) {
  fn();
  double best = 1e30;
  auto start = clock_type::now();
  for (int r = 0; r < max_reps; ++r) {
    auto t0 = clock_type::now();
    fn();
    auto t1 = clock_type::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
    if (r + 1 >= min_reps && std::chrono::duration<double>(t1 - start).count() >= budget) break;
  }
  return best;
}

enum class Precision { fp32, bf16, int8 };

const char* precision_name(Precision p) { return p == Precision::fp32 ? "FP32" : p == Precision::bf16 ? "BF16" : "INT8"; }

// Fills a oneDNN buffer with 1 in the element type (never denormals, which would slow FP32).
void fill_ones(const dnnl::memory& m, dnnl::memory::data_type dt) {
  auto* p = static_cast<uint8_t*>(m.get_data_handle());
  size_t bytes = m.get_desc().get_size();
  switch (dt) {
    case dnnl::memory::data_type::f32: {
      float one = 1.0f;
      for (size_t i = 0; i + 4 <= bytes; i += 4) std::memcpy(p + i, &one, 4);
      break;
    }
    case dnnl::memory::data_type::bf16: {
      uint16_t one = 0x3f80;
      for (size_t i = 0; i + 2 <= bytes; i += 2) std::memcpy(p + i, &one, 2);
      break;
    }
    default: std::memset(p, 1, bytes);
  }
}

struct MatmulResult {
  double ops_per_s = 0;  // GFLOP/s or GOP/s
  std::string impl;
  std::string why;
};

// One oneDNN matmul M = N = K = n on `threads` OpenMP threads. The weights are in the layout
// oneDNN prefers (format_tag::any), as a planned model's constant weights would be.
MatmulResult measure_matmul(Precision prec, int n, int threads, double budget) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  MatmulResult r;
  dt src = dt::f32, wei = dt::f32, dst = dt::f32;
  if (prec == Precision::bf16) src = wei = dt::bf16;
  if (prec == Precision::int8) src = dt::u8, wei = dt::s8, dst = dt::s32;
  try {
    omp_set_num_threads(threads);  // before creating the primitive: it partitions for them
    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream strm(eng);
    dnnl::memory::desc a_md({n, n}, src, tag::ab), b_md({n, n}, wei, tag::any), c_md({n, n}, dst, tag::ab);
    dnnl::matmul::desc d(a_md, b_md, c_md);
    dnnl::primitive_attr attr;
    dnnl::matmul::primitive_desc pd(d, attr, eng);
    r.impl = pd.impl_info_str();
    if (r.impl.rfind("ref", 0) == 0) {
      r.why = fmt::format("oneDNN has only its reference implementation ({}) for {} here", r.impl, precision_name(prec));
      return r;
    }
    dnnl::memory a(pd.src_desc(), eng), b(pd.weights_desc(), eng), c(pd.dst_desc(), eng);
    fill_ones(a, src);
    fill_ones(b, wei);
    dnnl::matmul prim(pd);
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}};
    double t = best_time(
        [&] {
          prim.execute(strm, args);
          strm.wait();
        },
        budget);
    r.ops_per_s = 2.0 * n * static_cast<double>(n) * n / t / 1e9;
  } catch (const dnnl::error& e) {
    r.why = fmt::format("oneDNN: {}", e.what());
  } catch (const std::bad_alloc&) {
    r.why = "out of memory";
  }
  return r;
}

// Why a precision has no native matmul on this ISA ("" when it has one).
std::string not_native(Precision prec, const CpuInfo& cpu) {
#if defined(__x86_64__) || defined(__i386__)
  if (prec == Precision::bf16 && !cpu.has("avx512_bf16") && !cpu.has("amx_bf16"))
    return "no AVX512_BF16 or AMX_BF16: BF16 matmul is not native here (oneDNN would emulate it)";
  if (prec == Precision::int8 && !cpu.has("avx2")) return "no AVX2: INT8 matmul is not native here";
#elif defined(__aarch64__)
  if (prec == Precision::bf16 && !cpu.has("bf16")) return "no BF16 extension: BF16 matmul is not native here";
#endif
  (void)prec;
  (void)cpu;
  return "";
}

struct FreeDeleter {
  void operator()(double* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<double, FreeDeleter>;

Buffer alloc_doubles(size_t n) {
  size_t bytes = (n * sizeof(double) + 4095) / 4096 * 4096;
  return Buffer(static_cast<double*>(std::aligned_alloc(4096, bytes)));
}

// STREAM triad, best pass, GB/s counted as 24 bytes per element (see Ceilings).
double triad(double* a, const double* b, const double* c, size_t n, int threads, double budget) {
  const double s = 3.0;
  const long long len = static_cast<long long>(n);
  double t = best_time(
      [&] {
#pragma omp parallel for schedule(static) num_threads(threads)
        for (long long i = 0; i < len; ++i) a[i] = b[i] + s * c[i];
      },
      budget, 3, 30);
  // Read the result back so the stores cannot be optimised away.
  volatile double check = a[0] + a[n / 2] + a[n - 1];
  (void)check;
  return 24.0 * static_cast<double>(n) / t / 1e9;
}

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return fmt::format("{}.{}.{}", v->major, v->minor, v->patch);
}

bool finite_nonneg(double v) { return std::isfinite(v) && v >= 0; }

}  // namespace

void to_json(nlohmann::json& j, const MatmulPeak& p) {
  j = nlohmann::json{{"all_cores", p.all_cores}, {"one_core", p.one_core}, {"impl", p.impl}, {"why", p.why}};
}

void from_json(const nlohmann::json& j, MatmulPeak& p) {
  j.at("all_cores").get_to(p.all_cores);
  j.at("one_core").get_to(p.one_core);
  j.at("impl").get_to(p.impl);
  j.at("why").get_to(p.why);
}

void to_json(nlohmann::json& j, const Ceilings& c) {
  j = nlohmann::json{
      {"schema", Ceilings::kSchema},
      {"fingerprint", c.fingerprint},
      {"measured_at", c.measured_at},
      {"onednn_version", c.onednn_version},
      {"threads", c.threads},
      {"matmul_size", c.matmul_size},
      {"matmul", {{"fp32", c.fp32}, {"bf16", c.bf16}, {"int8", c.int8}}},
      {"triad",
       {{"all_cores_gbs", c.triad_all_cores_gbs},
        {"one_core_gbs", c.triad_one_core_gbs},
        {"array_bytes", c.triad_array_bytes},
        {"bytes_per_element", 24},
        {"why", c.triad_why}}},
  };
}

void from_json(const nlohmann::json& j, Ceilings& c) {
  if (j.at("schema").get<int>() != Ceilings::kSchema)
    throw std::runtime_error("ceilings: unknown schema");
  j.at("fingerprint").get_to(c.fingerprint);
  j.at("measured_at").get_to(c.measured_at);
  j.at("onednn_version").get_to(c.onednn_version);
  j.at("threads").get_to(c.threads);
  j.at("matmul_size").get_to(c.matmul_size);
  const auto& m = j.at("matmul");
  m.at("fp32").get_to(c.fp32);
  m.at("bf16").get_to(c.bf16);
  m.at("int8").get_to(c.int8);
  const auto& t = j.at("triad");
  t.at("all_cores_gbs").get_to(c.triad_all_cores_gbs);
  t.at("one_core_gbs").get_to(c.triad_one_core_gbs);
  t.at("array_bytes").get_to(c.triad_array_bytes);
  t.at("why").get_to(c.triad_why);
  c.from_cache = false;
}

Expected<Ceilings> measure_ceilings(const MeasureOptions& o) {
  OmpThreadsGuard guard;
  const CpuInfo cpu = detect_cpu();
  Ceilings c;
  c.fingerprint = cpu.fingerprint();
  c.threads = o.threads > 0 ? o.threads : std::max(1, cpu.usable_cores);
  c.matmul_size = o.quick ? 128 : std::max(16, o.matmul_size);
  const double budget = o.quick ? 0.005 : std::max(0.01, o.seconds_per_measurement);
  c.onednn_version = onednn_version();

  for (Precision prec : {Precision::fp32, Precision::bf16, Precision::int8}) {
    MatmulPeak& peak = prec == Precision::fp32 ? c.fp32 : prec == Precision::bf16 ? c.bf16 : c.int8;
    const char* unit = prec == Precision::int8 ? "GOP/s" : "GFLOP/s";
    if (std::string why = not_native(prec, cpu); !why.empty()) {
      peak.why = why;
      say(o.progress, fmt::format("{} matmul: skipped ({})", precision_name(prec), why));
      continue;
    }
    say(o.progress, fmt::format("measuring {} matmul {}^3 on {} thread(s)...", precision_name(prec), c.matmul_size, c.threads));
    MatmulResult all = measure_matmul(prec, c.matmul_size, c.threads, budget);
    peak.impl = all.impl;
    if (!all.why.empty()) {
      peak.why = all.why;
      say(o.progress, fmt::format("  {} matmul: {}", precision_name(prec), all.why));
      continue;
    }
    peak.all_cores = all.ops_per_s;
    std::string line = fmt::format("  {:.1f} {} ({})", all.ops_per_s, unit, all.impl);
    if (o.one_core) {
      MatmulResult one = c.threads == 1 ? all : measure_matmul(prec, c.matmul_size, 1, budget);
      peak.one_core = one.ops_per_s;
      if (!one.why.empty()) peak.why = "one core: " + one.why;
      line += fmt::format("; 1 thread: {:.1f} {}", one.ops_per_s, unit);
    }
    say(o.progress, line);
  }

  uint64_t array_bytes = o.triad_array_bytes;
  if (o.quick) array_bytes = 1 << 20;
  if (array_bytes == 0) {
    uint64_t l3_total = 0;
    for (const auto& cache : cpu.caches)
      if (cache.level >= 3) l3_total += cache.size_bytes * std::max(1, cache.instances);
    array_bytes = std::clamp<uint64_t>(4 * l3_total, uint64_t{64} << 20, uint64_t{1} << 30);
  }
  c.triad_array_bytes = array_bytes;
  const size_t n = std::max<size_t>(1024, array_bytes / sizeof(double));
  say(o.progress, fmt::format("measuring memory bandwidth (triad, 3 x {} MiB) on {} thread(s)...", array_bytes >> 20, c.threads));
  Buffer a = alloc_doubles(n), b = alloc_doubles(n), cc = alloc_doubles(n);
  if (!a || !b || !cc) {
    c.triad_why = fmt::format("cannot allocate 3 x {} MiB", array_bytes >> 20);
  } else {
    double *pa = a.get(), *pb = b.get(), *pc = cc.get();
    const long long len = static_cast<long long>(n);
    // First touch by the threads that will use each page (NUMA placement).
#pragma omp parallel for schedule(static) num_threads(c.threads)
    for (long long i = 0; i < len; ++i) {
      pa[i] = 0.0;
      pb[i] = 1.0;
      pc[i] = 2.0;
    }
    c.triad_all_cores_gbs = triad(pa, pb, pc, n, c.threads, budget);
    std::string line = fmt::format("  {:.1f} GB/s", c.triad_all_cores_gbs);
    if (o.one_core) {
      c.triad_one_core_gbs = c.threads == 1 ? c.triad_all_cores_gbs : triad(pa, pb, pc, n, 1, budget);
      line += fmt::format("; 1 thread: {:.1f} GB/s", c.triad_one_core_gbs);
    }
    say(o.progress, line);
  }
  c.measured_at = utc_now_iso8601();
  return c;
}

std::filesystem::path default_cache_dir() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
  };
  if (auto d = env("HWOPT_CACHE_DIR"); !d.empty()) return d;
  if (auto d = env("XDG_CACHE_HOME"); !d.empty()) return std::filesystem::path(d) / "hwopt";
  if (auto d = env("HOME"); !d.empty()) return std::filesystem::path(d) / ".cache" / "hwopt";
  std::error_code ec;
  auto tmp = std::filesystem::temp_directory_path(ec);
  return (ec ? std::filesystem::path("/tmp") : tmp) / "hwopt";
}

std::filesystem::path ceilings_cache_file(const std::filesystem::path& dir, const std::string& fingerprint) {
  return dir / ("ceilings-" + fingerprint + ".json");
}

namespace {

// The cached ceilings if the file is there and valid for this machine and thread count; else
// empty, with the reason in *why ("" when there is simply no file).
std::optional<Ceilings> read_cache(const std::filesystem::path& file, const std::string& fingerprint, int threads,
                                   std::string* why) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  auto size = std::filesystem::file_size(file, ec);
  if (ec || size > (1 << 20)) {
    *why = "unreadable or oversized";
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) {
    *why = "unreadable";
    return std::nullopt;
  }
  Ceilings c;
  try {
    nlohmann::json::parse(ss.str()).get_to(c);
  } catch (const std::exception& e) {
    *why = fmt::format("corrupt ({})", e.what());
    return std::nullopt;
  }
  if (c.fingerprint != fingerprint) {
    *why = "made for another machine fingerprint";
    return std::nullopt;
  }
  if (c.onednn_version != onednn_version()) {
    *why = fmt::format("measured with oneDNN {}, this is {}", c.onednn_version, onednn_version());
    return std::nullopt;
  }
  if (c.threads != threads) {
    *why = fmt::format("measured on {} threads, {} wanted", c.threads, threads);
    return std::nullopt;
  }
  for (double v : {c.fp32.all_cores, c.fp32.one_core, c.bf16.all_cores, c.bf16.one_core, c.int8.all_cores,
                   c.int8.one_core, c.triad_all_cores_gbs, c.triad_one_core_gbs})
    if (!finite_nonneg(v)) {
      *why = "holds an invalid figure";
      return std::nullopt;
    }
  c.from_cache = true;
  return c;
}

Status write_atomically(const std::filesystem::path& file, const std::string& text) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return Status(StatusCode::io_error, fmt::format("cannot create '{}': {}", file.parent_path().string(), ec.message()));
  return write_file_atomic(file.string(), text);
}

}  // namespace

Expected<Ceilings> load_or_measure(const CacheOptions& o) {
  const CpuInfo cpu = detect_cpu();
  const std::string fp = cpu.fingerprint();
  const int threads = o.measure.threads > 0 ? o.measure.threads : std::max(1, cpu.usable_cores);
  const auto dir = o.cache_dir.empty() ? default_cache_dir() : o.cache_dir;
  const auto file = ceilings_cache_file(dir, fp);
  if (!o.refresh) {
    std::string why;
    if (auto cached = read_cache(file, fp, threads, &why)) return *cached;
    if (!why.empty()) say(o.measure.progress, fmt::format("ignoring cache {}: {}; measuring again", file.string(), why));
  }
  MeasureOptions mo = o.measure;
  mo.threads = threads;
  auto measured = o.measurer ? o.measurer(mo) : measure_ceilings(mo);
  if (!measured.ok()) return measured.status();
  Ceilings c = std::move(measured).value();
  c.fingerprint = fp;
  c.onednn_version = onednn_version();
  c.from_cache = false;
  Status st = write_atomically(file, nlohmann::json(c).dump(2) + "\n");
  if (!st.ok()) say(o.measure.progress, fmt::format("warning: ceilings not cached: {}", st.message()));
  return c;
}

Expected<Ceilings> load_or_measure(const std::filesystem::path& cache_dir, bool refresh, Progress progress) {
  CacheOptions o;
  o.cache_dir = cache_dir;
  o.refresh = refresh;
  o.measure.progress = std::move(progress);
  return load_or_measure(o);
}

}  // namespace hwopt::hw
