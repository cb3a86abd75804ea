// Add, Sub, Mul, Div, Max and Min (two inputs, numpy broadcasting) on oneDNN's binary primitive,
// and Pow with a constant scalar exponent on oneDNN's eltwise_pow.
//
// oneDNN broadcasts only its second source, so the operand of the output's shape goes first:
// commutative ops swap their operands, Sub swaps them and negates the result with a post-op.
// Blocked inputs stay blocked (an equal-shaped partner is reordered to the same layout, a
// broadcast partner such as a [C,1,1] bias is read plain). Shapes for which oneDNN has only its
// slow reference implementation, and Div with a broadcast dividend, run a vectorised loop here.
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "backends/backend.h"
#include "backends/cpu/matmul_util.h"
#include "backends/cpu/onednn.h"

namespace hwopt::cpu {
namespace {

using alg = dnnl::algorithm;

enum class BinOp { add, sub, mul, div, max, min };

BinOp binop_of(const std::string& op) {
  if (op == "Add") return BinOp::add;
  if (op == "Sub") return BinOp::sub;
  if (op == "Mul") return BinOp::mul;
  if (op == "Div") return BinOp::div;
  if (op == "Max") return BinOp::max;
  return BinOp::min;
}

alg onednn_alg(BinOp op) {
  switch (op) {
    case BinOp::add: return alg::binary_add;
    case BinOp::sub: return alg::binary_sub;
    case BinOp::mul: return alg::binary_mul;
    case BinOp::div: return alg::binary_div;
    case BinOp::max: return alg::binary_max;
    case BinOp::min: return alg::binary_min;
  }
  return alg::binary_add;
}

bool commutative(BinOp op) { return op == BinOp::add || op == BinOp::mul || op == BinOp::max || op == BinOp::min; }

/// numpy broadcast of two shapes; false if they do not broadcast.
bool broadcast(const Shape& a, const Shape& b, Shape& out) {
  const size_t r = std::max(a.size(), b.size());
  out.assign(r, 1);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    out[i] = da == 1 ? db : da;
  }
  return true;
}

/// `s` with leading 1s up to rank r.
Shape pad_rank(const Shape& s, size_t r) {
  Shape p(r - s.size(), 1);
  p.insert(p.end(), s.begin(), s.end());
  return p;
}

bool is_ref_impl(const dnnl::primitive_desc& pd) { return std::string(pd.impl_info_str()).rfind("ref", 0) == 0; }

/// A descriptor of `dims` in the same named format as `like` (e.g. a [1,C,1,1] bias in nChw16c,
/// which oneDNN's fast binary kernels need for a blocked first source); empty if `like`'s format
/// is none of the common activation formats.
dnnl::memory::desc same_format(const dnnl::memory::desc& like, const Shape& dims) {
  using tag = dnnl::memory::format_tag;
  static const tag kTags[][3] = {
      {tag::abc, tag::abcd, tag::abcde},          {tag::acb, tag::acdb, tag::acdeb},
      {tag::aBc16b, tag::aBcd16b, tag::aBcde16b}, {tag::aBc8b, tag::aBcd8b, tag::aBcde8b},
      {tag::aBc4b, tag::aBcd4b, tag::aBcde4b},
  };
  const int nd = like.data.ndims;
  if (nd < 3 || nd > 5 || static_cast<int>(dims.size()) != nd) return {};
  for (const auto& row : kTags) {
    const tag t = row[nd - 3];
    if (dnnl::memory::desc(like.dims(), like.data_type(), t) == like)
      return dnnl::memory::desc(to_dims(dims), like.data_type(), t);
  }
  return {};
}

template <BinOp op>
inline float apply(float x, float y) {
  if constexpr (op == BinOp::add) return x + y;
  if constexpr (op == BinOp::sub) return x - y;
  if constexpr (op == BinOp::mul) return x * y;
  if constexpr (op == BinOp::div) return x / y;
  if constexpr (op == BinOp::max) return x > y ? x : (std::isnan(x) ? x : y);
  if constexpr (op == BinOp::min) return x < y ? x : (std::isnan(x) ? x : y);
  return 0.f;
}

/// y = a op b over the broadcast shape `out` (a, b plain contiguous, shapes padded to out's rank).
/// Adjacent dims with the same broadcast pattern are merged so the inner loop is as long as can be.
template <BinOp op>
void native_binary(const float* a, const Shape& sa, const float* b, const Shape& sb, float* y, const Shape& out) {
  // Merged dims: extent and each operand's stride (0 where it broadcasts).
  std::vector<int64_t> ext, st_a, st_b;
  int64_t stride_a = 1, stride_b = 1;
  std::vector<int64_t> fa(out.size()), fb(out.size());
  for (size_t i = out.size(); i-- > 0;) {
    fa[i] = sa[i] == 1 ? 0 : stride_a;
    fb[i] = sb[i] == 1 ? 0 : stride_b;
    stride_a *= sa[i];
    stride_b *= sb[i];
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 1) continue;
    if (!ext.empty()) {
      const size_t k = ext.size() - 1;
      // dims k and i merge if each operand's stride for k equals its stride for i times out[i].
      if (st_a[k] == fa[i] * out[i] && st_b[k] == fb[i] * out[i]) {
        ext[k] *= out[i];
        st_a[k] = fa[i];
        st_b[k] = fb[i];
        continue;
      }
    }
    ext.push_back(out[i]);
    st_a.push_back(fa[i]);
    st_b.push_back(fb[i]);
  }
  if (ext.empty()) {
    y[0] = apply<op>(a[0], b[0]);
    return;
  }
  const size_t nd = ext.size();
  const int64_t inner = ext[nd - 1], ia = st_a[nd - 1], ib = st_b[nd - 1];
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < nd; ++d) rows *= ext[d];
#pragma omp parallel for schedule(static) if (rows * inner > 32768)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t oa = 0, ob = 0;
    for (int64_t r = row, d = static_cast<int64_t>(nd) - 2; d >= 0; --d) {
      const int64_t i = r % ext[d];
      r /= ext[d];
      oa += i * st_a[d];
      ob += i * st_b[d];
    }
    const float* pa = a + oa;
    const float* pb = b + ob;
    float* py = y + row * inner;
    if (ia == 1 && ib == 1) {
#pragma omp simd
      for (int64_t j = 0; j < inner; ++j) py[j] = apply<op>(pa[j], pb[j]);
    } else if (ia == 1) {
      const float v = pb[0];
#pragma omp simd
      for (int64_t j = 0; j < inner; ++j) py[j] = apply<op>(pa[j], v);
    } else if (ib == 1) {
      const float v = pa[0];
#pragma omp simd
      for (int64_t j = 0; j < inner; ++j) py[j] = apply<op>(v, pb[j]);
    } else {
      const float v = apply<op>(pa[0], pb[0]);
      for (int64_t j = 0; j < inner; ++j) py[j] = v;
    }
  }
}

void run_native(BinOp op, const float* a, const Shape& sa, const float* b, const Shape& sb, float* y,
                const Shape& out) {
  switch (op) {
    case BinOp::add: return native_binary<BinOp::add>(a, sa, b, sb, y, out);
    case BinOp::sub: return native_binary<BinOp::sub>(a, sa, b, sb, y, out);
    case BinOp::mul: return native_binary<BinOp::mul>(a, sa, b, sb, y, out);
    case BinOp::div: return native_binary<BinOp::div>(a, sa, b, sb, y, out);
    case BinOp::max: return native_binary<BinOp::max>(a, sa, b, sb, y, out);
    case BinOp::min: return native_binary<BinOp::min>(a, sa, b, sb, y, out);
  }
}

/// Known static shape of input i, or false.
bool static_shape(const NodeContext& nc, size_t i, Shape& s) {
  if (const Tensor* t = nc.constant_input(i)) {
    s = t->shape();
    return true;
  }
  const ir::ValueInfo* vi = nc.input_info(i);
  if (!vi || !vi->has_shape) return false;
  s.clear();
  for (const auto& d : vi->shape) {
    if (d.value < 0) return false;
    s.push_back(d.value);
  }
  return true;
}

std::string check_binary(const NodeContext& nc) {
  if (nc.num_inputs() != 2) return fmt::format("{} with {} inputs (only 2)", nc.node.op_type, nc.num_inputs());
  if (nc.input_dtype(0) != DType::float32 || nc.input_dtype(1) != DType::float32)
    return "inputs are not known to be float32";
  Shape a, b, out;
  if (static_shape(nc, 0, a) && static_shape(nc, 1, b) && !broadcast(a, b, out))
    return fmt::format("shapes {} and {} do not broadcast", shape_str(a), shape_str(b));
  return "";
}

struct BinaryEntry {
  bool native = false;  // run the loop here instead of oneDNN
  bool swap = false;    // oneDNN src0 is input 1
  Tensor s1_constant;   // src1 prepared once when it is a constant initializer
  Shape out, sa, sb;    // output shape and the inputs' shapes padded to its rank
  dnnl::memory::desc d0, d1;  // what the primitive reads (dst has d0's layout)
  dnnl::binary prim;
  std::string kernel;  // impl_name of its primitive(s), for KernelContext::set_kernel_detail
};

/// `t` in layout `d` (whose dims may be t's shape with leading 1s).
Tensor prepare(const Tensor& t, const dnnl::memory::desc& d) {
  if (!t.is_plain() && desc_of(t) == d) return t;
  Tensor plain = t.to_plain().contiguous();
  if (is_plain_desc(d)) return plain;
  auto dims = d.dims();
  return reorder_to(plain.reshape(Shape(dims.begin(), dims.end())), d);
}

class BinaryKernel {
 public:
  BinaryKernel(const NodeContext& nc, KernelFn reference)
      : op_(binop_of(nc.node.op_type)), reference_(std::move(reference)) {
    for (size_t i = 0; i < 2; ++i)
      if (const Tensor* t = nc.constant_input(i)) constants_[i] = *t;
  }

  void operator()(KernelContext& ctx) {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    Shape out;
    if (a.dtype() != DType::float32 || b.dtype() != DType::float32 || !broadcast(a.shape(), b.shape(), out))
      return run_plain(ctx, reference_);
    if (shape_numel(out) == 0) {
      ctx.allocate_output(0, DType::float32, out);
      return;
    }
    auto e = cache_.get(shape_key(ctx), [&] { return create(a, b, out); });
    if (e->native) {
      const Tensor pa = a.to_plain().contiguous(), pb = b.to_plain().contiguous();
      Tensor& y = ctx.allocate_output(0, DType::float32, out);
      run_native(op_, pa.data<float>(), e->sa, pb.data<float>(), e->sb, y.data<float>(), out);
      return;
    }
    const Tensor s0 = prepare(e->swap ? b : a, e->d0);
    const Tensor& in1 = e->swap ? a : b;
    const Tensor s1 = e->s1_constant.defined() && is_constant(in1, e->swap ? 0 : 1) ? e->s1_constant : prepare(in1, e->d1);
    Tensor dst = allocate_like(e->d0, DType::float32, out);
    ctx.set_kernel_detail(e->kernel);
    execute_with_scratchpad(e->prim, {{DNNL_ARG_SRC_0, memory_of(s0, e->d0)},
                               {DNNL_ARG_SRC_1, memory_of(s1, e->d1)},
                               {DNNL_ARG_DST, memory_of(dst, e->d0)}});
    stream().wait();
    ctx.set_output(0, std::move(dst));
  }

 private:
  BinaryEntry create(const Tensor& a, const Tensor& b, const Shape& out) const {
    BinaryEntry e;
    const size_t r = out.size();
    e.out = out;
    e.sa = pad_rank(a.shape(), r);
    e.sb = pad_rank(b.shape(), r);
    bool negate = false;
    if (e.sa == out) {
    } else if (e.sb == out && (commutative(op_) || op_ == BinOp::sub)) {
      e.swap = true;
      negate = op_ == BinOp::sub;  // a - b = -(b - a)
    } else {
      e.native = true;
      return e;
    }
    if (r == 0) {  // scalars: oneDNN needs at least one dim
      e.native = true;
      return e;
    }
    const Tensor& s0 = e.swap ? b : a;
    const Tensor& s1 = e.swap ? a : b;
    const Shape& sh1 = e.swap ? e.sa : e.sb;
    auto usable_layout = [&](const Tensor& t) { return !t.is_plain() && t.rank() == static_cast<int64_t>(r); };
    dnnl::memory::desc d0 = plain_desc(out, DType::float32), d1 = plain_desc(sh1, DType::float32);
    if (usable_layout(s0)) {
      d0 = desc_of(s0);
      if (sh1 == out) {
        d1 = d0;
      } else {
        d1 = same_format(d0, sh1);
        if (d1.is_zero()) d1 = plain_desc(sh1, DType::float32);
      }
    } else if (sh1 == out && usable_layout(s1)) {
      d0 = d1 = desc_of(s1);
    }
    dnnl::primitive_attr attr = user_scratchpad_attr();
    if (negate) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.f, alg::eltwise_linear, -1.f, 0.f);
      attr.set_post_ops(ops);
    }
    auto make_pd = [&](const dnnl::memory::desc& x0, const dnnl::memory::desc& x1) {
      return dnnl::binary::primitive_desc(dnnl::binary::desc(onednn_alg(op_), x0, x1, x0), attr, engine());
    };
    dnnl::binary::primitive_desc pd = make_pd(d0, d1);
    if (is_ref_impl(pd) && !is_plain_desc(d0)) {
      // No fast kernel for this broadcast in the blocked layout: compute on plain data.
      d0 = plain_desc(out, DType::float32);
      d1 = plain_desc(sh1, DType::float32);
      pd = make_pd(d0, d1);
    }
    if (is_ref_impl(pd)) {
      e.native = true;
      return e;
    }
    e.d0 = d0;
    e.d1 = d1;
    e.prim = dnnl::binary(pd);
    e.kernel = impl_name(e.prim);
    if (is_constant(s1, e.swap ? 0 : 1) && !is_plain_desc(d1)) e.s1_constant = prepare(s1, d1);
    return e;
  }

  bool is_constant(const Tensor& t, size_t i) const {
    return constants_[i].defined() && t.storage() == constants_[i].storage() && t.offset() == constants_[i].offset();
  }

  BinOp op_;
  KernelFn reference_;
  Tensor constants_[2];
  ShapeCache<BinaryEntry> cache_;
};

KernelFn make_binary(const NodeContext& nc, KernelFn reference) {
  auto kernel = std::make_shared<BinaryKernel>(nc, std::move(reference));
  return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
}

Candidate binary_candidate(const char* op, int since) {
  Candidate c;
  c.backend = "cpu";
  c.name = "onednn:binary";
  c.op_type = op;
  c.since_version = since;  // numpy broadcasting (no 'broadcast'/'axis' attributes)
  c.accepts_layouts = true;
  c.check = check_binary;
  c.make = make_binary;
  return c;
}

// ---- Pow(x, constant scalar) ----

std::string check_pow(const NodeContext& nc) {
  if (nc.input_dtype(0) != DType::float32) return "input dtype is not known to be float32";
  const Tensor* e = nc.constant_input(1);
  if (!e) return "exponent is not a constant initializer";
  if (e->numel() != 1) return fmt::format("exponent of shape {} is not a scalar", shape_str(e->shape()));
  if (e->dtype() != DType::float32 && e->dtype() != DType::float64 && e->dtype() != DType::int32 &&
      e->dtype() != DType::int64)
    return fmt::format("exponent dtype {} is not float32/float64/int32/int64", dtype_name(e->dtype()));
  return "";
}

struct PowEntry {
  dnnl::eltwise_forward prim;
  dnnl::memory::desc desc;
  std::string kernel;  // impl_name of its primitive(s), for KernelContext::set_kernel_detail
};

class PowKernel {
 public:
  PowKernel(const NodeContext& nc, KernelFn reference)
      : exponent_(static_cast<float>(nc.constant_input(1)->element_as_double(0))), reference_(std::move(reference)) {}

  void operator()(KernelContext& ctx) {
    const Tensor& x = ctx.input(0);
    const Tensor& y = ctx.input(1);
    Shape out;
    if (x.dtype() != DType::float32 || y.numel() != 1 || static_cast<float>(y.element_as_double(0)) != exponent_ ||
        !broadcast(x.shape(), y.shape(), out))
      return run_plain(ctx, reference_);
    if (x.numel() == 0) {
      ctx.allocate_output(0, DType::float32, out);
      return;
    }
    // A scalar exponent of higher rank only adds leading 1s to the output's shape.
    const bool keep_layout = !x.is_plain() && out == x.shape();
    const Tensor src = keep_layout ? x : x.to_plain().contiguous();
    const dnnl::memory::desc desc = keep_layout ? desc_of(src) : plain_desc({src.numel()}, DType::float32);
    auto e = cache_.get(keep_layout ? shape_key(ctx) : std::to_string(src.numel()), [&] {
      PowEntry p;
      p.desc = desc;
      dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, alg::eltwise_pow, desc, 1.f, exponent_);
      p.prim = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(d, user_scratchpad_attr(), engine()));
      p.kernel = impl_name(p.prim);
      return p;
    });
    Tensor dst = keep_layout ? allocate_like(desc, DType::float32, out) : Tensor(DType::float32, out);
    ctx.set_kernel_detail(e->kernel);
    execute_with_scratchpad(e->prim, {{DNNL_ARG_SRC, memory_of(src, e->desc)}, {DNNL_ARG_DST, memory_of(dst, e->desc)}});
    stream().wait();
    ctx.set_output(0, std::move(dst));
  }

 private:
  float exponent_;
  KernelFn reference_;
  ShapeCache<PowEntry> cache_;
};

Candidate pow_candidate() {
  Candidate c;
  c.backend = "cpu";
  c.name = "onednn:eltwise_pow";
  c.op_type = "Pow";
  c.since_version = 7;
  c.accepts_layouts = true;
  c.check = check_pow;
  c.make = [](const NodeContext& nc, KernelFn reference) -> KernelFn {
    auto kernel = std::make_shared<PowKernel>(nc, std::move(reference));
    return [kernel](KernelContext& ctx) { (*kernel)(ctx); };
  };
  return c;
}

}  // namespace

HWOPT_REGISTER_CANDIDATE(binary_candidate("Add", 7));
HWOPT_REGISTER_CANDIDATE(binary_candidate("Sub", 7));
HWOPT_REGISTER_CANDIDATE(binary_candidate("Mul", 7));
HWOPT_REGISTER_CANDIDATE(binary_candidate("Div", 7));
HWOPT_REGISTER_CANDIDATE(binary_candidate("Max", 8));
HWOPT_REGISTER_CANDIDATE(binary_candidate("Min", 8));
HWOPT_REGISTER_CANDIDATE(pow_candidate());

}  // namespace hwopt::cpu
