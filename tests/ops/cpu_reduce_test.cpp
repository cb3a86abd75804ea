// The CPU backend's Reduce* candidate against the reference kernels.
#include <random>

#include "backends/cpu/onednn.h"
#include "op_test_util.h"
#include "runtime/single_op.h"

namespace hwopt {
namespace {

using tag = dnnl::memory::format_tag;

using testing::random_tensor;

Tensor blocked(const Tensor& t, tag tg) { return cpu::reorder_to(t, cpu::tagged_desc(t.shape(), DType::float32, tg)); }

void expect_matches(const Tensor& got, const Tensor& want, double tol = 1e-5) {
  std::vector<double> w;
  for (int64_t i = 0; i < want.numel(); ++i) w.push_back(want.element_as_double(i));
  testing::expect_tensor_near(got, want.shape(), w, tol, tol);
}

const std::vector<std::string> kOps = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2"};

/// Runs op with `axes` both as the attribute (opset 11) and as a constant input (opset 18).
void check(const std::string& op, const Tensor& x, const Tensor& x_in, const std::vector<int64_t>& axes,
           int64_t keepdims) {
  SCOPED_TRACE(fmt::format("{} {} axes [{}] keepdims {} {}", op, shape_str(x.shape()), fmt::join(axes, ","), keepdims,
                           x_in.is_plain() ? "plain" : x_in.layout()->name()));
  std::vector<ir::Attribute> attrs = {testing::attr_i("keepdims", keepdims)};
  if (!axes.empty()) attrs.push_back(testing::attr_ints("axes", axes));
  auto ref = testing::run_ref_op(op, {x}, attrs, 11);
  ASSERT_TRUE(ref.error.empty()) << ref.error;
  auto cpu = testing::run_backend_op("cpu", op, {x_in}, attrs, 11);
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  ASSERT_EQ(cpu.implementation, "cpu:onednn:reduce");
  expect_matches(cpu.out(), ref.out());

  std::vector<ir::Attribute> attrs18 = {testing::attr_i("keepdims", keepdims)};
  std::vector<Tensor> in = {x_in};
  std::vector<size_t> constants;
  if (!axes.empty()) {
    in.push_back(Tensor::from_vector<int64_t>({static_cast<int64_t>(axes.size())}, axes));
    constants = {1};
  }
  cpu = testing::run_backend_op("cpu", op, in, attrs18, 18, 1, "", constants);
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  ASSERT_EQ(cpu.implementation, "cpu:onednn:reduce");
  expect_matches(cpu.out(), ref.out());
}

TEST(CpuReduce, MatchesReferenceOverAxes) {
  const std::vector<std::pair<Shape, std::vector<std::vector<int64_t>>>> cases = {
      {{64, 77}, {{1}, {-1}, {0}, {0, 1}, {}}},
      {{2, 7, 33}, {{-1}, {1}, {0}, {0, 2}, {1, 2}, {0, 1}, {2, 0}}},
      {{2, 16, 5, 5}, {{2, 3}, {-2, -1}, {1}, {0, 2}, {1, 3}, {0, 1, 2, 3}}},
      {{3, 1, 4, 1}, {{1}, {1, 3}, {0, 1}, {2}}},
      {{5}, {{0}, {}}},
      {{2, 3, 4, 5, 6}, {{2, 3, 4}, {1, 2}, {4}, {0, 4}}},
  };
  for (const auto& op : kOps)
    for (const auto& [shape, axes_list] : cases)
      for (const auto& axes : axes_list)
        for (int64_t keepdims : {0, 1}) {
          Tensor x = random_tensor(shape, 3);
          check(op, x, x, axes, keepdims);
        }
}

TEST(CpuReduce, BlockedInputs) {
  for (const auto& op : kOps)
    for (const Shape& s : {Shape{2, 16, 5, 5}, Shape{1, 19, 7, 3}})
      for (int64_t keepdims : {0, 1}) {
        Tensor x = random_tensor(s, 5);
        for (tag t : {tag::nChw16c, tag::nhwc}) {
          check(op, x, blocked(x, t), {2, 3}, keepdims);  // global pooling for mean/max
          check(op, x, blocked(x, t), {1}, keepdims);
          check(op, x, blocked(x, t), {}, keepdims);
        }
      }
  // A squeeze-excite global mean keeps the blocked layout.
  SingleOp op;
  op.op_type = "ReduceMean";
  op.opset = 13;
  op.attributes = {testing::attr_ints("axes", {2, 3}), testing::attr_i("keepdims", 1)};
  op.inputs = {blocked(random_tensor({1, 32, 7, 7}, 1), tag::nChw16c)};
  SingleOpRunner runner("cpu", op, 2);
  auto r = runner.run(/*plain=*/false);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_FALSE(r.out().is_plain());
}

TEST(CpuReduce, NoopWithEmptyAxes) {
  Tensor x = random_tensor({3, 4}, 1);
  std::vector<ir::Attribute> attrs = {testing::attr_i("noop_with_empty_axes", 1)};
  auto ref = testing::run_ref_op("ReduceSum", {x}, attrs, 13);
  auto cpu = testing::run_backend_op("cpu", "ReduceSum", {x}, attrs, 13);
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  EXPECT_EQ(cpu.implementation, "cpu:onednn:reduce");
  expect_matches(cpu.out(), ref.out());
}

TEST(CpuReduce, DeclinesWithReasons) {
  Tensor x = random_tensor({3, 4}, 1);
  Tensor axes = Tensor::from_vector<int64_t>({1}, {1});
  auto r = testing::run_backend_op("cpu", "ReduceMean", {x, axes}, {}, 18, 1, "", {});
  EXPECT_NE(r.implementation, "cpu:onednn:reduce");
  ASSERT_FALSE(r.declined.empty());
  EXPECT_NE(r.declined[0].find("not a constant"), std::string::npos);

  r = testing::run_backend_op("cpu", "ReduceMean", {x}, {testing::attr_ints("axes", {2})}, 13);
  EXPECT_NE(r.implementation, "cpu:onednn:reduce");
  ASSERT_FALSE(r.declined.empty());
  EXPECT_NE(r.declined[0].find("out of range"), std::string::npos);

  Tensor xi = Tensor::from_vector<int64_t>({2}, {1, 2});
  r = testing::run_backend_op("cpu", "ReduceSum", {xi}, {}, 13);
  EXPECT_NE(r.implementation, "cpu:onednn:reduce");
}

}  // namespace
}  // namespace hwopt
