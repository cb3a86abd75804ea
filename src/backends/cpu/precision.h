// What reduced precision a CPU kernel runs in, decided once per node when the plan is made:
// storage types of its source, weights and destination, and for INT8 the quantization scales
// taken from the calibrated ranges (SessionOptions::activation_ranges).
#pragma once

#include <dnnl.hpp>

#include <string>
#include <vector>

#include "backends/backend.h"

namespace hwopt::cpu {

/// Levels of a symmetric INT8 range: u8 holds [0, 255] for non-negative values, s8 [-127, 127].
constexpr float kU8Levels = 255.f;
constexpr float kS8Levels = 127.f;
/// The smallest per-channel weight scale quantize_per_channel gives; channels whose largest
/// weight is below kMinWeightScale x 127 are quantized as all zeros.
constexpr float kMinWeightScale = 1e-14f;

/// How one activation is stored as INT8: type and scale (value = scale × integer).
struct QuantType {
  dnnl::memory::data_type dt = dnnl::memory::data_type::f32;
  float scale = 0.f;  // 0: not quantized
};
/// The INT8 storage of a value with calibrated range `r` (u8 when r.min >= 0, else s8).
QuantType quant_type_of(const ActivationRange& r);

/// The storage types and scales of a Conv/Gemm/MatMul node at the session's precision.
struct KernelPrecision {
  using dt = dnnl::memory::data_type;
  dt src = dt::f32, weights = dt::f32, dst = dt::f32;
  float src_scale = 0.f;  // INT8: scale of the quantized source
  float dst_scale = 0.f;  // INT8 destination: its scale; 0 for a float destination
  bool dynamic = false;   // INT8 with the source's scale computed per run (src_scale unused)
  bool int8() const { return weights == dt::s8; }
  bool bf16() const { return weights == dt::bf16; }
  /// "", "bf16" or "int8(u8->s8)": part of the implementation name shown in profiles.
  std::string label() const;
};

/// The precision of a node reading its activation from input 0 and writing output 0.
/// `int8_consumer` says whether a node reading the output can take it quantized. A node at
/// int8 without a calibrated input range, or kept in FP32, runs FP32. Precision "int8-dynamic"
/// gives `dynamic_ok` callers (inner products) a dynamic INT8 precision and the others FP32.
KernelPrecision choose_precision(const NodeContext& nc, bool (*int8_consumer)(const NodeContext&, const ir::Node&),
                                 bool dynamic_ok = false);

/// True if the output of the node may stay BF16 for all its readers (they are ops that read
/// oneDNN layouts and are not precision-sensitive: convolutions, pooling, ReLU/Clip, Add, Concat).
bool bf16_output_ok(const NodeContext& nc, const std::string& value);

/// Symmetric per-output-channel INT8 weights: `w` [O, ...] as s8 with scale[o] = max|w[o]| / 127.
struct QuantizedWeights {
  Tensor values;               // int8, the shape of `w`
  std::vector<float> scales;   // one per output channel (1 where a channel is all zeros or dead)
};
QuantizedWeights quantize_per_channel(const Tensor& w);

}  // namespace hwopt::cpu
