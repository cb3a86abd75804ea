// Transpose for any rank, permutation and element size (1/2/4/8 bytes). Dims of size 1 are
// dropped and input dims that stay adjacent in the output are merged, so most permutations
// become one of: a view (identity), a batch of row copies (the innermost dim stays innermost,
// e.g. [B,S,H,D] -> [B,H,S,D]) or a batch of cache-blocked 2-D transposes (e.g. [B,S,H,D] ->
// [B,H,D,S] is [B,S,H*D] -> [B,H*D,S]). Parallel over rows / tiles with OpenMP.
#include <immintrin.h>

#include <cstring>
#include <numeric>

#include "backends/cpu/own_util.h"

namespace hwopt::cpu {
namespace {

using own::parallel_range;

/// The permutation with size-1 dims removed and adjacent runs merged.
struct ReducedPerm {
  Shape dims;                 // reduced input dims
  std::vector<int64_t> perm;  // reduced permutation: output dim k is input dim perm[k]
};

ReducedPerm reduce_perm(const Shape& shape, const std::vector<int64_t>& perm) {
  const int64_t r = static_cast<int64_t>(shape.size());
  std::vector<int64_t> new_index(static_cast<size_t>(r), -1);
  Shape dims;
  for (int64_t i = 0; i < r; ++i)
    if (shape[i] != 1) {
      new_index[i] = static_cast<int64_t>(dims.size());
      dims.push_back(shape[i]);
    }
  std::vector<int64_t> p;
  for (int64_t k = 0; k < r; ++k)
    if (new_index[perm[k]] >= 0) p.push_back(new_index[perm[k]]);
  // Runs of consecutive input dims in output order: (first input dim, count).
  std::vector<std::pair<int64_t, int64_t>> groups;
  for (int64_t d : p) {
    if (!groups.empty() && d == groups.back().first + groups.back().second) {
      ++groups.back().second;
    } else {
      groups.push_back({d, 1});
    }
  }
  std::vector<size_t> order(groups.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return groups[a].first < groups[b].first; });
  std::vector<int64_t> rank_of(groups.size());
  for (size_t j = 0; j < order.size(); ++j) rank_of[order[j]] = static_cast<int64_t>(j);
  ReducedPerm out;
  out.dims.resize(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    int64_t size = 1;
    for (int64_t d = groups[g].first; d < groups[g].first + groups[g].second; ++d) size *= dims[d];
    out.dims[rank_of[g]] = size;
    out.perm.push_back(rank_of[g]);
  }
  return out;
}

/// Copies rows of `row_bytes` bytes: output row m (row-major over out_dims) comes from the
/// input at element offset sum(idx[k] * src_strides[k]).
void copy_rows(const char* src, char* dst, const Shape& out_dims, const Shape& src_strides, int64_t row_elems,
               size_t elem) {
  const int64_t nd = static_cast<int64_t>(out_dims.size());
  int64_t rows = 1;
  for (int64_t d : out_dims) rows *= d;
  const size_t row_bytes = static_cast<size_t>(row_elems) * elem;
  parallel_range(rows, rows * row_elems, [&](int64_t begin, int64_t end) {
    int64_t idx[own::kMaxDims];
    int64_t off = 0, rem = begin;
    for (int64_t k = nd - 1; k >= 0; --k) {
      idx[k] = rem % out_dims[k];
      rem /= out_dims[k];
      off += idx[k] * src_strides[k];
    }
    for (int64_t row = begin; row < end; ++row) {
      std::memcpy(dst + static_cast<size_t>(row) * row_bytes, src + static_cast<size_t>(off) * elem, row_bytes);
      for (int64_t k = nd - 1; k >= 0; --k) {
        off += src_strides[k];
        if (++idx[k] < out_dims[k]) break;
        off -= src_strides[k] * idx[k];
        idx[k] = 0;
      }
    }
  });
}

constexpr int64_t kTile = 32;  // 2-D tile edge (elements): 32 source rows stay in L1

/// dst[b * dst_stride + a] = src[a * src_stride + b] for a in [a0, a1), b in [b0, b1).
template <typename T>
void tile_generic(const T* src, T* dst, int64_t a0, int64_t a1, int64_t b0, int64_t b1, int64_t src_stride,
                  int64_t dst_stride) {
  for (int64_t b = b0; b < b1; ++b) {
    T* d = dst + b * dst_stride;
    const T* s = src + b;
    for (int64_t a = a0; a < a1; ++a) d[a] = s[a * src_stride];
  }
}

// 8x8 blocks of 32-bit elements with AVX shuffles, the rest element by element.
__attribute__((target("avx2"))) void tile_avx_32(const uint32_t* src, uint32_t* dst, int64_t a0, int64_t a1, int64_t b0,
                                                 int64_t b1, int64_t ss, int64_t ds) {
  const int64_t a8 = a0 + (a1 - a0) / 8 * 8, b8 = b0 + (b1 - b0) / 8 * 8;
  for (int64_t a = a0; a < a8; a += 8) {
    for (int64_t b = b0; b < b8; b += 8) {
      const float* s = reinterpret_cast<const float*>(src) + a * ss + b;
      __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ss), r2 = _mm256_loadu_ps(s + 2 * ss),
             r3 = _mm256_loadu_ps(s + 3 * ss), r4 = _mm256_loadu_ps(s + 4 * ss), r5 = _mm256_loadu_ps(s + 5 * ss),
             r6 = _mm256_loadu_ps(s + 6 * ss), r7 = _mm256_loadu_ps(s + 7 * ss);
      __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
             t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
             t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
      __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
             u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
             u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
             u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
      float* d = reinterpret_cast<float*>(dst) + b * ds + a;
      _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
      _mm256_storeu_ps(d + ds, _mm256_permute2f128_ps(u1, u5, 0x20));
      _mm256_storeu_ps(d + 2 * ds, _mm256_permute2f128_ps(u2, u6, 0x20));
      _mm256_storeu_ps(d + 3 * ds, _mm256_permute2f128_ps(u3, u7, 0x20));
      _mm256_storeu_ps(d + 4 * ds, _mm256_permute2f128_ps(u0, u4, 0x31));
      _mm256_storeu_ps(d + 5 * ds, _mm256_permute2f128_ps(u1, u5, 0x31));
      _mm256_storeu_ps(d + 6 * ds, _mm256_permute2f128_ps(u2, u6, 0x31));
      _mm256_storeu_ps(d + 7 * ds, _mm256_permute2f128_ps(u3, u7, 0x31));
    }
  }
  // Remainders: the b tail for the 8-aligned a range, then the a tail for all b.
  if (b8 < b1) tile_generic(src, dst, a0, a8, b8, b1, ss, ds);
  if (a8 < a1) tile_generic(src, dst, a8, a1, b0, b1, ss, ds);
}

/// A batch of 2-D transposes: for each batch index (row-major over batch_dims), the a x b matrix
/// at src (a stride src_stride_a, b stride 1) is written with b stride dst_stride_b, a stride 1.
template <typename T>
void transpose_2d_batched(const T* src, T* dst, const Shape& batch_dims, const Shape& batch_src_strides,
                          const Shape& batch_dst_strides, int64_t a_size, int64_t b_size, int64_t src_stride_a,
                          int64_t dst_stride_b) {
  const int64_t nd = static_cast<int64_t>(batch_dims.size());
  int64_t batches = 1;
  for (int64_t d : batch_dims) batches *= d;
  const int64_t na = (a_size + kTile - 1) / kTile, nb = (b_size + kTile - 1) / kTile;
  const int64_t tiles = na * nb;
  const bool avx = sizeof(T) == 4 && own::use_avx2();
  parallel_range(batches * tiles, batches * a_size * b_size, [&](int64_t begin, int64_t end) {
    for (int64_t u = begin; u < end; ++u) {
      int64_t m = u / tiles, t = u % tiles;
      int64_t soff = 0, doff = 0;
      for (int64_t k = nd - 1; k >= 0; --k) {
        const int64_t i = m % batch_dims[k];
        m /= batch_dims[k];
        soff += i * batch_src_strides[k];
        doff += i * batch_dst_strides[k];
      }
      // Tiles walk along a fastest so consecutive tiles write neighbouring output columns.
      const int64_t ta = t % na, tb = t / na;
      const int64_t a0 = ta * kTile, a1 = std::min(a_size, a0 + kTile);
      const int64_t b0 = tb * kTile, b1 = std::min(b_size, b0 + kTile);
      if constexpr (sizeof(T) == 4) {
        if (avx) {
          tile_avx_32(reinterpret_cast<const uint32_t*>(src + soff), reinterpret_cast<uint32_t*>(dst + doff), a0, a1,
                      b0, b1, src_stride_a, dst_stride_b);
          continue;
        }
      }
      tile_generic(src + soff, dst + doff, a0, a1, b0, b1, src_stride_a, dst_stride_b);
    }
  });
}

template <typename T>
void transpose_typed(const Tensor& x, Tensor& out, const ReducedPerm& rp) {
  const int64_t r = static_cast<int64_t>(rp.dims.size());
  Shape in_strides(static_cast<size_t>(r), 1);
  for (int64_t i = r - 2; i >= 0; --i) in_strides[i] = in_strides[i + 1] * rp.dims[i + 1];
  Shape od(static_cast<size_t>(r)), ss(static_cast<size_t>(r)), ds(static_cast<size_t>(r), 1);
  for (int64_t k = 0; k < r; ++k) {
    od[k] = rp.dims[rp.perm[k]];
    ss[k] = in_strides[rp.perm[k]];
  }
  for (int64_t k = r - 2; k >= 0; --k) ds[k] = ds[k + 1] * od[k + 1];
  const T* src = x.data<T>();
  T* dst = out.data<T>();
  if (rp.perm[r - 1] == r - 1) {
    copy_rows(reinterpret_cast<const char*>(src), reinterpret_cast<char*>(dst), Shape(od.begin(), od.end() - 1),
              Shape(ss.begin(), ss.end() - 1), od[r - 1], sizeof(T));
    return;
  }
  const int64_t q = std::find(rp.perm.begin(), rp.perm.end(), r - 1) - rp.perm.begin();
  Shape bd, bs, bdst;
  for (int64_t k = 0; k < r - 1; ++k)
    if (k != q) {
      bd.push_back(od[k]);
      bs.push_back(ss[k]);
      bdst.push_back(ds[k]);
    }
  transpose_2d_batched<T>(src, dst, bd, bs, bdst, od[r - 1], od[q], ss[r - 1], ds[q]);
}

std::vector<int64_t> read_perm(const ir::Node& node, int64_t rank, bool* ok) {
  std::vector<int64_t> perm;
  *ok = true;
  if (const ir::Attribute* a = node.attr("perm")) {
    perm = a->ints;
  } else {
    for (int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
  }
  if (static_cast<int64_t>(perm.size()) != rank) *ok = false;
  std::vector<bool> seen(static_cast<size_t>(std::max<int64_t>(rank, 0)), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p]) {
      *ok = false;
      break;
    }
    seen[p] = true;
  }
  return perm;
}

void run_transpose(KernelContext& ctx, const KernelFn& reference) {
  const Tensor& in = ctx.input(0);
  const size_t elem = dtype_size(in.dtype());
  bool ok = false;
  std::vector<int64_t> perm = read_perm(ctx.node(), in.rank(), &ok);
  if (!ok || in.dtype() == DType::string || !in.is_plain() || !(elem == 1 || elem == 2 || elem == 4 || elem == 8) ||
      in.rank() > own::kMaxDims)
    return reference(ctx);  // the reference names the problem or handles the dtype
  Shape out_shape(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) out_shape[k] = in.dim(perm[k]);
  const Tensor x = in.contiguous();
  ReducedPerm rp = reduce_perm(x.shape(), perm);
  if (rp.dims.size() <= 1 || x.numel() == 0) {
    // Nothing moves: the output is the input with the permuted shape.
    ctx.set_output(0, x.numel() == 0 ? Tensor(x.dtype(), out_shape) : x.reshape(out_shape));
    return;
  }
  Tensor& out = ctx.allocate_uninitialized_output(0, x.dtype(), out_shape);
  switch (elem) {
    case 1:
      transpose_typed<uint8_t>(x, out, rp);
      break;
    case 2:
      transpose_typed<uint16_t>(x, out, rp);
      break;
    case 4:
      transpose_typed<uint32_t>(x, out, rp);
      break;
    default:
      transpose_typed<uint64_t>(x, out, rp);
      break;
  }
}

std::string check_transpose(const NodeContext& nc) {
  const DType dt = nc.input_dtype(0);
  if (dt == DType::string) return "string tensors are not copied by this kernel";
  return "";
}

KernelFn make_transpose(const NodeContext&, KernelFn reference) {
  return [reference](KernelContext& ctx) { run_transpose(ctx, reference); };
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(own::make_candidate("own:transpose", "Transpose", own::kOwnPriority, check_transpose,
                                             make_transpose));

}  // namespace hwopt::cpu
