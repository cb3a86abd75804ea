#include <algorithm>
#include <random>

#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_ints;
using testing::run_ref_op;

Tensor random_tensor(const Shape& s, uint32_t seed, std::vector<double>* values) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(0.5f, 4.0f);
  std::vector<float> v(static_cast<size_t>(shape_numel(s)));
  for (auto& f : v) f = d(rng);
  values->assign(v.begin(), v.end());
  return Tensor::from_vector<float>(s, v);
}

// out[i_0..i_{r-1}] = x[j] with j[perm[k]] = i_k.
std::vector<double> naive_transpose(const std::vector<double>& x, const Shape& s, const std::vector<int64_t>& perm) {
  const size_t r = s.size();
  Shape os(r), st(r, 1);
  for (size_t k = 0; k < r; ++k) os[k] = s[perm[k]];
  for (size_t d = r - 1; d-- > 0;) st[d] = st[d + 1] * s[d + 1];
  std::vector<double> out;
  std::vector<int64_t> i(r, 0);
  for (int64_t n = 0; n < shape_numel(os); ++n) {
    int64_t off = 0;
    for (size_t k = 0; k < r; ++k) off += i[k] * st[perm[k]];
    out.push_back(x[off]);
    for (size_t d = r; d-- > 0;) {
      if (++i[d] < os[d]) break;
      i[d] = 0;
    }
  }
  return out;
}

TEST(RefTranspose, AllPermutationsOf3D) {
  std::vector<double> v;
  Shape s{2, 3, 4};
  Tensor x = random_tensor(s, 7, &v);
  std::vector<int64_t> perm{0, 1, 2};
  do {
    auto r = run_ref_op("Transpose", {x}, {attr_ints("perm", perm)}, 13);
    ASSERT_TRUE(r.error.empty()) << r.error;
    testing::expect_tensor_near(r.out(), {s[perm[0]], s[perm[1]], s[perm[2]]}, naive_transpose(v, s, perm));
  } while (std::next_permutation(perm.begin(), perm.end()));
}

TEST(RefTranspose, DefaultReversesAnd4D) {
  std::vector<double> v;
  Shape s{2, 1, 3, 5};
  Tensor x = random_tensor(s, 8, &v);
  auto r = run_ref_op("Transpose", {x}, {}, 1);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {5, 3, 1, 2}, naive_transpose(v, s, {3, 2, 1, 0}));
  auto p = run_ref_op("Transpose", {x}, {attr_ints("perm", {0, 2, 3, 1})}, 13);
  ASSERT_TRUE(p.error.empty()) << p.error;
  EXPECT_TRUE(p.out().is_contiguous());
  testing::expect_tensor_near(p.out(), {2, 3, 5, 1}, naive_transpose(v, s, {0, 2, 3, 1}));
}

TEST(RefTranspose, IntsAndStrings) {
  Tensor xi = Tensor::from_vector<int64_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto r = run_ref_op("Transpose", {xi}, {}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 2}, {1, 4, 2, 5, 3, 6});
  Tensor xs = Tensor::from_vector<std::string>({2, 2}, {"a", "b", "c", "d"});
  auto s = run_ref_op("Transpose", {xs}, {}, 13);
  ASSERT_TRUE(s.error.empty()) << s.error;
  const std::string* o = s.out().contiguous().data<std::string>();
  EXPECT_EQ(o[0], "a");
  EXPECT_EQ(o[1], "c");
  EXPECT_EQ(o[2], "b");
  EXPECT_EQ(o[3], "d");
}

TEST(RefTranspose, BadPermIsError) {
  std::vector<double> v;
  Tensor x = random_tensor({2, 3}, 9, &v);
  EXPECT_NE(run_ref_op("Transpose", {x}, {attr_ints("perm", {0, 0})}, 13).error.find("not a permutation"),
            std::string::npos);
  EXPECT_NE(run_ref_op("Transpose", {x}, {attr_ints("perm", {0, 1, 2})}, 13).error.find("rank 2"), std::string::npos);
  EXPECT_NE(run_ref_op("Transpose", {x}, {attr_ints("perm", {0, 2})}, 13).error.find("not a permutation"),
            std::string::npos);
}

}  // namespace
}  // namespace hwopt
