// Concat as row copies (memcpy) for the dtypes oneDNN has (float32/16, bfloat16, int8/uint8,
// int32); the others (int64 shape tensors, bool, ...) are left to own:concat. Plain inputs are
// copied as
// [outer, dim(axis) * inner] rows. Along the channel axis, blocked inputs stay blocked: in nChw16c
// (and the other nC..Xc formats) a batch's channel blocks are contiguous, so when every input but
// the last has whole blocks the output's batch is the inputs' batches one after another; in nhwc a
// pixel's channels are. Inputs in other layouts are reordered to the first blocked input's format.
// Constant all-zero inputs at the end (channel padding: BlazeFace's residuals concatenate 4 to 8
// zero channels to a block's input) are not read: the output's channels past the last other input
// are zero-filled, so that input may end inside a block.
// (oneDNN's concat primitive measured ~10x slower than these copies for plain and nChw16c data.)
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "backends/backend.h"
#include "backends/cpu/onednn.h"

namespace hwopt::cpu {
namespace {

int64_t attr_axis(const ir::Node& n) {
  const ir::Attribute* a = n.attr("axis");
  return a ? a->i : 1;
}

std::string check_concat(const NodeContext& nc) {
  if (nc.num_inputs() < 1) return "no inputs";
  if (nc.node.opset >= 4 && !nc.node.attr("axis")) return "attribute 'axis' is missing";
  const DType dt = nc.input_dtype(0);
  for (size_t i = 0; i < nc.num_inputs(); ++i) {
    if (!nc.has_input(i)) return fmt::format("input {} is missing", i);
    if (nc.input_dtype(i) != dt) return "input dtypes are not known to be equal";
  }
  if (dt == DType::undefined) return "input dtype is unknown";
  if (!onednn_supports(dt)) return fmt::format("{} is not a oneDNN dtype (own:concat takes it)", dtype_name(dt));
  const int64_t rank = nc.input_rank(0);
  const int64_t axis = attr_axis(nc.node);
  if (rank >= 0 && (rank == 0 || axis < -rank || axis >= rank))
    return fmt::format("axis {} is out of range for rank {}", axis, rank);
  return "";
}

/// Output shape, or false if the inputs do not concatenate along `axis` (normalised on success).
bool concat_shape(const std::vector<const Tensor*>& xs, int64_t& axis, Shape& out) {
  const int64_t r = xs[0]->rank();
  if (r == 0 || axis < -r || axis >= r) return false;
  if (axis < 0) axis += r;
  out = xs[0]->shape();
  out[axis] = 0;
  for (const Tensor* x : xs) {
    if (x->rank() != r || x->dtype() != xs[0]->dtype()) return false;
    for (int64_t d = 0; d < r; ++d)
      if (d != axis && x->dim(d) != out[d]) return false;
    out[axis] += x->dim(axis);
  }
  return true;
}

/// dst row o = the inputs' rows o side by side, then zeros up to `out_row` bytes (0: no zeros);
/// input i's rows are rows[i] bytes.
void copy_rows(const std::vector<const char*>& srcs, const std::vector<size_t>& rows, int64_t outer, char* dst,
               size_t out_row = 0) {
  std::vector<size_t> col(srcs.size() + 1, 0);
  for (size_t i = 0; i < srcs.size(); ++i) col[i + 1] = col[i] + rows[i];
  out_row = std::max(out_row, col.back());
  const size_t zeros = out_row - col.back();
  const int64_t n = static_cast<int64_t>(srcs.size()) + (zeros > 0 ? 1 : 0);  // the zeros as one more part
#pragma omp parallel for schedule(static) if (static_cast<size_t>(outer) * out_row > (1 << 16))
  for (int64_t t = 0; t < outer * n; ++t) {
    const int64_t o = t / n;
    const size_t i = static_cast<size_t>(t % n);
    if (i == srcs.size())
      std::memset(dst + o * out_row + col[i], 0, zeros);
    else if (rows[i] > 0)
      std::memcpy(dst + o * out_row + col[i], srcs[i] + o * rows[i], rows[i]);
  }
}

using tag = dnnl::memory::format_tag;

/// True if input i is a constant whose elements are all zero (bytes zero: +0.0, integer 0).
bool zero_constant(const NodeContext& nc, size_t i) {
  const Tensor* t = nc.has_input(i) ? nc.constant_input(i) : nullptr;
  if (!t || t->numel() == 0 || !onednn_supports(t->dtype())) return false;
  const Tensor c = t->contiguous();
  const auto* b = static_cast<const unsigned char*>(c.raw_data());
  const int64_t bytes = c.numel() * static_cast<int64_t>(dtype_size(c.dtype()));
  return std::all_of(b, b + bytes, [](unsigned char v) { return v == 0; });
}

class ConcatKernel {
 public:
  ConcatKernel(const NodeContext& nc, KernelFn reference) : reference_(std::move(reference)) {
    // The trailing run of zero constants.
    size_t n = nc.num_inputs();
    while (n > 1 && zero_constant(nc, n - 1)) --n;
    zero_tail_from_ = n;
  }

  void operator()(KernelContext& ctx) {
    std::vector<const Tensor*> xs;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      if (!ctx.has_input(i) || !ctx.input_value(i)->is_tensor()) return run_plain(ctx, reference_);
      xs.push_back(&ctx.input(i));
    }
    int64_t axis = ctx.attr_int("axis", 1);
    Shape out;
    if (xs.empty() || !concat_shape(xs, axis, out) || !onednn_supports(xs[0]->dtype()))
      return run_plain(ctx, reference_);
    if (axis == 1 && run_blocked(ctx, xs, out)) return;
    std::vector<Tensor> plain;
    std::vector<const char*> srcs;
    std::vector<size_t> rows;
    const size_t es = dtype_size(xs[0]->dtype());
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= out[d];
    for (int64_t d = axis + 1; d < static_cast<int64_t>(out.size()); ++d) inner *= out[d];
    for (const Tensor* x : xs) {
      plain.push_back(x->to_plain().contiguous());
      srcs.push_back(static_cast<const char*>(plain.back().raw_data()));
      rows.push_back(static_cast<size_t>(x->dim(axis) * inner) * es);
    }
    Tensor& y = ctx.allocate_uninitialized_output(0, xs[0]->dtype(), out);
    if (y.numel() > 0) copy_rows(srcs, rows, outer, static_cast<char*>(y.raw_data()));
  }

 private:
  /// Channel concat keeping the first blocked input's format; false if it does not apply.
  bool run_blocked(KernelContext& ctx, const std::vector<const Tensor*>& xs, const Shape& out) {
    const ChannelFormat* f = nullptr;
    for (const Tensor* x : xs)
      if ((f = channel_format_of(*x))) break;
    if (!f || shape_numel(out) == 0) return false;
    const int r = static_cast<int>(out.size());
    // Blocked: inputs from zero_tail_from_ on are zeros, not read (their channels zero-filled).
    const size_t read = f->block > 0 ? std::min(zero_tail_from_, xs.size()) : xs.size();
    for (size_t i = 0; i < xs.size(); ++i) {
      if (xs[i]->numel() == 0) return false;
      if (f->block > 0 && i + 1 < read && xs[i]->dim(1) % f->block != 0) return false;
    }
    const dnnl::memory::data_type dt = onednn_dtype(xs[0]->dtype());
    const tag t = f->tags[r - 3];
    std::vector<Tensor> keep;
    std::vector<const char*> srcs;
    std::vector<size_t> rows;
    // Blocked: one row per batch (its channel blocks); channels last: one row per pixel.
    const int64_t outer = f->block > 0 ? out[0] : shape_numel(out) / out[1];
    int64_t channels_read = 0;
    for (size_t i = 0; i < read; ++i) {
      const Tensor* x = xs[i];
      channels_read += x->dim(1);
      const dnnl::memory::desc d(to_dims(x->shape()), dt, t);
      keep.push_back(!x->is_plain() && desc_of(*x) == d ? *x : reorder_to(x->to_plain(), d));
      srcs.push_back(static_cast<const char*>(keep.back().raw_data()));
      rows.push_back(d.get_size() / static_cast<size_t>(outer));
    }
    const dnnl::memory::desc od(to_dims(out), dt, t);
    Tensor y = allocate_like(od, xs[0]->dtype(), out);
    auto* yb = static_cast<char*>(y.raw_data());
    // The read inputs' blocks, then zeros for the zero inputs' whole blocks.
    const size_t out_row = od.get_size() / static_cast<size_t>(outer);
    copy_rows(srcs, rows, outer, yb, out_row);
    if (read < xs.size() && channels_read % f->block != 0) {
      // And for the lanes past channels_read in the block it ends in (the last read input's
      // padding, whatever it held).
      const int64_t spatial = shape_numel(Shape(out.begin() + 2, out.end())), B = f->block;
      zero_block_lanes(yb, outer, out_row, channels_read / B, spatial, B, channels_read % B, dtype_size(xs[0]->dtype()));
    }
    ctx.set_output(0, std::move(y));
    return true;
  }

  KernelFn reference_;
  size_t zero_tail_from_ = 0;  // inputs from this one on are constant zeros
};

Candidate concat_candidate() {
  Candidate c;
  c.backend = "cpu";
  c.name = "own:concat_layout";
  c.op_type = "Concat";
  c.accepts_layouts = true;
  c.check = check_concat;
  c.make = [](const NodeContext& nc, KernelFn reference) -> KernelFn {
    auto kernel = std::make_shared<ConcatKernel>(nc, std::move(reference));
    return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
  };
  return c;
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(concat_candidate());

}  // namespace hwopt::cpu
