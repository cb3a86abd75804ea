// Recurrent layers RNN, GRU, LSTM (directions, sequence_lens, states, peepholes, activations, clip, layout).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

// ---- activation functions ----

struct Activation {
  std::string name;  // lower-case
  double alpha = 0;
  double beta = 0;

  double operator()(double x) const {
    if (name == "tanh") return std::tanh(x);
    if (name == "sigmoid") return 1.0 / (1.0 + std::exp(-x));
    if (name == "relu") return std::max(0.0, x);
    if (name == "affine") return alpha * x + beta;
    if (name == "leakyrelu") return x >= 0 ? x : alpha * x;
    if (name == "thresholdedrelu") return x > alpha ? x : 0.0;
    if (name == "scaledtanh") return alpha * std::tanh(beta * x);
    if (name == "hardsigmoid") return std::min(1.0, std::max(0.0, alpha * x + beta));
    if (name == "elu") return x >= 0 ? x : alpha * (std::exp(x) - 1.0);
    if (name == "softsign") return x / (1.0 + std::fabs(x));
    if (name == "softplus") return std::log1p(std::exp(-std::fabs(x))) + std::max(x, 0.0);
    return x;  // unreachable: names are validated in make_activation
  }
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Builds one activation, taking its alpha/beta (only for functions that use them) from the
// attribute lists in order, or the ONNX operator's default when the lists run out.
Activation make_activation(const std::string& raw_name, const std::vector<float>& alphas, size_t& ai,
                           const std::vector<float>& betas, size_t& bi) {
  Activation a;
  a.name = lower(raw_name);
  auto take = [](const std::vector<float>& v, size_t& i, double def) {
    return i < v.size() ? static_cast<double>(v[i++]) : def;
  };
  if (a.name == "tanh" || a.name == "sigmoid" || a.name == "relu" || a.name == "softsign" ||
      a.name == "softplus") {
    return a;
  }
  if (a.name == "leakyrelu") {
    a.alpha = take(alphas, ai, 0.01);
  } else if (a.name == "thresholdedrelu" || a.name == "elu") {
    a.alpha = take(alphas, ai, 1.0);
  } else if (a.name == "hardsigmoid") {
    a.alpha = take(alphas, ai, 0.2);
    a.beta = take(betas, bi, 0.5);
  } else if (a.name == "affine") {
    a.alpha = take(alphas, ai, 1.0);
    a.beta = take(betas, bi, 0.0);
  } else if (a.name == "scaledtanh") {
    a.alpha = take(alphas, ai, 1.0);
    a.beta = take(betas, bi, 1.0);
  } else {
    HWOPT_KCHECK(false, "attribute 'activations': unknown activation function '{}'", raw_name);
  }
  return a;
}

// Activations per direction: result[d][k] is the k-th function (f, g, h) of direction d.
std::vector<std::vector<Activation>> parse_activations(const KernelContext& ctx,
                                                       const std::vector<std::string>& defaults,
                                                       int64_t num_dir) {
  const size_t n = defaults.size();
  std::vector<std::string> names = ctx.attr_strings("activations", {});
  if (names.empty()) {
    for (int64_t d = 0; d < num_dir; ++d) names.insert(names.end(), defaults.begin(), defaults.end());
  } else if (num_dir == 2 && names.size() == n) {
    std::vector<std::string> twice = names;
    twice.insert(twice.end(), names.begin(), names.end());
    names = twice;
  }
  HWOPT_KCHECK(names.size() == n * static_cast<size_t>(num_dir),
               "attribute 'activations' has {} entries, expected {} ({} per direction)", names.size(),
               n * static_cast<size_t>(num_dir), n);
  std::vector<float> alphas = ctx.attr_floats("activation_alpha", {});
  std::vector<float> betas = ctx.attr_floats("activation_beta", {});
  size_t ai = 0, bi = 0;
  std::vector<std::vector<Activation>> acts(static_cast<size_t>(num_dir));
  for (int64_t d = 0; d < num_dir; ++d) {
    for (size_t k = 0; k < n; ++k) acts[d].push_back(make_activation(names[d * n + k], alphas, ai, betas, bi));
  }
  return acts;
}

// ---- shared setup ----

std::vector<double> read_doubles(const Tensor& t) { return to_double_vector(t); }

void write_doubles(Tensor& t, const std::vector<double>& v) {
  visit_float(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if constexpr (std::is_same_v<T, double>) {
        p[i] = v[i];
      } else {
        p[i] = T(static_cast<float>(v[i]));
      }
    }
  });
}

// Everything the three ops share: parsed shapes, attributes and inputs in layout-0 order.
struct RnnSetup {
  int64_t seq = 0, batch = 0, input = 0, hidden = 0, num_dir = 1;
  int64_t layout = 0;
  std::string direction;
  bool has_clip = false;
  double clip = 0;
  DType dtype = DType::undefined;
  std::vector<double> x;        // [seq, batch, input]
  std::vector<double> w;        // [num_dir, gates*hidden, input]
  std::vector<double> r;        // [num_dir, gates*hidden, hidden]
  std::vector<double> b;        // [num_dir, 2*gates*hidden] (zeros if absent)
  std::vector<int64_t> lens;    // [batch]
  std::vector<double> h0;       // [num_dir, batch, hidden]
  std::vector<double> c0;       // LSTM only: [num_dir, batch, hidden]

  double clipped(double v) const { return has_clip ? std::min(clip, std::max(-clip, v)) : v; }
  bool reversed(int64_t d) const { return direction == "reverse" || d == 1; }
};

// Reads a [num_dir, batch, hidden] state (or [batch, num_dir, hidden] in layout 1) into layout 0.
std::vector<double> read_state(const KernelContext& ctx, size_t idx, const char* name, const RnnSetup& s) {
  std::vector<double> out(static_cast<size_t>(s.num_dir * s.batch * s.hidden), 0.0);
  if (!ctx.has_input(idx)) return out;
  const Tensor& t = ctx.input(idx);
  Shape want = s.layout == 0 ? Shape{s.num_dir, s.batch, s.hidden} : Shape{s.batch, s.num_dir, s.hidden};
  HWOPT_KCHECK(t.shape() == want, "input '{}' has shape {}, expected {}", name, shape_str(t.shape()),
               shape_str(want));
  HWOPT_KCHECK(t.dtype() == s.dtype, "input '{}' has dtype {}, expected {}", name, dtype_name(t.dtype()),
               dtype_name(s.dtype));
  std::vector<double> v = read_doubles(t);
  for (int64_t d = 0; d < s.num_dir; ++d)
    for (int64_t b = 0; b < s.batch; ++b)
      for (int64_t h = 0; h < s.hidden; ++h) {
        int64_t src = s.layout == 0 ? (d * s.batch + b) * s.hidden + h : (b * s.num_dir + d) * s.hidden + h;
        out[(d * s.batch + b) * s.hidden + h] = v[src];
      }
  return out;
}

RnnSetup setup(const KernelContext& ctx, int64_t gates, const char* op) {
  RnnSetup s;
  const Tensor& X = ctx.input(0);
  const Tensor& W = ctx.input(1);
  const Tensor& R = ctx.input(2);
  s.dtype = X.dtype();
  HWOPT_KCHECK(dtype_is_float(s.dtype), "{}: input 'X' must be a float tensor, got {}", op, dtype_name(s.dtype));
  HWOPT_KCHECK(W.dtype() == s.dtype && R.dtype() == s.dtype, "{}: 'W' and 'R' must have the dtype of 'X' ({})",
               op, dtype_name(s.dtype));
  s.layout = ctx.opset() >= 14 ? ctx.attr_int("layout", 0) : 0;
  HWOPT_KCHECK(s.layout == 0 || s.layout == 1, "attribute 'layout' must be 0 or 1, got {}", s.layout);
  HWOPT_KCHECK(X.rank() == 3, "input 'X' must have rank 3, got shape {}", shape_str(X.shape()));
  s.seq = s.layout == 0 ? X.dim(0) : X.dim(1);
  s.batch = s.layout == 0 ? X.dim(1) : X.dim(0);
  s.input = X.dim(2);
  s.direction = ctx.attr_string("direction", "forward");
  HWOPT_KCHECK(s.direction == "forward" || s.direction == "reverse" || s.direction == "bidirectional",
               "attribute 'direction' must be forward, reverse or bidirectional, got '{}'", s.direction);
  s.num_dir = s.direction == "bidirectional" ? 2 : 1;
  HWOPT_KCHECK(R.rank() == 3, "input 'R' must have rank 3, got shape {}", shape_str(R.shape()));
  s.hidden = ctx.has_attr("hidden_size") ? ctx.attr_int("hidden_size", 0) : R.dim(2);
  HWOPT_KCHECK(s.hidden > 0, "attribute 'hidden_size' must be positive, got {}", s.hidden);
  Shape w_shape{s.num_dir, gates * s.hidden, s.input};
  Shape r_shape{s.num_dir, gates * s.hidden, s.hidden};
  HWOPT_KCHECK(W.shape() == w_shape, "input 'W' has shape {}, expected {}", shape_str(W.shape()), shape_str(w_shape));
  HWOPT_KCHECK(R.shape() == r_shape, "input 'R' has shape {}, expected {}", shape_str(R.shape()), shape_str(r_shape));
  s.has_clip = ctx.has_attr("clip");
  s.clip = ctx.attr_float("clip", 0.f);
  HWOPT_KCHECK(!s.has_clip || s.clip >= 0, "attribute 'clip' must be non-negative, got {}", s.clip);

  // Input data, converted to layout 0: [seq, batch, input].
  std::vector<double> xv = read_doubles(X);
  s.x.assign(xv.size(), 0.0);
  for (int64_t t = 0; t < s.seq; ++t)
    for (int64_t b = 0; b < s.batch; ++b)
      for (int64_t i = 0; i < s.input; ++i) {
        int64_t src = s.layout == 0 ? (t * s.batch + b) * s.input + i : (b * s.seq + t) * s.input + i;
        s.x[(t * s.batch + b) * s.input + i] = xv[src];
      }
  s.w = read_doubles(W);
  s.r = read_doubles(R);
  if (ctx.has_input(3)) {
    const Tensor& B = ctx.input(3);
    Shape b_shape{s.num_dir, 2 * gates * s.hidden};
    HWOPT_KCHECK(B.shape() == b_shape, "input 'B' has shape {}, expected {}", shape_str(B.shape()), shape_str(b_shape));
    HWOPT_KCHECK(B.dtype() == s.dtype, "input 'B' has dtype {}, expected {}", dtype_name(B.dtype()), dtype_name(s.dtype));
    s.b = read_doubles(B);
  } else {
    s.b.assign(static_cast<size_t>(s.num_dir * 2 * gates * s.hidden), 0.0);
  }
  if (ctx.has_input(4)) {
    const Tensor& L = ctx.input(4);
    HWOPT_KCHECK(L.rank() == 1 && L.dim(0) == s.batch, "input 'sequence_lens' has shape {}, expected [{}]",
                 shape_str(L.shape()), s.batch);
    s.lens = to_int64_vector(L);
    for (int64_t b = 0; b < s.batch; ++b)
      HWOPT_KCHECK(s.lens[b] >= 0 && s.lens[b] <= s.seq, "sequence_lens[{}] = {} is outside [0, {}]", b, s.lens[b],
                   s.seq);
  } else {
    s.lens.assign(static_cast<size_t>(s.batch), s.seq);
  }
  s.h0 = read_state(ctx, 5, "initial_h", s);
  return s;
}

// Y / Y_h / Y_c writers (hidden results are kept in layout 0 and permuted here).
void write_y(KernelContext& ctx, size_t idx, const RnnSetup& s, const std::vector<double>& y) {
  if (!ctx.wants_output(idx)) return;
  Shape shape = s.layout == 0 ? Shape{s.seq, s.num_dir, s.batch, s.hidden} : Shape{s.batch, s.seq, s.num_dir, s.hidden};
  std::vector<double> out(y.size(), 0.0);
  for (int64_t t = 0; t < s.seq; ++t)
    for (int64_t d = 0; d < s.num_dir; ++d)
      for (int64_t b = 0; b < s.batch; ++b)
        for (int64_t h = 0; h < s.hidden; ++h) {
          int64_t src = ((t * s.num_dir + d) * s.batch + b) * s.hidden + h;
          int64_t dst = s.layout == 0 ? src : ((b * s.seq + t) * s.num_dir + d) * s.hidden + h;
          out[dst] = y[src];
        }
  write_doubles(ctx.allocate_output(idx, s.dtype, shape), out);
}

void write_state(KernelContext& ctx, size_t idx, const RnnSetup& s, const std::vector<double>& st) {
  if (!ctx.wants_output(idx)) return;
  Shape shape = s.layout == 0 ? Shape{s.num_dir, s.batch, s.hidden} : Shape{s.batch, s.num_dir, s.hidden};
  std::vector<double> out(st.size(), 0.0);
  for (int64_t d = 0; d < s.num_dir; ++d)
    for (int64_t b = 0; b < s.batch; ++b)
      for (int64_t h = 0; h < s.hidden; ++h) {
        int64_t src = (d * s.batch + b) * s.hidden + h;
        int64_t dst = s.layout == 0 ? src : (b * s.num_dir + d) * s.hidden + h;
        out[dst] = st[src];
      }
  write_doubles(ctx.allocate_output(idx, s.dtype, shape), out);
}

// Pre-activation of gate row `row` (0 <= row < gates*hidden) for direction d:
// x_t * W[row]^T + h * R[row]^T + Wb[row] + Rb[row]. `with_rb` = false leaves out the R part.
struct GateInputs {
  const RnnSetup& s;
  int64_t gates;
  double wx(int64_t d, int64_t row, const double* x) const {
    const double* w = &s.w[(d * gates * s.hidden + row) * s.input];
    double acc = s.b[d * 2 * gates * s.hidden + row];  // Wb
    for (int64_t i = 0; i < s.input; ++i) acc += x[i] * w[i];
    return acc;
  }
  double rh(int64_t d, int64_t row, const double* h) const {
    const double* r = &s.r[(d * gates * s.hidden + row) * s.hidden];
    double acc = s.b[d * 2 * gates * s.hidden + gates * s.hidden + row];  // Rb
    for (int64_t i = 0; i < s.hidden; ++i) acc += h[i] * r[i];
    return acc;
  }
};

// ---- RNN ----

void ref_rnn(KernelContext& ctx) {
  RnnSetup s = setup(ctx, 1, "RNN");
  auto acts = parse_activations(ctx, {"Tanh"}, s.num_dir);
  GateInputs gi{s, 1};
  const int64_t H = s.hidden;
  std::vector<double> y(static_cast<size_t>(s.seq * s.num_dir * s.batch * H), 0.0);
  std::vector<double> yh = s.h0;
  for (int64_t d = 0; d < s.num_dir; ++d) {
    for (int64_t b = 0; b < s.batch; ++b) {
      std::vector<double> h(&s.h0[(d * s.batch + b) * H], &s.h0[(d * s.batch + b) * H] + H);
      for (int64_t step = 0; step < s.lens[b]; ++step) {
        int64_t t = s.reversed(d) ? s.lens[b] - 1 - step : step;
        const double* x = &s.x[(t * s.batch + b) * s.input];
        std::vector<double> hn(static_cast<size_t>(H));
        for (int64_t j = 0; j < H; ++j) hn[j] = acts[d][0](s.clipped(gi.wx(d, j, x) + gi.rh(d, j, h.data())));
        h = hn;
        std::copy(h.begin(), h.end(), &y[((t * s.num_dir + d) * s.batch + b) * H]);
      }
      std::copy(h.begin(), h.end(), &yh[(d * s.batch + b) * H]);
    }
  }
  write_y(ctx, 0, s, y);
  write_state(ctx, 1, s, yh);
}

// ---- GRU (gates z, r, h) ----

void ref_gru(KernelContext& ctx) {
  RnnSetup s = setup(ctx, 3, "GRU");
  auto acts = parse_activations(ctx, {"Sigmoid", "Tanh"}, s.num_dir);
  const bool linear_before_reset = ctx.attr_int("linear_before_reset", 0) != 0;
  GateInputs gi{s, 3};
  const int64_t H = s.hidden;
  std::vector<double> y(static_cast<size_t>(s.seq * s.num_dir * s.batch * H), 0.0);
  std::vector<double> yh = s.h0;
  for (int64_t d = 0; d < s.num_dir; ++d) {
    const Activation& f = acts[d][0];
    const Activation& g = acts[d][1];
    for (int64_t b = 0; b < s.batch; ++b) {
      std::vector<double> h(&s.h0[(d * s.batch + b) * H], &s.h0[(d * s.batch + b) * H] + H);
      for (int64_t step = 0; step < s.lens[b]; ++step) {
        int64_t t = s.reversed(d) ? s.lens[b] - 1 - step : step;
        const double* x = &s.x[(t * s.batch + b) * s.input];
        std::vector<double> z(H), r(H), rh(H), hn(H);
        for (int64_t j = 0; j < H; ++j) {
          z[j] = f(s.clipped(gi.wx(d, j, x) + gi.rh(d, j, h.data())));
          r[j] = f(s.clipped(gi.wx(d, H + j, x) + gi.rh(d, H + j, h.data())));
          rh[j] = r[j] * h[j];
        }
        for (int64_t j = 0; j < H; ++j) {
          double pre;
          if (linear_before_reset) {
            pre = gi.wx(d, 2 * H + j, x) + r[j] * gi.rh(d, 2 * H + j, h.data());
          } else {
            pre = gi.wx(d, 2 * H + j, x) + gi.rh(d, 2 * H + j, rh.data());
          }
          double ht = g(s.clipped(pre));
          hn[j] = (1.0 - z[j]) * ht + z[j] * h[j];
        }
        h = hn;
        std::copy(h.begin(), h.end(), &y[((t * s.num_dir + d) * s.batch + b) * H]);
      }
      std::copy(h.begin(), h.end(), &yh[(d * s.batch + b) * H]);
    }
  }
  write_y(ctx, 0, s, y);
  write_state(ctx, 1, s, yh);
}

// ---- LSTM (gates i, o, f, c; peepholes i, o, f) ----

void ref_lstm(KernelContext& ctx) {
  RnnSetup s = setup(ctx, 4, "LSTM");
  s.c0 = read_state(ctx, 6, "initial_c", s);
  auto acts = parse_activations(ctx, {"Sigmoid", "Tanh", "Tanh"}, s.num_dir);
  const bool input_forget = ctx.attr_int("input_forget", 0) != 0;
  const int64_t H = s.hidden;
  std::vector<double> p(static_cast<size_t>(s.num_dir * 3 * H), 0.0);
  if (ctx.has_input(7)) {
    const Tensor& P = ctx.input(7);
    Shape p_shape{s.num_dir, 3 * H};
    HWOPT_KCHECK(P.shape() == p_shape, "input 'P' has shape {}, expected {}", shape_str(P.shape()), shape_str(p_shape));
    HWOPT_KCHECK(P.dtype() == s.dtype, "input 'P' has dtype {}, expected {}", dtype_name(P.dtype()), dtype_name(s.dtype));
    p = read_doubles(P);
  }
  GateInputs gi{s, 4};
  std::vector<double> y(static_cast<size_t>(s.seq * s.num_dir * s.batch * H), 0.0);
  std::vector<double> yh = s.h0;
  std::vector<double> yc = s.c0;
  for (int64_t d = 0; d < s.num_dir; ++d) {
    const Activation& f = acts[d][0];
    const Activation& g = acts[d][1];
    const Activation& hact = acts[d][2];
    const double* pi = &p[d * 3 * H];
    const double* po = pi + H;
    const double* pf = pi + 2 * H;
    for (int64_t b = 0; b < s.batch; ++b) {
      std::vector<double> h(&s.h0[(d * s.batch + b) * H], &s.h0[(d * s.batch + b) * H] + H);
      std::vector<double> c(&s.c0[(d * s.batch + b) * H], &s.c0[(d * s.batch + b) * H] + H);
      for (int64_t step = 0; step < s.lens[b]; ++step) {
        int64_t t = s.reversed(d) ? s.lens[b] - 1 - step : step;
        const double* x = &s.x[(t * s.batch + b) * s.input];
        std::vector<double> hn(H), cn(H);
        for (int64_t j = 0; j < H; ++j) {
          auto pre = [&](int64_t gate) { return gi.wx(d, gate * H + j, x) + gi.rh(d, gate * H + j, h.data()); };
          double it = f(s.clipped(pre(0) + pi[j] * c[j]));
          double ft = input_forget ? 1.0 - it : f(s.clipped(pre(2) + pf[j] * c[j]));
          double ct = g(s.clipped(pre(3)));
          cn[j] = ft * c[j] + it * ct;
          double ot = f(s.clipped(pre(1) + po[j] * cn[j]));
          hn[j] = ot * hact(cn[j]);
        }
        h = hn;
        c = cn;
        std::copy(h.begin(), h.end(), &y[((t * s.num_dir + d) * s.batch + b) * H]);
      }
      std::copy(h.begin(), h.end(), &yh[(d * s.batch + b) * H]);
      std::copy(c.begin(), c.end(), &yc[(d * s.batch + b) * H]);
    }
  }
  write_y(ctx, 0, s, y);
  write_state(ctx, 1, s, yh);
  write_state(ctx, 2, s, yc);
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("RNN", "", 1, ref_rnn);
HWOPT_REGISTER_REF_KERNEL("GRU", "", 1, ref_gru);
HWOPT_REGISTER_REF_KERNEL("LSTM", "", 1, ref_lstm);

}  // namespace hwopt::reference
