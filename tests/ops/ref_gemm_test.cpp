// Tests for Gemm: transposes, alpha/beta, optional and broadcast C, integer types, bad shapes.
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_f;
using testing::attr_i;
using testing::run_ref_op;

std::vector<float> random_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.1f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = (rng() & 1 ? 1.0f : -1.0f) * u(rng);
  return v;
}

/// Independent Gemm on row-major matrices given as stored (transposes applied by index swaps).
std::vector<double> naive_gemm(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& c,
                               Shape cs, int64_t M, int64_t K, int64_t N, bool ta, bool tb, double alpha, double beta) {
  std::vector<double> y(static_cast<size_t>(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += (ta ? a[k * M + i] : a[i * K + k]) * (tb ? b[j * K + k] : b[k * N + j]);
      double cv = 0;
      if (!c.empty()) {
        const int64_t rows = cs.size() == 2 ? cs[0] : 1, cols = cs.empty() ? 1 : cs.back();
        cv = c[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)];
      }
      y[i * N + j] = alpha * s + beta * cv;
    }
  return y;
}

TEST(RefGemm, TransposesAlphaBetaAndBroadcastC) {
  const int64_t M = 3, K = 5, N = 4;
  const auto a = random_values(M * K, 1), b = random_values(K * N, 2);
  const std::vector<Shape> c_shapes{{M, N}, {N}, {1, N}, {M, 1}, {1}, {}};
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (const Shape& cs : c_shapes) {
        const auto c = random_values(static_cast<size_t>(shape_numel(cs)), 3);
        Tensor at = Tensor::from_vector<float>(ta ? Shape{K, M} : Shape{M, K}, a);
        Tensor bt = Tensor::from_vector<float>(tb ? Shape{N, K} : Shape{K, N}, b);
        auto r =
            run_ref_op("Gemm", {at, bt, Tensor::from_vector<float>(cs, c)},
                       {attr_i("transA", ta), attr_i("transB", tb), attr_f("alpha", 0.5f), attr_f("beta", -2.0f)}, 13);
        ASSERT_TRUE(r.error.empty()) << r.error;
        testing::expect_tensor_near(r.out(), {M, N}, naive_gemm(a, b, c, cs, M, K, N, ta, tb, 0.5, -2.0));
      }
}

TEST(RefGemm, OptionalCAndOtherTypes) {
  Tensor a = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  Tensor b = Tensor::from_vector<float>({2, 2}, {5, 6, 7, 8});
  auto r = run_ref_op("Gemm", {a, b}, {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 2}, {19, 22, 43, 50});
  Tensor ai = Tensor::from_vector<int64_t>({2, 3}, {1, -2, 3, 4, 5, -6});
  Tensor bi = Tensor::from_vector<int64_t>({3, 1}, {7, 8, 9});
  Tensor ci = Tensor::from_vector<int64_t>({1}, {100});
  r = run_ref_op("Gemm", {ai, bi, ci}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int64);
  testing::expect_tensor_near(r.out(), {2, 1}, {118, 114});
  Tensor ad = Tensor::from_vector<double>({1, 2}, {0.1, 0.2});
  Tensor bd = Tensor::from_vector<double>({2, 1}, {0.3, 0.4});
  r = run_ref_op("Gemm", {ad, bd}, {attr_f("alpha", 2.0f)}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1}, {0.22}, 1e-12, 1e-9);
  Tensor ah = Tensor::from_vector<BFloat16>({1, 2}, {BFloat16(1.5f), BFloat16(2.0f)});
  Tensor bh = Tensor::from_vector<BFloat16>({2, 1}, {BFloat16(4.0f), BFloat16(-1.0f)});
  r = run_ref_op("Gemm", {ah, bh}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::bfloat16);
  testing::expect_tensor_near(r.out(), {1, 1}, {4.0});
}

TEST(RefGemm, RejectsBadShapes) {
  Tensor a = Tensor::from_vector<float>({2, 3}, random_values(6, 4));
  Tensor b = Tensor::from_vector<float>({2, 3}, random_values(6, 5));
  auto r = run_ref_op("Gemm", {a, b}, {}, 13);
  EXPECT_NE(r.error.find("inner dimensions differ"), std::string::npos) << r.error;
  r = run_ref_op("Gemm", {a, b, Tensor::from_vector<float>({3}, {1, 2, 3})}, {attr_i("transB", 1)}, 13);
  EXPECT_NE(r.error.find("cannot broadcast to [2, 2]"), std::string::npos) << r.error;
  Tensor v = Tensor::from_vector<float>({3}, {1, 2, 3});
  r = run_ref_op("Gemm", {v, b}, {}, 13);
  EXPECT_NE(r.error.find("input A must be 2-D"), std::string::npos) << r.error;
  Tensor bi = Tensor::from_vector<int32_t>({3, 2}, {1, 2, 3, 4, 5, 6});
  r = run_ref_op("Gemm", {a, bi}, {}, 13);
  EXPECT_NE(r.error.find("same dtype"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
