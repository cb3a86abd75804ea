// The CPU backend's oneDNN pooling candidate against the reference kernels.
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

struct PoolCase {
  Shape x;
  std::vector<int64_t> kernel, strides, pads, dilations;
  std::string auto_pad;
  int64_t ceil_mode = 0;
  // count_include_pad=1 reaches into ceil_mode's extra padding: the kernel hands it to the reference.
  bool include_pad_falls_back = false;
};

const std::vector<PoolCase> kCases = {
    {{1, 3, 8, 8}, {2, 2}, {2, 2}, {}, {}, ""},
    {{2, 16, 9, 7}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, ""},
    {{1, 19, 10, 11}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {}, "", 1, true},  // ceil_mode
    {{1, 8, 11, 11}, {3, 2}, {2, 1}, {1, 0, 2, 1}, {}, "", 1},        // asymmetric pads + ceil
    {{1, 4, 9, 9}, {3, 3}, {2, 2}, {}, {}, "SAME_UPPER"},
    {{1, 4, 10, 9}, {2, 3}, {3, 2}, {}, {}, "SAME_LOWER"},
    {{1, 4, 10, 9}, {3, 3}, {2, 2}, {}, {}, "VALID"},
    {{2, 5, 13}, {3}, {2}, {1, 1}, {}, ""},                           // 1-D
    {{1, 3, 5, 6, 7}, {2, 3, 2}, {1, 2, 2}, {0, 1, 1, 0, 0, 1}, {}, ""},  // 3-D
    {{1, 6, 12, 12}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {2, 2}, ""},       // dilated
    {{1, 3, 5, 5}, {5, 5}, {1, 1}, {}, {}, ""},
    {{1, 2, 6, 6}, {2, 2}, {3, 3}, {0, 0, 1, 1}, {}, ""},             // stride skips the end padding
};

std::vector<ir::Attribute> attrs_of(const PoolCase& c) {
  std::vector<ir::Attribute> a = {testing::attr_ints("kernel_shape", c.kernel)};
  if (!c.strides.empty()) a.push_back(testing::attr_ints("strides", c.strides));
  if (!c.pads.empty()) a.push_back(testing::attr_ints("pads", c.pads));
  if (!c.dilations.empty()) a.push_back(testing::attr_ints("dilations", c.dilations));
  if (!c.auto_pad.empty()) a.push_back(testing::attr_s("auto_pad", c.auto_pad));
  if (c.ceil_mode) a.push_back(testing::attr_i("ceil_mode", c.ceil_mode));
  return a;
}

// `ran`: how the kernel's report of what ran (SingleOpResult::kernel) starts: oneDNN's pooling
// primitive, or "ref fallback" where the kernel hands the case to the reference kernel.
void check(const std::string& op, const Tensor& x, const Tensor& x_in, const std::vector<ir::Attribute>& attrs,
           int opset = 19, const std::string& ran = "pooling") {
  SCOPED_TRACE(op + " " + shape_str(x.shape()) + (x_in.is_plain() ? " plain" : " " + x_in.layout()->name()));
  auto ref = testing::run_ref_op(op, {x}, attrs, opset);
  ASSERT_TRUE(ref.error.empty()) << ref.error;
  auto cpu = testing::run_backend_op("cpu", op, {x_in}, attrs, opset);
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  ASSERT_EQ(cpu.implementation, "cpu:onednn:pool");
  EXPECT_EQ(cpu.kernel.rfind(ran, 0), 0u) << cpu.kernel;
  expect_matches(cpu.out(), ref.out());
}

TEST(CpuPool, MaxAndAverageMatchReference) {
  uint32_t seed = 1;
  for (const auto& c : kCases) {
    Tensor x = random_tensor(c.x, seed++);
    const bool is2d = c.x.size() == 4;
    check("MaxPool", x, x, attrs_of(c));
    if (is2d) check("MaxPool", x, blocked(x, tag::nChw16c), attrs_of(c));
    for (int64_t include : {0, 1}) {
      auto a = attrs_of(c);
      a.push_back(testing::attr_i("count_include_pad", include));
      const std::string ran = include && c.include_pad_falls_back ? std::string(kReferenceFallback) : "pooling";
      check("AveragePool", x, x, a, 19, ran);
      if (is2d) {
        check("AveragePool", x, blocked(x, tag::nChw16c), a, 19, ran);
        check("AveragePool", x, blocked(x, tag::nhwc), a, 19, ran);
      }
    }
  }
}

TEST(CpuPool, GlobalPoolsMatchReference) {
  uint32_t seed = 40;
  for (const Shape& s : {Shape{1, 3, 8, 8}, Shape{2, 19, 7, 5}, Shape{2, 5, 13}, Shape{1, 4, 3, 5, 6}, Shape{1, 64, 1, 1}}) {
    Tensor x = random_tensor(s, seed++);
    for (const char* op : {"GlobalAveragePool", "GlobalMaxPool"}) {
      check(op, x, x, {}, 17);
      if (s.size() == 4) check(op, x, blocked(x, tag::nChw16c), {}, 17);
    }
  }
}

TEST(CpuPool, ConvPoolConvStaysBlocked) {
  // Conv (oneDNN picks a blocked dst) -> MaxPool -> Conv, layouts kept between the steps.
  Tensor x = random_tensor({1, 16, 12, 12}, 7), w1 = random_tensor({32, 16, 3, 3}, 8), w2 = random_tensor({16, 32, 1, 1}, 9);
  SingleOp conv1;
  conv1.op_type = "Conv";
  conv1.opset = 11;
  conv1.inputs = {x, w1};
  conv1.constant_inputs = {1};
  conv1.attributes = {testing::attr_ints("pads", {1, 1, 1, 1})};
  SingleOpRunner c1("cpu", conv1, 2);
  auto y1 = c1.run(/*plain=*/false);
  ASSERT_TRUE(y1.error.empty()) << y1.error;
  ASSERT_FALSE(y1.out().is_plain());

  const std::vector<ir::Attribute> pool_attrs = {testing::attr_ints("kernel_shape", {3, 3}),
                                                 testing::attr_ints("strides", {2, 2}),
                                                 testing::attr_ints("pads", {1, 1, 1, 1})};
  SingleOp pool;
  pool.op_type = "MaxPool";
  pool.opset = 12;
  pool.inputs = {y1.out()};
  pool.attributes = pool_attrs;
  SingleOpRunner p("cpu", pool, 2);
  ASSERT_EQ(p.implementation(), "cpu:onednn:pool");
  auto y2 = p.run(/*plain=*/false);
  ASSERT_TRUE(y2.error.empty()) << y2.error;
  EXPECT_FALSE(y2.out().is_plain());

  SingleOp conv2 = conv1;
  conv2.inputs = {y2.out(), w2};
  conv2.attributes = {};
  SingleOpRunner c2("cpu", conv2, 2);
  auto y3 = c2.run(/*plain=*/true);
  ASSERT_TRUE(y3.error.empty()) << y3.error;

  auto r1 = testing::run_ref_op("Conv", {x, w1}, {testing::attr_ints("pads", {1, 1, 1, 1})}, 11);
  auto r2 = testing::run_ref_op("MaxPool", {r1.out()}, pool_attrs, 12);
  auto r3 = testing::run_ref_op("Conv", {r2.out(), w2}, {}, 11);
  expect_matches(y3.out(), r3.out(), 1e-4);
}

TEST(CpuPool, IncludePadWithCeilModeExtraPaddingFallsBackCorrectly) {
  // The last window reaches past the declared end padding: the reference kernel runs.
  Tensor x = random_tensor({1, 3, 6, 6}, 3);
  std::vector<ir::Attribute> a = {testing::attr_ints("kernel_shape", {3, 3}), testing::attr_ints("strides", {2, 2}),
                                  testing::attr_i("ceil_mode", 1), testing::attr_i("count_include_pad", 1)};
  check("AveragePool", x, x, a, 19, std::string(kReferenceFallback));
}

TEST(CpuPool, DeclinesWithReasons) {
  Tensor x = random_tensor({1, 2, 4, 4}, 1);
  auto r = testing::run_backend_op("cpu", "MaxPool", {x}, {testing::attr_ints("kernel_shape", {2, 2})}, 12, 2);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_NE(r.implementation, "cpu:onednn:pool");
  ASSERT_FALSE(r.declined.empty());
  EXPECT_NE(r.declined[0].find("Indices"), std::string::npos);

  Tensor xi = Tensor::from_vector<uint8_t>({1, 1, 2, 2}, {1, 2, 3, 4});
  r = testing::run_backend_op("cpu", "MaxPool", {xi}, {testing::attr_ints("kernel_shape", {2, 2})}, 12);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_NE(r.implementation, "cpu:onednn:pool");
}

}  // namespace
}  // namespace hwopt
