// The image quantization of a first INT8 convolution's input (backends/cpu/quantize_image.h)
// against oneDNN's reorder, which it replaces: NCHW FP32 to channels-last u8/s8, byte for byte.
#include <cmath>
#include <random>

#include "backends/cpu/onednn.h"
#include "backends/cpu/quantize_image.h"
#include "op_test_util.h"

namespace hwopt {
namespace {

// oneDNN's reorder with an output scale: what convert_to did before the vectorized pass.
std::vector<uint8_t> onednn_quantize(const Tensor& x, dnnl::memory::data_type dt, float factor) {
  const dnnl::memory::desc src = cpu::plain_desc(x.shape(), DType::float32);
  const dnnl::memory::desc dst(cpu::to_dims(x.shape()), dt, dnnl::memory::format_tag::nhwc);
  std::vector<uint8_t> out(static_cast<size_t>(x.numel()));
  dnnl::memory s(src, cpu::engine(), const_cast<void*>(x.raw_data())), d(dst, cpu::engine(), out.data());
  dnnl::primitive_attr attr;
  attr.set_output_scales(0, {factor});
  dnnl::reorder(dnnl::reorder::primitive_desc(s, d, attr)).execute(cpu::stream(), s, d);
  cpu::stream().wait();
  return out;
}

TEST(CpuQuantizeImage, MatchesOnednnReorderByteForByte) {
  if (!cpu::quantize_image3_available()) GTEST_SKIP() << "no AVX-512 VBMI here: oneDNN's reorder runs";
  const std::vector<Shape> shapes = {{1, 3, 1, 1}, {2, 3, 5, 15}, {1, 3, 4, 16}, {3, 3, 7, 17}, {1, 3, 224, 224},
                                     {2, 3, 13, 47}};
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-3.f, 3.f);
  for (const Shape& shape : shapes)
    for (bool is_signed : {false, true}) {
      Tensor x(DType::float32, shape);
      for (int64_t i = 0; i < x.numel(); ++i) {
        float v = u(rng);
        if (i % 7 == 0) v = std::round(v * 40.f) / 40.f + 0.0125f;  // exact ties at factor 40: x.5
        x.data<float>()[i] = v;
      }
      const float factor = 40.f;  // |x| up to 3 -> 120: both ends of u8 and s8 saturate
      std::vector<uint8_t> got(static_cast<size_t>(x.numel()));
      cpu::quantize_image3(x.data<float>(), shape[0], shape[2], shape[3], factor, is_signed, got.data());
      const auto want = onednn_quantize(x, is_signed ? dnnl::memory::data_type::s8 : dnnl::memory::data_type::u8, factor);
      EXPECT_TRUE(got == want) << shape_str(shape) << (is_signed ? " s8" : " u8");
    }
}

// convert_to of a plain image batch into channels-last u8: the layout, the scale and the values.
TEST(CpuQuantizeImage, ConvertToQuantizesPlainImagesIntoChannelsLast) {
  Tensor x = testing::random_tensor({2, 3, 9, 20}, 3);
  const dnnl::memory::desc nhwc(cpu::to_dims(x.shape()), dnnl::memory::data_type::u8, dnnl::memory::format_tag::nhwc);
  const float scale = 1.f / 255.f;
  const Tensor q = cpu::convert_to(x, nhwc, scale);
  EXPECT_EQ(cpu::quant_scale_of(q), scale);
  EXPECT_TRUE(cpu::desc_of(q) == nhwc);
  const Tensor back = q.to_plain();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float v = x.data<float>()[i];
    EXPECT_NEAR(back.data<float>()[i], std::min(std::max(v, 0.f), 1.f), scale / 2 + 1e-6) << i;
  }
}

}  // namespace
}  // namespace hwopt
