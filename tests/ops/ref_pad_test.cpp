#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_f;
using testing::attr_ints;
using testing::attr_s;
using testing::run_ref_op;

Tensor i64(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }
Tensor x23() { return Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6}); }

// Expected values below come from numpy.pad.
TEST(RefPad, Modes) {
  auto c = run_ref_op("Pad", {x23(), i64({1, 2, 0, 1}), Tensor::scalar<float>(9.5f)}, {}, 13);
  ASSERT_TRUE(c.error.empty()) << c.error;
  testing::expect_tensor_near(c.out(), {3, 6}, {9.5, 9.5, 9.5, 9.5, 9.5, 9.5, 9.5, 9.5, 1, 2, 3, 9.5,
                                                9.5, 9.5, 4, 5, 6, 9.5});
  auto r = run_ref_op("Pad", {x23(), i64({0, 2, 1, 2})}, {attr_s("mode", "reflect")}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 7}, {3, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1});
  auto big = run_ref_op("Pad", {x23(), i64({0, 5, 0, 0})}, {attr_s("mode", "reflect")}, 13);
  ASSERT_TRUE(big.error.empty()) << big.error;
  testing::expect_tensor_near(big.out(), {2, 8}, {2, 1, 2, 3, 2, 1, 2, 3, 5, 4, 5, 6, 5, 4, 5, 6});
  auto e = run_ref_op("Pad", {x23(), i64({2, 1, 0, 0})}, {attr_s("mode", "edge")}, 11);
  ASSERT_TRUE(e.error.empty()) << e.error;
  testing::expect_tensor_near(e.out(), {4, 4}, {1, 1, 2, 3, 1, 1, 2, 3, 1, 1, 2, 3, 4, 4, 5, 6});
  auto w = run_ref_op("Pad", {x23(), i64({1, 4, 1, 4})}, {attr_s("mode", "wrap")}, 19);
  ASSERT_TRUE(w.error.empty()) << w.error;
  testing::expect_tensor_near(w.out(), {4, 11}, {6, 4, 5, 6, 4, 5, 6, 4, 5, 6, 4, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1,
                                                 6, 4, 5, 6, 4, 5, 6, 4, 5, 6, 4, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1});
}

TEST(RefPad, NegativePadsCropAndAxes) {
  auto n = run_ref_op("Pad", {x23(), i64({0, -1, 1, 1})}, {}, 13);
  ASSERT_TRUE(n.error.empty()) << n.error;
  testing::expect_tensor_near(n.out(), {3, 3}, {2, 3, 0, 5, 6, 0, 0, 0, 0});
  auto a = run_ref_op("Pad", {x23(), i64({1, 1}), Tensor(), i64({-1})}, {attr_s("mode", "edge")}, 18);
  ASSERT_TRUE(a.error.empty()) << a.error;
  testing::expect_tensor_near(a.out(), {2, 5}, {1, 1, 2, 3, 3, 4, 4, 5, 6, 6});
}

TEST(RefPad, AttributesBeforeOpset11AndIntegers) {
  auto p2 = run_ref_op("Pad", {x23()}, {attr_ints("pads", {1, 2, 0, 1}), attr_f("value", 9.5f)}, 2);
  ASSERT_TRUE(p2.error.empty()) << p2.error;
  testing::expect_tensor_near(p2.out(), {3, 6}, {9.5, 9.5, 9.5, 9.5, 9.5, 9.5, 9.5, 9.5, 1, 2, 3, 9.5,
                                                 9.5, 9.5, 4, 5, 6, 9.5});
  auto p1 = run_ref_op("Pad", {x23()}, {attr_ints("paddings", {0, 0, 0, 1})}, 1);
  ASSERT_TRUE(p1.error.empty()) << p1.error;
  testing::expect_tensor_near(p1.out(), {2, 4}, {1, 2, 3, 0, 4, 5, 6, 0});
  Tensor xi = Tensor::from_vector<int32_t>({3}, {7, 8, 9});
  auto pi = run_ref_op("Pad", {xi, i64({1, 2}), Tensor::scalar<int32_t>(-1)}, {}, 13);
  ASSERT_TRUE(pi.error.empty()) << pi.error;
  EXPECT_EQ(pi.out().dtype(), DType::int32);
  testing::expect_tensor_near(pi.out(), {6}, {-1, 7, 8, 9, -1, -1});
}

TEST(RefPad, BadPadsAreErrors) {
  EXPECT_NE(run_ref_op("Pad", {x23(), i64({1, 1})}, {}, 13).error.find("2 * 2"), std::string::npos);
  EXPECT_NE(run_ref_op("Pad", {x23(), i64({0, -4, 0, 0})}, {}, 13).error.find("crop"), std::string::npos);
  Tensor empty(DType::float32, {0, 3});
  EXPECT_NE(run_ref_op("Pad", {empty, i64({1, 0, 0, 0})}, {attr_s("mode", "reflect")}, 13).error.find("size 0"),
            std::string::npos);
  EXPECT_NE(run_ref_op("Pad", {x23(), i64({0, 0, 0, 0})}, {attr_s("mode", "wrap")}, 13).error.find("wrap"),
            std::string::npos);
  EXPECT_NE(run_ref_op("Pad", {x23(), i64({0, 0}), Tensor(), i64({2})}, {}, 18).error.find("out of range"),
            std::string::npos);
}

}  // namespace
}  // namespace hwopt
