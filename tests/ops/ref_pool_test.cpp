// Tests for MaxPool, AveragePool, LpPool, the Global pools and MaxUnpool.
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_f;
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

std::vector<float> iota(size_t n, float start = 1.0f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return v;
}

TEST(RefMaxPool, HandComputed) {
  // 4x4 = 1..16, kernel 2, stride 2.
  Tensor x = Tensor::from_vector<float>({1, 1, 4, 4}, iota(16));
  auto r = run_ref_op("MaxPool", {x}, {attr_ints("kernel_shape", {2, 2}), attr_ints("strides", {2, 2})}, 12, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {1, 1, 2, 2}, {6, 8, 14, 16});
  testing::expect_tensor_near(r.out(1), {1, 1, 2, 2}, {5, 7, 13, 15});
  // Column-major indices: (h, w) -> w * H + h.
  r = run_ref_op("MaxPool", {x},
                 {attr_ints("kernel_shape", {2, 2}), attr_ints("strides", {2, 2}), attr_i("storage_order", 1)}, 12, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(1), {1, 1, 2, 2}, {5, 13, 7, 15});
  // ceil_mode: kernel 3 stride 2 on 4 -> 2 outputs (the last window is clipped).
  r = run_ref_op("MaxPool", {x},
                 {attr_ints("kernel_shape", {3, 3}), attr_ints("strides", {2, 2}), attr_i("ceil_mode", 1)});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 2, 2}, {11, 12, 15, 16});
  // ceil_mode never starts a window inside the end padding: in 4, k 2, s 2, pads 0/1 gives
  // ceil(3/2)+1 = 3 windows, but the third would start at 4 (>= in + pad_begin) and is dropped.
  Tensor x1 = Tensor::from_vector<float>({1, 1, 4}, {3, -1, 4, 1});
  r = run_ref_op(
      "MaxPool", {x1},
      {attr_ints("kernel_shape", {2}), attr_ints("strides", {2}), attr_i("ceil_mode", 1), attr_ints("pads", {0, 1})});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 2}, {3, 4});
  // Dilation 2 and padding on a 1-D input with batch and channels; negative values prove pads are ignored.
  Tensor x2 = Tensor::from_vector<float>({2, 1, 5}, {-3, -1, -4, -1, -5, 9, 2, 6, 5, 3});
  r = run_ref_op("MaxPool", {x2},
                 {attr_ints("kernel_shape", {2}), attr_ints("dilations", {2}), attr_ints("pads", {1, 1})}, 12, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  // windows (positions): {-1,1} {0,2} {1,3} {2,4} {3,5}
  testing::expect_tensor_near(r.out(0), {2, 1, 5}, {-1, -3, -1, -4, -1, 2, 9, 5, 6, 5});
  testing::expect_tensor_near(r.out(1), {2, 1, 5}, {1, 0, 1, 2, 3, 6, 5, 8, 7, 8});
}

TEST(RefMaxPool, AutoPadAndInt8) {
  Tensor x = Tensor::from_vector<uint8_t>({1, 1, 3, 3}, {1, 9, 2, 3, 4, 8, 7, 6, 5});
  auto r = run_ref_op("MaxPool", {x}, {attr_ints("kernel_shape", {2, 2}), attr_s("auto_pad", "SAME_UPPER")});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::uint8);
  testing::expect_tensor_near(r.out(), {1, 1, 3, 3}, {9, 9, 8, 7, 8, 8, 7, 6, 5});
  r = run_ref_op("MaxPool", {x}, {attr_ints("kernel_shape", {2, 2}), attr_s("auto_pad", "SAME_LOWER")});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 3, 3}, {1, 9, 9, 3, 9, 9, 7, 7, 8});
  Tensor xi = Tensor::from_vector<int8_t>({1, 1, 4}, {-8, -3, -7, -2});
  r = run_ref_op("MaxPool", {xi}, {attr_ints("kernel_shape", {3}), attr_s("auto_pad", "VALID")});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 2}, {-3, -2});
}

TEST(RefMaxPool, RejectsBadAttributes) {
  Tensor x = Tensor::from_vector<float>({1, 1, 4, 4}, iota(16));
  auto r = run_ref_op("MaxPool", {x}, {});
  EXPECT_NE(r.error.find("kernel_shape"), std::string::npos) << r.error;
  r = run_ref_op("MaxPool", {x}, {attr_ints("kernel_shape", {2})});
  EXPECT_NE(r.error.find("kernel_shape"), std::string::npos) << r.error;
  r = run_ref_op("MaxPool", {x}, {attr_ints("kernel_shape", {2, 2}), attr_ints("pads", {1, 1, 1})});
  EXPECT_NE(r.error.find("'pads'"), std::string::npos) << r.error;
  r = run_ref_op("MaxPool", {x}, {attr_ints("kernel_shape", {5, 5})});
  EXPECT_NE(r.error.find("smaller than the kernel"), std::string::npos) << r.error;
  Tensor v = Tensor::from_vector<float>({4}, iota(4));
  r = run_ref_op("MaxPool", {v}, {attr_ints("kernel_shape", {2})});
  EXPECT_NE(r.error.find("rank"), std::string::npos) << r.error;
}

/// Independent 2-D average pool with explicit pads.
std::vector<double> naive_avg(const std::vector<float>& x, int64_t planes, int64_t H, int64_t W, int64_t k, int64_t s,
                              int64_t p, bool include_pad, Shape& out) {
  const int64_t OH = (H + 2 * p - k) / s + 1, OW = (W + 2 * p - k) / s + 1;
  out = {1, planes, OH, OW};
  std::vector<double> y;
  for (int64_t c = 0; c < planes; ++c)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        double sum = 0;
        int count = 0;
        for (int64_t i = 0; i < k; ++i)
          for (int64_t j = 0; j < k; ++j) {
            const int64_t h = oh * s - p + i, w = ow * s - p + j;
            if (h >= 0 && h < H && w >= 0 && w < W) {
              sum += x[(c * H + h) * W + w];
              ++count;
            } else if (include_pad) {
              ++count;
            }
          }
        y.push_back(sum / count);
      }
  return y;
}

TEST(RefAveragePool, MatchesNaiveWithAndWithoutPadCounting) {
  const auto xv = random_values(3 * 7 * 6, 11);
  Tensor x = Tensor::from_vector<float>({1, 3, 7, 6}, xv);
  for (int include = 0; include < 2; ++include) {
    auto r = run_ref_op("AveragePool", {x},
                        {attr_ints("kernel_shape", {3, 3}), attr_ints("strides", {2, 2}),
                         attr_ints("pads", {1, 1, 1, 1}), attr_i("count_include_pad", include)},
                        11);
    ASSERT_TRUE(r.error.empty()) << r.error;
    Shape out;
    auto expected = naive_avg(xv, 3, 7, 6, 3, 2, 1, include != 0, out);
    testing::expect_tensor_near(r.out(), out, expected);
  }
}

TEST(RefAveragePool, HandComputed) {
  Tensor x = Tensor::from_vector<float>({1, 1, 4}, {1, 2, 3, 4});
  // ceil_mode, kernel 3, stride 2 on 4: windows [0,3) and the clipped [2,4) (averaged over its 2 inputs).
  auto r = run_ref_op("AveragePool", {x},
                      {attr_ints("kernel_shape", {3}), attr_ints("strides", {2}), attr_i("ceil_mode", 1)});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 2}, {2, 3.5});
  // SAME_UPPER kernel 2: last window is half padding; padding is not counted by default.
  r = run_ref_op("AveragePool", {x}, {attr_ints("kernel_shape", {2}), attr_s("auto_pad", "SAME_UPPER")});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 4}, {1.5, 2.5, 3.5, 4});
  r = run_ref_op("AveragePool", {x},
                 {attr_ints("kernel_shape", {2}), attr_s("auto_pad", "SAME_UPPER"), attr_i("count_include_pad", 1)});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 4}, {1.5, 2.5, 3.5, 2});
  // Dilations (opset 19): taps 0 and 2.
  r = run_ref_op("AveragePool", {x}, {attr_ints("kernel_shape", {2}), attr_ints("dilations", {2})}, 19);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 2}, {2, 3});
  // 3-D.
  Tensor x3 = Tensor::from_vector<float>({1, 1, 2, 2, 2}, iota(8));
  r = run_ref_op("AveragePool", {x3}, {attr_ints("kernel_shape", {2, 2, 2})});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 1, 1, 1}, {4.5});
}

TEST(RefLpPool, HandComputed) {
  Tensor x = Tensor::from_vector<float>({1, 1, 4}, {3, -4, 1, 2});
  auto r = run_ref_op("LpPool", {x}, {attr_ints("kernel_shape", {2}), attr_ints("strides", {2})}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 2}, {5, std::sqrt(5.0)});
  r = run_ref_op("LpPool", {x}, {attr_ints("kernel_shape", {3}), attr_i("p", 1), attr_ints("pads", {1, 0})}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 3}, {7, 8, 7});
  // Opset 1 takes p as a float.
  r = run_ref_op("LpPool", {x}, {attr_ints("kernel_shape", {4}), attr_f("p", 3.0f)}, 1);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 1}, {std::cbrt(27.0 + 64 + 1 + 8)});
}

TEST(RefGlobalPool, AverageMaxLp) {
  const auto xv = random_values(2 * 3 * 4 * 5, 21);
  Tensor x = Tensor::from_vector<float>({2, 3, 4, 5}, xv);
  std::vector<double> avg, mx, lp;
  for (int p = 0; p < 6; ++p) {
    double s = 0, m = -1e30, q = 0;
    for (int i = 0; i < 20; ++i) {
      s += xv[p * 20 + i];
      m = std::max(m, static_cast<double>(xv[p * 20 + i]));
      q += xv[p * 20 + i] * xv[p * 20 + i];
    }
    avg.push_back(s / 20);
    mx.push_back(m);
    lp.push_back(std::sqrt(q));
  }
  auto r = run_ref_op("GlobalAveragePool", {x});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3, 1, 1}, avg);
  r = run_ref_op("GlobalMaxPool", {x});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3, 1, 1}, mx);
  r = run_ref_op("GlobalLpPool", {x});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3, 1, 1}, lp);
  Tensor x1 = Tensor::from_vector<double>({1, 2, 3}, {1, 2, 3, -4, 5, 6});
  r = run_ref_op("GlobalAveragePool", {x1});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float64);
  testing::expect_tensor_near(r.out(), {1, 2, 1}, {2, 7.0 / 3});
  Tensor bad = Tensor::from_vector<float>({3}, {1, 2, 3});
  r = run_ref_op("GlobalMaxPool", {bad});
  EXPECT_NE(r.error.find("rank >= 2"), std::string::npos) << r.error;
  Tensor ints = Tensor::from_vector<int32_t>({1, 1, 2}, {1, 2});
  r = run_ref_op("GlobalAveragePool", {ints});
  EXPECT_NE(r.error.find("int32"), std::string::npos) << r.error;
}

TEST(RefMaxUnpool, InvertsMaxPool) {
  const auto xv = random_values(2 * 2 * 4 * 4, 31);
  Tensor x = Tensor::from_vector<float>({2, 2, 4, 4}, xv);
  auto pooled = run_ref_op("MaxPool", {x}, {attr_ints("kernel_shape", {2, 2}), attr_ints("strides", {2, 2})}, 12, 2);
  ASSERT_TRUE(pooled.error.empty()) << pooled.error;
  auto r = run_ref_op("MaxUnpool", {pooled.out(0), pooled.out(1)},
                      {attr_ints("kernel_shape", {2, 2}), attr_ints("strides", {2, 2})}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.out().shape(), (Shape{2, 2, 4, 4}));
  // Each 2x2 block keeps only its maximum.
  std::vector<double> expected(xv.size(), 0.0);
  for (int64_t i = 0; i < pooled.out(1).numel(); ++i) {
    const int64_t idx = static_cast<int64_t>(pooled.out(1).element_as_double(i));
    expected[idx] = xv[idx];
  }
  testing::expect_tensor_near(r.out(), {2, 2, 4, 4}, expected);
  // output_shape larger than the unpooled shape: the result sits at the origin, zeros after.
  Tensor xs = Tensor::from_vector<float>({1, 1, 2}, {5, 7});
  Tensor is = Tensor::from_vector<int64_t>({1, 1, 2}, {1, 2});
  Tensor shape = Tensor::from_vector<int64_t>({3}, {1, 1, 5});
  r = run_ref_op("MaxUnpool", {xs, is, shape}, {attr_ints("kernel_shape", {2}), attr_ints("strides", {2})}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 5}, {0, 5, 7, 0, 0});
}

TEST(RefMaxUnpool, RejectsBadIndices) {
  Tensor xs = Tensor::from_vector<float>({1, 1, 2}, {5, 7});
  Tensor is = Tensor::from_vector<int64_t>({1, 1, 2}, {1, 4});
  auto r = run_ref_op("MaxUnpool", {xs, is}, {attr_ints("kernel_shape", {2}), attr_ints("strides", {2})}, 11);
  EXPECT_NE(r.error.find("index 4 in I is out of range"), std::string::npos) << r.error;
  Tensor neg = Tensor::from_vector<int64_t>({1, 1, 2}, {-1, 0});
  r = run_ref_op("MaxUnpool", {xs, neg}, {attr_ints("kernel_shape", {2}), attr_ints("strides", {2})}, 11);
  EXPECT_NE(r.error.find("out of range"), std::string::npos) << r.error;
  Tensor is2 = Tensor::from_vector<int64_t>({1, 2}, {0, 1});
  r = run_ref_op("MaxUnpool", {xs, is2}, {attr_ints("kernel_shape", {2})}, 11);
  EXPECT_NE(r.error.find("input I has shape"), std::string::npos) << r.error;
  Tensor ok = Tensor::from_vector<int64_t>({1, 1, 2}, {0, 1});
  Tensor small = Tensor::from_vector<int64_t>({3}, {1, 1, 3});
  r = run_ref_op("MaxUnpool", {xs, ok, small}, {attr_ints("kernel_shape", {2}), attr_ints("strides", {2})}, 11);
  EXPECT_NE(r.error.find("smaller than the unpooled shape"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
