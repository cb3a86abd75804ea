// Tests for QuantizeLinear, DequantizeLinear (per-tensor, per-axis, blocked) and DynamicQuantizeLinear.
#include <cmath>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::run_ref_op;

TEST(RefQuantizeLinear, PerTensorRoundingAndSaturation) {
  Tensor x = Tensor::from_vector<float>({8}, {0, 2, 3, 1000, -254, 2.5f, -3.5f, 5});
  auto r = run_ref_op("QuantizeLinear", {x, Tensor::scalar<float>(2.0f), Tensor::scalar<uint8_t>(128)}, {}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::uint8);
  // x/2 = 0, 1, 1.5->2, 500->sat, -127, 1.25->1, -1.75->-2, 2.5->2 (half to even)
  testing::expect_tensor_near(r.out(), {8}, {128, 129, 130, 255, 1, 129, 126, 130});
  r = run_ref_op("QuantizeLinear", {x, Tensor::scalar<float>(2.0f), Tensor::scalar<int8_t>(-1)}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int8);
  testing::expect_tensor_near(r.out(), {8}, {-1, 0, 1, 127, -128, 0, -3, 1});
  // No zero point: uint8 with zero point 0.
  r = run_ref_op("QuantizeLinear", {x, Tensor::scalar<float>(2.0f)}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::uint8);
  testing::expect_tensor_near(r.out(), {8}, {0, 1, 2, 255, 0, 1, 0, 2});
  // int32 input.
  Tensor xi = Tensor::from_vector<int32_t>({3}, {7, -7, 300});
  r = run_ref_op("QuantizeLinear", {xi, Tensor::scalar<float>(2.0f), Tensor::scalar<int8_t>(0)}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3}, {4, -4, 127});
}

TEST(RefQuantizeLinear, PerAxisBlockedAndOpset21Types) {
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor s = Tensor::from_vector<float>({3}, {1, 2, 4});
  Tensor z = Tensor::from_vector<uint8_t>({3}, {0, 10, 20});
  auto r = run_ref_op("QuantizeLinear", {x, s, z}, {attr_i("axis", 1)}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3}, {1, 11, 21, 4, 12, 22});
  Tensor s0 = Tensor::from_vector<float>({2}, {1, 0.5f});
  r = run_ref_op("QuantizeLinear", {x, s0}, {attr_i("axis", 0)}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3}, {1, 2, 3, 8, 10, 12});
  // Blocked (opset 21): axis 1 blocks of 2 -> scale [2, 2].
  Tensor sb = Tensor::from_vector<float>({2, 2}, {1, 3, 2, 6});
  r = run_ref_op("QuantizeLinear", {x, sb, Tensor::from_vector<int16_t>({2, 2}, {0, 0, -100, 100})},
                 {attr_i("axis", 1), attr_i("block_size", 2)}, 21);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int16);
  testing::expect_tensor_near(r.out(), {2, 3}, {1, 2, 1, -98, -98, 101});
  // output_dtype without a zero point.
  r = run_ref_op("QuantizeLinear", {x, Tensor::scalar<float>(0.001f)}, {attr_i("output_dtype", 4)}, 21);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::uint16);
  testing::expect_tensor_near(r.out(), {2, 3}, {1000, 2000, 3000, 4000, 5000, 6000});
}

TEST(RefQuantizeLinear, RejectsBadParameters) {
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto r = run_ref_op("QuantizeLinear", {x, Tensor::from_vector<float>({2}, {1, 1})}, {attr_i("axis", 1)}, 13);
  EXPECT_NE(r.error.find("y_scale must be a scalar or a 1-D tensor of 3 values"), std::string::npos) << r.error;
  r = run_ref_op("QuantizeLinear", {x, Tensor::from_vector<float>({3}, {1, 1, 1})}, {}, 10);
  EXPECT_NE(r.error.find("before opset 13"), std::string::npos) << r.error;
  r = run_ref_op("QuantizeLinear", {x, Tensor::from_vector<float>({3}, {1, 1, 1})}, {attr_i("axis", 2)}, 13);
  EXPECT_NE(r.error.find("axis 2 is out of range"), std::string::npos) << r.error;
  r = run_ref_op("QuantizeLinear", {x, Tensor::scalar<float>(1.0f), Tensor::scalar<int32_t>(0)}, {}, 13);
  EXPECT_NE(r.error.find("not supported"), std::string::npos) << r.error;
  r = run_ref_op("QuantizeLinear", {x, Tensor::from_vector<float>({2, 1}, {1, 1})},
                 {attr_i("axis", 1), attr_i("block_size", 2)}, 21);
  EXPECT_NE(r.error.find("blocked y_scale"), std::string::npos) << r.error;
}

TEST(RefDequantizeLinear, PerTensorPerAxisAndTypes) {
  Tensor x = Tensor::from_vector<uint8_t>({4}, {0, 3, 128, 255});
  auto r = run_ref_op("DequantizeLinear", {x, Tensor::scalar<float>(2.0f), Tensor::scalar<uint8_t>(128)}, {}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float32);
  testing::expect_tensor_near(r.out(), {4}, {-256, -250, 0, 254});
  Tensor xi = Tensor::from_vector<int32_t>({2}, {-1000, 7});
  r = run_ref_op("DequantizeLinear", {xi, Tensor::scalar<float>(0.5f)}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2}, {-500, 3.5});
  Tensor x2 = Tensor::from_vector<int8_t>({1, 2, 2}, {-4, 4, 10, -10});
  r = run_ref_op("DequantizeLinear",
                 {x2, Tensor::from_vector<float>({2}, {0.5f, 2}), Tensor::from_vector<int8_t>({2}, {0, -2})}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 2, 2}, {-2, 2, 24, -16});
  // Opset 19: the output takes the scale's type.
  r = run_ref_op("DequantizeLinear", {x, Tensor::scalar<Half>(Half(0.5f))}, {}, 19);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float16);
  testing::expect_tensor_near(r.out(), {4}, {0, 1.5, 64, 127.5});
  // Blocked along axis 0 with block 2 on a dim of 3 (last block short).
  Tensor x3 = Tensor::from_vector<int16_t>({3, 1}, {10, 20, 30});
  r = run_ref_op("DequantizeLinear", {x3, Tensor::from_vector<float>({2, 1}, {0.1f, 10})},
                 {attr_i("axis", 0), attr_i("block_size", 2)}, 21);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 1}, {1, 2, 300});
  r = run_ref_op("DequantizeLinear", {x, Tensor::scalar<float>(1.0f), Tensor::scalar<int8_t>(0)}, {}, 13);
  EXPECT_NE(r.error.find("x_zero_point dtype int8 must match x dtype uint8"), std::string::npos) << r.error;
  r = run_ref_op("DequantizeLinear", {Tensor::from_vector<float>({1}, {1}), Tensor::scalar<float>(1.0f)}, {}, 13);
  EXPECT_NE(r.error.find("input x must be"), std::string::npos) << r.error;
}

TEST(RefDynamicQuantizeLinear, ScaleZeroPointAndValues) {
  Tensor x = Tensor::from_vector<float>({6}, {0, 2, -3, -2.5f, 1.34f, 0.5f});
  auto r = run_ref_op("DynamicQuantizeLinear", {x}, {}, 11, 3);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const float scale = (2.0f - -3.0f) / 255.0f;
  const float zp = std::nearbyint(3.0f / scale);  // 153
  testing::expect_tensor_near(r.out(1), {}, {scale}, 0, 1e-7);
  testing::expect_tensor_near(r.out(2), {}, {zp});
  std::vector<double> expected;
  for (float v : {0.0f, 2.0f, -3.0f, -2.5f, 1.34f, 0.5f})
    expected.push_back(std::min(255.0f, std::max(0.0f, std::nearbyint(v / scale) + zp)));
  testing::expect_tensor_near(r.out(0), {6}, expected);
  // All-positive input: the range is extended to include 0, so the zero point is 0.
  r = run_ref_op("DynamicQuantizeLinear", {Tensor::from_vector<float>({2}, {1, 51})}, {}, 11, 3);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {2}, {5, 255});
  testing::expect_tensor_near(r.out(2), {}, {0});
  // All zeros: scale 0 and everything 0, no division by zero.
  r = run_ref_op("DynamicQuantizeLinear", {Tensor::from_vector<float>({2}, {0, 0})}, {}, 11, 3);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {2}, {0, 0});
  r = run_ref_op("DynamicQuantizeLinear", {Tensor::from_vector<double>({1}, {1})}, {}, 11, 3);
  EXPECT_NE(r.error.find("must be float32"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
