// The CPU backend's own Resize (nearest and linear over the last two axes) against the reference
// kernel: random data over up- and downsampling by scales and by sizes, every coordinate mode and
// nearest mode, exclude_outside, opset 10 to 19, ranks 2 to 5, one and two threads; and the cases
// it leaves to the reference (cubic, a resized leading axis).
#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::attr_ints;
using testing::attr_s;
using testing::random_tensor;

Tensor f32(std::vector<float> v) { return Tensor::from_vector<float>({static_cast<int64_t>(v.size())}, v); }
Tensor i64(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

struct ResizeCase {
  Shape x;
  std::vector<float> scales;   // empty: sizes
  std::vector<int64_t> sizes;
};

// Leading axes keep their size (scale 1): the own kernel's case.
const std::vector<ResizeCase> kCases = {
    {{1, 3, 5, 5}, {1, 1, 2, 2}, {}},           // FPN's 2x upsampling
    {{2, 4, 7, 6}, {1, 1, 4, 4}, {}},
    {{1, 2, 8, 9}, {1, 1, 0.5f, 0.5f}, {}},     // downsampling
    {{1, 3, 6, 7}, {1, 1, 1.5f, 0.7f}, {}},     // non-integer, mixed
    {{1, 2, 5, 7}, {}, {1, 2, 9, 4}},           // sizes
    {{1, 1, 1, 6}, {}, {1, 1, 3, 1}},           // size-1 axes
    {{2, 3, 10}, {1, 1, 2.5f}, {}},             // rank 3: one resized axis plus one identity
    {{4, 6}, {}, {7, 3}},                       // rank 2
    {{1, 2, 2, 3, 4}, {1, 1, 1, 2, 3}, {}},     // rank 5
};

const char* kCoordModes[] = {"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"};
const char* kNearestModes[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};

void check(const Tensor& x, const std::vector<Tensor>& rest, const std::vector<ir::Attribute>& attrs, int opset,
           int threads, const std::string& what) {
  SCOPED_TRACE(what + " X " + shape_str(x.shape()) + " threads " + std::to_string(threads));
  std::vector<Tensor> inputs = {x};
  inputs.insert(inputs.end(), rest.begin(), rest.end());
  auto ref = testing::run_ref_op("Resize", inputs, attrs, opset);
  ASSERT_TRUE(ref.error.empty()) << ref.error;
  auto cpu = testing::run_backend_op("cpu", "Resize", inputs, attrs, opset, 1, "", {}, threads);
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  EXPECT_EQ(cpu.implementation, "cpu:own:resize");
  std::vector<double> want;
  for (int64_t i = 0; i < ref.out().numel(); ++i) want.push_back(ref.out().element_as_double(i));
  testing::expect_tensor_near(cpu.out(), ref.out().shape(), want, 1e-5, 1e-5);
}

std::vector<Tensor> scales_or_sizes(const ResizeCase& c) {
  if (!c.scales.empty()) return {Tensor(), f32(c.scales)};
  return {Tensor(), Tensor(), i64(c.sizes)};
}

TEST(CpuResize, NearestMatchesReferenceInEveryMode) {
  uint32_t seed = 1;
  for (const auto& c : kCases)
    for (const char* coord : kCoordModes)
      for (const char* nearest : kNearestModes)
        for (int threads : {1, 2})
          check(random_tensor(c.x, seed++), scales_or_sizes(c),
                {attr_s("mode", "nearest"), attr_s("coordinate_transformation_mode", coord),
                 attr_s("nearest_mode", nearest)},
                13, threads, std::string("nearest ") + coord + " " + nearest);
}

TEST(CpuResize, LinearMatchesReferenceInEveryMode) {
  uint32_t seed = 1000;
  for (const auto& c : kCases)
    for (const char* coord : kCoordModes)
      for (int64_t exclude : {0, 1})
        for (int threads : {1, 2})
          check(random_tensor(c.x, seed++), scales_or_sizes(c),
                {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", coord),
                 attr_i("exclude_outside", exclude)},
                13, threads, std::string("linear ") + coord + (exclude ? " exclude_outside" : ""));
}

TEST(CpuResize, OtherOpsets) {
  const Tensor x = random_tensor({1, 2, 5, 6}, 7);
  // Resize-10: (X, scales), asymmetric coordinates.
  check(x, {f32({1, 1, 2, 1.5f})}, {attr_s("mode", "nearest")}, 10, 2, "opset 10 nearest");
  check(x, {f32({1, 1, 0.6f, 2})}, {attr_s("mode", "linear")}, 10, 2, "opset 10 linear");
  // Opset 11's tf_half_pixel_for_nn, opset 19's half_pixel_symmetric.
  check(x, {Tensor(), f32({1, 1, 2, 3})},
        {attr_s("coordinate_transformation_mode", "tf_half_pixel_for_nn"), attr_s("nearest_mode", "ceil")}, 11, 2,
        "tf_half_pixel_for_nn");
  check(x, {Tensor(), f32({1, 1, 1.5f, 0.6f})},
        {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "half_pixel_symmetric")}, 19, 2,
        "half_pixel_symmetric");
  // Opset 18's axes and keep_aspect_ratio_policy.
  check(x, {Tensor(), Tensor(), i64({9, 9})},
        {attr_s("mode", "linear"), attr_ints("axes", {2, 3}), attr_s("keep_aspect_ratio_policy", "not_larger")}, 18,
        2, "axes + not_larger");
}

TEST(CpuResize, LeavesOtherCasesToTheReference) {
  const Tensor x = random_tensor({1, 2, 4, 4}, 3);
  auto cubic = testing::run_backend_op("cpu", "Resize", {x, Tensor(), f32({1, 1, 2, 2})}, {attr_s("mode", "cubic")}, 13);
  EXPECT_EQ(cubic.implementation, "ref:Resize");
  ASSERT_FALSE(cubic.declined.empty());
  EXPECT_NE(cubic.declined[0].find("cubic"), std::string::npos);
  // A resized channel axis: the reference kernel runs it, with the same result.
  auto ref = testing::run_ref_op("Resize", {x, Tensor(), f32({1, 2, 2, 2})}, {}, 13);
  auto cpu = testing::run_backend_op("cpu", "Resize", {x, Tensor(), f32({1, 2, 2, 2})}, {}, 13);
  ASSERT_TRUE(ref.error.empty()) << ref.error;
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  EXPECT_EQ(cpu.implementation, "cpu:own:resize");
  EXPECT_EQ(cpu.out().shape(), (Shape{1, 4, 8, 8}));
  for (int64_t i = 0; i < ref.out().numel(); ++i)
    ASSERT_EQ(cpu.out().element_as_double(i), ref.out().element_as_double(i)) << i;
  // Bad inputs: the reference kernel's errors.
  auto both = testing::run_backend_op("cpu", "Resize", {x, Tensor(), f32({1, 1, 2, 2}), i64({1, 2, 8, 8})}, {}, 13);
  EXPECT_NE(both.error.find("exactly one of 'scales' and 'sizes'"), std::string::npos) << both.error;
}

}  // namespace
}  // namespace hwopt
