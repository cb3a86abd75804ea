// The CPU backend's Softmax / LogSoftmax candidate against the reference kernels.
#include <random>

#include "cpu_own_test_util.h"
#include "op_test_util.h"

namespace hwopt {
namespace {

Tensor random_tensor(const Shape& shape, uint32_t seed, float lo = -4.f, float hi = 4.f) {
  Tensor t(DType::float32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) {
    float v = dist(rng);
    t.data<float>()[i] = v == 0.f ? 0.25f : v;
  }
  return t;
}

void expect_matches(const Tensor& got, const Tensor& want, double tol) {
  std::vector<double> w;
  for (int64_t i = 0; i < want.numel(); ++i) w.push_back(want.element_as_double(i));
  testing::expect_tensor_near(got, want.shape(), w, tol, tol);
}

TEST(CpuSoftmax, MatchesReferenceOverShapesAxesAndOpsets) {
  const std::vector<Shape> shapes = {{5}, {3, 7}, {2, 3, 17}, {2, 4, 8, 9}, {1, 1000}, {2, 3, 1, 5}, {}};
  uint32_t seed = 1;
  for (const char* op : {"Softmax", "LogSoftmax"})
    for (int opset : {11, 13}) {
      for (const Shape& s : shapes) {
        const int64_t r = static_cast<int64_t>(s.size());
        std::vector<int64_t> axes;
        if (r == 0) axes = {0, -1};
        for (int64_t a = -r; a < r; ++a) axes.push_back(a);
        for (int64_t axis : axes) {
          SCOPED_TRACE(fmt::format("{} opset {} shape {} axis {}", op, opset, shape_str(s), axis));
          Tensor x = random_tensor(s, seed++);
          std::vector<ir::Attribute> attrs = {testing::attr_i("axis", axis)};
          auto ref = testing::run_ref_op(op, {x}, attrs, opset);
          ASSERT_TRUE(ref.error.empty()) << ref.error;
          auto cpu = testing::run_backend_op("cpu", op, {x}, attrs, opset);
          ASSERT_TRUE(cpu.error.empty()) << cpu.error;
          ASSERT_EQ(cpu.implementation, "cpu:onednn:softmax");
          expect_matches(cpu.out(), ref.out(), 1e-5);
        }
      }
      // Default axis (1 before opset 13, -1 from 13).
      Tensor x = random_tensor({2, 3, 4}, seed++);
      auto ref = testing::run_ref_op(op, {x}, {}, opset);
      auto cpu = testing::run_backend_op("cpu", op, {x}, {}, opset);
      ASSERT_EQ(cpu.implementation, "cpu:onednn:softmax");
      expect_matches(cpu.out(), ref.out(), 1e-5);
    }
}

// A non-last axis (opset 13) runs the own strided loop: own_math.h's exp with AVX-512, libm's
// below; column counts with and without a vector tail, logits from -60 to 60.
TEST(CpuSoftmax, StridedAxesOnEveryIsa) {
  uint32_t seed = 50;
  testing::for_each_isa([&](cpu::own::Isa) {
    for (const Shape& s : {Shape{2, 16, 7, 33}, Shape{1, 4, 16, 64}, Shape{3, 80, 5}})
      for (const char* op : {"Softmax", "LogSoftmax"}) {
        SCOPED_TRACE(fmt::format("{} {}", op, shape_str(s)));
        Tensor x = random_tensor(s, seed++, -60.f, 60.f);
        const std::vector<ir::Attribute> attrs = {testing::attr_i("axis", 1)};
        auto ref = testing::run_ref_op(op, {x}, attrs, 13);
        auto cpu = testing::run_backend_op("cpu", op, {x}, attrs, 13);
        ASSERT_TRUE(cpu.error.empty()) << cpu.error;
        ASSERT_EQ(cpu.implementation, "cpu:onednn:softmax");
        expect_matches(cpu.out(), ref.out(), 1e-5);
      }
  });
}

TEST(CpuSoftmax, LargeLogitsAreStable) {
  Tensor x = random_tensor({4, 33}, 3, 50.f, 90.f);
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    auto ref = testing::run_ref_op(op, {x}, {}, 13);
    auto cpu = testing::run_backend_op("cpu", op, {x}, {}, 13);
    ASSERT_EQ(cpu.implementation, "cpu:onednn:softmax");
    expect_matches(cpu.out(), ref.out(), 1e-5);
  }
}

TEST(CpuSoftmax, DeclinesWithReasons) {
  Tensor x = random_tensor({2, 3}, 1);
  auto r = testing::run_backend_op("cpu", "Softmax", {x}, {testing::attr_i("axis", 2)}, 13);
  EXPECT_NE(r.implementation, "cpu:onednn:softmax");
  ASSERT_FALSE(r.declined.empty());
  EXPECT_NE(r.declined[0].find("out of range"), std::string::npos);
  Tensor d = Tensor::from_vector<double>({2}, {1.0, 2.0});
  r = testing::run_backend_op("cpu", "Softmax", {d}, {}, 13);
  EXPECT_NE(r.implementation, "cpu:onednn:softmax");
  ASSERT_FALSE(r.declined.empty());
  EXPECT_NE(r.declined[0].find("float32"), std::string::npos);
}

}  // namespace
}  // namespace hwopt
