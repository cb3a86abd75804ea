#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::run_ref_op;

TEST(RefShape, StartEnd) {
  Tensor x(DType::float32, {3, 4, 5, 6});
  struct Case {
    std::vector<ir::Attribute> attrs;
    std::vector<double> expected;
  };
  std::vector<Case> cases = {
      {{}, {3, 4, 5, 6}},
      {{attr_i("start", 1)}, {4, 5, 6}},
      {{attr_i("end", -1)}, {3, 4, 5}},
      {{attr_i("start", -10)}, {3, 4, 5, 6}},
      {{attr_i("end", 10)}, {3, 4, 5, 6}},
      {{attr_i("start", 1), attr_i("end", 3)}, {4, 5}},
      {{attr_i("start", 3), attr_i("end", 1)}, {}},
  };
  for (const Case& c : cases) {
    auto r = run_ref_op("Shape", {x}, c.attrs, 15);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.out().dtype(), DType::int64);
    testing::expect_tensor_near(r.out(), {static_cast<int64_t>(c.expected.size())}, c.expected);
  }
  // Before opset 15 start/end do not exist.
  auto old = run_ref_op("Shape", {x}, {attr_i("start", 2)}, 13);
  ASSERT_TRUE(old.error.empty()) << old.error;
  testing::expect_tensor_near(old.out(), {4}, {3, 4, 5, 6});
}

TEST(RefShape, ScalarAndStrings) {
  auto r = run_ref_op("Shape", {Tensor::scalar<float>(1.0f)}, {}, 15);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().shape(), (Shape{0}));
  auto s = run_ref_op("Shape", {Tensor(DType::string, {2, 7})}, {}, 15);
  ASSERT_TRUE(s.error.empty()) << s.error;
  testing::expect_tensor_near(s.out(), {2}, {2, 7});
}

TEST(RefSize, CountsElements) {
  for (const Shape& s : std::vector<Shape>{{3, 4, 5}, {}, {2, 0, 3}, {7}}) {
    auto r = run_ref_op("Size", {Tensor(DType::int32, s)}, {}, 13);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.out().dtype(), DType::int64);
    testing::expect_tensor_near(r.out(), {}, {static_cast<double>(shape_numel(s))});
  }
  EXPECT_NE(run_ref_op("Size", {}, {}, 13).error.find("missing"), std::string::npos);
}

}  // namespace
}  // namespace hwopt
