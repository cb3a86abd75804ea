#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::run_ref_op;

Tensor arange(const Shape& s) {
  std::vector<float> v(static_cast<size_t>(shape_numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i + 1);
  return Tensor::from_vector<float>(s, v);
}

TEST(RefGather, AxesAndNegativeIndices) {
  Tensor d = arange({2, 3, 4});
  auto a = run_ref_op("Gather", {d, Tensor::from_vector<int64_t>({3}, {2, -1, 0})}, {attr_i("axis", 1)}, 13);
  ASSERT_TRUE(a.error.empty()) << a.error;
  testing::expect_tensor_near(a.out(), {2, 3, 4}, {9, 10, 11, 12, 9, 10, 11, 12, 1, 2, 3, 4,
                                                   21, 22, 23, 24, 21, 22, 23, 24, 13, 14, 15, 16});
  // 2-D int32 indices on the last axis (expected values from numpy.take).
  auto b = run_ref_op("Gather", {d, Tensor::from_vector<int32_t>({2, 2}, {1, 0, 3, 3})}, {attr_i("axis", -1)}, 13);
  ASSERT_TRUE(b.error.empty()) << b.error;
  testing::expect_tensor_near(b.out(), {2, 3, 2, 2}, {2, 1, 4, 4, 6, 5, 8, 8, 10, 9, 12, 12,
                                                      14, 13, 16, 16, 18, 17, 20, 20, 22, 21, 24, 24});
  // Scalar index removes the axis.
  auto c = run_ref_op("Gather", {d, Tensor::scalar<int64_t>(1)}, {}, 11);
  ASSERT_TRUE(c.error.empty()) << c.error;
  testing::expect_tensor_near(c.out(), {3, 4}, {13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24});
}

TEST(RefGather, StringsAndOutOfRange) {
  Tensor s = Tensor::from_vector<std::string>({3}, {"x", "y", "z"});
  auto r = run_ref_op("Gather", {s, Tensor::from_vector<int64_t>({2}, {2, -3})}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().data<std::string>()[0], "z");
  EXPECT_EQ(r.out().data<std::string>()[1], "x");
  Tensor d = arange({2, 3});
  auto bad = run_ref_op("Gather", {d, Tensor::from_vector<int64_t>({2}, {0, 3})}, {attr_i("axis", 1)}, 13);
  EXPECT_NE(bad.error.find("index 3"), std::string::npos) << bad.error;
  auto neg = run_ref_op("Gather", {d, Tensor::from_vector<int64_t>({1}, {-3})}, {}, 13);
  EXPECT_NE(neg.error.find("index -3"), std::string::npos) << neg.error;
  EXPECT_NE(run_ref_op("Gather", {d, Tensor::from_vector<float>({1}, {0})}, {}, 13).error.find("int32 or int64"),
            std::string::npos);
}

TEST(RefGatherElements, SpecExamples) {
  Tensor d2 = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  auto a = run_ref_op("GatherElements", {d2, Tensor::from_vector<int64_t>({2, 2}, {0, 0, 1, 0})},
                      {attr_i("axis", 1)}, 13);
  ASSERT_TRUE(a.error.empty()) << a.error;
  testing::expect_tensor_near(a.out(), {2, 2}, {1, 1, 4, 3});
  Tensor d3 = arange({3, 3});
  auto b = run_ref_op("GatherElements", {d3, Tensor::from_vector<int64_t>({2, 3}, {1, 2, 0, 2, 0, -3})}, {}, 13);
  ASSERT_TRUE(b.error.empty()) << b.error;
  testing::expect_tensor_near(b.out(), {2, 3}, {4, 8, 3, 7, 2, 3});
  // Smaller indices than data on other axes, 3-D.
  Tensor d = arange({2, 3, 4});
  auto c = run_ref_op("GatherElements", {d, Tensor::from_vector<int32_t>({1, 3, 2}, {0, 3, 1, -1, 2, 0})},
                      {attr_i("axis", 2)}, 13);
  ASSERT_TRUE(c.error.empty()) << c.error;
  testing::expect_tensor_near(c.out(), {1, 3, 2}, {1, 4, 6, 8, 11, 9});
}

TEST(RefGatherElements, BadIndicesAreErrors) {
  Tensor d = arange({2, 2});
  auto a = run_ref_op("GatherElements", {d, Tensor::from_vector<int64_t>({1, 2}, {0, 2})}, {attr_i("axis", 1)}, 13);
  EXPECT_NE(a.error.find("index 2"), std::string::npos) << a.error;
  auto b = run_ref_op("GatherElements", {d, Tensor::from_vector<int64_t>({3, 1}, {0, 0, 0})}, {attr_i("axis", 1)}, 13);
  EXPECT_NE(b.error.find("exceeds"), std::string::npos) << b.error;
  auto c = run_ref_op("GatherElements", {d, Tensor::from_vector<int64_t>({2}, {0, 0})}, {}, 13);
  EXPECT_NE(c.error.find("rank"), std::string::npos) << c.error;
}

TEST(RefGatherND, SpecExamplesAndBatchDims) {
  Tensor d2 = Tensor::from_vector<int32_t>({2, 2}, {0, 1, 2, 3});
  auto e1 = run_ref_op("GatherND", {d2, Tensor::from_vector<int64_t>({2, 2}, {0, 0, 1, 1})}, {}, 13);
  ASSERT_TRUE(e1.error.empty()) << e1.error;
  testing::expect_tensor_near(e1.out(), {2}, {0, 3});
  auto e2 = run_ref_op("GatherND", {d2, Tensor::from_vector<int64_t>({2, 1}, {1, 0})}, {}, 13);
  ASSERT_TRUE(e2.error.empty()) << e2.error;
  testing::expect_tensor_near(e2.out(), {2, 2}, {2, 3, 0, 1});
  Tensor d3 = Tensor::from_vector<float>({2, 2, 2}, {10, 11, 12, 13, 14, 15, 16, 17});
  auto e3 = run_ref_op("GatherND", {d3, Tensor::from_vector<int64_t>({2, 2}, {0, 1, 1, 0})}, {}, 13);
  ASSERT_TRUE(e3.error.empty()) << e3.error;
  testing::expect_tensor_near(e3.out(), {2, 2}, {12, 13, 14, 15});
  auto e4 = run_ref_op("GatherND", {d3, Tensor::from_vector<int64_t>({2, 1, 2}, {0, 1, 1, 0})}, {}, 13);
  ASSERT_TRUE(e4.error.empty()) << e4.error;
  testing::expect_tensor_near(e4.out(), {2, 1, 2}, {12, 13, 14, 15});
  auto e5 = run_ref_op("GatherND", {d3, Tensor::from_vector<int64_t>({2, 1}, {1, 0})}, {attr_i("batch_dims", 1)}, 13);
  ASSERT_TRUE(e5.error.empty()) << e5.error;
  testing::expect_tensor_near(e5.out(), {2, 2}, {12, 13, 14, 15});
  // batch_dims=1 with full index tuples and negative indices.
  auto e6 = run_ref_op("GatherND", {d3, Tensor::from_vector<int64_t>({2, 2}, {-1, 0, 0, -1})},
                       {attr_i("batch_dims", 1)}, 13);
  ASSERT_TRUE(e6.error.empty()) << e6.error;
  testing::expect_tensor_near(e6.out(), {2}, {12, 15});
}

TEST(RefGatherND, BadIndicesAreErrors) {
  Tensor d = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  auto a = run_ref_op("GatherND", {d, Tensor::from_vector<int64_t>({1, 2}, {0, 2})}, {}, 13);
  EXPECT_NE(a.error.find("index 2"), std::string::npos) << a.error;
  auto b = run_ref_op("GatherND", {d, Tensor::from_vector<int64_t>({1, 3}, {0, 0, 0})}, {}, 13);
  EXPECT_NE(b.error.find("last dim"), std::string::npos) << b.error;
  auto c = run_ref_op("GatherND", {d, Tensor::from_vector<int64_t>({3, 1}, {0, 0, 0})}, {attr_i("batch_dims", 1)}, 13);
  EXPECT_NE(c.error.find("batch dim"), std::string::npos) << c.error;
}

}  // namespace
}  // namespace hwopt
