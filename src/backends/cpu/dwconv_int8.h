// Static INT8 3x3 depthwise convolution on channels-last (NHWC) u8/s8 activations: the CPU
// backend's own kernel for MobileNet-style depthwise layers, where oneDNN 2.6's depthwise INT8
// kernel runs at a fraction of what the memory and the VNNI units allow. Any stride and padding
// (TensorFlow's asymmetric "SAME" included), per-channel weight scales, bias, a clamp
// activation (ReLU, ReLU6/Clip) and a u8, s8 or FP32 destination (int8_output.h).
#pragma once

#include <cstdint>
#include <vector>

#include "backends/cpu/int8_output.h"

namespace hwopt::cpu {

struct DwConvInt8 {
  using Dst = Int8Dst;
  int64_t batch = 0, channels = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int64_t stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;  // dilation 1
  bool src_signed = false;                                        // s8 source, else u8
  Dst dst = Dst::u8;
  /// A u8 source runs the column kernel where the CPU has AVX-512 VBMI (else the one an s8
  /// source runs); false forces the latter (the tests cover both).
  bool column_kernel = true;

  /// Fills the tables below from s8 weights [C, 1, 3, 3] (row-major), their per-channel scales,
  /// the source's scale, the bias (nullptr: none), the activation's clamp on real values
  /// (-inf/inf: none) and the destination's scale (ignored for FP32).
  void prepare(const int8_t* w, const float* w_scales, float src_scale, const float* bias_values, float act_lo,
               float act_hi, float dst_scale);

  /// Per tap (ky * 3 + kx), per channel padded to 16: the s8 weight as a 16-bit integer in the
  /// low half of 32 bits, the upper half 0.
  int64_t channels_padded = 0;
  std::vector<int32_t> weights;
  /// The same weights for the u8 source kernel (VBMI): per block of 16 channels, per column kx,
  /// each channel's 4 bytes [row 0, row 1, row 2, 0] as vpdpbusd multiplies them.
  std::vector<int8_t> column_weights;
  Int8Output out;  // from the accumulator to the destination
};

/// True if the vectorized kernel can run here (AVX-512 F/BW/VL and VNNI).
bool dwconv_int8_fast_available();
/// Runs the convolution: src [batch, in_h, in_w, channels] u8/s8, dst [batch, out_h, out_w,
/// channels] u8/s8/f32, both densely packed. Parallel over output rows (OpenMP) unless
/// `parallel` is false. Uses the vectorized kernel when available, else the scalar one.
void dwconv3x3_int8(const DwConvInt8& p, const void* src, void* dst, bool parallel = true);
/// Output rows r0 .. r1 - 1 counted over the batch (row r is image r / out_h's row r % out_h) on
/// the calling thread, with `src` holding the source from its row src_row0 on (also counted over
/// the batch): the rows the outputs read must be there. `dst` is the whole destination.
void dwconv3x3_int8_rows(const DwConvInt8& p, const void* src, int64_t src_row0, void* dst, int64_t r0, int64_t r1);
/// The scalar kernel (the vectorized one is tested against it).
void dwconv3x3_int8_scalar(const DwConvInt8& p, const void* src, void* dst);

}  // namespace hwopt::cpu
