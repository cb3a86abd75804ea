#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_f;
using testing::attr_floats;
using testing::attr_i;
using testing::attr_ints;
using testing::attr_s;
using testing::run_ref_op;

ir::Attribute attr_t(const std::string& name, Tensor t) {
  ir::Attribute a;
  a.name = name;
  a.type = ir::AttrType::t;
  a.t = std::move(t);
  return a;
}

TEST(RefConstant, EveryValueAttribute) {
  Tensor v = Tensor::from_vector<float>({2, 2}, {1.5f, -2, 3, 0.25f});
  auto t = run_ref_op("Constant", {}, {attr_t("value", v)}, 13);
  ASSERT_TRUE(t.error.empty()) << t.error;
  testing::expect_tensor_near(t.out(), {2, 2}, {1.5, -2, 3, 0.25});
  auto f = run_ref_op("Constant", {}, {attr_f("value_float", 2.5f)}, 13);
  ASSERT_TRUE(f.error.empty()) << f.error;
  EXPECT_EQ(f.out().dtype(), DType::float32);
  testing::expect_tensor_near(f.out(), {}, {2.5});
  auto fs = run_ref_op("Constant", {}, {attr_floats("value_floats", {1, 2, 3})}, 13);
  ASSERT_TRUE(fs.error.empty()) << fs.error;
  testing::expect_tensor_near(fs.out(), {3}, {1, 2, 3});
  auto i = run_ref_op("Constant", {}, {attr_i("value_int", -7)}, 13);
  ASSERT_TRUE(i.error.empty()) << i.error;
  EXPECT_EQ(i.out().dtype(), DType::int64);
  testing::expect_tensor_near(i.out(), {}, {-7});
  auto is = run_ref_op("Constant", {}, {attr_ints("value_ints", {4, 5})}, 13);
  ASSERT_TRUE(is.error.empty()) << is.error;
  testing::expect_tensor_near(is.out(), {2}, {4, 5});
  auto s = run_ref_op("Constant", {}, {attr_s("value_string", "hello")}, 13);
  ASSERT_TRUE(s.error.empty()) << s.error;
  EXPECT_EQ(s.out().dtype(), DType::string);
  EXPECT_EQ(s.out().data<std::string>()[0], "hello");
  ir::Attribute ss;
  ss.name = "value_strings";
  ss.type = ir::AttrType::strings;
  ss.strings = {"a", "bc"};
  auto strs = run_ref_op("Constant", {}, {ss}, 13);
  ASSERT_TRUE(strs.error.empty()) << strs.error;
  EXPECT_EQ(strs.out().shape(), (Shape{2}));
  EXPECT_EQ(strs.out().data<std::string>()[1], "bc");
}

TEST(RefConstant, NeedsExactlyOneValue) {
  EXPECT_NE(run_ref_op("Constant", {}, {}, 13).error.find("exactly one"), std::string::npos);
  EXPECT_NE(run_ref_op("Constant", {}, {attr_i("value_int", 1), attr_f("value_float", 1)}, 13).error.find("got 2"),
            std::string::npos);
}

TEST(RefConstantOfShape, DefaultAndTypedValues) {
  auto d = run_ref_op("ConstantOfShape", {Tensor::from_vector<int64_t>({2}, {2, 3})}, {}, 9);
  ASSERT_TRUE(d.error.empty()) << d.error;
  EXPECT_EQ(d.out().dtype(), DType::float32);
  testing::expect_tensor_near(d.out(), {2, 3}, std::vector<double>(6, 0.0));
  auto i = run_ref_op("ConstantOfShape", {Tensor::from_vector<int64_t>({3}, {1, 2, 2})},
                      {attr_t("value", Tensor::from_vector<int32_t>({1}, {7}))}, 9);
  ASSERT_TRUE(i.error.empty()) << i.error;
  EXPECT_EQ(i.out().dtype(), DType::int32);
  testing::expect_tensor_near(i.out(), {1, 2, 2}, std::vector<double>(4, 7.0));
  auto h = run_ref_op("ConstantOfShape", {Tensor::from_vector<int64_t>({1}, {3})},
                      {attr_t("value", Tensor::from_vector<Half>({1}, {Half(1.5f)}))}, 9);
  ASSERT_TRUE(h.error.empty()) << h.error;
  EXPECT_EQ(h.out().dtype(), DType::float16);
  testing::expect_tensor_near(h.out(), {3}, {1.5, 1.5, 1.5});
  auto scalar = run_ref_op("ConstantOfShape", {Tensor(DType::int64, {0})},
                           {attr_t("value", Tensor::from_vector<float>({1}, {2.5f}))}, 9);
  ASSERT_TRUE(scalar.error.empty()) << scalar.error;
  testing::expect_tensor_near(scalar.out(), {}, {2.5});
  auto zero = run_ref_op("ConstantOfShape", {Tensor::from_vector<int64_t>({2}, {0, 4})}, {}, 9);
  ASSERT_TRUE(zero.error.empty()) << zero.error;
  EXPECT_EQ(zero.out().shape(), (Shape{0, 4}));
}

TEST(RefConstantOfShape, BadShapesAreErrors) {
  EXPECT_NE(run_ref_op("ConstantOfShape", {Tensor::from_vector<int64_t>({2}, {2, -1})}, {}, 9).error.find("negative"),
            std::string::npos);
  auto huge = run_ref_op("ConstantOfShape", {Tensor::from_vector<int64_t>({2}, {INT64_MAX, 4})}, {}, 9);
  EXPECT_NE(huge.error.find("too large"), std::string::npos) << huge.error;
  auto two = run_ref_op("ConstantOfShape", {Tensor::from_vector<int64_t>({1}, {2})},
                        {attr_t("value", Tensor::from_vector<float>({2}, {1, 2}))}, 9);
  EXPECT_NE(two.error.find("one-element"), std::string::npos) << two.error;
}

}  // namespace
}  // namespace hwopt
