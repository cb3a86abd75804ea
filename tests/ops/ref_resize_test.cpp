#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_f;
using testing::attr_floats;
using testing::attr_i;
using testing::attr_ints;
using testing::attr_s;
using testing::run_ref_op;

Tensor f32(std::vector<float> v) { return Tensor::from_vector<float>({static_cast<int64_t>(v.size())}, v); }
Tensor i64(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

TEST(RefResize, SpecExamples) {
  Tensor x = Tensor::from_vector<float>({1, 1, 2, 2}, {1, 2, 3, 4});
  auto lin = run_ref_op("Resize", {x, Tensor(), f32({1, 1, 2, 2})}, {attr_s("mode", "linear")}, 13);
  ASSERT_TRUE(lin.error.empty()) << lin.error;
  testing::expect_tensor_near(lin.out(), {1, 1, 4, 4}, {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5,
                                                        2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4});
  auto ac = run_ref_op("Resize", {x, Tensor(), f32({1, 1, 2, 2})},
                       {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "align_corners")}, 13);
  ASSERT_TRUE(ac.error.empty()) << ac.error;
  const double t = 1.0 / 3.0;
  testing::expect_tensor_near(ac.out(), {1, 1, 4, 4}, {1, 1 + t, 1 + 2 * t, 2, 1 + 2 * t, 2, 2 + t, 2 + 2 * t,
                                                       2 + t, 2 + 2 * t, 3, 3 + t, 3, 3 + t, 3 + 2 * t, 4});
  auto nn = run_ref_op("Resize", {x, Tensor(), f32({1, 1, 2, 3})}, {}, 13);
  ASSERT_TRUE(nn.error.empty()) << nn.error;
  testing::expect_tensor_near(nn.out(), {1, 1, 4, 6}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                                       3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4});
}

// Expected values were computed with a Python transcription of the ONNX reference implementation
// (neighbor search over an edge-padded array), independent of this kernel's tap tables.
TEST(RefResize, ModesAndCoordinateTransforms) {
  const Tensor X = Tensor::from_vector<float>(
      {1, 1, 3, 5}, {3.25, 4.5, 4.0, 1.5, 1.75, 4.5, 0.5, 4.25, 4.0, 2.5, 1.75, 1.75, 1.75, 2.5, 2.75});
  const Tensor X3 = Tensor::from_vector<float>(
      {2, 3, 4}, {3.0, 5.0, 4.0, 3.25, 5.0, 1.5, 1.25, 3.25, 0.75, 0.75, 2.75, 2.5,
                  4.75, 3.25, 2.75, 2.75, 1.5, 0.5, 1.25, 3.5, 1.5, 2.25, 0.5, 4.25});
  const Tensor roi0(DType::float32, {0});
  const Tensor none;
  struct Case {
    const char* name;
    Tensor x;
    std::vector<Tensor> inputs;  // after X
    std::vector<ir::Attribute> attrs;
    int opset;
    Shape shape;
    std::vector<double> expected;
  };
  const std::vector<Case> cases = {
      {"A", X, {roi0, f32({1, 1, 1.7f, 0.6f}), none}, {attr_s("mode", "linear")}, 13, {1, 1, 5, 3}, {3.6666666, 4.0, 1.6666666, 3.4754902, 4.0955881, 2.1764706, 3.1813727, 4.2426467, 2.9607845, 2.3750001, 2.8529412, 2.8137256, 1.75, 1.75, 2.6666666}},
      {"B", X, {roi0, none, i64({1, 1, 5, 8})}, {attr_s("mode", "cubic")}, 13, {1, 1, 5, 8}, {2.9671683, 3.9572065, 4.9186105, 4.6306576, 3.0603195, 1.375223, 1.2790239, 1.7168048, 4.0327971, 3.3563712, 2.8888774, 3.9962261, 3.9654247, 2.6891735, 2.1243509, 1.9714769, 4.8713379, 2.477951, 0.5222015, 2.9799347, 4.6678619, 4.0845184, 3.124527, 2.3607483, 3.0861705, 1.9352676, 0.9835383, 2.0679255, 3.1142238, 3.2636683, 2.9878571, 2.6554769, 1.4503516, 1.6801167, 1.865611, 1.5408661, 1.6964069, 2.2957587, 2.6626537, 2.8128048}},
      {"C", X, {roi0, f32({1, 1, 0.7f, 1.3f}), none}, {attr_s("mode", "cubic"), attr_f("cubic_coeff_a", -0.5f), attr_i("exclude_outside", 1)}, 13, {1, 1, 2, 6}, {3.4735816, 3.7165075, 4.0841752, 3.7831701, 1.9624905, 1.8200875, 2.6972094, 1.6026362, 1.6165212, 2.6782174, 3.0441738, 2.7884404}},
      {"D", X, {roi0, none, i64({1, 1, 6, 3})}, {attr_s("coordinate_transformation_mode", "asymmetric"), attr_s("nearest_mode", "round_prefer_ceil")}, 13, {1, 1, 6, 3}, {3.25, 4.0, 1.5, 4.5, 4.25, 4.0, 4.5, 4.25, 4.0, 1.75, 1.75, 2.5, 1.75, 1.75, 2.5, 1.75, 1.75, 2.5}},
      {"E", X, {roi0, none, i64({1, 1, 2, 9})}, {attr_s("coordinate_transformation_mode", "align_corners"), attr_s("nearest_mode", "floor")}, 13, {1, 1, 2, 9}, {3.25, 3.25, 4.5, 4.5, 4.0, 4.0, 1.5, 1.5, 1.75, 1.75, 1.75, 1.75, 1.75, 1.75, 1.75, 2.5, 2.5, 2.75}},
      {"F", X, {roi0, f32({1, 1, 2.5f, 0.5f}), none}, {attr_s("nearest_mode", "ceil")}, 11, {1, 1, 7, 2}, {4.5, 1.5, 0.5, 4.0, 0.5, 4.0, 0.5, 4.0, 1.75, 2.5, 1.75, 2.5, 1.75, 2.5}},
      {"G", X, {roi0, none, i64({1, 1, 1, 4})}, {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "pytorch_half_pixel")}, 13, {1, 1, 1, 4}, {3.40625, 4.3125, 2.4375, 1.71875}},
      {"H", X, {f32({0, 0, 0.2f, 0.1f, 1, 1, 0.9f, 1.3f}), none, i64({1, 1, 4, 4})}, {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "tf_crop_and_resize"), attr_f("extrapolation_value", 7.5f)}, 13, {1, 1, 4, 4}, {3.41, 4.1, 2.23, 7.5, 3.0133333, 4.2166667, 2.9066667, 7.5, 2.5166667, 3.4166667, 2.95, 7.5, 1.98, 2.25, 2.74, 7.5}},
      {"J", X, {roi0, f32({1, 1, 0.6f, 0.4f}), none}, {attr_s("mode", "linear"), attr_i("antialias", 1)}, 18, {1, 1, 1, 2}, {3.48375, 2.62875}},
      {"K", X, {roi0, none, i64({1, 1, 2, 3})}, {attr_s("mode", "cubic"), attr_i("antialias", 1)}, 18, {1, 1, 2, 3}, {3.5893951, 3.6302497, 2.1204275, 1.991378, 2.3055762, 2.9843415}},
      {"L", X, {roi0, none, i64({10, 4})}, {attr_s("mode", "linear"), attr_ints("axes", {3, 2}), attr_s("keep_aspect_ratio_policy", "not_larger")}, 18, {1, 1, 4, 7}, {3.25, 4.03125, 4.3125, 3.6875, 1.8125, 1.65625, 1.75, 4.03125, 2.7617188, 2.8085938, 4.0195312, 3.1992188, 2.5351562, 2.21875, 3.46875, 1.90625, 1.8476562, 3.328125, 3.421875, 2.9101562, 2.59375, 1.75, 1.75, 1.75, 1.84375, 2.40625, 2.65625, 2.75}},
      {"M", X, {roi0, none, i64({2, 2})}, {attr_ints("axes", {2, -1}), attr_s("keep_aspect_ratio_policy", "not_smaller")}, 18, {1, 1, 2, 3}, {3.25, 4.0, 1.5, 1.75, 1.75, 2.5}},
      {"N", X, {roi0, f32({1, 1, 1.5f, 0.7f}), none}, {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "half_pixel_symmetric")}, 19, {1, 1, 4, 3}, {3.9642857, 4.0, 1.6071429, 2.7976191, 4.1666667, 2.7738095, 2.0595239, 3.4166667, 3.1071428, 1.75, 1.75, 2.6071429}},
      {"O", X, {roi0, f32({1, 1, 0.6f, 0.6f}), none}, {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "align_corners")}, 13, {1, 1, 1, 3}, {3.25, 4.0000001, 1.7499999}},
      {"P", X3, {roi0, none, i64({2, 5, 3})}, {attr_s("mode", "linear")}, 13, {2, 5, 3}, {3.3333333, 4.5, 3.375, 3.7666667, 3.25, 3.1916667, 4.4166667, 1.375, 2.9166667, 2.2166667, 1.6, 2.6916667, 0.75, 1.75, 2.5416667, 4.5, 3.0, 2.75, 3.2333333, 2.15, 2.9, 1.3333333, 0.875, 3.125, 1.5083333, 1.175, 3.425, 1.625, 1.375, 3.625}},
      {"Q", X, {f32({1, 1, 2, 1.5f})}, {attr_s("mode", "linear")}, 10, {1, 1, 6, 7}, {3.25, 4.0833333, 4.3333333, 4.0, 2.3333333, 1.5833333, 1.75, 3.875, 2.9583333, 3.0416667, 4.125, 3.2083333, 2.5416667, 2.125, 4.5, 1.8333333, 1.75, 4.25, 4.0833333, 3.5, 2.5, 3.125, 1.7916667, 1.75, 3.0, 3.1666667, 3.0416667, 2.625, 1.75, 1.75, 1.75, 1.75, 2.25, 2.5833333, 2.75, 1.75, 1.75, 1.75, 1.75, 2.25, 2.5833333, 2.75}},
      {"R", X, {f32({1, 1, 2, 3})}, {}, 10, {1, 1, 6, 15}, {3.25, 3.25, 3.25, 4.5, 4.5, 4.5, 4.0, 4.0, 4.0, 1.5, 1.5, 1.5, 1.75, 1.75, 1.75, 3.25, 3.25, 3.25, 4.5, 4.5, 4.5, 4.0, 4.0, 4.0, 1.5, 1.5, 1.5, 1.75, 1.75, 1.75, 4.5, 4.5, 4.5, 0.5, 0.5, 0.5, 4.25, 4.25, 4.25, 4.0, 4.0, 4.0, 2.5, 2.5, 2.5, 4.5, 4.5, 4.5, 0.5, 0.5, 0.5, 4.25, 4.25, 4.25, 4.0, 4.0, 4.0, 2.5, 2.5, 2.5, 1.75, 1.75, 1.75, 1.75, 1.75, 1.75, 1.75, 1.75, 1.75, 2.5, 2.5, 2.5, 2.75, 2.75, 2.75, 1.75, 1.75, 1.75, 1.75, 1.75, 1.75, 1.75, 1.75, 1.75, 2.5, 2.5, 2.5, 2.75, 2.75, 2.75}},
      {"S", X, {f32({0.1f, 0.3f, 0.8f, 1.0f}), none, i64({4, 3})}, {attr_s("mode", "cubic"), attr_ints("axes", {2, 3}), attr_s("coordinate_transformation_mode", "tf_crop_and_resize"), attr_f("extrapolation_value", -1)}, 18, {1, 1, 4, 3}, {3.89864, 2.8368, 1.876, 1.8758889, 4.1217407, 2.2361111, 0.6023674, 4.4251741, 2.5843704, 1.08908, 3.24542, 2.707}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<Tensor> inputs{c.x};
    inputs.insert(inputs.end(), c.inputs.begin(), c.inputs.end());
    auto r = run_ref_op("Resize", inputs, c.attrs, c.opset);
    ASSERT_TRUE(r.error.empty()) << r.error;
    testing::expect_tensor_near(r.out(), c.shape, c.expected, 1e-5, 1e-5);
  }
}

TEST(RefResize, HalfPixelForNNOpset11AndIntegerTypes) {
  Tensor x(DType::float32, {1, 1, 4, 4});
  for (int i = 0; i < 16; ++i) x.data<float>()[i] = static_cast<float>(i + 1);
  auto r = run_ref_op("Resize", {x, Tensor(DType::float32, {0}), Tensor(DType::float32, {0}), i64({1, 1, 3, 2})},
                      {attr_s("coordinate_transformation_mode", "tf_half_pixel_for_nn")}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {1, 1, 3, 2}, {6, 8, 10, 12, 14, 16});
  // uint8 linear rounds to nearest; int32 nearest copies exactly.
  Tensor u = Tensor::from_vector<uint8_t>({1, 2}, {10, 255});
  auto ru = run_ref_op("Resize", {u, Tensor(), f32({1, 2})}, {attr_s("mode", "linear")}, 13);
  ASSERT_TRUE(ru.error.empty()) << ru.error;
  EXPECT_EQ(ru.out().dtype(), DType::uint8);
  testing::expect_tensor_near(ru.out(), {1, 4}, {10, 71, 194, 255});  // 10 + 245 * {0.25, 0.75} rounded
  Tensor i = Tensor::from_vector<int32_t>({3}, {-100000007, 5, 123456789});
  auto ri = run_ref_op("Resize", {i, Tensor(), Tensor(), i64({6})}, {}, 13);
  ASSERT_TRUE(ri.error.empty()) << ri.error;
  const int32_t* o = ri.out().data<int32_t>();
  EXPECT_EQ(o[0], -100000007);
  EXPECT_EQ(o[5], 123456789);
}

TEST(RefUpsample, NearestAndLinear) {
  Tensor x = Tensor::from_vector<float>({1, 1, 2, 2}, {1, 2, 3, 4});
  auto n7 = run_ref_op("Upsample", {x}, {attr_floats("scales", {1, 1, 2, 3})}, 7);
  ASSERT_TRUE(n7.error.empty()) << n7.error;
  testing::expect_tensor_near(n7.out(), {1, 1, 4, 6}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                                       3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4});
  // Linear with asymmetric coordinates: x_in = x_out / scale, clamped at the border.
  auto l9 = run_ref_op("Upsample", {x, f32({1, 1, 2, 2})}, {attr_s("mode", "linear")}, 9);
  ASSERT_TRUE(l9.error.empty()) << l9.error;
  testing::expect_tensor_near(l9.out(), {1, 1, 4, 4}, {1, 1.5, 2, 2, 2, 2.5, 3, 3, 3, 3.5, 4, 4, 3, 3.5, 4, 4});
  auto bad = run_ref_op("Upsample", {x, f32({1, 1, 0.5f, 2})}, {}, 9);
  EXPECT_NE(bad.error.find(">= 1"), std::string::npos) << bad.error;
}

TEST(RefResize, BadArgumentsAreErrors) {
  Tensor x = Tensor::from_vector<float>({1, 1, 2, 2}, {1, 2, 3, 4});
  auto both = run_ref_op("Resize", {x, Tensor(), f32({1, 1, 2, 2}), i64({1, 1, 4, 4})}, {}, 13);
  EXPECT_NE(both.error.find("exactly one"), std::string::npos) << both.error;
  auto neither = run_ref_op("Resize", {x, Tensor()}, {}, 13);
  EXPECT_NE(neither.error.find("exactly one"), std::string::npos) << neither.error;
  auto len = run_ref_op("Resize", {x, Tensor(), f32({2, 2})}, {}, 13);
  EXPECT_NE(len.error.find("expected 4"), std::string::npos) << len.error;
  auto neg = run_ref_op("Resize", {x, Tensor(), f32({1, 1, -2, 2})}, {}, 13);
  EXPECT_NE(neg.error.find("positive"), std::string::npos) << neg.error;
  auto cubic10 = run_ref_op("Resize", {x, f32({1, 1, 2, 2})}, {attr_s("mode", "cubic")}, 10);
  EXPECT_NE(cubic10.error.find("cubic"), std::string::npos) << cubic10.error;
  auto aa = run_ref_op("Resize", {x, Tensor(), f32({1, 1, 2, 2})}, {attr_i("antialias", 1)}, 18);
  EXPECT_NE(aa.error.find("antialias"), std::string::npos) << aa.error;
  auto ctm = run_ref_op("Resize", {x, Tensor(), f32({1, 1, 2, 2})},
                        {attr_s("coordinate_transformation_mode", "bogus")}, 13);
  EXPECT_NE(ctm.error.find("bogus"), std::string::npos) << ctm.error;
  auto axes = run_ref_op("Resize", {x, Tensor(), f32({2, 2})}, {attr_ints("axes", {2, 2})}, 18);
  EXPECT_NE(axes.error.find("more than once"), std::string::npos) << axes.error;
}

}  // namespace
}  // namespace hwopt
