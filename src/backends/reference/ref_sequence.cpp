// Tensor sequences: SequenceEmpty/Construct/Insert/At/Erase/Length, ConcatFromSequence, SplitToSequence.
#include <cstring>
#include <string>
#include <vector>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

// Copies n elements from contiguous src (at element offset so) to contiguous dst (at offset dof).
void copy_elems(const Tensor& src, int64_t so, Tensor& dst, int64_t dof, int64_t n) {
  if (n <= 0) return;
  if (src.dtype() == DType::string) {
    const std::string* s = src.data<std::string>();
    std::string* d = dst.data<std::string>();
    for (int64_t i = 0; i < n; ++i) d[dof + i] = s[so + i];
    return;
  }
  const size_t es = dtype_size(src.dtype());
  std::memcpy(static_cast<char*>(dst.raw_data()) + static_cast<size_t>(dof) * es,
              static_cast<const char*>(src.raw_data()) + static_cast<size_t>(so) * es, static_cast<size_t>(n) * es);
}

// The element dtype of a sequence input (declared, or from its first tensor; undefined if unknown).
DType seq_elem_dtype(const KernelContext& ctx, size_t i) {
  const RtValue* v = ctx.input_value(i);
  if (v && v->elem_dtype != DType::undefined) return v->elem_dtype;
  const auto& seq = ctx.input_sequence(i);
  return seq.empty() ? DType::undefined : seq.front().dtype();
}

// A scalar (or one-element) int32/int64 position input.
int64_t position_input(const KernelContext& ctx, size_t i) {
  const Tensor& t = ctx.input(i);
  HWOPT_KCHECK(t.numel() == 1 && t.rank() <= 1, "input 'position' must be a scalar, got shape {}",
               shape_str(t.shape()));
  HWOPT_KCHECK(t.dtype() == DType::int32 || t.dtype() == DType::int64,
               "input 'position' must be int32 or int64, got {}", dtype_name(t.dtype()));
  return to_int64_vector(t)[0];
}

void ref_sequence_empty(KernelContext& ctx) {
  const int64_t dt = ctx.attr_int("dtype", static_cast<int64_t>(DType::float32));
  HWOPT_KCHECK(dtype_is_known(static_cast<int32_t>(dt)) && dt != 0, "attribute 'dtype' = {} is not a data type", dt);
  ctx.set_output_sequence(0, {}, static_cast<DType>(dt));
}

void ref_sequence_construct(KernelContext& ctx) {
  HWOPT_KCHECK(ctx.num_inputs() >= 1, "SequenceConstruct needs at least one input");
  std::vector<Tensor> seq;
  const DType dt = ctx.input(0).dtype();
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor& t = ctx.input(i);
    HWOPT_KCHECK(t.dtype() == dt, "input {} has dtype {}, but input 0 has {} (all must match)", i,
                 dtype_name(t.dtype()), dtype_name(dt));
    seq.push_back(t);
  }
  ctx.set_output_sequence(0, std::move(seq), dt);
}

void ref_sequence_insert(KernelContext& ctx) {
  std::vector<Tensor> seq = ctx.input_sequence(0);
  const Tensor& t = ctx.input(1);
  const DType dt = seq_elem_dtype(ctx, 0);
  HWOPT_KCHECK(dt == DType::undefined || t.dtype() == dt, "input 'tensor' has dtype {}, the sequence holds {}",
               dtype_name(t.dtype()), dtype_name(dt));
  const int64_t n = static_cast<int64_t>(seq.size());
  int64_t pos = n;
  if (ctx.has_input(2)) {
    int64_t p = position_input(ctx, 2);
    HWOPT_KCHECK(p >= -n && p <= n, "input 'position' = {} is out of range [-{}, {}]", p, n, n);
    pos = p < 0 ? p + n : p;
  }
  seq.insert(seq.begin() + pos, t);
  ctx.set_output_sequence(0, std::move(seq), t.dtype());
}

void ref_sequence_at(KernelContext& ctx) {
  const auto& seq = ctx.input_sequence(0);
  const int64_t n = static_cast<int64_t>(seq.size());
  int64_t p = position_input(ctx, 1);
  HWOPT_KCHECK(p >= -n && p < n, "input 'position' = {} is out of range [-{}, {}] for a sequence of {} tensors", p,
               n, n - 1, n);
  ctx.set_output(0, seq[static_cast<size_t>(p < 0 ? p + n : p)]);
}

void ref_sequence_erase(KernelContext& ctx) {
  std::vector<Tensor> seq = ctx.input_sequence(0);
  const DType dt = seq_elem_dtype(ctx, 0);
  const int64_t n = static_cast<int64_t>(seq.size());
  int64_t pos = n - 1;
  if (ctx.has_input(1)) {
    int64_t p = position_input(ctx, 1);
    HWOPT_KCHECK(p >= -n && p < n, "input 'position' = {} is out of range [-{}, {}] for a sequence of {} tensors",
                 p, n, n - 1, n);
    pos = p < 0 ? p + n : p;
  }
  HWOPT_KCHECK(n > 0, "SequenceErase on an empty sequence");
  seq.erase(seq.begin() + pos);
  ctx.set_output_sequence(0, std::move(seq), dt);
}

void ref_sequence_length(KernelContext& ctx) {
  const auto& seq = ctx.input_sequence(0);
  ctx.allocate_output(0, DType::int64, {}).data<int64_t>()[0] = static_cast<int64_t>(seq.size());
}

// ConcatFromSequence: numpy.concatenate (new_axis = 0) or numpy.stack (new_axis = 1).
void ref_concat_from_sequence(KernelContext& ctx) {
  const auto& seq = ctx.input_sequence(0);
  HWOPT_KCHECK(ctx.has_attr("axis"), "attribute 'axis' is required");
  HWOPT_KCHECK(!seq.empty(), "input sequence is empty: nothing to concatenate");
  const bool new_axis = ctx.attr_int("new_axis", 0) != 0;
  const Shape& first = seq[0].shape();
  const int64_t r = static_cast<int64_t>(first.size());
  const int64_t out_rank = new_axis ? r + 1 : r;
  const int64_t axis_attr = ctx.attr_int("axis", 0);
  HWOPT_KCHECK(out_rank > 0, "cannot concatenate scalars without new_axis");
  HWOPT_KCHECK(axis_attr >= -out_rank && axis_attr < out_rank, "attribute 'axis' = {} is out of range for rank {}{}",
               axis_attr, r, new_axis ? " (with new_axis)" : "");
  const int64_t axis = axis_attr < 0 ? axis_attr + out_rank : axis_attr;
  const DType dt = seq[0].dtype();

  // View every input as [outer, len_i, inner] in the output's axis layout.
  std::vector<Tensor> parts;
  std::vector<int64_t> lens;
  int64_t total = 0;
  for (size_t k = 0; k < seq.size(); ++k) {
    const Tensor& t = seq[k];
    HWOPT_KCHECK(t.dtype() == dt, "sequence tensor {} has dtype {}, tensor 0 has {}", k, dtype_name(t.dtype()),
                 dtype_name(dt));
    HWOPT_KCHECK(t.rank() == r, "sequence tensor {} has shape {}, tensor 0 has {} (ranks differ)", k,
                 shape_str(t.shape()), shape_str(first));
    for (int64_t d = 0; d < r; ++d) {
      HWOPT_KCHECK(t.dim(d) == first[d] || (!new_axis && d == axis),
                   "sequence tensor {} has shape {}, incompatible with tensor 0's {} for concatenation on axis {}", k,
                   shape_str(t.shape()), shape_str(first), axis);
    }
    int64_t len = new_axis ? 1 : t.dim(axis);
    lens.push_back(len);
    total += len;
    parts.push_back(t.contiguous());
  }
  Shape out_shape = first;
  if (new_axis) {
    out_shape.insert(out_shape.begin() + axis, total);
  } else {
    out_shape[axis] = total;
  }
  const int64_t outer = dims_product(out_shape, 0, axis);
  const int64_t inner = dims_product(out_shape, axis + 1, out_rank);
  Tensor& out = ctx.allocate_output(0, dt, out_shape);
  for (int64_t o = 0; o < outer; ++o) {
    int64_t at = 0;
    for (size_t k = 0; k < parts.size(); ++k) {
      copy_elems(parts[k], o * lens[k] * inner, out, (o * total + at) * inner, lens[k] * inner);
      at += lens[k];
    }
  }
}

// SplitToSequence: split on `axis` into pieces given by `split` (scalar chunk size, 1-D sizes, or
// absent = pieces of 1, squeezed unless keepdims).
void ref_split_to_sequence(KernelContext& ctx) {
  const Tensor x = ctx.input(0).contiguous();
  const int64_t r = x.rank();
  HWOPT_KCHECK(r >= 1, "input 'input' must have rank >= 1, got a scalar");
  const int64_t axis_attr = ctx.attr_int("axis", 0);
  HWOPT_KCHECK(axis_attr >= -r && axis_attr < r, "attribute 'axis' = {} is out of range for rank {}", axis_attr, r);
  const int64_t axis = axis_attr < 0 ? axis_attr + r : axis_attr;
  const int64_t dim = x.dim(axis);
  std::vector<int64_t> sizes;
  bool squeeze = false;
  if (ctx.has_input(1)) {
    const Tensor& s = ctx.input(1);
    HWOPT_KCHECK(s.dtype() == DType::int32 || s.dtype() == DType::int64, "input 'split' must be int32 or int64, got {}",
                 dtype_name(s.dtype()));
    HWOPT_KCHECK(s.rank() <= 1, "input 'split' must be a scalar or 1-D, got shape {}", shape_str(s.shape()));
    std::vector<int64_t> v = to_int64_vector(s);
    if (s.rank() == 0) {
      const int64_t chunk = v[0];
      HWOPT_KCHECK(chunk > 0, "input 'split' (chunk size) must be positive, got {}", chunk);
      for (int64_t at = 0; at < dim; at += chunk) sizes.push_back(std::min(chunk, dim - at));
    } else {
      int64_t sum = 0;
      for (int64_t e : v) {
        HWOPT_KCHECK(e >= 0 && e <= dim, "input 'split' has a size {} outside [0, {}]", e, dim);
        sum += e;
      }
      HWOPT_KCHECK(sum == dim, "input 'split' sums to {}, but axis {} has length {}", sum, axis, dim);
      sizes = v;
    }
  } else {
    sizes.assign(static_cast<size_t>(dim), 1);
    squeeze = ctx.attr_int("keepdims", 1) == 0;
  }
  const int64_t outer = dims_product(x.shape(), 0, axis);
  const int64_t inner = dims_product(x.shape(), axis + 1, r);
  std::vector<Tensor> seq;
  int64_t at = 0;
  for (int64_t len : sizes) {
    Shape shape = x.shape();
    shape[axis] = len;
    Tensor piece(x.dtype(), shape);
    for (int64_t o = 0; o < outer; ++o) copy_elems(x, (o * dim + at) * inner, piece, o * len * inner, len * inner);
    if (squeeze) {
      shape.erase(shape.begin() + axis);
      piece = piece.reshape(shape);
    }
    seq.push_back(piece);
    at += len;
  }
  ctx.set_output_sequence(0, std::move(seq), x.dtype());
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("SequenceEmpty", "", 11, ref_sequence_empty);
HWOPT_REGISTER_REF_KERNEL("SequenceConstruct", "", 11, ref_sequence_construct);
HWOPT_REGISTER_REF_KERNEL("SequenceInsert", "", 11, ref_sequence_insert);
HWOPT_REGISTER_REF_KERNEL("SequenceAt", "", 11, ref_sequence_at);
HWOPT_REGISTER_REF_KERNEL("SequenceErase", "", 11, ref_sequence_erase);
HWOPT_REGISTER_REF_KERNEL("SequenceLength", "", 11, ref_sequence_length);
HWOPT_REGISTER_REF_KERNEL("ConcatFromSequence", "", 11, ref_concat_from_sequence);
HWOPT_REGISTER_REF_KERNEL("SplitToSequence", "", 11, ref_split_to_sequence);

}  // namespace hwopt::reference
