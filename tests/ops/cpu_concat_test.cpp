// The CPU backend's Concat candidate (row copies, blocked layouts kept) against the reference kernel.
#include <random>

#include "backends/cpu/onednn.h"
#include "op_test_util.h"
#include "runtime/single_op.h"

namespace hwopt {
namespace {

using tag = dnnl::memory::format_tag;

using testing::random_tensor;

Tensor blocked(const Tensor& t, tag tg) { return cpu::reorder_to(t, cpu::tagged_desc(t.shape(), DType::float32, tg)); }

void expect_equal(const Tensor& got, const Tensor& want) {
  ASSERT_EQ(got.shape(), want.shape());
  ASSERT_EQ(got.dtype(), want.dtype());
  for (int64_t i = 0; i < want.numel(); ++i) ASSERT_EQ(got.element_as_double(i), want.element_as_double(i)) << i;
}

void check(const std::vector<Tensor>& xs, const std::vector<Tensor>& xs_in, int64_t axis, const std::string& impl) {
  SCOPED_TRACE(fmt::format("{} inputs, first {}, axis {}", xs.size(), shape_str(xs[0].shape()), axis));
  std::vector<ir::Attribute> attrs = {testing::attr_i("axis", axis)};
  auto ref = testing::run_ref_op("Concat", xs, attrs, 13);
  ASSERT_TRUE(ref.error.empty()) << ref.error;
  auto cpu = testing::run_backend_op("cpu", "Concat", xs_in, attrs, 13);
  ASSERT_TRUE(cpu.error.empty()) << cpu.error;
  ASSERT_EQ(cpu.implementation, impl);
  expect_equal(cpu.out(), ref.out());
}

TEST(CpuConcat, PlainFloatMatchesReference) {
  uint32_t seed = 1;
  const Shape base{2, 3, 4, 5};
  for (int64_t axis = -4; axis < 4; ++axis) {
    const int64_t a = axis < 0 ? axis + 4 : axis;
    std::vector<Tensor> xs;
    for (int64_t n : {1, 3, 2}) {
      Shape s = base;
      s[a] = n;
      xs.push_back(random_tensor(s, seed++));
    }
    check(xs, xs, axis, "cpu:own:concat_layout");
  }
  // One input, 1-D, an empty input among others.
  std::vector<Tensor> one = {random_tensor({7}, 9)};
  check(one, one, 0, "cpu:own:concat_layout");
  std::vector<Tensor> with_empty = {random_tensor({2, 3}, 10), random_tensor({2, 0}, 11), random_tensor({2, 4}, 12)};
  check(with_empty, with_empty, 1, "cpu:own:concat_layout");
  std::vector<Tensor> all_empty = {random_tensor({0, 3}, 10), random_tensor({0, 3}, 11)};
  check(all_empty, all_empty, 0, "cpu:own:concat_layout");
}

TEST(CpuConcat, BlockedChannelsStayBlocked) {
  uint32_t seed = 20;
  for (const std::vector<int64_t>& channels : {std::vector<int64_t>{16, 32}, {16, 3, 19}, {5, 7}, {32, 16, 19}}) {
    std::vector<Tensor> xs;
    for (int64_t c : channels) xs.push_back(random_tensor({2, c, 5, 3}, seed++));
    std::vector<Tensor> all_blocked, mixed, nhwc;
    for (size_t i = 0; i < xs.size(); ++i) {
      all_blocked.push_back(blocked(xs[i], tag::nChw16c));
      mixed.push_back(i % 2 ? xs[i] : blocked(xs[i], tag::nChw16c));
      nhwc.push_back(blocked(xs[i], tag::nhwc));
    }
    check(xs, all_blocked, 1, "cpu:own:concat_layout");
    check(xs, mixed, 1, "cpu:own:concat_layout");
    check(xs, nhwc, 1, "cpu:own:concat_layout");
    check(xs, all_blocked, -3, "cpu:own:concat_layout");
  }
  // Blocked inputs along a non-channel axis are concatenated plain.
  std::vector<Tensor> xs = {random_tensor({1, 16, 4, 3}, 40), random_tensor({1, 16, 2, 3}, 41)};
  check(xs, {blocked(xs[0], tag::nChw16c), blocked(xs[1], tag::nChw16c)}, 2, "cpu:own:concat_layout");

  SingleOp op;
  op.op_type = "Concat";
  op.opset = 13;
  op.attributes = {testing::attr_i("axis", 1)};
  op.inputs = {blocked(random_tensor({1, 16, 4, 4}, 1), tag::nChw16c), blocked(random_tensor({1, 32, 4, 4}, 2), tag::nChw16c)};
  SingleOpRunner runner("cpu", op, 2);
  auto r = runner.run(/*plain=*/false);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_FALSE(r.out().is_plain());
}

// Constant zero inputs at the end (BlazeFace's channel padding before a residual Add): a blocked
// first input may end inside a block; the zeros are not read, the output stays blocked, and the
// lanes past the real channels are zero even where the input's padding lanes were not.
TEST(CpuConcat, ZeroConstantTailKeepsBlockedLayout) {
  uint32_t seed = 60;
  for (const std::vector<int64_t>& channels :
       {std::vector<int64_t>{24, 4}, {16, 8, 12}, {5, 3}, {28, 8}, {32, 16}, {24, 4, 20}}) {
    std::vector<Tensor> xs;
    for (size_t i = 0; i < channels.size(); ++i) {
      Tensor t = random_tensor({2, channels[i], 5, 3}, seed++);
      if (i > 0 && (channels.size() == 2 || i + 1 == channels.size()))  // the tail: zeros
        for (int64_t k = 0; k < t.numel(); ++k) t.data<float>()[k] = 0.f;
      xs.push_back(t);
    }
    SingleOp op;
    op.op_type = "Concat";
    op.opset = 13;
    op.attributes = {testing::attr_i("axis", 1)};
    op.inputs = xs;
    op.inputs[0] = blocked(xs[0], tag::nChw16c);
    if (channels.size() == 3) op.inputs[1] = blocked(xs[1], tag::nChw16c);
    // Garbage in the first input's padding lanes: the output must not carry it.
    if (channels[0] % 16 != 0) {
      Tensor& b = op.inputs[0];
      float* p = const_cast<float*>(b.data<float>());
      const int64_t blocks = (channels[0] + 15) / 16, spatial = 15;
      for (int64_t n = 0; n < 2; ++n)
        for (int64_t q = 0; q < spatial; ++q)
          for (int64_t lane = channels[0] % 16; lane < 16; ++lane)
            p[((n * blocks + blocks - 1) * spatial + q) * 16 + lane] = 7.f;
    }
    op.constant_inputs = {xs.size() - 1};
    auto ref = testing::run_ref_op("Concat", xs, op.attributes, 13);
    ASSERT_TRUE(ref.error.empty()) << ref.error;
    SingleOpRunner runner("cpu", op, 2);
    auto r = runner.run(/*plain=*/false);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.implementation, "cpu:own:concat_layout");
    const bool aligned_prefix = channels.size() == 2 || channels[0] % 16 == 0;
    EXPECT_EQ(r.out().is_plain(), !aligned_prefix) << fmt::format("channels {}", fmt::join(channels, ","));
    expect_equal(r.out().to_plain(), ref.out());
    if (!r.out().is_plain()) {  // the padded lanes of the output are zero
      const Tensor& y = r.out();
      const int64_t c = y.dim(1), blocks = (c + 15) / 16;
      const float* p = y.data<float>();
      for (int64_t n = 0; n < 2; ++n)
        for (int64_t q = 0; q < 15; ++q)
          for (int64_t lane = c % 16 ? c % 16 : 16; lane < 16; ++lane)
            ASSERT_EQ(p[((n * blocks + blocks - 1) * 15 + q) * 16 + lane], 0.f);
    }
  }
}

TEST(CpuConcat, OtherDtypes) {
  std::vector<Tensor> i32 = {Tensor::from_vector<int32_t>({1, 3}, {1, 2, 3}), Tensor::from_vector<int32_t>({2, 3}, {4, 5, 6, 7, 8, 9})};
  check(i32, i32, 0, "cpu:own:concat_layout");
  std::vector<Tensor> u8 = {Tensor::from_vector<uint8_t>({2, 1}, {1, 2}), Tensor::from_vector<uint8_t>({2, 2}, {3, 4, 5, 6})};
  check(u8, u8, 1, "cpu:own:concat_layout");
  // Large enough to go parallel.
  std::vector<Tensor> big = {Tensor(DType::int32, {64, 300}), Tensor(DType::int32, {64, 100})};
  for (auto& t : big)
    for (int64_t i = 0; i < t.numel(); ++i) t.data<int32_t>()[i] = static_cast<int32_t>(i * 7 + t.dim(1));
  check(big, big, 1, "cpu:own:concat_layout");
}

TEST(CpuConcat, DeclinesWithReasons) {
  auto declined_by_this = [](const testing::BackendOpResult& r, const std::string& why) {
    EXPECT_NE(r.implementation, "cpu:own:concat_layout");
    bool found = false;
    for (const auto& d : r.declined)
      found = found || (d.find("own:concat_layout: ") != std::string::npos && d.find(why) != std::string::npos);
    EXPECT_TRUE(found) << why;
  };
  // axis is required from opset 4.
  auto r = testing::run_backend_op("cpu", "Concat", {random_tensor({2}, 1), random_tensor({2}, 2)}, {}, 13);
  declined_by_this(r, "axis");
  // int64 (shape tensors) is left to own:concat / the reference.
  std::vector<Tensor> i64 = {Tensor::from_vector<int64_t>({2}, {1, 2}), Tensor::from_vector<int64_t>({1}, {-3})};
  r = testing::run_backend_op("cpu", "Concat", i64, {testing::attr_i("axis", 0)}, 13);
  ASSERT_TRUE(r.error.empty()) << r.error;
  declined_by_this(r, "int64");
  auto ref = testing::run_ref_op("Concat", i64, {testing::attr_i("axis", 0)}, 13);
  expect_equal(r.out(), ref.out());
}

}  // namespace
}  // namespace hwopt
