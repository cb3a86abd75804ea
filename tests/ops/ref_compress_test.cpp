#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::run_ref_op;

Tensor cond(std::vector<bool> c) {
  Tensor t(DType::boolean, {static_cast<int64_t>(c.size())});
  for (size_t i = 0; i < c.size(); ++i) t.data<bool>()[i] = c[i];
  return t;
}

Tensor x32() { return Tensor::from_vector<float>({3, 2}, {1.5f, 2, 3, 4, 5, 6.5f}); }

TEST(RefCompress, AxesAndFlattened) {
  auto a0 = run_ref_op("Compress", {x32(), cond({false, true, true})}, {attr_i("axis", 0)}, 11);
  ASSERT_TRUE(a0.error.empty()) << a0.error;
  testing::expect_tensor_near(a0.out(), {2, 2}, {3, 4, 5, 6.5});
  auto a1 = run_ref_op("Compress", {x32(), cond({false, true})}, {attr_i("axis", -1)}, 11);
  ASSERT_TRUE(a1.error.empty()) << a1.error;
  testing::expect_tensor_near(a1.out(), {3, 1}, {2, 4, 6.5});
  auto flat = run_ref_op("Compress", {x32(), cond({false, true, false, false, true})}, {}, 9);
  ASSERT_TRUE(flat.error.empty()) << flat.error;
  testing::expect_tensor_near(flat.out(), {2}, {2, 5});
  // A condition longer than the axis is fine while the extra entries are false.
  auto longer = run_ref_op("Compress", {x32(), cond({true, false, false, false})}, {attr_i("axis", 1)}, 11);
  ASSERT_TRUE(longer.error.empty()) << longer.error;
  testing::expect_tensor_near(longer.out(), {3, 1}, {1.5, 3, 5});
  auto none = run_ref_op("Compress", {x32(), cond({false, false, false})}, {attr_i("axis", 0)}, 11);
  ASSERT_TRUE(none.error.empty()) << none.error;
  EXPECT_EQ(none.out().shape(), (Shape{0, 2}));
}

TEST(RefCompress, BadConditionIsError) {
  auto a = run_ref_op("Compress", {x32(), cond({false, false, true})}, {attr_i("axis", 1)}, 11);
  EXPECT_NE(a.error.find("selects index 2"), std::string::npos) << a.error;
  auto b = run_ref_op("Compress", {x32(), Tensor::from_vector<int64_t>({2}, {1, 0})}, {attr_i("axis", 1)}, 11);
  EXPECT_NE(b.error.find("bool"), std::string::npos) << b.error;
  auto c = run_ref_op("Compress", {x32(), cond({true})}, {attr_i("axis", 2)}, 11);
  EXPECT_NE(c.error.find("out of range"), std::string::npos) << c.error;
}

}  // namespace
}  // namespace hwopt
