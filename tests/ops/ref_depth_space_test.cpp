#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::attr_s;
using testing::run_ref_op;

Tensor random_tensor(const Shape& s, uint32_t seed, std::vector<float>* v) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(0.5f, 4.0f);
  v->resize(static_cast<size_t>(shape_numel(s)));
  for (auto& f : *v) f = d(rng);
  return Tensor::from_vector<float>(s, *v);
}

TEST(RefDepthToSpace, DcrAndCrdMatchSpecFormulas) {
  const int64_t N = 2, C = 8, H = 2, W = 3, b = 2, oc = C / (b * b);
  std::vector<float> v;
  Tensor x = random_tensor({N, C, H, W}, 1, &v);
  auto at = [&](int64_t n, int64_t c, int64_t h, int64_t w) { return v[((n * C + c) * H + h) * W + w]; };
  for (const char* mode : {"DCR", "CRD"}) {
    auto r = run_ref_op("DepthToSpace", {x}, {attr_i("blocksize", b), attr_s("mode", mode)}, 13);
    ASSERT_TRUE(r.error.empty()) << r.error;
    std::vector<double> e;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < oc; ++c)
        for (int64_t y = 0; y < H * b; ++y)
          for (int64_t xx = 0; xx < W * b; ++xx) {
            const int64_t i = y % b, j = xx % b;
            const int64_t src_c = std::string(mode) == "DCR" ? (i * b + j) * oc + c : c * b * b + i * b + j;
            e.push_back(at(n, src_c, y / b, xx / b));
          }
    testing::expect_tensor_near(r.out(), {N, oc, H * b, W * b}, e);
  }
  // Opset 1 has only DCR (the default).
  auto d1 = run_ref_op("DepthToSpace", {x}, {attr_i("blocksize", b)}, 1);
  auto d13 = run_ref_op("DepthToSpace", {x}, {attr_i("blocksize", b), attr_s("mode", "DCR")}, 13);
  ASSERT_TRUE(d1.error.empty() && d13.error.empty());
  for (int64_t i = 0; i < d1.out().numel(); ++i) EXPECT_EQ(d1.out().element_as_double(i), d13.out().element_as_double(i));
}

TEST(RefSpaceToDepth, MatchesSpecFormulaAndInvertsDcr) {
  const int64_t N = 1, C = 3, H = 4, W = 6, b = 2;
  std::vector<float> v;
  Tensor x = random_tensor({N, C, H, W}, 2, &v);
  auto r = run_ref_op("SpaceToDepth", {x}, {attr_i("blocksize", b)}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  std::vector<double> e;
  for (int64_t oc = 0; oc < C * b * b; ++oc)
    for (int64_t h = 0; h < H / b; ++h)
      for (int64_t w = 0; w < W / b; ++w) {
        const int64_t blk = oc / C, c = oc % C, i = blk / b, j = blk % b;
        e.push_back(v[(c * H + h * b + i) * W + w * b + j]);
      }
  testing::expect_tensor_near(r.out(), {N, C * b * b, H / b, W / b}, e);
  auto back = run_ref_op("DepthToSpace", {r.out()}, {attr_i("blocksize", b)}, 13);
  ASSERT_TRUE(back.error.empty()) << back.error;
  testing::expect_tensor_near(back.out(), {N, C, H, W}, std::vector<double>(v.begin(), v.end()));
}

TEST(RefDepthSpace, BadInputsAreErrors) {
  std::vector<float> v;
  Tensor x = random_tensor({1, 6, 3, 3}, 3, &v);
  EXPECT_NE(run_ref_op("DepthToSpace", {x}, {attr_i("blocksize", 2)}, 13).error.find("not divisible"),
            std::string::npos);
  EXPECT_NE(run_ref_op("SpaceToDepth", {x}, {attr_i("blocksize", 2)}, 13).error.find("not divisible"),
            std::string::npos);
  EXPECT_NE(run_ref_op("DepthToSpace", {x}, {attr_i("blocksize", 0)}, 13).error.find("blocksize"), std::string::npos);
  EXPECT_NE(run_ref_op("DepthToSpace", {x}, {attr_i("blocksize", 1), attr_s("mode", "XYZ")}, 13).error.find("mode"),
            std::string::npos);
  Tensor x3 = random_tensor({4, 3, 3}, 4, &v);
  EXPECT_NE(run_ref_op("SpaceToDepth", {x3}, {attr_i("blocksize", 1)}, 13).error.find("4-D"), std::string::npos);
}

}  // namespace
}  // namespace hwopt
