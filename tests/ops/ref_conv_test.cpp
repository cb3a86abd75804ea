// Tests for Conv, ConvInteger and QLinearConv against hand-computed values and a naive 3-D loop.
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

struct ConvCase {
  int64_t N, C, M, group;
  Shape in, kernel;  // spatial, 1 to 3 dims
  std::vector<int64_t> strides, dilations, pads;
};

/// Independent naive convolution: every case is lifted to 3 spatial dims (leading 1s) and padded explicitly.
std::vector<double> naive_conv(const ConvCase& c, const std::vector<float>& x, const std::vector<float>& w,
                               const std::vector<float>& b, Shape& out) {
  const size_t n = c.in.size(), lift = 3 - n;
  int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, pb[3] = {0, 0, 0}, pe[3] = {0, 0, 0};
  int64_t o[3];
  for (size_t i = 0; i < n; ++i) {
    in[lift + i] = c.in[i];
    k[lift + i] = c.kernel[i];
    s[lift + i] = c.strides[i];
    d[lift + i] = c.dilations[i];
    pb[lift + i] = c.pads[i];
    pe[lift + i] = c.pads[i + n];
  }
  // Explicitly padded input.
  int64_t P[3];
  for (int i = 0; i < 3; ++i) P[i] = in[i] + pb[i] + pe[i];
  std::vector<double> xp(static_cast<size_t>(c.N * c.C * P[0] * P[1] * P[2]), 0.0);
  for (int64_t nc = 0; nc < c.N * c.C; ++nc)
    for (int64_t z = 0; z < in[0]; ++z)
      for (int64_t y = 0; y < in[1]; ++y)
        for (int64_t q = 0; q < in[2]; ++q)
          xp[((nc * P[0] + z + pb[0]) * P[1] + y + pb[1]) * P[2] + q + pb[2]] =
              x[((nc * in[0] + z) * in[1] + y) * in[2] + q];
  for (int i = 0; i < 3; ++i) o[i] = (P[i] - (k[i] - 1) * d[i] - 1) / s[i] + 1;
  out = {c.N, c.M};
  for (size_t i = 0; i < n; ++i) out.push_back(o[lift + i]);
  const int64_t cg = c.C / c.group, mg = c.M / c.group;
  std::vector<double> y(static_cast<size_t>(c.N * c.M * o[0] * o[1] * o[2]), 0.0);
  for (int64_t bn = 0; bn < c.N; ++bn)
    for (int64_t m = 0; m < c.M; ++m)
      for (int64_t oz = 0; oz < o[0]; ++oz)
        for (int64_t oy = 0; oy < o[1]; ++oy)
          for (int64_t ox = 0; ox < o[2]; ++ox) {
            double acc = b.empty() ? 0.0 : b[m];
            for (int64_t cc = 0; cc < cg; ++cc) {
              const int64_t ch = (m / mg) * cg + cc;
              for (int64_t kz = 0; kz < k[0]; ++kz)
                for (int64_t ky = 0; ky < k[1]; ++ky)
                  for (int64_t kx = 0; kx < k[2]; ++kx) {
                    const int64_t iz = oz * s[0] + kz * d[0], iy = oy * s[1] + ky * d[1], ix = ox * s[2] + kx * d[2];
                    acc += xp[(((bn * c.C + ch) * P[0] + iz) * P[1] + iy) * P[2] + ix] *
                           w[(((m * cg + cc) * k[0] + kz) * k[1] + ky) * k[2] + kx];
                  }
            }
            y[(((bn * c.M + m) * o[0] + oz) * o[1] + oy) * o[2] + ox] = acc;
          }
  return y;
}

void check_conv(const ConvCase& c, bool with_bias, uint32_t seed) {
  Shape xs{c.N, c.C}, ws{c.M, c.C / c.group};
  xs.insert(xs.end(), c.in.begin(), c.in.end());
  ws.insert(ws.end(), c.kernel.begin(), c.kernel.end());
  auto xv = random_values(static_cast<size_t>(shape_numel(xs)), seed);
  auto wv = random_values(static_cast<size_t>(shape_numel(ws)), seed + 1);
  std::vector<float> bv = with_bias ? random_values(static_cast<size_t>(c.M), seed + 2) : std::vector<float>{};
  Shape out;
  auto expected = naive_conv(c, xv, wv, bv, out);
  std::vector<Tensor> inputs{Tensor::from_vector<float>(xs, xv), Tensor::from_vector<float>(ws, wv)};
  if (with_bias) inputs.push_back(Tensor::from_vector<float>({c.M}, bv));
  auto r = run_ref_op("Conv", inputs,
                      {attr_i("group", c.group), attr_ints("strides", c.strides), attr_ints("dilations", c.dilations),
                       attr_ints("pads", c.pads), attr_ints("kernel_shape", c.kernel)},
                      11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), out, expected, 1e-5, 1e-5);
}

TEST(RefConv, HandComputed2D) {
  Tensor x = Tensor::from_vector<float>({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor w = Tensor::from_vector<float>({1, 1, 2, 2}, {1, 1, 1, 1});
  auto r = run_ref_op("Conv", {x, w});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 2, 2}, {12, 16, 24, 28});
  // With padding 1 all round and a bias of 0.5.
  Tensor b = Tensor::from_vector<float>({1}, {0.5f});
  r = run_ref_op("Conv", {x, w, b}, {attr_ints("pads", {1, 1, 1, 1})});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 4, 4},
                              {1.5, 3.5, 5.5, 3.5, 5.5, 12.5, 16.5, 9.5, 11.5, 24.5, 28.5, 15.5, 7.5, 15.5, 17.5, 9.5});
}

TEST(RefConv, MatchesNaiveLoopAcrossShapes) {
  check_conv({1, 1, 1, 1, {7}, {3}, {1}, {1}, {0, 0}}, false, 1);
  check_conv({2, 3, 4, 1, {9}, {2}, {2}, {3}, {1, 2}}, true, 2);
  check_conv({2, 4, 6, 2, {7, 6}, {3, 2}, {2, 1}, {1, 2}, {1, 0, 2, 1}}, true, 3);
  check_conv({1, 4, 4, 4, {5, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}}, true, 4);  // depthwise
  check_conv({1, 2, 3, 1, {4, 5, 3}, {2, 3, 2}, {1, 2, 1}, {1, 1, 2}, {0, 1, 1, 1, 0, 0}}, true, 5);
  check_conv({3, 6, 3, 3, {6, 6}, {1, 1}, {2, 2}, {1, 1}, {0, 0, 0, 0}}, false, 6);  // 1x1, grouped
}

TEST(RefConv, AutoPad) {
  // SAME_UPPER: 5 -> ceil(5/2)=3 with total pad 2 (1+1); SAME_LOWER with even kernel 2: total pad 1 goes first.
  auto xv = random_values(25, 7);
  auto wv = random_values(9, 8);
  Tensor x = Tensor::from_vector<float>({1, 1, 5, 5}, xv);
  Tensor w = Tensor::from_vector<float>({1, 1, 3, 3}, wv);
  auto r = run_ref_op("Conv", {x, w}, {attr_s("auto_pad", "SAME_UPPER"), attr_ints("strides", {2, 2})});
  ASSERT_TRUE(r.error.empty()) << r.error;
  Shape out;
  auto expected = naive_conv({1, 1, 1, 1, {5, 5}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}}, xv, wv, {}, out);
  testing::expect_tensor_near(r.out(), out, expected);

  Tensor w2 = Tensor::from_vector<float>({1, 1, 2, 2}, {wv[0], wv[1], wv[2], wv[3]});
  std::vector<float> w2v{wv[0], wv[1], wv[2], wv[3]};
  r = run_ref_op("Conv", {x, w2}, {attr_s("auto_pad", "SAME_LOWER")});
  ASSERT_TRUE(r.error.empty()) << r.error;
  expected = naive_conv({1, 1, 1, 1, {5, 5}, {2, 2}, {1, 1}, {1, 1}, {1, 1, 0, 0}}, xv, w2v, {}, out);
  testing::expect_tensor_near(r.out(), out, expected);
  r = run_ref_op("Conv", {x, w2}, {attr_s("auto_pad", "SAME_UPPER")});
  ASSERT_TRUE(r.error.empty()) << r.error;
  expected = naive_conv({1, 1, 1, 1, {5, 5}, {2, 2}, {1, 1}, {1, 1}, {0, 0, 1, 1}}, xv, w2v, {}, out);
  testing::expect_tensor_near(r.out(), out, expected);

  r = run_ref_op("Conv", {x, w}, {attr_s("auto_pad", "VALID"), attr_ints("strides", {2, 2})});
  ASSERT_TRUE(r.error.empty()) << r.error;
  expected = naive_conv({1, 1, 1, 1, {5, 5}, {3, 3}, {2, 2}, {1, 1}, {0, 0, 0, 0}}, xv, wv, {}, out);
  testing::expect_tensor_near(r.out(), out, expected);
}

TEST(RefConv, Float16ComputesThroughFloat) {
  Tensor x = Tensor::from_vector<Half>({1, 1, 1, 3}, {Half(1.5f), Half(-2.0f), Half(0.25f)});
  Tensor w = Tensor::from_vector<Half>({2, 1, 1, 2}, {Half(1.0f), Half(2.0f), Half(-1.0f), Half(0.5f)});
  auto r = run_ref_op("Conv", {x, w});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float16);
  testing::expect_tensor_near(r.out(), {1, 2, 1, 2}, {-2.5, -1.5, -2.5, 2.125});
}

TEST(RefConv, RejectsBadShapesAndAttributes) {
  Tensor x = Tensor::from_vector<float>({1, 4, 5, 5}, random_values(100, 9));
  Tensor w = Tensor::from_vector<float>({2, 3, 3, 3}, random_values(54, 10));
  auto r = run_ref_op("Conv", {x, w});
  EXPECT_NE(r.error.find("W dim 1"), std::string::npos) << r.error;
  Tensor w2 = Tensor::from_vector<float>({3, 2, 3, 3}, random_values(54, 10));
  r = run_ref_op("Conv", {x, w2}, {attr_i("group", 2)});
  EXPECT_NE(r.error.find("not divisible by group"), std::string::npos) << r.error;
  Tensor w3 = Tensor::from_vector<float>({2, 4, 3}, random_values(24, 10));
  r = run_ref_op("Conv", {x, w3});
  EXPECT_NE(r.error.find("rank"), std::string::npos) << r.error;
  Tensor w4 = Tensor::from_vector<float>({2, 4, 3, 3}, random_values(72, 10));
  r = run_ref_op("Conv", {x, w4}, {attr_ints("pads", {1, 1})});
  EXPECT_NE(r.error.find("'pads'"), std::string::npos) << r.error;
  r = run_ref_op("Conv", {x, w4}, {attr_ints("kernel_shape", {2, 2})});
  EXPECT_NE(r.error.find("kernel_shape"), std::string::npos) << r.error;
  r = run_ref_op("Conv", {x, w4}, {attr_ints("strides", {0, 1})});
  EXPECT_NE(r.error.find("strides"), std::string::npos) << r.error;
  Tensor w5 = Tensor::from_vector<float>({2, 4, 7, 7}, random_values(392, 10));
  r = run_ref_op("Conv", {x, w5});
  EXPECT_NE(r.error.find("smaller than the kernel"), std::string::npos) << r.error;
  Tensor b = Tensor::from_vector<float>({3}, {1, 2, 3});
  r = run_ref_op("Conv", {x, w4, b});
  EXPECT_NE(r.error.find("B must have shape"), std::string::npos) << r.error;
  r = run_ref_op("Conv", {x, w4}, {attr_s("auto_pad", "BOGUS")});
  EXPECT_NE(r.error.find("auto_pad"), std::string::npos) << r.error;
}

TEST(RefConvInteger, ZeroPoints) {
  Tensor x = Tensor::from_vector<uint8_t>({1, 1, 3, 3}, {2, 3, 4, 5, 6, 7, 8, 9, 10});
  Tensor w = Tensor::from_vector<uint8_t>({1, 1, 2, 2}, {1, 1, 1, 1});
  Tensor xzp = Tensor::scalar<uint8_t>(1);
  auto r = run_ref_op("ConvInteger", {x, w, xzp}, {}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int32);
  testing::expect_tensor_near(r.out(), {1, 1, 2, 2}, {12, 16, 24, 28});
  // int8 weights with a per-output-channel zero point; padding uses the real value 0 (x - x_zp = 0).
  Tensor w2 = Tensor::from_vector<int8_t>({2, 1, 1, 1}, {3, -2});
  Tensor wzp = Tensor::from_vector<int8_t>({2}, {1, -4});
  r = run_ref_op("ConvInteger", {x, w2, xzp, wzp}, {attr_ints("pads", {0, 0, 0, 1})}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  // channel 0: (x-1)*(3-1); channel 1: (x-1)*(-2+4); extra padded column gives 0.
  testing::expect_tensor_near(r.out(), {1, 2, 3, 4},
                              {2, 4, 6, 0, 8, 10, 12, 0, 14, 16, 18, 0, 2, 4, 6, 0, 8, 10, 12, 0, 14, 16, 18, 0});
  Tensor bad_zp = Tensor::from_vector<int8_t>({3}, {1, 2, 3});
  r = run_ref_op("ConvInteger", {x, w2, xzp, bad_zp}, {}, 10);
  EXPECT_NE(r.error.find("w_zero_point"), std::string::npos) << r.error;
  Tensor fx = Tensor::from_vector<float>({1, 1, 3, 3}, random_values(9, 3));
  r = run_ref_op("ConvInteger", {fx, w}, {}, 10);
  EXPECT_NE(r.error.find("uint8 or int8"), std::string::npos) << r.error;
}

TEST(RefQLinearConv, RequantizesWithRoundHalfToEven) {
  // x real = (x - 10) * 0.5, w real = (w - 0) * 0.25 per channel scales, y = round(acc * s) + 5.
  Tensor x = Tensor::from_vector<uint8_t>({1, 1, 2, 2}, {12, 14, 9, 10});
  Tensor w = Tensor::from_vector<int8_t>({2, 1, 1, 1}, {2, -3});
  Tensor x_scale = Tensor::scalar<float>(0.5f), x_zp = Tensor::scalar<uint8_t>(10);
  Tensor w_scale = Tensor::from_vector<float>({2}, {0.25f, 0.5f}), w_zp = Tensor::from_vector<int8_t>({2}, {0, 0});
  Tensor y_scale = Tensor::scalar<float>(0.5f), y_zp = Tensor::scalar<uint8_t>(5);
  Tensor bias = Tensor::from_vector<int32_t>({2}, {1, 0});
  auto r = run_ref_op("QLinearConv", {x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, bias}, {}, 10);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::uint8);
  // ch0: acc = (x-10)*2 + 1 = {5, 9, -1, 1}; * 0.25 = {1.25, 2.25, -0.25, 0.25} -> {1, 2, -0, 0} + 5
  // ch1: acc = (x-10)*-3 = {-6, -12, 3, 0}; * 0.5 = {-3, -6, 1.5, 0} -> {-3, -6, 2, 0} + 5 (clamped at 0)
  testing::expect_tensor_near(r.out(), {1, 2, 2, 2}, {6, 7, 5, 5, 2, 0, 7, 5});
  Tensor bad_scale = Tensor::from_vector<float>({3}, {1, 1, 1});
  r = run_ref_op("QLinearConv", {x, x_scale, x_zp, w, bad_scale, w_zp, y_scale, y_zp}, {}, 10);
  EXPECT_NE(r.error.find("w_scale"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
