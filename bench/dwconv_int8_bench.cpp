// The own INT8 3x3 depthwise kernel (src/backends/cpu/dwconv_int8.h) against oneDNN's INT8
// depthwise convolution on MobileNetV2's depthwise shapes, same data, same epilogue (per-channel
// scales, bias, ReLU6, u8 destination), interleaved, median of 30 runs each; also
// checks that the two agree within one unit. Threads: OMP_NUM_THREADS (default: all).
//
//   build-bench/dwconv_int8_bench [batch]      (docs/benchmarks.md, session 6)
#include <dnnl.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "backends/cpu/dwconv_int8.h"
#include "interleaved.h"

namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;


struct Shape {
  int h, c, stride, pad_begin, pad_end;  // square input, TF "SAME" for stride 2 (0 before, 1 after)
};

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 16;
  if (!hwopt::cpu::dwconv_int8_fast_available()) {
    std::printf("no AVX-512 VNNI: the own kernel would run its scalar version; nothing to compare\n");
    return 0;
  }
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  const Shape shapes[] = {{112, 32, 1, 1, 1}, {112, 96, 2, 0, 1}, {56, 144, 1, 1, 1}, {56, 144, 2, 0, 1},
                          {28, 192, 1, 1, 1}, {28, 192, 2, 0, 1}, {14, 384, 1, 1, 1}, {14, 576, 1, 1, 1},
                          {14, 576, 2, 0, 1}, {7, 960, 1, 1, 1}};
  std::mt19937 rng(1);
  std::printf("batch %d; GOP/s counts 2 x 9 operations per output\n", n);
  std::printf("%-18s %10s %10s %10s %10s %7s %s\n", "shape", "own ms", "GOP/s", "oneDNN ms", "GOP/s", "x", "oneDNN kernel");
  for (const Shape& sh : shapes) {
    const int oh = (sh.h + sh.pad_begin + sh.pad_end - 3) / sh.stride + 1;
    std::vector<uint8_t> src(static_cast<size_t>(n) * sh.h * sh.h * sh.c);
    for (auto& v : src) v = static_cast<uint8_t>(rng() % 256);
    std::vector<int8_t> w(static_cast<size_t>(sh.c) * 9);
    for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    std::vector<float> wscale(static_cast<size_t>(sh.c), 0.01f), bias(static_cast<size_t>(sh.c));
    for (auto& b : bias) b = static_cast<float>(rng() % 100) / 50.f - 1.f;
    const float src_scale = 0.02f, dst_scale = 6.f / 255.f;

    hwopt::cpu::DwConvInt8 p;
    p.batch = n;
    p.channels = sh.c;
    p.in_h = p.in_w = sh.h;
    p.out_h = p.out_w = oh;
    p.stride_h = p.stride_w = sh.stride;
    p.pad_top = p.pad_left = sh.pad_begin;
    p.prepare(w.data(), wscale.data(), src_scale, bias.data(), 0.f, 6.f, dst_scale);
    std::vector<uint8_t> own(static_cast<size_t>(n) * oh * oh * sh.c), ref(own.size());

    const dnnl::memory::desc sd({n, sh.c, sh.h, sh.h}, dt::u8, tag::nhwc), dd({n, sh.c, oh, oh}, dt::u8, tag::nhwc),
        wd({sh.c, 1, 1, 3, 3}, dt::s8, tag::any), bd({sh.c}, dt::f32, tag::a);
    const dnnl::convolution_forward::desc cd(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, sd,
                                             wd, bd, dd, {sh.stride, sh.stride}, {0, 0},
                                             {sh.pad_begin, sh.pad_begin}, {sh.pad_end, sh.pad_end});
    dnnl::primitive_attr attr;
    std::vector<float> oscale(static_cast<size_t>(sh.c), src_scale * 0.01f);
    attr.set_output_scales(2, oscale);
    dnnl::post_ops po;
    po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip_v2, 0.f, 6.f);
    po.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, 1.f / dst_scale, 0.f);
    attr.set_post_ops(po);
    const dnnl::convolution_forward::primitive_desc pd(cd, attr, eng);
    const dnnl::convolution_forward conv(pd);
    dnnl::memory wplain({{sh.c, 1, 1, 3, 3}, dt::s8, tag::goihw}, eng, w.data()), wm(pd.weights_desc(), eng);
    dnnl::reorder(wplain, wm).execute(s, wplain, wm);
    std::vector<float> bias_acc(static_cast<size_t>(sh.c));
    for (int c = 0; c < sh.c; ++c) bias_acc[static_cast<size_t>(c)] = bias[static_cast<size_t>(c)] / oscale[0];
    dnnl::memory sm(sd, eng, src.data()), dm(dd, eng, ref.data()), bm(bd, eng, bias_acc.data());
    auto run_onednn = [&] {
      conv.execute(s, {{DNNL_ARG_SRC, sm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, dm}});
      s.wait();
    };
    auto run_own = [&] { hwopt::cpu::dwconv3x3_int8(p, src.data(), own.data()); };
    run_own();
    run_onednn();
    size_t off = 0;
    for (size_t i = 0; i < own.size(); ++i) off += std::abs(static_cast<int>(own[i]) - static_cast<int>(ref[i])) > 1;
    const auto [a, b] = hwopt::bench::interleaved_medians(run_own, run_onednn, 30);
    const double ops = 2.0 * 9 * n * oh * oh * sh.c;
    char name[64];
    std::snprintf(name, sizeof name, "%dx%dx%d s%d", sh.h, sh.h, sh.c, sh.stride);
    std::printf("%-18s %10.3f %10.1f %10.3f %10.1f %7.2f %s%s\n", name, a * 1e3, ops / a / 1e9, b * 1e3, ops / b / 1e9,
                b / a, pd.impl_info_str(), off ? " MISMATCH" : "");
  }
  return 0;
}
