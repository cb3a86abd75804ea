// Tests for BatchNormalization, InstanceNormalization, LayerNormalization, LRN, MeanVarianceNormalization
// and GroupNormalization against statistics computed independently here.
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_f;
using testing::attr_i;
using testing::attr_ints;
using testing::run_ref_op;

std::vector<float> random_values(size_t n, uint32_t seed, float lo = 0.1f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = (rng() & 1 ? 1.0f : -1.0f) * u(rng);
  return v;
}

std::vector<float> positive_values(size_t n, uint32_t seed) {
  auto v = random_values(n, seed);
  for (auto& x : v) x = std::fabs(x);
  return v;
}

/// Mean and population variance of the elements of `x` selected by `pick`.
template <typename F>
std::pair<double, double> stats(const std::vector<float>& x, F pick) {
  double s = 0, n = 0;
  for (size_t i = 0; i < x.size(); ++i)
    if (pick(i)) {
      s += x[i];
      n += 1;
    }
  const double mean = s / n;
  double v = 0;
  for (size_t i = 0; i < x.size(); ++i)
    if (pick(i)) v += (x[i] - mean) * (x[i] - mean);
  return {mean, v / n};
}

TEST(RefBatchNormalization, InferenceMode) {
  const int64_t N = 2, C = 3, S = 4;
  const auto xv = random_values(N * C * S, 1);
  const auto sc = random_values(C, 2), bi = random_values(C, 3), mu = random_values(C, 4), var = positive_values(C, 5);
  std::vector<double> expected(xv.size());
  for (int64_t i = 0; i < N * C * S; ++i) {
    const int64_t c = (i / S) % C;
    expected[i] = sc[c] * (xv[i] - mu[c]) / std::sqrt(var[c] + 1e-2) + bi[c];
  }
  std::vector<Tensor> in{Tensor::from_vector<float>({N, C, 2, 2}, xv), Tensor::from_vector<float>({C}, sc),
                         Tensor::from_vector<float>({C}, bi), Tensor::from_vector<float>({C}, mu),
                         Tensor::from_vector<float>({C}, var)};
  for (int opset : {7, 9, 14, 15}) {
    auto r = run_ref_op("BatchNormalization", in, {attr_f("epsilon", 1e-2f)}, opset);
    ASSERT_TRUE(r.error.empty()) << r.error;
    testing::expect_tensor_near(r.out(), {N, C, 2, 2}, expected, 1e-5, 1e-5);
  }
  // Opset 15: X float16 with float32 parameters.
  std::vector<Half> xh(xv.begin(), xv.end());
  in[0] = Tensor::from_vector<Half>({N, C, 2, 2}, xh);
  for (int64_t i = 0; i < N * C * S; ++i) {
    const int64_t c = (i / S) % C;
    expected[i] = sc[c] * (static_cast<float>(xh[i]) - mu[c]) / std::sqrt(var[c] + 1e-2) + bi[c];
  }
  auto r = run_ref_op("BatchNormalization", in, {attr_f("epsilon", 1e-2f)}, 15);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::float16);
  testing::expect_tensor_near(r.out(), {N, C, 2, 2}, expected, 2e-3, 2e-3);
  // 2-D input (N, C).
  in[0] = Tensor::from_vector<float>({4, C}, std::vector<float>(xv.begin(), xv.begin() + 12));
  r = run_ref_op("BatchNormalization", in, {}, 15);
  ASSERT_TRUE(r.error.empty()) << r.error;
  for (int64_t i = 0; i < 12; ++i) {
    const int64_t c = i % C;
    EXPECT_NEAR(r.out().element_as_double(i), sc[c] * (xv[i] - mu[c]) / std::sqrt(var[c] + 1e-5) + bi[c], 1e-5);
  }
}

TEST(RefBatchNormalization, TrainingModeAndSpatial0) {
  const int64_t N = 3, C = 2, S = 5;
  const auto xv = random_values(N * C * S, 6);
  const auto sc = random_values(C, 7), bi = random_values(C, 8), mu = random_values(C, 9), var = positive_values(C, 10);
  std::vector<Tensor> in{Tensor::from_vector<float>({N, C, S}, xv), Tensor::from_vector<float>({C}, sc),
                         Tensor::from_vector<float>({C}, bi), Tensor::from_vector<float>({C}, mu),
                         Tensor::from_vector<float>({C}, var)};
  auto r = run_ref_op("BatchNormalization", in, {attr_i("training_mode", 1), attr_f("momentum", 0.8f)}, 15, 3);
  ASSERT_TRUE(r.error.empty()) << r.error;
  std::vector<double> y(xv.size()), rm, rv;
  for (int64_t c = 0; c < C; ++c) {
    auto [m, v] = stats(xv, [&](size_t i) { return static_cast<int64_t>(i / S) % C == c; });
    for (int64_t i = 0; i < N * C * S; ++i)
      if ((i / S) % C == c) y[i] = sc[c] * (xv[i] - m) / std::sqrt(v + 1e-5) + bi[c];
    rm.push_back(mu[c] * 0.8 + m * 0.2);
    rv.push_back(var[c] * 0.8 + v * 0.2);
  }
  testing::expect_tensor_near(r.out(0), {N, C, S}, y, 1e-5, 1e-4);
  testing::expect_tensor_near(r.out(1), {C}, rm, 1e-6, 1e-5);
  testing::expect_tensor_near(r.out(2), {C}, rv, 1e-6, 1e-5);
  // Before opset 14, asking for the extra outputs selects training mode: running mean/var, then the
  // batch mean/var (saved_mean, saved_var).
  r = run_ref_op("BatchNormalization", in, {attr_f("momentum", 0.8f)}, 9, 5);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(0), {N, C, S}, y, 1e-5, 1e-4);
  testing::expect_tensor_near(r.out(1), {C}, rm, 1e-6, 1e-5);
  testing::expect_tensor_near(r.out(2), {C}, rv, 1e-6, 1e-5);
  ASSERT_EQ(r.out(3).numel(), C);
  for (int64_t c = 0; c < C; ++c) {
    auto [m, v] = stats(xv, [&](size_t i) { return static_cast<int64_t>(i / S) % C == c; });
    EXPECT_NEAR(r.out(3).element_as_double(c), m, 1e-6);
    EXPECT_NEAR(r.out(4).element_as_double(c), v, 1e-6);
  }

  // Opset 7, spatial=0: one set of parameters per (channel, position).
  std::vector<float> p1 = random_values(C * S, 11), p2 = random_values(C * S, 12), p3 = random_values(C * S, 13),
                     p4 = positive_values(C * S, 14);
  std::vector<Tensor> in7{in[0], Tensor::from_vector<float>({C, S}, p1), Tensor::from_vector<float>({C, S}, p2),
                          Tensor::from_vector<float>({C, S}, p3), Tensor::from_vector<float>({C, S}, p4)};
  r = run_ref_op("BatchNormalization", in7, {attr_i("spatial", 0)}, 7);
  ASSERT_TRUE(r.error.empty()) << r.error;
  for (int64_t i = 0; i < N * C * S; ++i) {
    const int64_t f = i % (C * S);
    EXPECT_NEAR(r.out().element_as_double(i), p1[f] * (xv[i] - p3[f]) / std::sqrt(p4[f] + 1e-5) + p2[f], 1e-5);
  }
}

TEST(RefBatchNormalization, RejectsBadParameters) {
  Tensor x = Tensor::from_vector<float>({2, 3, 2}, random_values(12, 15));
  Tensor p3 = Tensor::from_vector<float>({3}, {1, 1, 1});
  Tensor p2 = Tensor::from_vector<float>({2}, {1, 1});
  auto r = run_ref_op("BatchNormalization", {x, p3, p3, p2, p3}, {}, 15);
  EXPECT_NE(r.error.find("input_mean must have 3 elements"), std::string::npos) << r.error;
  Tensor xi = Tensor::from_vector<int32_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  r = run_ref_op("BatchNormalization", {xi, p3, p3, p3, p3}, {}, 15);
  EXPECT_NE(r.error.find("float"), std::string::npos) << r.error;
}

TEST(RefInstanceNormalization, PerInstanceStatistics) {
  const int64_t N = 2, C = 3, S = 6;
  const auto xv = random_values(N * C * S, 21);
  const auto sc = random_values(C, 22), bi = random_values(C, 23);
  auto r = run_ref_op("InstanceNormalization",
                      {Tensor::from_vector<float>({N, C, 2, 3}, xv), Tensor::from_vector<float>({C}, sc),
                       Tensor::from_vector<float>({C}, bi)},
                      {attr_f("epsilon", 1e-3f)}, 6);
  ASSERT_TRUE(r.error.empty()) << r.error;
  std::vector<double> y(xv.size());
  for (int64_t p = 0; p < N * C; ++p) {
    auto [m, v] = stats(xv, [&](size_t i) { return static_cast<int64_t>(i) / S == p; });
    for (int64_t i = p * S; i < (p + 1) * S; ++i) y[i] = sc[p % C] * (xv[i] - m) / std::sqrt(v + 1e-3) + bi[p % C];
  }
  testing::expect_tensor_near(r.out(), {N, C, 2, 3}, y, 1e-5, 1e-4);
  r = run_ref_op("InstanceNormalization",
                 {Tensor::from_vector<float>({N, C, 2, 3}, xv), Tensor::from_vector<float>({2}, {1, 1}),
                  Tensor::from_vector<float>({C}, bi)},
                 {}, 6);
  EXPECT_NE(r.error.find("scale must have shape [3]"), std::string::npos) << r.error;
}

TEST(RefLayerNormalization, AxesOutputsAndBroadcast) {
  const Shape xs{2, 3, 4};
  const auto xv = random_values(24, 31);
  for (int64_t axis : {-1, 1, 0, -2}) {
    const int64_t a = axis < 0 ? axis + 3 : axis;
    const int64_t inner = a == 0 ? 24 : (a == 1 ? 12 : 4);
    Shape ps(xs.begin() + a, xs.end());
    const auto sc = random_values(static_cast<size_t>(inner), 32), bi = random_values(static_cast<size_t>(inner), 33);
    auto r = run_ref_op(
        "LayerNormalization",
        {Tensor::from_vector<float>(xs, xv), Tensor::from_vector<float>(ps, sc), Tensor::from_vector<float>(ps, bi)},
        {attr_i("axis", axis), attr_f("epsilon", 1e-3f)}, 17, 3);
    ASSERT_TRUE(r.error.empty()) << r.error;
    std::vector<double> y(24), means, invs;
    for (int64_t o = 0; o < 24 / inner; ++o) {
      auto [m, v] = stats(xv, [&](size_t i) { return static_cast<int64_t>(i) / inner == o; });
      means.push_back(m);
      invs.push_back(1 / std::sqrt(v + 1e-3));
      for (int64_t i = 0; i < inner; ++i) y[o * inner + i] = (xv[o * inner + i] - m) * invs.back() * sc[i] + bi[i];
    }
    Shape stat_shape(xs.begin(), xs.begin() + a);
    stat_shape.resize(3, 1);
    testing::expect_tensor_near(r.out(0), xs, y, 1e-5, 1e-4);
    testing::expect_tensor_near(r.out(1), stat_shape, means, 1e-6, 1e-5);
    testing::expect_tensor_near(r.out(2), stat_shape, invs, 1e-5, 1e-4);
  }
  // No bias, scale of shape [1] broadcast over the normalized axis; only Y requested.
  auto r =
      run_ref_op("LayerNormalization",
                 {Tensor::from_vector<float>({2, 2}, {1, 3, -2, 2}), Tensor::from_vector<float>({1}, {2})}, {}, 17);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const double k = 2 / std::sqrt(1 + 1e-5), k2 = 2 * 2 / std::sqrt(4 + 1e-5);
  testing::expect_tensor_near(r.out(), {2, 2}, {-k, k, -k2, k2}, 1e-5, 1e-5);
  r = run_ref_op("LayerNormalization",
                 {Tensor::from_vector<float>({2, 2}, {1, 3, -2, 2}), Tensor::from_vector<float>({3}, {1, 1, 1})}, {},
                 17);
  EXPECT_NE(r.error.find("Scale of shape [3] cannot broadcast"), std::string::npos) << r.error;
  r = run_ref_op("LayerNormalization",
                 {Tensor::from_vector<float>({2, 2}, {1, 3, -2, 2}), Tensor::from_vector<float>({2}, {1, 1})},
                 {attr_i("axis", 2)}, 17);
  EXPECT_NE(r.error.find("axis 2 is out of range"), std::string::npos) << r.error;
}

TEST(RefLRN, HandComputed) {
  // One position, 4 channels, size 3: window [c-1, c+1].
  Tensor x = Tensor::from_vector<float>({1, 4, 1}, {1, 2, 3, 4});
  auto r =
      run_ref_op("LRN", {x}, {attr_i("size", 3), attr_f("alpha", 0.3f), attr_f("beta", 0.5f), attr_f("bias", 2.0f)});
  ASSERT_TRUE(r.error.empty()) << r.error;
  const double a = 0.3 / 3;
  testing::expect_tensor_near(
      r.out(), {1, 4, 1},
      {1 / std::sqrt(2 + a * 5), 2 / std::sqrt(2 + a * 14), 3 / std::sqrt(2 + a * 29), 4 / std::sqrt(2 + a * 25)}, 1e-6,
      1e-6);
  // Even size 2: window [c, c+1] (floor((2-1)/2)=0 before, ceil=1 after), default alpha/beta/bias.
  r = run_ref_op("LRN", {x}, {attr_i("size", 2)});
  ASSERT_TRUE(r.error.empty()) << r.error;
  auto f = [](double v, double sq) { return v / std::pow(1 + 1e-4 / 2 * sq, 0.75); };
  testing::expect_tensor_near(r.out(), {1, 4, 1}, {f(1, 5), f(2, 13), f(3, 25), f(4, 16)}, 1e-6, 1e-6);
  r = run_ref_op("LRN", {x}, {});
  EXPECT_NE(r.error.find("'size' is required"), std::string::npos) << r.error;
}

TEST(RefMeanVarianceNormalization, DefaultAndCustomAxes) {
  const auto xv = random_values(2 * 3 * 2 * 2, 41);
  auto r = run_ref_op("MeanVarianceNormalization", {Tensor::from_vector<float>({2, 3, 2, 2}, xv)}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  std::vector<double> y(xv.size());
  for (int64_t c = 0; c < 3; ++c) {
    auto [m, v] = stats(xv, [&](size_t i) { return static_cast<int64_t>(i / 4) % 3 == c; });
    for (size_t i = 0; i < xv.size(); ++i)
      if (static_cast<int64_t>(i / 4) % 3 == c) y[i] = (xv[i] - m) / (std::sqrt(v) + 1e-9);
  }
  testing::expect_tensor_near(r.out(), {2, 3, 2, 2}, y, 1e-5, 1e-4);
  r = run_ref_op("MeanVarianceNormalization", {Tensor::from_vector<float>({2, 3}, {1, 2, 3, 5, 5, 8})},
                 {attr_ints("axes", {-1})}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const double s1 = std::sqrt(2.0 / 3), s2 = std::sqrt(2.0);
  testing::expect_tensor_near(r.out(), {2, 3}, {-1 / s1, 0, 1 / s1, -1 / s2, -1 / s2, 2 / s2}, 1e-5, 1e-5);
  r = run_ref_op("MeanVarianceNormalization", {Tensor::from_vector<float>({2, 3}, {1, 2, 3, 5, 5, 8})},
                 {attr_ints("axes", {2})}, 13);
  EXPECT_NE(r.error.find("'axes' value 2 is out of range"), std::string::npos) << r.error;
}

TEST(RefGroupNormalization, Opset18And21) {
  const int64_t N = 2, C = 4, S = 3, G = 2;
  const auto xv = random_values(N * C * S, 51);
  auto expected = [&](auto param_of) {
    std::vector<double> y(xv.size());
    for (int64_t n = 0; n < N; ++n)
      for (int64_t g = 0; g < G; ++g) {
        const int64_t lo = (n * C + g * 2) * S, hi = lo + 2 * S;
        auto [m, v] =
            stats(xv, [&](size_t i) { return static_cast<int64_t>(i) >= lo && static_cast<int64_t>(i) < hi; });
        for (int64_t i = lo; i < hi; ++i) {
          auto [s, b] = param_of(g, (i / S) % C);
          y[i] = (xv[i] - m) / std::sqrt(v + 1e-5) * s + b;
        }
      }
    return y;
  };
  const std::vector<float> sg{0.5f, 2.0f}, bg{1.0f, -1.0f};
  auto r = run_ref_op("GroupNormalization",
                      {Tensor::from_vector<float>({N, C, S}, xv), Tensor::from_vector<float>({G}, sg),
                       Tensor::from_vector<float>({G}, bg)},
                      {attr_i("num_groups", G)}, 18);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {N, C, S},
                              expected([&](int64_t g, int64_t) { return std::pair<double, double>(sg[g], bg[g]); }),
                              1e-5, 1e-4);
  const std::vector<float> sc{0.5f, 2.0f, -1.0f, 3.0f}, bc{1.0f, -1.0f, 0.25f, 0.0f};
  r = run_ref_op("GroupNormalization",
                 {Tensor::from_vector<float>({N, C, S}, xv), Tensor::from_vector<float>({C}, sc),
                  Tensor::from_vector<float>({C}, bc)},
                 {attr_i("num_groups", G)}, 21);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {N, C, S},
                              expected([&](int64_t, int64_t c) { return std::pair<double, double>(sc[c], bc[c]); }),
                              1e-5, 1e-4);
  r = run_ref_op("GroupNormalization",
                 {Tensor::from_vector<float>({N, C, S}, xv), Tensor::from_vector<float>({C}, sc),
                  Tensor::from_vector<float>({C}, bc)},
                 {attr_i("num_groups", 3)}, 21);
  EXPECT_NE(r.error.find("'num_groups' (3)"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
