// The own INT8 pointwise kernel (src/backends/cpu/pointwise_int8.h) against oneDNN's INT8 1x1
// convolution on MobileNetV2's expansion and projection shapes: one image on one thread (the way
// the INT8 FusedConvDepthwise runs its expansion), u8 source, u8 destination with per-channel scales, bias and ReLU6.
// Same data, interleaved, median of 200 runs each; also checks that the two agree within one
// unit.
//
//   build/bench/pointwise_int8_bench      (docs/benchmarks.md, session 7)
#include <dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "backends/cpu/pointwise_int8.h"
#include "interleaved.h"

namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;


struct Shape {
  int h, k, m;  // square image, input and output channels
};

}  // namespace

int main() {
  omp_set_num_threads(1);  // one thread, as inside the fused kernel's parallel region
  hwopt::cpu::PointwiseInt8 probe;
  probe.in_channels = 16;
  probe.out_channels = 16;
  std::vector<int8_t> w1(256, 1);
  std::vector<float> s1(16, 1.f);
  probe.prepare(w1.data(), s1.data(), 1.f, nullptr, 0.f, 6.f, 1.f);
  if (!probe.vectorized()) {
    std::printf("no AVX-512 VNNI: the own kernel would run its scalar version; nothing to compare\n");
    return 0;
  }
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  // The expansions, then the projections.
  const Shape shapes[] = {{112, 16, 96}, {56, 24, 144}, {28, 32, 192}, {14, 64, 384}, {14, 96, 576}, {7, 160, 960},
                          {112, 32, 16}, {56, 96, 24},  {56, 144, 24}, {28, 192, 32}, {14, 384, 64}, {14, 576, 96},
                          {7, 960, 160}, {7, 960, 320}};
  std::mt19937 rng(1);
  std::printf("one image, one thread; GOP/s counts 2 operations per multiply-add\n");
  std::printf("%-16s %10s %10s %10s %10s %7s %s\n", "shape", "own ms", "GOP/s", "oneDNN ms", "GOP/s", "x", "oneDNN kernel");
  for (const Shape& sh : shapes) {
    const int px = sh.h * sh.h;
    std::vector<uint8_t> src(static_cast<size_t>(px) * sh.k);
    for (auto& v : src) v = static_cast<uint8_t>(rng() % 256);
    std::vector<int8_t> w(static_cast<size_t>(sh.m) * sh.k);
    for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    std::vector<float> wscale(static_cast<size_t>(sh.m), 0.01f), bias(static_cast<size_t>(sh.m));
    for (auto& b : bias) b = static_cast<float>(rng() % 100) / 50.f - 1.f;
    const float src_scale = 0.02f / static_cast<float>(sh.k), dst_scale = 6.f / 255.f;

    hwopt::cpu::PointwiseInt8 p;
    p.in_channels = sh.k;
    p.out_channels = sh.m;
    p.prepare(w.data(), wscale.data(), src_scale, bias.data(), 0.f, 6.f, dst_scale);
    std::vector<uint8_t> own(static_cast<size_t>(px) * sh.m), ref(own.size());

    const dnnl::memory::desc sd({1, sh.k, sh.h, sh.h}, dt::u8, tag::nhwc), dd({1, sh.m, sh.h, sh.h}, dt::u8, tag::nhwc),
        wd({sh.m, sh.k, 1, 1}, dt::s8, tag::any), bd({sh.m}, dt::f32, tag::a);
    const dnnl::convolution_forward::desc cd(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, sd,
                                             wd, bd, dd, {1, 1}, {0, 0}, {0, 0});
    dnnl::primitive_attr attr;
    std::vector<float> oscale(static_cast<size_t>(sh.m), src_scale * 0.01f);
    attr.set_output_scales(2, oscale);
    dnnl::post_ops po;
    po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip_v2, 0.f, 6.f);
    po.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, 1.f / dst_scale, 0.f);
    attr.set_post_ops(po);
    const dnnl::convolution_forward::primitive_desc pd(cd, attr, eng);
    const dnnl::convolution_forward conv(pd);
    dnnl::memory wplain({{sh.m, sh.k, 1, 1}, dt::s8, tag::oihw}, eng, w.data()), wm(pd.weights_desc(), eng);
    dnnl::reorder(wplain, wm).execute(s, wplain, wm);
    std::vector<float> bias_acc(static_cast<size_t>(sh.m));
    for (int c = 0; c < sh.m; ++c) bias_acc[static_cast<size_t>(c)] = bias[static_cast<size_t>(c)] / oscale[0];
    dnnl::memory sm(sd, eng, src.data()), dm(dd, eng, ref.data()), bm(bd, eng, bias_acc.data());
    auto run_onednn = [&] {
      conv.execute(s, {{DNNL_ARG_SRC, sm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, dm}});
      s.wait();
    };
    auto run_own = [&] { hwopt::cpu::pointwise_int8(p, src.data(), own.data(), px); };
    run_own();
    run_onednn();
    size_t off = 0;
    for (size_t i = 0; i < own.size(); ++i) off += std::abs(static_cast<int>(own[i]) - static_cast<int>(ref[i])) > 1;
    const auto [a, b] = hwopt::bench::interleaved_medians(run_own, run_onednn, 200);
    const double ops = 2.0 * px * sh.k * sh.m;
    char name[64];
    std::snprintf(name, sizeof name, "%dx%d %d->%d", sh.h, sh.h, sh.k, sh.m);
    std::printf("%-16s %10.4f %10.1f %10.4f %10.1f %7.2f %s%s\n", name, a * 1e3, ops / a / 1e9, b * 1e3, ops / b / 1e9,
                b / a, pd.impl_info_str(), off ? " MISMATCH" : "");
  }
  return 0;
}
