#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::run_ref_op;

Tensor i64(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

TEST(RefTile, RepeatsEveryAxis) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(0.5f, 3.0f);
  std::vector<float> v(2 * 3 * 2);
  for (auto& f : v) f = d(rng);
  Tensor x = Tensor::from_vector<float>({2, 3, 2}, v);
  auto r = run_ref_op("Tile", {x, i64({2, 1, 3})}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  std::vector<double> e;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 6; ++k) e.push_back(v[((i % 2) * 3 + j) * 2 + k % 2]);
  testing::expect_tensor_near(r.out(), {4, 3, 6}, e);
}

TEST(RefTile, SmallCasesAndOpset1) {
  Tensor x = Tensor::from_vector<int64_t>({2, 2}, {0, 1, 2, 3});
  auto r = run_ref_op("Tile", {x, i64({2, 2})}, {}, 6);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {4, 4}, {0, 1, 0, 1, 2, 3, 2, 3, 0, 1, 0, 1, 2, 3, 2, 3});
  auto z = run_ref_op("Tile", {x, i64({0, 3})}, {}, 13);
  ASSERT_TRUE(z.error.empty()) << z.error;
  EXPECT_EQ(z.out().shape(), (Shape{0, 6}));
  auto old = run_ref_op("Tile", {x, Tensor::scalar<int64_t>(3), Tensor::scalar<int64_t>(1)}, {}, 1);
  ASSERT_TRUE(old.error.empty()) << old.error;
  testing::expect_tensor_near(old.out(), {2, 6}, {0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3});
}

TEST(RefTile, BadRepeatsAreErrors) {
  Tensor x = Tensor::from_vector<float>({2}, {1, 2});
  EXPECT_NE(run_ref_op("Tile", {x, i64({2, 2})}, {}, 13).error.find("rank 1"), std::string::npos);
  EXPECT_NE(run_ref_op("Tile", {x, i64({-1})}, {}, 13).error.find("negative"), std::string::npos);
  EXPECT_FALSE(run_ref_op("Tile", {x, i64({INT64_MAX / 2})}, {}, 13).error.empty());
}

}  // namespace
}  // namespace hwopt
