// Unit tests for the Where reference kernel (ref_where.cpp).
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

TEST(RefWhere, BroadcastsAllThreeInputs) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-5, 5);
  // cond [2, 1, 4], x [3, 1], y [4] -> out [2, 3, 4]
  Tensor cond(DType::boolean, {2, 1, 4});
  for (int i = 0; i < 8; ++i) cond.data<bool>()[i] = rng() & 1;
  std::vector<float> xs(3), ys(4);
  for (auto& v : xs) v = dist(rng);
  for (auto& v : ys) v = dist(rng);
  std::vector<double> expected;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) expected.push_back(cond.data<bool>()[i * 4 + k] ? xs[j] : ys[k]);
  auto r = testing::run_ref_op("Where", {cond, Tensor::from_vector<float>({3, 1}, xs), Tensor::from_vector<float>({4}, ys)}, {}, 16);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3, 4}, expected);
}

TEST(RefWhere, StringsAndInts) {
  auto cond = Tensor::from_vector<bool>({3}, {true, false, true});
  auto r = testing::run_ref_op("Where", {cond, Tensor::from_vector<std::string>({3}, {"a", "b", "c"}),
                                         Tensor::from_vector<std::string>({}, {"z"})},
                               {}, 9);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.out().dtype(), DType::string);
  EXPECT_EQ(r.out().data<std::string>()[0], "a");
  EXPECT_EQ(r.out().data<std::string>()[1], "z");
  EXPECT_EQ(r.out().data<std::string>()[2], "c");

  r = testing::run_ref_op("Where", {cond, Tensor::from_vector<int64_t>({3}, {1, 2, 3}), Tensor::from_vector<int64_t>({3}, {-1, -2, -3})},
                          {}, 16);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3}, {1, -2, 3});
}

TEST(RefWhere, BadInputsAreErrors) {
  auto r = testing::run_ref_op("Where", {Tensor::from_vector<int32_t>({1}, {1}), Tensor::from_vector<float>({1}, {1}),
                                         Tensor::from_vector<float>({1}, {2})});
  EXPECT_NE(r.error.find("condition"), std::string::npos) << r.error;
  r = testing::run_ref_op("Where", {Tensor::from_vector<bool>({1}, {true}), Tensor::from_vector<float>({1}, {1}),
                                    Tensor::from_vector<double>({1}, {2})});
  EXPECT_NE(r.error.find("dtype"), std::string::npos) << r.error;
  r = testing::run_ref_op("Where", {Tensor::from_vector<bool>({2}, {true, false}), Tensor::from_vector<float>({3}, {}),
                                    Tensor::from_vector<float>({1}, {2})});
  EXPECT_NE(r.error.find("broadcast"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hwopt
