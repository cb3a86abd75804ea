// Control flow: If, Loop, Scan and SequenceMap, which run their subgraph bodies through the
// executor's SubgraphRunner.
#include <cstring>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

constexpr int64_t kMaxLoopIterations = int64_t{1} << 31;

bool scalar_true(const Tensor& t, const char* what) {
  HWOPT_KCHECK(t.numel() == 1, "{} must hold exactly one element, got shape {}", what, shape_str(t.shape()));
  return t.element_as_double(0) != 0.0;
}

DType declared_dtype(const ir::ValueInfo& vi) { return vi.dtype == DType::undefined ? DType::float32 : vi.dtype; }

// Stacks equally shaped tensors along a new leading axis.
Tensor stack(const std::vector<Tensor>& parts, DType dtype) {
  Shape elem = parts.empty() ? Shape{} : parts[0].shape();
  Shape shape = elem;
  shape.insert(shape.begin(), static_cast<int64_t>(parts.size()));
  Tensor out(dtype, shape);
  const size_t esize = dtype_size(dtype);
  for (size_t i = 0; i < parts.size(); ++i) {
    HWOPT_KCHECK(parts[i].dtype() == dtype, "iteration {} produced dtype {} but earlier ones produced {}", i,
                 dtype_name(parts[i].dtype()), dtype_name(dtype));
    HWOPT_KCHECK(parts[i].shape() == elem, "iteration {} produced shape {} but earlier ones produced {}", i,
                 shape_str(parts[i].shape()), shape_str(elem));
    Tensor c = parts[i].contiguous();
    const int64_t n = c.numel();
    if (dtype == DType::string) {
      for (int64_t k = 0; k < n; ++k) out.data<std::string>()[i * n + k] = c.data<std::string>()[k];
    } else if (n > 0) {
      std::memcpy(static_cast<char*>(out.raw_data()) + i * n * esize, c.raw_data(), n * esize);
    }
  }
  return out;
}

void ref_if(KernelContext& ctx) {
  const bool cond = scalar_true(ctx.input(0), "If condition");
  const ir::Graph* branch = ctx.attr_graph(cond ? "then_branch" : "else_branch");
  HWOPT_KCHECK(branch != nullptr, "missing {} attribute", cond ? "then_branch" : "else_branch");
  auto outs = ctx.run_subgraph(*branch, {});
  HWOPT_KCHECK(outs.size() == ctx.num_outputs(), "branch produced {} outputs, the node has {}", outs.size(),
               ctx.num_outputs());
  for (size_t i = 0; i < outs.size(); ++i) ctx.set_output_value(i, std::move(outs[i]));
}

void ref_loop(KernelContext& ctx) {
  const ir::Graph* body = ctx.attr_graph("body");
  HWOPT_KCHECK(body != nullptr, "missing body attribute");
  const size_t n_carried = ctx.num_inputs() >= 2 ? ctx.num_inputs() - 2 : 0;
  HWOPT_KCHECK(body->inputs.size() == n_carried + 2, "body takes {} inputs but the node passes {} loop-carried values",
               body->inputs.size(), n_carried);
  HWOPT_KCHECK(body->outputs.size() >= n_carried + 1, "body has {} outputs, needs at least {}", body->outputs.size(),
               n_carried + 1);
  const size_t n_scan = body->outputs.size() - 1 - n_carried;
  HWOPT_KCHECK(ctx.num_outputs() <= n_carried + n_scan, "node has {} outputs but the body yields {}", ctx.num_outputs(),
               n_carried + n_scan);
  int64_t max_trip = -1;
  if (ctx.has_input(0)) {
    HWOPT_KCHECK(ctx.input(0).numel() == 1, "M must be a scalar");
    max_trip = to_int64_vector(ctx.input(0))[0];  // exactly: exporters write INT64_MAX for "no limit"
  }
  bool cond = true;
  if (ctx.has_input(1)) cond = scalar_true(ctx.input(1), "loop condition");
  HWOPT_KCHECK(max_trip >= 0 || ctx.has_input(1), "a Loop with neither M nor cond would never end");
  std::vector<RtValue> carried;
  for (size_t i = 0; i < n_carried; ++i) {
    const RtValue* v = ctx.input_value(i + 2);
    carried.push_back(v ? *v : RtValue{});
  }
  std::vector<std::vector<Tensor>> scans(n_scan);
  int64_t iter = 0;
  while (cond && (max_trip < 0 || iter < max_trip)) {
    HWOPT_KCHECK(iter < kMaxLoopIterations, "loop ran {} iterations; refusing to continue", iter);
    std::vector<RtValue> in;
    in.push_back(RtValue::of(Tensor::scalar<int64_t>(iter)));
    in.push_back(RtValue::of(Tensor::scalar<bool>(cond)));
    for (auto& c : carried) in.push_back(c);
    auto out = ctx.run_subgraph(*body, std::move(in));
    HWOPT_KCHECK(out.size() == body->outputs.size(), "body returned {} values, expected {}", out.size(), body->outputs.size());
    HWOPT_KCHECK(out[0].is_tensor(), "body's condition output must be a tensor");
    cond = scalar_true(out[0].tensor, "body condition output");
    for (size_t i = 0; i < n_carried; ++i) carried[i] = std::move(out[1 + i]);
    for (size_t i = 0; i < n_scan; ++i) {
      HWOPT_KCHECK(out[1 + n_carried + i].is_tensor(), "scan output {} must be a tensor", i);
      scans[i].push_back(out[1 + n_carried + i].tensor);
    }
    ++iter;
  }
  for (size_t i = 0; i < n_carried && i < ctx.num_outputs(); ++i) ctx.set_output_value(i, std::move(carried[i]));
  for (size_t i = 0; i < n_scan && n_carried + i < ctx.num_outputs(); ++i) {
    DType dt = scans[i].empty() ? declared_dtype(body->outputs[1 + n_carried + i]) : scans[i][0].dtype();
    ctx.set_output(n_carried + i, stack(scans[i], dt));
  }
}

// Slice `t` at index `i` along `axis` (dropping that axis), as a contiguous tensor.
Tensor take_along(const Tensor& t, int64_t axis, int64_t i) {
  // A scalar has no axis to slice (found by fuzzing: a scalar scan input read dims()[0]).
  HWOPT_KCHECK(t.rank() >= 1 && axis >= 0 && axis < t.rank(), "cannot slice axis {} of a tensor of shape {}", axis,
               shape_str(t.shape()));
  HWOPT_KCHECK(i >= 0 && i < t.dim(axis), "index {} is out of range for axis {} of shape {}", i, axis,
               shape_str(t.shape()));
  std::vector<int64_t> perm;
  perm.push_back(axis);
  for (int64_t d = 0; d < t.rank(); ++d)
    if (d != axis) perm.push_back(d);
  Tensor moved = t.permute(perm).contiguous();
  Shape elem(moved.shape().begin() + 1, moved.shape().end());
  const int64_t n = shape_numel(elem);
  Tensor out(t.dtype(), elem);
  if (t.dtype() == DType::string) {
    for (int64_t k = 0; k < n; ++k) out.data<std::string>()[k] = moved.data<std::string>()[i * n + k];
  } else if (n > 0) {
    std::memcpy(out.raw_data(), static_cast<const char*>(moved.raw_data()) + i * n * dtype_size(t.dtype()),
                n * dtype_size(t.dtype()));
  }
  return out;
}

// Moves axis 0 of `t` to position `axis`.
Tensor move_leading_axis(const Tensor& t, int64_t axis) {
  if (axis == 0) return t;
  std::vector<int64_t> perm;
  for (int64_t d = 1; d <= axis; ++d) perm.push_back(d);
  perm.push_back(0);
  for (int64_t d = axis + 1; d < t.rank(); ++d) perm.push_back(d);
  return t.permute(perm).contiguous();
}

// One Scan over inputs (states..., scans...) without a batch axis (opset 9+ semantics).
std::vector<Tensor> scan_once(KernelContext& ctx, const ir::Graph& body, const std::vector<Tensor>& states_in,
                              const std::vector<Tensor>& scan_in, size_t n_scan_out) {
  const size_t n_state = states_in.size();
  const size_t n_scan_in = scan_in.size();
  auto in_axes = ctx.attr_ints("scan_input_axes", std::vector<int64_t>(n_scan_in, 0));
  auto in_dirs = ctx.attr_ints("scan_input_directions", std::vector<int64_t>(n_scan_in, 0));
  auto out_axes = ctx.attr_ints("scan_output_axes", std::vector<int64_t>(n_scan_out, 0));
  auto out_dirs = ctx.attr_ints("scan_output_directions", std::vector<int64_t>(n_scan_out, 0));
  HWOPT_KCHECK(in_axes.size() == n_scan_in && in_dirs.size() == n_scan_in, "scan_input_axes/directions must have {} entries", n_scan_in);
  HWOPT_KCHECK(out_axes.size() == n_scan_out && out_dirs.size() == n_scan_out, "scan_output_axes/directions must have {} entries", n_scan_out);
  int64_t len = -1;
  std::vector<int64_t> axes(n_scan_in);
  for (size_t i = 0; i < n_scan_in; ++i) {
    HWOPT_KCHECK(scan_in[i].rank() >= 1, "scan input {} must have rank >= 1, got a scalar", i);
    axes[i] = normalize_axis(in_axes[i], scan_in[i].rank());
    int64_t l = scan_in[i].shape()[axes[i]];
    HWOPT_KCHECK(len < 0 || l == len, "scan inputs have different lengths ({} and {})", len, l);
    len = l;
  }
  HWOPT_KCHECK(n_scan_in > 0, "Scan needs at least one scan input");
  std::vector<Tensor> states = states_in;
  std::vector<std::vector<Tensor>> outs(n_scan_out);
  for (int64_t it = 0; it < len; ++it) {
    std::vector<RtValue> in;
    for (auto& s : states) in.push_back(RtValue::of(s));
    for (size_t i = 0; i < n_scan_in; ++i)
      in.push_back(RtValue::of(take_along(scan_in[i], axes[i], in_dirs[i] ? len - 1 - it : it)));
    auto out = ctx.run_subgraph(body, std::move(in));
    HWOPT_KCHECK(out.size() == n_state + n_scan_out, "body returned {} values, expected {}", out.size(), n_state + n_scan_out);
    for (size_t i = 0; i < n_state; ++i) {
      HWOPT_KCHECK(out[i].is_tensor(), "state output {} must be a tensor", i);
      states[i] = out[i].tensor;
    }
    for (size_t i = 0; i < n_scan_out; ++i) {
      HWOPT_KCHECK(out[n_state + i].is_tensor(), "scan output {} must be a tensor", i);
      outs[i].push_back(out[n_state + i].tensor);
    }
  }
  std::vector<Tensor> result = states;
  for (size_t i = 0; i < n_scan_out; ++i) {
    if (out_dirs[i]) std::reverse(outs[i].begin(), outs[i].end());
    DType dt = outs[i].empty() ? declared_dtype(body.outputs[n_state + i]) : outs[i][0].dtype();
    Tensor stacked = stack(outs[i], dt);
    result.push_back(move_leading_axis(stacked, normalize_axis(out_axes[i], stacked.rank())));
  }
  return result;
}

void ref_scan(KernelContext& ctx) {
  const ir::Graph* body = ctx.attr_graph("body");
  HWOPT_KCHECK(body != nullptr, "missing body attribute");
  const int64_t n_scan_in = ctx.attr_int("num_scan_inputs", -1);
  HWOPT_KCHECK(n_scan_in > 0, "num_scan_inputs must be positive");
  const bool has_seq_lens = ctx.opset() < 9;
  const size_t first = has_seq_lens ? 1 : 0;
  HWOPT_KCHECK(ctx.num_inputs() >= first + static_cast<size_t>(n_scan_in), "Scan has too few inputs");
  const size_t n_state = ctx.num_inputs() - first - n_scan_in;
  HWOPT_KCHECK(body->outputs.size() >= n_state, "body has too few outputs");
  const size_t n_scan_out = body->outputs.size() - n_state;
  if (!has_seq_lens) {
    std::vector<Tensor> states, scans;
    for (size_t i = 0; i < n_state; ++i) states.push_back(ctx.input(i));
    for (int64_t i = 0; i < n_scan_in; ++i) scans.push_back(ctx.input(n_state + i));
    auto res = scan_once(ctx, *body, states, scans, n_scan_out);
    for (size_t i = 0; i < res.size() && i < ctx.num_outputs(); ++i) ctx.set_output(i, res[i]);
    return;
  }
  // Opset 8: a leading batch axis on every input and output; optional sequence_lens.
  HWOPT_KCHECK(!ctx.has_input(0), "Scan-8 sequence_lens is not supported; omit it (full lengths)");
  const int64_t batch = ctx.input(first).shape().empty() ? 0 : ctx.input(first).shape()[0];
  std::vector<std::vector<Tensor>> per_batch;
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<Tensor> states, scans;
    for (size_t i = 0; i < n_state; ++i) states.push_back(take_along(ctx.input(first + i), 0, b));
    for (int64_t i = 0; i < n_scan_in; ++i) scans.push_back(take_along(ctx.input(first + n_state + i), 0, b));
    per_batch.push_back(scan_once(ctx, *body, states, scans, n_scan_out));
  }
  for (size_t o = 0; o < n_state + n_scan_out && o < ctx.num_outputs(); ++o) {
    std::vector<Tensor> parts;
    for (auto& pb : per_batch) parts.push_back(pb[o]);
    DType dt = parts.empty() ? declared_dtype(body->outputs[o]) : parts[0].dtype();
    ctx.set_output(o, stack(parts, dt));
  }
}

void ref_sequence_map(KernelContext& ctx) {
  const ir::Graph* body = ctx.attr_graph("body");
  HWOPT_KCHECK(body != nullptr, "missing body attribute");
  const auto& first = ctx.input_sequence(0);
  const size_t n = first.size();
  HWOPT_KCHECK(body->inputs.size() == ctx.num_inputs(), "body takes {} inputs but the node has {}", body->inputs.size(),
               ctx.num_inputs());
  for (size_t k = 1; k < ctx.num_inputs(); ++k) {
    const RtValue* v = ctx.input_value(k);
    HWOPT_KCHECK(v && !v->is_none(), "input {} is missing", k);
    if (v->is_sequence())
      HWOPT_KCHECK(v->sequence.size() == n, "sequence input {} has {} elements, input 0 has {}", k, v->sequence.size(), n);
  }
  std::vector<std::vector<Tensor>> outs(ctx.num_outputs());
  for (size_t i = 0; i < n; ++i) {
    std::vector<RtValue> in;
    in.push_back(RtValue::of(first[i]));
    for (size_t k = 1; k < ctx.num_inputs(); ++k) {
      const RtValue* v = ctx.input_value(k);
      in.push_back(v->is_sequence() ? RtValue::of(v->sequence[i]) : *v);
    }
    auto out = ctx.run_subgraph(*body, std::move(in));
    HWOPT_KCHECK(out.size() >= ctx.num_outputs(), "body returned {} values, expected {}", out.size(), ctx.num_outputs());
    for (size_t o = 0; o < ctx.num_outputs(); ++o) {
      HWOPT_KCHECK(out[o].is_tensor(), "body output {} must be a tensor", o);
      outs[o].push_back(out[o].tensor);
    }
  }
  for (size_t o = 0; o < ctx.num_outputs(); ++o)
    ctx.set_output_sequence(o, std::move(outs[o]), declared_dtype(body->outputs[o]));
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("If", "", 1, ref_if);
HWOPT_REGISTER_REF_KERNEL("Loop", "", 1, ref_loop);
HWOPT_REGISTER_REF_KERNEL("Scan", "", 8, ref_scan);
HWOPT_REGISTER_REF_KERNEL("SequenceMap", "", 17, ref_sequence_map);

}  // namespace hwopt::reference
