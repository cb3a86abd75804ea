// Static INT8 1x1 (pointwise) convolution of channels-last u8/s8 pixels into u8/s8 outputs: the
// own kernel for the expansion half of the CPU backend's INT8 FusedConvDepthwise (conv.cpp), where
// few input channels (MobileNetV2: 16 to 64) make oneDNN's kernel spend most of its time in its
// output stage. Per-channel weight scales, bias, a clamp activation; the output stage is one
// multiply-add per value, the clamp, and a pack of 64 outputs at a time (int8_output.h's
// arithmetic).
#pragma once

#include <cstdint>
#include <vector>

#include "backends/cpu/int8_output.h"

namespace hwopt::cpu {

struct PointwiseInt8 {
  int64_t in_channels = 0, out_channels = 0;  // K, M
  bool src_signed = false;                    // s8 source, else u8
  Int8Dst dst = Int8Dst::u8;                  // u8 or s8

  /// True if the vectorized kernel takes these channel counts (K a multiple of 4) and the CPU
  /// has AVX-512 VNNI; otherwise pointwise_int8 runs the scalar kernel.
  bool vectorized() const;

  /// Fills the tables below from s8 weights [M, K] (row-major), their per-channel scales, the
  /// source's scale, the bias (nullptr: none), the activation's clamp on real values (-inf/inf:
  /// none) and the destination's scale. The fields above are set first.
  void prepare(const int8_t* w, const float* w_scales, float src_scale, const float* bias_values, float act_lo,
               float act_hi, float dst_scale);

  std::vector<int8_t> weights;  // [M, K] as given (the scalar kernel)
  /// For vpdpbusd: per group of 4 input channels g, per output channel m (padded to a multiple
  /// of 16 with zero weights), its 4 weights [K/4][M16][4].
  std::vector<int8_t> packed;
  Int8Output out;
  /// An s8 source is read as u8 (x + 128) by vpdpbusd: the shifts with 128 x sum of the
  /// channel's weights taken out.
  std::vector<float> shift_u8;
  /// The clamp is the destination's whole integer range, which the output stage's saturating
  /// packs apply anyway (ReLU6 into a u8 intermediate whose scale is 6 / 255 or finer).
  bool clamp_by_packing = false;
};

/// `pixels` pixels: src [pixels, K], dst [pixels, M], densely packed, on the calling thread.
void pointwise_int8(const PointwiseInt8& p, const void* src, void* dst, int64_t pixels);
/// The scalar kernel (the vectorized one is tested against it).
void pointwise_int8_scalar(const PointwiseInt8& p, const void* src, void* dst, int64_t pixels);

}  // namespace hwopt::cpu
