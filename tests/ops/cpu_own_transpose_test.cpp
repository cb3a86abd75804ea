// The CPU backend's own Transpose against the reference kernel, bit for bit.
#include <algorithm>
#include <numeric>

#include "cpu_own_test_util.h"

namespace hwopt {
namespace {

using testing::attr_ints;

std::vector<std::vector<int64_t>> all_perms(int64_t r) {
  std::vector<int64_t> p(static_cast<size_t>(r));
  std::iota(p.begin(), p.end(), 0);
  std::vector<std::vector<int64_t>> out;
  do out.push_back(p);
  while (std::next_permutation(p.begin(), p.end()));
  return out;
}

TEST(CpuOwnTranspose, EveryPermutationOfSmallShapesMatchesReference) {
  const std::vector<Shape> shapes = {{7},       {3, 5},       {1, 9},        {2, 3, 4},
                                     {5, 1, 7}, {2, 3, 4, 5}, {3, 1, 33, 2}, {2, 2, 3, 1, 5}};
  uint32_t seed = 1;
  for (const Shape& s : shapes)
    for (const auto& perm : all_perms(static_cast<int64_t>(s.size())))
      for (DType dt : {DType::float32, DType::int64, DType::float16, DType::uint8}) {
        Tensor x = testing::random_of(dt, s, seed++);
        testing::expect_candidate_matches("own:transpose", "Transpose", {x}, {attr_ints("perm", perm)},
                                          shape_str(s) + " perm " + shape_str(perm) + " " + dtype_name(dt));
      }
}

TEST(CpuOwnTranspose, LargeAndOddShapesMatchReference) {
  struct Case {
    Shape shape;
    std::vector<int64_t> perm;
  };
  const std::vector<Case> cases = {
      {{8, 128, 12, 64}, {0, 2, 1, 3}},  // BERT: split heads
      {{8, 128, 12, 64}, {0, 2, 3, 1}},  // BERT: K transposed
      {{8, 12, 128, 64}, {0, 2, 1, 3}},  // BERT: merge heads
      {{97, 131}, {1, 0}},               // odd 2-D, tiles with tails
      {{3, 67, 45, 7}, {3, 1, 0, 2}},
      {{2, 33, 17, 9, 5}, {4, 2, 0, 3, 1}},
      {{1, 64, 56, 56}, {0, 2, 3, 1}},  // NCHW -> NHWC
      {{4, 1000, 3}, {2, 1, 0}},
  };
  uint32_t seed = 100;
  testing::for_each_isa([&](cpu::own::Isa isa) {
    for (const Case& c : cases)
      for (DType dt : {DType::float32, DType::int64, DType::bfloat16, DType::boolean}) {
        if (testing::skip_large(isa, c.shape, 1000000)) continue;
        Tensor x = testing::random_of(dt, c.shape, seed++);
        testing::expect_candidate_matches("own:transpose", "Transpose", {x}, {attr_ints("perm", c.perm)},
                                          shape_str(c.shape) + " perm " + shape_str(c.perm) + " " + dtype_name(dt));
      }
  });
}

TEST(CpuOwnTranspose, DefaultPermReversesAxes) {
  Tensor x = testing::random_of(DType::float32, {3, 4, 5}, 7);
  testing::expect_candidate_matches("own:transpose", "Transpose", {x}, {}, "no perm");
}

TEST(CpuOwnTranspose, IdentityAndUnitDimPermutationsAreViews) {
  Tensor x = testing::random_of(DType::float32, {4, 1, 6}, 3);
  for (const auto& perm : std::vector<std::vector<int64_t>>{{0, 1, 2}, {1, 0, 2}, {0, 2, 1}}) {
    auto got = testing::run_candidate("own:transpose", "Transpose", {x}, {attr_ints("perm", perm)});
    ASSERT_TRUE(got.error.empty()) << got.error;
    auto ref = testing::run_ref_op("Transpose", {x}, {attr_ints("perm", perm)});
    testing::expect_same(got.out(), ref.out(), "perm " + shape_str(perm));
    // Only size-1 dims move (or nothing): no copy.
    EXPECT_EQ(got.out().storage(), x.storage()) << "perm " << shape_str(perm);
  }
}

TEST(CpuOwnTranspose, DispatchChoosesOwnKernel) {
  Tensor x = testing::random_of(DType::float32, {2, 3, 4}, 5);
  auto cpu = testing::run_backend_op("cpu", "Transpose", {x}, {attr_ints("perm", {2, 0, 1})});
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  EXPECT_EQ(cpu.implementation, "cpu:own:transpose");
}

TEST(CpuOwnTranspose, InvalidPermIsReportedLikeReference) {
  Tensor x = testing::random_of(DType::float32, {2, 3}, 5);
  auto got = testing::run_candidate("own:transpose", "Transpose", {x}, {attr_ints("perm", {0, 0})});
  auto ref = testing::run_ref_op("Transpose", {x}, {attr_ints("perm", {0, 0})});
  ASSERT_FALSE(ref.error.empty());
  EXPECT_EQ(got.error, ref.error);
}

TEST(CpuOwnTranspose, DeclinesStrings) {
  Tensor x = testing::random_of(DType::string, {2, 3}, 5);
  auto got = testing::run_candidate("own:transpose", "Transpose", {x}, {attr_ints("perm", {1, 0})});
  ASSERT_TRUE(got.found);
  EXPECT_NE(got.declined.find("string"), std::string::npos) << got.declined;
}

}  // namespace
}  // namespace hwopt
