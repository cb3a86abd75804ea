#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::attr_s;
using testing::run_ref_op;

struct Case {
  const char* mode;
  const char* padding;
  int align_corners;
  std::vector<double> expected;
};

// Expected values were computed with a Python transcription of the ONNX reference implementation.
TEST(RefGridSample, AllModesPaddingsAndAlign2D) {
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {1.0, 2.75, 3.25, 0.75, 1.25, 4.75, 0.75, 1.0, 4.75, 3.25, 2.25, 2.75, 3.5, 1.75, 1.0, 4.0, 3.5, 2.75, 4.25, 3.0, 5.0, 1.5, 3.0, 2.75});
  // Grid points, some outside [-1, 1].
  const Tensor grid = Tensor::from_vector<float>({1, 2, 3, 2}, {-0.375, 0.234375, -0.6875, 0.78125, 0.953125, -0.96875, -0.078125, -0.578125, -1.078125, 1.03125, -0.1875, -0.921875});
  const std::vector<Case> cases = {
      {"bilinear", "zeros", 0, {3.7871094, 3.7783203, 0.2435303, 2.9820557, 0.7398682, 1.7358398, 2.7397461, 3.7783203, 1.2988281, 1.7277222, 0.7788086, 1.0222168}},
      {"bilinear", "zeros", 1, {4.2529297, 3.7939453, 0.9275513, 3.0584106, 4.0623169, 2.9387207, 2.5441895, 3.3132324, 3.7671509, 2.2481384, 4.276123, 1.7025146}},
      {"bilinear", "border", 0, {3.7871094, 4.5625, 0.75, 2.9820557, 4.75, 2.8125, 2.7397461, 4.5625, 4.0, 1.7277222, 5.0, 1.65625}},
      {"bilinear", "border", 1, {4.2529297, 3.7939453, 0.9275513, 3.0584106, 4.75, 2.9387207, 2.5441895, 3.3132324, 3.7671509, 2.2481384, 5.0, 1.7025146}},
      {"bilinear", "reflection", 0, {3.7871094, 4.5625, 0.75, 2.9820557, 4.75, 2.8125, 2.7397461, 4.5625, 4.0, 1.7277222, 5.0, 1.65625}},
      {"bilinear", "reflection", 1, {4.2529297, 3.7939453, 0.9275513, 3.0584106, 4.4831543, 2.9387207, 2.5441895, 3.3132324, 3.7671509, 2.2481384, 4.5530396, 1.7025146}},
      {"nearest", "zeros", 0, {4.75, 4.75, 0.75, 2.75, 0.0, 2.75, 2.75, 5.0, 4.0, 1.75, 0.0, 1.75}},
      {"nearest", "zeros", 1, {4.75, 4.75, 0.75, 2.75, 4.75, 2.75, 2.75, 5.0, 4.0, 1.75, 5.0, 1.75}},
      {"nearest", "border", 0, {4.75, 4.75, 0.75, 2.75, 4.75, 2.75, 2.75, 5.0, 4.0, 1.75, 5.0, 1.75}},
      {"nearest", "border", 1, {4.75, 4.75, 0.75, 2.75, 4.75, 2.75, 2.75, 5.0, 4.0, 1.75, 5.0, 1.75}},
      {"nearest", "reflection", 0, {4.75, 4.75, 0.75, 2.75, 4.75, 2.75, 2.75, 5.0, 4.0, 1.75, 5.0, 1.75}},
      {"nearest", "reflection", 1, {4.75, 4.75, 0.75, 2.75, 4.75, 2.75, 2.75, 5.0, 4.0, 1.75, 5.0, 1.75}},
      {"bicubic", "zeros", 0, {4.6987937, 4.4928025, 0.0569915, 3.5722336, 0.8525763, 1.6857856, 2.8909295, 4.3551855, 1.6236115, 1.4738848, 0.8751287, 0.8084811}},
      {"bicubic", "zeros", 1, {4.7796984, 4.8694879, 0.9478657, 3.8598533, 4.3611431, 3.3296008, 2.6411838, 4.047433, 4.0800825, 2.2359736, 4.6719365, 1.5224278}},
      {"bicubic", "border", 0, {4.3805406, 4.8640188, 0.4260322, 3.3285767, 4.75, 2.7755314, 2.6113523, 4.7260978, 4.4702793, 1.3887429, 5.0, 1.3675642}},
      {"bicubic", "border", 1, {4.6675947, 4.003334, 0.893082, 3.5113518, 4.75, 3.1755969, 2.5794203, 3.2060266, 3.8106356, 2.1219328, 5.0, 1.4554715}},
      {"bicubic", "reflection", 0, {4.3805406, 4.9180855, 0.1588055, 3.3285767, 5.8114874, 2.6651513, 2.6113523, 4.7483471, 4.8714708, 1.3887429, 5.9574127, 1.2759562}},
      {"bicubic", "reflection", 1, {4.6174339, 4.1918042, 0.7776421, 3.4749217, 4.7088177, 3.1147508, 2.5479069, 3.5469023, 3.9634879, 1.886334, 4.8821939, 1.3729388}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.mode) + "/" + c.padding + "/" + std::to_string(c.align_corners));
    auto r = run_ref_op("GridSample", {x, grid},
                        {attr_s("mode", c.mode), attr_s("padding_mode", c.padding), attr_i("align_corners", c.align_corners)},
                        16);
    ASSERT_TRUE(r.error.empty()) << r.error;
    testing::expect_tensor_near(r.out(), {1, 2, 2, 3}, c.expected);
  }
}

TEST(RefGridSample, VolumetricOpset20) {
  const Tensor x = Tensor::from_vector<float>({1, 1, 2, 3, 4}, {3.5, 1.5, 4.5, 1.5, 0.75, 1.5, 2.0, 2.5, 4.5, 3.75, 2.0, 0.5, 1.25, 5.0, 2.5, 3.5, 0.75, 0.75, 4.25, 3.25, 2.0, 2.0, 1.0, 1.25});
  const Tensor grid = Tensor::from_vector<float>({1, 2, 2, 1, 3}, {-1.140625, 0.8125, -0.078125, -0.890625, 0.578125, -0.734375, -1.046875, 0.234375, 0.953125, -1.140625, 0.734375, -0.75});
  const std::vector<Case> cases = {
      {"linear", "zeros", 0, {0.5887985, 2.2022467, 0.2642584, 0.6632996}},
      {"linear", "border", 0, {3.4453125, 4.0019531, 1.1894531, 4.5}},
      {"linear", "reflection", 0, {3.4453125, 4.0019531, 1.1894531, 4.5}},
      {"nearest", "zeros", 0, {0.0, 4.5, 0.0, 0.0}},
      {"nearest", "border", 0, {4.5, 4.5, 0.75, 4.5}},
      {"nearest", "reflection", 0, {4.5, 4.5, 0.75, 4.5}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.mode) + "/" + c.padding);
    auto r = run_ref_op("GridSample", {x, grid}, {attr_s("mode", c.mode), attr_s("padding_mode", c.padding)}, 20);
    ASSERT_TRUE(r.error.empty()) << r.error;
    testing::expect_tensor_near(r.out(), {1, 1, 2, 2, 1}, c.expected);
  }
}

TEST(RefGridSample, IdentityGridReproducesInput) {
  // With align_corners=1, grid points at -1, 0, 1 hit the pixel centers exactly.
  Tensor x = Tensor::from_vector<double>({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  std::vector<double> g;
  for (double y : {-1.0, 0.0, 1.0})
    for (double xx : {-1.0, 0.0, 1.0}) {
      g.push_back(xx);
      g.push_back(y);
    }
  Tensor grid = Tensor::from_vector<double>({1, 3, 3, 2}, g);
  for (const char* mode : {"bilinear", "nearest", "bicubic"}) {
    auto r = run_ref_op("GridSample", {x, grid}, {attr_s("mode", mode), attr_i("align_corners", 1)}, 16);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.out().dtype(), DType::float64);
    testing::expect_tensor_near(r.out(), {1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  }
}

TEST(RefGridSample, BadInputsAreErrors) {
  Tensor x(DType::float32, {1, 1, 2, 2});
  EXPECT_NE(run_ref_op("GridSample", {x, Tensor(DType::float32, {1, 2, 2, 3})}, {}, 16).error.find("'grid'"),
            std::string::npos);
  EXPECT_NE(run_ref_op("GridSample", {x, Tensor(DType::float32, {2, 2, 2, 2})}, {}, 16).error.find("'grid'"),
            std::string::npos);
  EXPECT_NE(run_ref_op("GridSample", {Tensor(DType::float32, {1, 1, 2, 2, 2}), Tensor(DType::float32, {1, 1, 1, 1, 3})},
                       {}, 16).error.find("4-D"),
            std::string::npos);
  EXPECT_NE(run_ref_op("GridSample", {x, Tensor(DType::float32, {1, 1, 1, 2})}, {attr_s("mode", "area")}, 16)
                .error.find("area"),
            std::string::npos);
  Tensor nan_grid = Tensor::from_vector<float>({1, 1, 1, 2}, {std::nanf(""), 0.0f});
  EXPECT_NE(run_ref_op("GridSample", {x, nan_grid}, {}, 16).error.find("NaN"), std::string::npos);
}

}  // namespace
}  // namespace hwopt
