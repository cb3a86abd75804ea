// Signal processing: DFT (opset 17 and 20), STFT, Blackman/Hamming/Hann windows, MelWeightMatrix.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "backends/reference/registry.h"
#include "backends/reference/util.h"

namespace hwopt::reference {
namespace {

constexpr double kPi = std::numbers::pi;

// Writes doubles into a tensor of any numeric dtype (float types via float, integers truncated).
void write_doubles(Tensor& t, const std::vector<double>& v) {
  visit_numeric(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
        p[i] = T(static_cast<float>(v[i]));
      } else {
        p[i] = static_cast<T>(v[i]);
      }
    }
  });
}

// A scalar (or one-element) integer input.
int64_t scalar_int(const Tensor& t, const char* name) {
  HWOPT_KCHECK(t.numel() == 1, "input '{}' must be a scalar, got shape {}", name, shape_str(t.shape()));
  HWOPT_KCHECK(t.dtype() == DType::int32 || t.dtype() == DType::int64, "input '{}' must be int32 or int64, got {}",
               name, dtype_name(t.dtype()));
  return to_int64_vector(t)[0];
}

double scalar_float(const Tensor& t, const char* name) {
  HWOPT_KCHECK(t.numel() == 1, "input '{}' must be a scalar, got shape {}", name, shape_str(t.shape()));
  HWOPT_KCHECK(dtype_is_float(t.dtype()), "input '{}' must be a float type, got {}", name, dtype_name(t.dtype()));
  return to_double_vector(t)[0];
}

DType output_datatype(const KernelContext& ctx) {
  int64_t dt = ctx.attr_int("output_datatype", 1);
  HWOPT_KCHECK(dtype_is_known(static_cast<int32_t>(dt)) && (dtype_is_float(static_cast<DType>(dt)) ||
                                                          dtype_is_integer(static_cast<DType>(dt))),
               "attribute 'output_datatype' = {} is not a numeric data type", dt);
  return static_cast<DType>(dt);
}

// One-dimensional DFT of n_in complex samples (zero-padded or truncated to n), returning the first
// `out_len` bins. inverse: e^{+2 pi i k m / n} / n.
void dft_1d(const std::vector<double>& re, const std::vector<double>& im, int64_t n, bool inverse, int64_t out_len,
            std::vector<double>& out_re, std::vector<double>& out_im) {
  const int64_t n_in = std::min<int64_t>(static_cast<int64_t>(re.size()), n);
  const double sign = inverse ? 1.0 : -1.0;
  out_re.assign(static_cast<size_t>(out_len), 0.0);
  out_im.assign(static_cast<size_t>(out_len), 0.0);
  for (int64_t k = 0; k < out_len; ++k) {
    double sr = 0, si = 0;
    for (int64_t m = 0; m < n_in; ++m) {
      // (k*m) mod n keeps the angle small and exact.
      double angle = sign * 2.0 * kPi * static_cast<double>((k * m) % n) / static_cast<double>(n);
      double c = std::cos(angle), s = std::sin(angle);
      sr += re[m] * c - im[m] * s;
      si += re[m] * s + im[m] * c;
    }
    if (inverse) {
      sr /= static_cast<double>(n);
      si /= static_cast<double>(n);
    }
    out_re[k] = sr;
    out_im[k] = si;
  }
}

// ---- DFT ----

void ref_dft(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  HWOPT_KCHECK(dtype_is_float(x.dtype()), "input 'input' must be a float tensor, got {}", dtype_name(x.dtype()));
  const int64_t r = x.rank();
  HWOPT_KCHECK(r >= 2, "input 'input' must have rank >= 2 (signal dims and a last dim of 1 or 2), got shape {}",
               shape_str(x.shape()));
  const int64_t comp = x.dim(r - 1);
  HWOPT_KCHECK(comp == 1 || comp == 2, "the last dim of input 'input' must be 1 (real) or 2 (complex), got {}", comp);

  int64_t axis;
  if (ctx.opset() >= 20) {
    axis = ctx.has_input(2) ? scalar_int(ctx.input(2), "axis") : -2;
  } else {
    axis = ctx.attr_int("axis", 1);
  }
  const int64_t a = axis < 0 ? axis + r : axis;
  HWOPT_KCHECK(a >= 0 && a <= r - 2, "DFT axis {} is out of range for input rank {} (the last dim is not an axis)",
               axis, r);
  const int64_t n_in = x.dim(a);
  int64_t n = n_in;
  if (ctx.has_input(1)) {
    n = scalar_int(ctx.input(1), "dft_length");
    HWOPT_KCHECK(n > 0, "input 'dft_length' must be positive, got {}", n);
  }
  HWOPT_KCHECK(n > 0, "DFT axis {} has length 0", a);
  const bool inverse = ctx.attr_int("inverse", 0) != 0;
  const bool onesided = ctx.attr_int("onesided", 0) != 0;
  const int64_t out_len = onesided ? n / 2 + 1 : n;

  Shape out_shape = x.shape();
  out_shape[a] = out_len;
  out_shape[r - 1] = 2;
  const int64_t outer = dims_product(x.shape(), 0, a);
  const int64_t inner = dims_product(x.shape(), a + 1, r - 1);
  Tensor& y = ctx.allocate_output(0, x.dtype(), out_shape);
  std::vector<double> in = to_double_vector(x);
  std::vector<double> out(static_cast<size_t>(y.numel()), 0.0);
  std::vector<double> re(static_cast<size_t>(n_in)), im(static_cast<size_t>(n_in)), ore, oim;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      for (int64_t m = 0; m < n_in; ++m) {
        int64_t base = ((o * n_in + m) * inner + i) * comp;
        re[m] = in[base];
        im[m] = comp == 2 ? in[base + 1] : 0.0;
      }
      dft_1d(re, im, n, inverse, out_len, ore, oim);
      for (int64_t k = 0; k < out_len; ++k) {
        int64_t base = ((o * out_len + k) * inner + i) * 2;
        out[base] = ore[k];
        out[base + 1] = oim[k];
      }
    }
  }
  write_doubles(y, out);
}

// ---- STFT ----

void ref_stft(KernelContext& ctx) {
  const Tensor& signal = ctx.input(0);
  HWOPT_KCHECK(dtype_is_float(signal.dtype()), "input 'signal' must be a float tensor, got {}",
               dtype_name(signal.dtype()));
  HWOPT_KCHECK(signal.rank() == 3 && (signal.dim(2) == 1 || signal.dim(2) == 2),
               "input 'signal' must have shape [batch, signal_length, 1 or 2], got {}", shape_str(signal.shape()));
  const int64_t batch = signal.dim(0), length = signal.dim(1), comp = signal.dim(2);
  const int64_t step = scalar_int(ctx.input(1), "frame_step");
  HWOPT_KCHECK(step > 0, "input 'frame_step' must be positive, got {}", step);

  std::vector<double> window;
  int64_t frame_length = -1;
  if (ctx.has_input(2)) {
    const Tensor& w = ctx.input(2);
    HWOPT_KCHECK(w.rank() == 1, "input 'window' must be 1-D, got shape {}", shape_str(w.shape()));
    HWOPT_KCHECK(dtype_is_float(w.dtype()), "input 'window' must be a float tensor, got {}", dtype_name(w.dtype()));
    window = to_double_vector(w);
    frame_length = w.dim(0);
  }
  if (ctx.has_input(3)) {
    int64_t fl = scalar_int(ctx.input(3), "frame_length");
    HWOPT_KCHECK(frame_length < 0 || fl == frame_length,
                 "input 'frame_length' ({}) does not match the length of 'window' ({})", fl, frame_length);
    frame_length = fl;
  }
  HWOPT_KCHECK(frame_length >= 0, "STFT needs input 'window' or input 'frame_length'");
  HWOPT_KCHECK(frame_length > 0 && frame_length <= length,
               "frame length {} must be in [1, signal_length = {}]", frame_length, length);
  if (window.empty()) window.assign(static_cast<size_t>(frame_length), 1.0);

  const bool onesided = ctx.attr_int("onesided", 1) != 0;
  const int64_t bins = onesided ? frame_length / 2 + 1 : frame_length;
  const int64_t frames = (length - frame_length) / step + 1;
  Tensor& y = ctx.allocate_output(0, signal.dtype(), {batch, frames, bins, 2});
  std::vector<double> in = to_double_vector(signal);
  std::vector<double> out(static_cast<size_t>(y.numel()), 0.0);
  std::vector<double> re(static_cast<size_t>(frame_length)), im(static_cast<size_t>(frame_length)), ore, oim;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t f = 0; f < frames; ++f) {
      for (int64_t m = 0; m < frame_length; ++m) {
        int64_t base = (b * length + f * step + m) * comp;
        re[m] = in[base] * window[m];
        im[m] = comp == 2 ? in[base + 1] * window[m] : 0.0;
      }
      dft_1d(re, im, frame_length, false, bins, ore, oim);
      for (int64_t k = 0; k < bins; ++k) {
        int64_t base = ((b * frames + f) * bins + k) * 2;
        out[base] = ore[k];
        out[base + 1] = oim[k];
      }
    }
  }
  write_doubles(y, out);
}

// ---- windows: w[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), N = size (periodic) or size - 1 ----

void cosine_window(KernelContext& ctx, double a0, double a1, double a2) {
  const int64_t size = scalar_int(ctx.input(0), "size");
  HWOPT_KCHECK(size >= 0, "input 'size' must be non-negative, got {}", size);
  const bool periodic = ctx.attr_int("periodic", 1) != 0;
  const DType dt = output_datatype(ctx);
  const double denom = static_cast<double>(periodic ? size : size - 1);
  Tensor& out = ctx.allocate_output(0, dt, {size});
  std::vector<double> w(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) {
    if (denom == 0) {
      w[i] = 1.0;  // symmetric window of length 1 (0/0 in the formula): a single 1, as numpy does
      continue;
    }
    double t = 2.0 * kPi * static_cast<double>(i) / denom;
    w[i] = a0 - a1 * std::cos(t) + a2 * std::cos(2.0 * t);
  }
  write_doubles(out, w);
}

void ref_hann_window(KernelContext& ctx) { cosine_window(ctx, 0.5, 0.5, 0.0); }
void ref_hamming_window(KernelContext& ctx) { cosine_window(ctx, 25.0 / 46.0, 21.0 / 46.0, 0.0); }
void ref_blackman_window(KernelContext& ctx) { cosine_window(ctx, 0.42, 0.5, 0.08); }

// ---- MelWeightMatrix (the ONNX definition: triangular filters on mel-spaced FFT bin indices) ----

void ref_mel_weight_matrix(KernelContext& ctx) {
  const int64_t num_mel_bins = scalar_int(ctx.input(0), "num_mel_bins");
  const int64_t dft_length = scalar_int(ctx.input(1), "dft_length");
  const int64_t sample_rate = scalar_int(ctx.input(2), "sample_rate");
  const double lower = scalar_float(ctx.input(3), "lower_edge_hertz");
  const double upper = scalar_float(ctx.input(4), "upper_edge_hertz");
  HWOPT_KCHECK(num_mel_bins > 0, "input 'num_mel_bins' must be positive, got {}", num_mel_bins);
  HWOPT_KCHECK(dft_length > 0, "input 'dft_length' must be positive, got {}", dft_length);
  HWOPT_KCHECK(sample_rate > 0, "input 'sample_rate' must be positive, got {}", sample_rate);
  HWOPT_KCHECK(lower >= 0 && upper >= lower, "need 0 <= lower_edge_hertz ({}) <= upper_edge_hertz ({})", lower,
               upper);
  const DType dt = output_datatype(ctx);
  const int64_t spec_bins = dft_length / 2 + 1;
  Tensor& y = ctx.allocate_output(0, dt, {spec_bins, num_mel_bins});

  const double low_mel = 2595.0 * std::log10(1.0 + lower / 700.0);
  const double high_mel = 2595.0 * std::log10(1.0 + upper / 700.0);
  const double mel_step = (high_mel - low_mel) / static_cast<double>(num_mel_bins + 2);
  std::vector<int64_t> fbin(static_cast<size_t>(num_mel_bins + 2));
  for (int64_t i = 0; i < num_mel_bins + 2; ++i) {
    double hz = 700.0 * (std::pow(10.0, (static_cast<double>(i) * mel_step + low_mel) / 2595.0) - 1.0);
    double bin = std::floor(static_cast<double>(dft_length + 1) * hz / static_cast<double>(sample_rate));
    HWOPT_KCHECK(std::isfinite(bin) && std::fabs(bin) < 1e15,
                 "upper_edge_hertz {} gives an FFT bin index out of range", upper);
    fbin[i] = static_cast<int64_t>(bin);
  }
  std::vector<double> out(static_cast<size_t>(y.numel()), 0.0);
  auto set = [&](int64_t row, int64_t col, double v) {
    if (row >= 0 && row < spec_bins) out[row * num_mel_bins + col] = v;  // bins past Nyquist are dropped
  };
  for (int64_t i = 0; i < num_mel_bins; ++i) {
    const int64_t left = fbin[i], center = fbin[i + 1], right = fbin[i + 2];
    const int64_t low_to_center = center - left;
    if (low_to_center == 0) {
      set(center, i, 1.0);
    } else {
      for (int64_t j = std::max<int64_t>(left, 0); j <= std::min(center, spec_bins - 1); ++j)
        set(j, i, static_cast<double>(j - left) / static_cast<double>(low_to_center));
    }
    const int64_t center_to_high = right - center;
    if (center_to_high > 0) {
      for (int64_t j = std::max<int64_t>(center, 0); j < std::min(right, spec_bins); ++j)
        set(j, i, static_cast<double>(right - j) / static_cast<double>(center_to_high));
    }
  }
  write_doubles(y, out);
}

}  // namespace

HWOPT_REGISTER_REF_KERNEL("DFT", "", 17, ref_dft);
HWOPT_REGISTER_REF_KERNEL("STFT", "", 17, ref_stft);
HWOPT_REGISTER_REF_KERNEL("HannWindow", "", 17, ref_hann_window);
HWOPT_REGISTER_REF_KERNEL("HammingWindow", "", 17, ref_hamming_window);
HWOPT_REGISTER_REF_KERNEL("BlackmanWindow", "", 17, ref_blackman_window);
HWOPT_REGISTER_REF_KERNEL("MelWeightMatrix", "", 17, ref_mel_weight_matrix);

}  // namespace hwopt::reference
