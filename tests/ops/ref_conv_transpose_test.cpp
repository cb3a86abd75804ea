// Tests for ConvTranspose: hand-computed outputs, output_shape/auto_pad pads, and the adjoint identity with Conv.
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::attr_ints;
using testing::attr_s;
using testing::run_ref_op;

std::vector<float> random_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.1f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = (rng() & 1 ? 1.0f : -1.0f) * u(rng);
  return v;
}

TEST(RefConvTranspose, HandComputed) {
  // The ONNX doc example: x = 0..8 (3x3), W = ones (1x2x3x3) -> 5x5 sums of overlapping windows.
  std::vector<float> xv(9);
  for (int i = 0; i < 9; ++i) xv[i] = static_cast<float>(i);
  Tensor x = Tensor::from_vector<float>({1, 1, 3, 3}, xv);
  Tensor w = Tensor::from_vector<float>({1, 2, 3, 3}, std::vector<float>(18, 1.0f));
  auto r = run_ref_op("ConvTranspose", {x, w}, {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const std::vector<double> plane{0,  1,  3, 3,  2,  3,  8,  15, 12, 7,  9,  21, 36,
                                  27, 15, 9, 20, 33, 24, 13, 6,  13, 21, 15, 8};
  std::vector<double> expected = plane;
  expected.insert(expected.end(), plane.begin(), plane.end());
  testing::expect_tensor_near(r.out(), {1, 2, 5, 5}, expected);

  // 1-D with stride 2, bias, and pads trimming one element on each side.
  Tensor x1 = Tensor::from_vector<float>({1, 1, 3}, {1, 2, 3});
  Tensor w1 = Tensor::from_vector<float>({1, 1, 3}, {1, 10, 100});
  Tensor b1 = Tensor::from_vector<float>({1}, {0.5f});
  r = run_ref_op("ConvTranspose", {x1, w1, b1}, {attr_ints("strides", {2})}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  // full: positions 0..6: 1, 10, 100+2, 20, 200+3, 30, 300
  testing::expect_tensor_near(r.out(), {1, 1, 7}, {1.5, 10.5, 102.5, 20.5, 203.5, 30.5, 300.5});
  r = run_ref_op("ConvTranspose", {x1, w1}, {attr_ints("strides", {2}), attr_ints("pads", {1, 1})}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 5}, {10, 102, 20, 203, 30});
  // output_padding adds a zero column at the end (no bias).
  r = run_ref_op("ConvTranspose", {x1, w1}, {attr_ints("strides", {2}), attr_ints("output_padding", {1})}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 8}, {1, 10, 102, 20, 203, 30, 300, 0});
  // Dilation 2: taps at 0, 2, 4 from each input position.
  r = run_ref_op("ConvTranspose", {x1, w1}, {attr_ints("dilations", {2})}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 7}, {1, 2, 13, 20, 130, 200, 300});
}

TEST(RefConvTranspose, OutputShapeAndAutoPad) {
  Tensor x1 = Tensor::from_vector<float>({1, 1, 3}, {1, 2, 3});
  Tensor w1 = Tensor::from_vector<float>({1, 1, 3}, {1, 10, 100});
  // Full output has 7 values; output_shape 5 -> total padding 2 split 1/1.
  auto r = run_ref_op("ConvTranspose", {x1, w1}, {attr_ints("strides", {2}), attr_ints("output_shape", {5})}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 5}, {10, 102, 20, 203, 30});
  // SAME_UPPER: out = 3*2 = 6, total padding 1 goes to the end; SAME_LOWER: to the beginning.
  r = run_ref_op("ConvTranspose", {x1, w1}, {attr_ints("strides", {2}), attr_s("auto_pad", "SAME_UPPER")}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 6}, {1, 10, 102, 20, 203, 30});
  r = run_ref_op("ConvTranspose", {x1, w1}, {attr_ints("strides", {2}), attr_s("auto_pad", "SAME_LOWER")}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 6}, {10, 102, 20, 203, 30, 300});
  // output_shape larger than the full output: zeros appended at the end.
  r = run_ref_op("ConvTranspose", {x1, w1}, {attr_ints("strides", {2}), attr_ints("output_shape", {8})}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 8}, {1, 10, 102, 20, 203, 30, 300, 0});
}

/// <ConvTranspose(x, W), y> == <x, Conv(y, W)> for the same strides/dilations/pads/group.
void check_adjoint(Shape xs, Shape ws, int64_t group, std::vector<int64_t> strides, std::vector<int64_t> dilations,
                   std::vector<int64_t> pads, std::vector<int64_t> out_pad, uint32_t seed) {
  auto xv = random_values(static_cast<size_t>(shape_numel(xs)), seed);
  auto wv = random_values(static_cast<size_t>(shape_numel(ws)), seed + 1);
  Tensor x = Tensor::from_vector<float>(xs, xv), w = Tensor::from_vector<float>(ws, wv);
  std::vector<ir::Attribute> attrs{attr_i("group", group), attr_ints("strides", strides),
                                   attr_ints("dilations", dilations), attr_ints("pads", pads)};
  auto t_attrs = attrs;
  t_attrs.push_back(attr_ints("output_padding", out_pad));
  auto rt = run_ref_op("ConvTranspose", {x, w}, t_attrs, 11);
  ASSERT_TRUE(rt.error.empty()) << rt.error;
  const Tensor& yt = rt.out();
  ASSERT_EQ(yt.dim(1), ws[1] * group);
  auto yv = random_values(static_cast<size_t>(yt.numel()), seed + 2);
  Tensor y = Tensor::from_vector<float>(yt.shape(), yv);
  auto rc = run_ref_op("Conv", {y, w}, attrs, 11);
  ASSERT_TRUE(rc.error.empty()) << rc.error;
  ASSERT_EQ(rc.out().shape(), xs);
  double lhs = 0, rhs = 0;
  for (int64_t i = 0; i < yt.numel(); ++i) lhs += yt.element_as_double(i) * yv[i];
  for (int64_t i = 0; i < x.numel(); ++i) rhs += rc.out().element_as_double(i) * xv[i];
  EXPECT_NEAR(lhs, rhs, 1e-4 * (1 + std::fabs(lhs)));
}

TEST(RefConvTranspose, AdjointOfConv) {
  check_adjoint({2, 3, 5}, {3, 2, 3}, 1, {2}, {1}, {1, 0}, {1}, 1);
  check_adjoint({1, 4, 4, 3}, {4, 1, 3, 2}, 2, {2, 3}, {1, 2}, {1, 0, 0, 1}, {1, 2}, 2);
  check_adjoint({1, 2, 3, 2, 2}, {2, 3, 2, 2, 3}, 1, {1, 2, 1}, {1, 1, 2}, {0, 1, 0, 0, 0, 1}, {0, 1, 0}, 3);
  check_adjoint({2, 4, 4, 4}, {4, 1, 3, 3}, 4, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0, 0}, 4);  // depthwise
}

TEST(RefConvTranspose, RejectsBadInput) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 3}, random_values(18, 5));
  Tensor w = Tensor::from_vector<float>({3, 1, 2, 2}, random_values(12, 6));
  auto r = run_ref_op("ConvTranspose", {x, w}, {}, 11);
  EXPECT_NE(r.error.find("W dim 0"), std::string::npos) << r.error;
  Tensor w2 = Tensor::from_vector<float>({2, 1, 2, 2}, random_values(8, 6));
  r = run_ref_op("ConvTranspose", {x, w2}, {attr_ints("output_padding", {1})}, 11);
  EXPECT_NE(r.error.find("output_padding"), std::string::npos) << r.error;
  r = run_ref_op("ConvTranspose", {x, w2}, {attr_ints("pads", {3, 3, 3, 3})}, 11);
  EXPECT_NE(r.error.find("exceed"), std::string::npos) << r.error;
  r = run_ref_op("ConvTranspose", {x, w2}, {attr_i("group", 3)}, 11);
  EXPECT_NE(r.error.find("group"), std::string::npos) << r.error;
  Tensor b = Tensor::from_vector<float>({2}, {1, 2});
  r = run_ref_op("ConvTranspose", {x, w2, b}, {}, 11);
  EXPECT_NE(r.error.find("B must have shape [1]"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
