// Tests for Einsum: matmul/transpose/trace/diagonal/sums, implicit output, ellipsis broadcasting, errors.
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_s;
using testing::run_ref_op;

std::vector<float> random_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.1f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = (rng() & 1 ? 1.0f : -1.0f) * u(rng);
  return v;
}

testing::OpResult einsum(const std::string& eq, const std::vector<Tensor>& in) {
  return run_ref_op("Einsum", in, {attr_s("equation", eq)}, 12);
}

TEST(RefEinsum, MatmulTransposeAndBatch) {
  const auto av = random_values(2 * 3 * 4, 1), bv = random_values(2 * 4 * 5, 2);
  Tensor a = Tensor::from_vector<float>({2, 3, 4}, av), b = Tensor::from_vector<float>({2, 4, 5}, bv);
  auto r = einsum("bij, bjk -> bik", {a, b});
  ASSERT_TRUE(r.error.empty()) << r.error;
  std::vector<double> expected;
  for (int bb = 0; bb < 2; ++bb)
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 5; ++k) {
        double s = 0;
        for (int j = 0; j < 4; ++j) s += av[(bb * 3 + i) * 4 + j] * bv[(bb * 4 + j) * 5 + k];
        expected.push_back(s);
      }
  testing::expect_tensor_near(r.out(), {2, 3, 5}, expected);
  // The same through an ellipsis.
  r = einsum("...ij,...jk", {a, b});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3, 5}, expected);

  Tensor m = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  r = einsum("ij->ji", {m});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 2}, {1, 4, 2, 5, 3, 6});
  r = einsum("ba", {m});  // implicit: output labels sorted -> "ab", i.e. a transpose
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 2}, {1, 4, 2, 5, 3, 6});
}

TEST(RefEinsum, SumsTraceDiagonalOuter) {
  Tensor m = Tensor::from_vector<float>({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto r = einsum("ii", {m});  // implicit trace
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {}, {15});
  r = einsum("ii->i", {m});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3}, {1, 5, 9});
  r = einsum("ij->", {m});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {}, {45});
  r = einsum("ij->i", {m});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3}, {6, 15, 24});
  r = einsum("...j->j", {m});  // '...' dims missing from the output are summed
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3}, {12, 15, 18});
  Tensor v = Tensor::from_vector<float>({2}, {2, -1}), w = Tensor::from_vector<float>({3}, {1, 10, 100});
  r = einsum("i,j->ij", {v, w});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3}, {2, 20, 200, -1, -10, -100});
  r = einsum("i,i", {w, w});  // inner product
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {}, {10101});
  // Batch diagonal with a broadcast ellipsis, three operands and integer type.
  Tensor t = Tensor::from_vector<int32_t>({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  r = run_ref_op("Einsum", {t}, {attr_s("equation", "...ii->...i")}, 12);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int32);
  testing::expect_tensor_near(r.out(), {2, 2}, {1, 4, 5, 8});
  Tensor i1 = Tensor::from_vector<int64_t>({2}, {1, 2}), i2 = Tensor::from_vector<int64_t>({2}, {3, 4});
  r = run_ref_op("Einsum", {i1, i2, i1}, {attr_s("equation", "a,b,a->b")}, 12);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2}, {15, 20});
  // Ellipsis dims broadcast: [2,1,3] with [4,3] -> [2,4].
  Tensor p = Tensor::from_vector<float>({2, 1, 3}, {1, 1, 1, 2, 2, 2});
  Tensor q = Tensor::from_vector<float>({4, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1});
  r = einsum("...k,...k->...", {p, q});
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 4}, {1, 1, 1, 3, 2, 2, 2, 6});
}

TEST(RefEinsum, RejectsBadEquations) {
  Tensor m = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto r = einsum("ijk->i", {m});
  EXPECT_NE(r.error.find("does not match input 0"), std::string::npos) << r.error;
  r = einsum("ij,jk->ik", {m});
  EXPECT_NE(r.error.find("2 input terms but the node has 1"), std::string::npos) << r.error;
  r = einsum("ii->i", {m});
  EXPECT_NE(r.error.find("label 'i' has size"), std::string::npos) << r.error;
  r = einsum("ij->k", {m});
  EXPECT_NE(r.error.find("does not appear"), std::string::npos) << r.error;
  r = einsum("ij->ii", {m});
  EXPECT_NE(r.error.find("repeated"), std::string::npos) << r.error;
  r = einsum("i$->i", {m});
  EXPECT_NE(r.error.find("invalid character"), std::string::npos) << r.error;
  r = run_ref_op("Einsum", {m}, {}, 12);
  EXPECT_NE(r.error.find("'equation' is required"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
