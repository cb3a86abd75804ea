// Numpy broadcasting for the CPU backend's own element-wise kernels (own_elementwise.cpp,
// own_elementwise_chain.cpp): the output dims collapsed into as few runs as possible (dims where
// every input is either contiguous or broadcast merge), so an inner loop sees each input as a
// vector (stride 1) or a scalar (stride 0), and the runs walked over a range of output positions.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "backends/cpu/own_util.h"

#define OWN_INLINE __attribute__((always_inline)) inline
#define OWN_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,f16c")))
#define OWN_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace hwopt::cpu::own {

constexpr int kMaxRank = 12;
/// Most inputs one broadcast plan covers.
constexpr int kMaxOperands = 8;

/// The numpy broadcast of `shapes` into `out`; false if they do not broadcast.
inline bool broadcast_shapes(const std::vector<Shape>& shapes, Shape& out) {
  size_t r = 0;
  for (const Shape& s : shapes) r = std::max(r, s.size());
  out.assign(r, 1);
  for (const Shape& s : shapes)
    for (size_t j = 0; j < s.size(); ++j) {
      int64_t& o = out[r - s.size() + j];
      if (s[j] == o || s[j] == 1) continue;
      if (o != 1) return false;
      o = s[j];
    }
  return true;
}

/// Output dims after collapsing, and each input's element strides over them (0 = broadcast).
struct Bcast {
  int64_t rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t strides[kMaxOperands][kMaxRank] = {};
  int64_t total = 0;
};

/// False if the shapes do not broadcast to `out`, there are more than kMaxOperands of them or too
/// many dims remain after collapsing.
inline bool make_bcast(const std::vector<Shape>& ins, const Shape& out, Bcast& p) {
  if (ins.size() > static_cast<size_t>(kMaxOperands)) return false;
  const size_t r = out.size();
  std::vector<std::vector<int64_t>> st(ins.size(), std::vector<int64_t>(r, 0));
  for (size_t k = 0; k < ins.size(); ++k) {
    const Shape& s = ins[k];
    if (s.size() > r) return false;
    int64_t stride = 1;
    for (size_t j = 0; j < s.size(); ++j) {
      const size_t i = s.size() - 1 - j, o = r - 1 - j;
      if (s[i] != out[o] && s[i] != 1) return false;
      st[k][o] = s[i] == 1 ? 0 : stride;
      stride *= s[i];
    }
  }
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> cs(ins.size());
  for (size_t d = 0; d < r; ++d) {
    if (out[d] == 1) continue;
    bool merge = !dims.empty();
    for (size_t k = 0; k < ins.size() && merge; ++k) merge = cs[k].back() == st[k][d] * out[d];
    if (merge) {
      dims.back() *= out[d];
      for (size_t k = 0; k < ins.size(); ++k) cs[k].back() = st[k][d];
    } else {
      dims.push_back(out[d]);
      for (size_t k = 0; k < ins.size(); ++k) cs[k].push_back(st[k][d]);
    }
  }
  if (dims.empty()) {
    dims.push_back(1);
    for (auto& c : cs) c.push_back(0);
  }
  if (dims.size() > static_cast<size_t>(kMaxRank)) return false;
  p.rank = static_cast<int64_t>(dims.size());
  p.total = shape_numel(out);
  for (int64_t d = 0; d < p.rank; ++d) {
    p.dims[d] = dims[d];
    for (size_t k = 0; k < ins.size(); ++k) p.strides[k][d] = cs[k][d];
  }
  return true;
}

/// Calls f(out_pos, in_offsets, len) for the runs of the innermost dim covering [begin, end).
template <int N, typename F>
OWN_INLINE void walk(const Bcast& p, int64_t begin, int64_t end, F&& f) {
  const int64_t r = p.rank, inner = p.dims[r - 1];
  int64_t idx[kMaxRank];
  int64_t off[N] = {};
  int64_t rem = begin;
  for (int64_t d = r - 1; d >= 0; --d) {
    idx[d] = rem % p.dims[d];
    rem /= p.dims[d];
    for (int k = 0; k < N; ++k) off[k] += idx[d] * p.strides[k][d];
  }
  int64_t pos = begin;
  while (pos < end) {
    const int64_t len = std::min(inner - idx[r - 1], end - pos);
    f(pos, off, len);
    pos += len;
    if (pos >= end) break;
    // The run reached the end of the innermost dim: step the outer index.
    for (int k = 0; k < N; ++k) off[k] -= idx[r - 1] * p.strides[k][r - 1];
    idx[r - 1] = 0;
    for (int64_t d = r - 2; d >= 0; --d) {
      for (int k = 0; k < N; ++k) off[k] += p.strides[k][d];
      if (++idx[d] < p.dims[d]) break;
      for (int k = 0; k < N; ++k) off[k] -= p.strides[k][d] * p.dims[d];
      idx[d] = 0;
    }
  }
}

/// Runs chunk(begin, end) over the output with the AVX-512 or the baseline build of the loop.
template <typename Base, typename Avx512>
void run_parallel(int64_t total, int64_t cost, Base&& base, Avx512&& avx512) {
  const bool wide = own::use_avx512();
  parallel_range(total, total * cost, [&](int64_t b, int64_t e) {
    if (wide) {
      avx512(b, e);
    } else {
      base(b, e);
    }
  });
}

}  // namespace hwopt::cpu::own
