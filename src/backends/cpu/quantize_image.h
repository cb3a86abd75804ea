// The first INT8 convolution's input: a plain FP32 batch of 3-channel images (NCHW) quantized
// into the channels-last u8/s8 its INT8 kernel reads, in one vectorized pass. oneDNN 2.6's
// reorder does it element by element (a twentieth of the batch's time on MobileNetV2 at INT8).
#pragma once

#include <cstdint>

namespace hwopt::cpu {

/// True if quantize_image3 can run here (AVX-512 with VBMI for the byte interleave).
bool quantize_image3_available();
/// dst[n, h, w, c] = saturate(round_nearest_even(src[n, c, h, w] * factor)) for 3 channels; u8
/// (signed = false) or s8. Parallel over image rows (OpenMP).
void quantize_image3(const float* src, int64_t batch, int64_t height, int64_t width, float factor, bool is_signed,
                     void* dst);

}  // namespace hwopt::cpu
