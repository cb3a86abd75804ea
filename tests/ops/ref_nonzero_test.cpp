#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::run_ref_op;

TEST(RefNonZero, BoolMatrix) {
  Tensor x = Tensor::from_vector<bool>({2, 2}, {true, false, true, true});
  auto r = run_ref_op("NonZero", {x}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().dtype(), DType::int64);
  testing::expect_tensor_near(r.out(), {2, 3}, {0, 1, 1, 0, 0, 1}, 0, 0);
}

TEST(RefNonZero, RandomFloat3D) {
  std::mt19937 gen(9);
  std::vector<float> xv(2 * 3 * 4);
  for (auto& v : xv) v = gen() % 3 == 0 ? 0.0f : static_cast<float>(gen() % 100) - 50.5f;
  Tensor x = Tensor::from_vector<float>({2, 3, 4}, xv);
  auto r = run_ref_op("NonZero", {x}, {}, 9);
  ASSERT_TRUE(r.error.empty()) << r.error;
  std::vector<std::vector<double>> rows(3);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k)
        if (xv[(i * 3 + j) * 4 + k] != 0.0f) {
          rows[0].push_back(i);
          rows[1].push_back(j);
          rows[2].push_back(k);
        }
  std::vector<double> expected;
  for (auto& row : rows) expected.insert(expected.end(), row.begin(), row.end());
  const int64_t n = static_cast<int64_t>(rows[0].size());
  testing::expect_tensor_near(r.out(), {3, n}, expected, 0, 0);
}

TEST(RefNonZero, IntsScalarsEmptyAndStrings) {
  Tensor x = Tensor::from_vector<int32_t>({5}, {0, 3, 0, -1, 0});
  auto r = run_ref_op("NonZero", {x}, {}, 13);
  testing::expect_tensor_near(r.out(), {1, 2}, {1, 3}, 0, 0);
  r = run_ref_op("NonZero", {Tensor::scalar<float>(2.5f)}, {}, 13);
  testing::expect_tensor_near(r.out(), {1, 1}, {0}, 0, 0);
  r = run_ref_op("NonZero", {Tensor::scalar<float>(0.0f)}, {}, 13);
  testing::expect_tensor_near(r.out(), {1, 0}, {}, 0, 0);
  r = run_ref_op("NonZero", {Tensor(DType::float32, {2, 0, 3})}, {}, 13);
  testing::expect_tensor_near(r.out(), {3, 0}, {}, 0, 0);
  Tensor s = Tensor::from_vector<std::string>({3}, {"", "a", "bc"});
  r = run_ref_op("NonZero", {s}, {}, 13);
  testing::expect_tensor_near(r.out(), {1, 2}, {1, 2}, 0, 0);
  // Non-contiguous: transpose of [[0, 1], [2, 0]] is [[0, 2], [1, 0]].
  Tensor t = Tensor::from_vector<float>({2, 2}, {0, 1, 2, 0}).permute({1, 0});
  r = run_ref_op("NonZero", {t}, {}, 13);
  testing::expect_tensor_near(r.out(), {2, 2}, {0, 1, 1, 0}, 0, 0);
}

TEST(RefNonZero, MissingInput) {
  auto r = run_ref_op("NonZero", {Tensor()}, {}, 13);
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace hwopt
