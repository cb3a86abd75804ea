// matmul_peak: the machine's practical FP32 ceiling, measured as oneDNN's matmul primitive on
// square f32 matrices (default 2048^3). Prints one JSON object; bench/compare.sh divides each
// model's achieved GFLOP/s by "gflops_best" to give "% of roof".
//
// Protocol: the primitive is created once, run --warmup times untimed, then --runs times, each
// timed alone. GFLOP/s = 2*M*N*K / time. "best" is the fastest run (the ceiling: what the
// hardware can do when nothing interferes), "median" the typical one.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <string>
#include <vector>

namespace {

void usage() {
  std::fprintf(stderr,
               "usage: matmul_peak [--size N] [--threads T] [--warmup W] [--runs R]\n"
               "  times oneDNN's f32 matmul C[N,N] = A[N,N] * B[N,N]; prints JSON\n"
               "  defaults: --size 2048 --threads 2 --warmup 3 --runs 10\n");
}

bool parse_int(const char* s, int& out) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || v <= 0 || v > 1 << 20) return false;
  out = static_cast<int>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int size = 2048, threads = 2, warmup = 3, runs = 10;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      usage();
      return 0;
    }
    int* target = a == "--size" ? &size : a == "--threads" ? &threads : a == "--warmup" ? &warmup : a == "--runs" ? &runs : nullptr;
    if (!target || i + 1 >= argc || !parse_int(argv[i + 1], *target)) {
      std::fprintf(stderr, "matmul_peak: bad argument '%s'\n", a.c_str());
      usage();
      return 2;
    }
    ++i;
  }
  // The Debian oneDNN uses the OpenMP runtime: its thread count is OpenMP's.
  omp_set_num_threads(threads);

  try {
    using namespace dnnl;
    using tag = memory::format_tag;
    using dt = memory::data_type;
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    const memory::dim n = size;
    memory::desc a_md({n, n}, dt::f32, tag::ab), b_md({n, n}, dt::f32, tag::ab), c_md({n, n}, dt::f32, tag::ab);
    memory a_mem(a_md, eng), b_mem(b_md, eng), c_mem(c_md, eng);
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    for (memory* m : {&a_mem, &b_mem}) {
      float* p = static_cast<float*>(m->get_data_handle());
      for (memory::dim i = 0; i < n * n; ++i) p[i] = dist(rng);
    }
    matmul::primitive_desc pd(matmul::desc(a_md, b_md, c_md), eng);
    matmul mm(pd);
    auto run = [&] {
      mm.execute(strm, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
      strm.wait();
    };
    for (int i = 0; i < warmup; ++i) run();
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      run();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    double median = ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
    double flop = 2.0 * static_cast<double>(n) * n * n;
    const char* impl = pd.impl_info_str();
    std::printf(
        "{\"tool\":\"matmul_peak\",\"size\":%d,\"threads\":%d,\"runs\":%d,\"best_ms\":%.4f,\"median_ms\":%.4f,"
        "\"gflops_best\":%.2f,\"gflops_median\":%.2f,\"impl\":\"%s\"}\n",
        size, threads, runs, ms.front(), median, flop / ms.front() / 1e6, flop / median / 1e6, impl ? impl : "");
  } catch (const dnnl::error& e) {
    std::fprintf(stderr, "matmul_peak: oneDNN error: %s (status %d)\n", e.what(), static_cast<int>(e.status));
    return 1;
  }
  return 0;
}
