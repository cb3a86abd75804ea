// The CPU backend's own shape and data-movement kernels (Reshape family, Identity, Dropout,
// Shape, Size, Slice, Concat, Split) against the reference kernels, bit for bit; views where
// promised; blocked oneDNN inputs passed through where the candidate accepts layouts.
#include "backends/cpu/onednn.h"
#include "cpu_own_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;
using testing::attr_ints;

Tensor i64(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

/// A float32 NCHW tensor stored in oneDNN's blocked nChw16c layout.
Tensor blocked(const Shape& s, uint32_t seed) {
  Tensor plain = testing::random_of(DType::float32, s, seed);
  Tensor b = cpu::reorder_to(plain, cpu::tagged_desc(s, DType::float32, dnnl::memory::format_tag::nChw16c));
  EXPECT_FALSE(b.is_plain());
  return b;
}

TEST(CpuOwnShape, ReshapeFamilyMatchesReferenceAndIsAView) {
  Tensor x = testing::random_of(DType::float32, {2, 3, 1, 4}, 1);
  struct Case {
    std::string op;
    std::vector<Tensor> inputs;
    std::vector<ir::Attribute> attrs;
  };
  const std::vector<Case> cases = {
      {"Reshape", {x, i64({6, -1})}, {}},    {"Reshape", {x, i64({0, 0, 4})}, {}},
      {"Flatten", {x}, {attr_i("axis", 2)}}, {"Flatten", {x}, {attr_i("axis", -1)}},
      {"Squeeze", {x, i64({2})}, {}},        {"Squeeze", {x}, {}},
      {"Unsqueeze", {x, i64({0, -1})}, {}},
  };
  for (const Case& c : cases) {
    testing::expect_candidate_matches("own:reshape", c.op, c.inputs, c.attrs, c.op);
    auto got = testing::run_candidate("own:reshape", c.op, c.inputs, c.attrs);
    EXPECT_EQ(got.out().storage(), x.storage()) << c.op << " copied";
    auto cpu = testing::run_backend_op("cpu", c.op, c.inputs, c.attrs);
    EXPECT_EQ(cpu.implementation, "cpu:own:reshape");
  }
  auto bad = testing::run_candidate("own:reshape", "Reshape", {x, i64({5, -1})});
  EXPECT_NE(bad.error.find("cannot reshape"), std::string::npos) << bad.error;
}

TEST(CpuOwnShape, ShapeSizeIdentityDropoutPassBlockedTensorsThrough) {
  Tensor b = blocked({2, 32, 5, 3}, 2);
  Tensor plain = b.to_plain();
  for (const char* op : {"Shape", "Size"}) {
    auto got = testing::run_candidate("own:shape", op, {b});
    ASSERT_TRUE(got.error.empty()) << got.error;
    auto ref = testing::run_ref_op(op, {plain});
    testing::expect_same(got.out(), ref.out(), op);
  }
  auto shape15 = testing::run_candidate("own:shape", "Shape", {b}, {attr_i("start", 1), attr_i("end", -1)}, 15);
  testing::expect_same(shape15.out(), i64({32, 5}), "Shape start/end");

  auto id = testing::run_candidate("own:identity", "Identity", {b});
  ASSERT_TRUE(id.error.empty()) << id.error;
  EXPECT_EQ(id.out().storage(), b.storage());  // no reorder, no copy

  auto drop = testing::run_candidate("own:dropout", "Dropout", {b}, {}, 13, 2);
  ASSERT_TRUE(drop.error.empty()) << drop.error;
  EXPECT_EQ(drop.out(0).storage(), b.storage());
  auto drop_ref = testing::run_ref_op("Dropout", {plain}, {}, 13, 2);
  testing::expect_same(drop.out(0), drop_ref.out(0), "Dropout output");
  testing::expect_same(drop.out(1), drop_ref.out(1), "Dropout mask");

  // Exported models pass ratio and training_mode = false as inputs: still a pass-through.
  auto drop_inputs = testing::run_candidate("own:dropout", "Dropout",
                                            {b, Tensor::scalar<float>(0.1f), Tensor::scalar<bool>(false)}, {}, 13, 2);
  ASSERT_TRUE(drop_inputs.error.empty()) << drop_inputs.error;
  EXPECT_FALSE(drop_inputs.used_reference);
  EXPECT_EQ(drop_inputs.out(0).storage(), b.storage());
  testing::expect_same(drop_inputs.out(1), drop_ref.out(1), "Dropout mask (inputs)");

  // Training mode: a random mask from the plain values (seeded: equal to the reference's).
  Tensor ratio = Tensor::scalar<float>(0.25f);
  Tensor training = Tensor::scalar<bool>(true);
  auto train = testing::run_candidate("own:dropout", "Dropout", {b, ratio, training}, {attr_i("seed", 3)}, 13, 2);
  ASSERT_TRUE(train.error.empty()) << train.error;
  auto train_ref = testing::run_ref_op("Dropout", {plain, ratio, training}, {attr_i("seed", 3)}, 13, 2);
  testing::expect_same(train.out(0), train_ref.out(0), "training output");
  testing::expect_same(train.out(1), train_ref.out(1), "training mask");
  // A constant training_mode = true is declined at plan time.
  auto declined = testing::run_candidate("own:dropout", "Dropout", {b, ratio, training}, {}, 13, 1, {2});
  EXPECT_NE(declined.declined.find("training"), std::string::npos) << declined.declined;

  // Candidates that accept layouts are marked so.
  for (const char* op : {"Shape", "Size", "Identity", "Dropout"}) {
    bool found = false;
    for (const Candidate* c : CandidateRegistry::instance().find("cpu", op, "", 17))
      if (c->name.rfind("own:", 0) == 0) {
        found = true;
        EXPECT_TRUE(c->accepts_layouts) << op;
      }
    EXPECT_TRUE(found) << op;
  }
}

struct SliceCase {
  Shape shape;
  std::vector<int64_t> starts, ends, axes, steps;
  bool view;
};

TEST(CpuOwnShape, SliceMatchesReference) {
  const int64_t big = INT64_MAX;
  const std::vector<SliceCase> cases = {
      {{10}, {2}, {7}, {}, {}, true},
      {{10}, {-3}, {big}, {0}, {1}, true},
      {{10}, {8}, {1}, {0}, {-2}, false},
      {{6, 7}, {1}, {4}, {0}, {1}, true},   // outermost rows: a block
      {{6, 7}, {1}, {4}, {1}, {1}, false},  // columns
      {{6, 7}, {0, 2}, {6, 5}, {0, 1}, {2, 1}, false},
      {{1, 6, 7}, {2}, {3}, {1}, {1}, true},  // one row under a unit dim
      {{4, 5, 6}, {-1, 4, 5}, {-big, 0, -big}, {0, 1, 2}, {-1, -2, -3}, false},
      {{2, 3, 4, 5}, {1, 1}, {2, 3}, {0, 2}, {1, 1}, false},
      {{2, 3, 4, 5}, {1, 0}, {2, 1}, {0, 1}, {1, 1}, true},
      {{3, 4}, {5}, {9}, {0}, {1}, false},                // empty
      {{8, 128, 2304}, {768}, {1536}, {-1}, {1}, false},  // BERT fused QKV split
      {{64, 64, 33}, {0, 1}, {64, 64}, {0, 2}, {3, 2}, false},
  };
  uint32_t seed = 10;
  for (const SliceCase& c : cases)
    for (DType dt : {DType::float32, DType::int64, DType::float16, DType::boolean}) {
      Tensor x = testing::random_of(dt, c.shape, seed++);
      std::vector<Tensor> in = {x, i64(c.starts), i64(c.ends)};
      if (!c.axes.empty()) in.push_back(i64(c.axes));
      if (!c.steps.empty()) in.push_back(i64(c.steps));
      const std::string what = "Slice " + shape_str(c.shape) + " starts " + shape_str(c.starts) + " " + dtype_name(dt);
      testing::expect_candidate_matches("own:slice", "Slice", in, {}, what);
      auto got = testing::run_candidate("own:slice", "Slice", in);
      if (c.view) {
        EXPECT_EQ(got.out().storage(), x.storage()) << what << " should be a view";
      } else {
        EXPECT_TRUE(got.out().is_contiguous()) << what;
      }
    }
  // Opset 1 (attributes) and int32 inputs.
  Tensor x = testing::random_of(DType::float32, {5, 6}, 3);
  testing::expect_candidate_matches("own:slice", "Slice", {x},
                                    {attr_ints("starts", {1, 2}), attr_ints("ends", {4, 6}), attr_ints("axes", {0, 1})},
                                    "Slice opset 1", 1);
  testing::expect_candidate_matches(
      "own:slice", "Slice", {x, Tensor::from_vector<int32_t>({1}, {1}), Tensor::from_vector<int32_t>({1}, {-1})}, {},
      "Slice int32");
  // Errors come from the reference.
  auto bad = testing::run_candidate("own:slice", "Slice", {x, i64({0}), i64({1}), i64({0}), i64({0})});
  EXPECT_NE(bad.error.find("steps"), std::string::npos) << bad.error;
  auto cpu = testing::run_backend_op("cpu", "Slice", {x, i64({0}), i64({1})});
  EXPECT_EQ(cpu.implementation, "cpu:own:slice");
}

TEST(CpuOwnShape, ConcatMatchesReference) {
  struct Case {
    std::vector<Shape> shapes;
    int64_t axis;
  };
  const std::vector<Case> cases = {
      {{{3}, {4}, {1}}, 0},
      {{{2, 3}, {2, 5}}, 1},
      {{{2, 3}, {4, 3}, {1, 3}}, -2},
      {{{2, 3, 4}, {2, 0, 4}, {2, 7, 4}}, 1},
      {{{2, 3, 4}, {2, 3, 1}}, -1},
      {{{8, 12, 128, 64}, {8, 12, 128, 64}}, 2},  // a KV-cache style append
      {{{1, 4}}, 0},
  };
  uint32_t seed = 40;
  for (const Case& c : cases)
    for (DType dt : {DType::float32, DType::int64, DType::float16, DType::boolean}) {
      std::vector<Tensor> in;
      for (const Shape& s : c.shapes) in.push_back(testing::random_of(dt, s, seed++));
      testing::expect_candidate_matches("own:concat", "Concat", in, {attr_i("axis", c.axis)},
                                        "Concat axis " + std::to_string(c.axis) + " " + dtype_name(dt));
    }
  // Dispatch: int64 is not a oneDNN type, so this candidate runs (float32 may go to oneDNN first).
  auto cpu = testing::run_backend_op("cpu", "Concat", {i64({1, 2}), i64({3})}, {attr_i("axis", 0)});
  EXPECT_EQ(cpu.implementation, "cpu:own:concat");
  for (const Candidate* c : CandidateRegistry::instance().find("cpu", "Concat", "", 17)) {
    if (c->name == "own:concat") {
      EXPECT_EQ(c->priority, 20);
    }
  }
  auto bad = testing::run_candidate("own:concat", "Concat", {i64({1}), testing::random_of(DType::float32, {1}, 1)},
                                    {attr_i("axis", 0)});
  EXPECT_NE(bad.error.find("dtype"), std::string::npos) << bad.error;
}

TEST(CpuOwnShape, SplitMatchesReference) {
  struct Case {
    Shape shape;
    int64_t axis;
    std::vector<int64_t> split;  // empty: equal parts
    size_t outputs;
    int opset;
    bool views;
  };
  const std::vector<Case> cases = {
      {{6}, 0, {}, 3, 13, true},           {{6, 4}, 0, {1, 5}, 2, 13, true},
      {{6, 4}, 1, {1, 3}, 2, 13, false},   {{2, 9, 5}, -2, {2, 0, 7}, 3, 13, false},
      {{1, 9, 5}, 1, {4, 5}, 2, 13, true}, {{8, 128, 2304}, 2, {}, 3, 13, false},  // BERT fused QKV
      {{7, 3}, 0, {}, 3, 18, true},                                                // num_outputs: chunks of 3, 3, 1
      {{4, 6}, 1, {2, 4}, 2, 11, false},                                           // 'split' attribute
  };
  uint32_t seed = 70;
  for (const Case& c : cases)
    for (DType dt : {DType::float32, DType::int64, DType::uint8}) {
      Tensor x = testing::random_of(dt, c.shape, seed++);
      std::vector<Tensor> in = {x};
      std::vector<ir::Attribute> attrs = {attr_i("axis", c.axis)};
      if (!c.split.empty()) {
        if (c.opset >= 13) {
          in.push_back(i64(c.split));
        } else {
          attrs.push_back(attr_ints("split", c.split));
        }
      }
      if (c.opset >= 18 && c.split.empty()) attrs.push_back(attr_i("num_outputs", static_cast<int64_t>(c.outputs)));
      const std::string what = "Split " + shape_str(c.shape) + " axis " + std::to_string(c.axis) + " " + dtype_name(dt);
      testing::expect_candidate_matches("own:split", "Split", in, attrs, what, c.opset, c.outputs);
      auto got = testing::run_candidate("own:split", "Split", in, attrs, c.opset, c.outputs);
      for (size_t k = 0; k < c.outputs; ++k) {
        if (got.out(k).numel() == 0) continue;
        EXPECT_EQ(got.out(k).storage() == x.storage(), c.views) << what << " output " << k;
      }
    }
  Tensor x = testing::random_of(DType::float32, {5, 4}, 3);
  auto bad = testing::run_candidate("own:split", "Split", {x}, {attr_i("axis", 0)}, 13, 2);
  EXPECT_NE(bad.error.find("equal parts"), std::string::npos) << bad.error;
  auto cpu = testing::run_backend_op("cpu", "Split", {x}, {attr_i("axis", 1)}, 13, 2);
  EXPECT_EQ(cpu.implementation, "cpu:own:split");
}

}  // namespace
}  // namespace hwopt
