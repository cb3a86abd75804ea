#include "op_test_util.h"

namespace hwopt {
namespace {

using testing::attr_i;

// Runs a reference kernel on runtime values (tensors, sequences, empty optionals); a nullopt-like
// "absent" input is given as nullptr.
testing::OpResult run_values(const std::string& op, const std::vector<const RtValue*>& inputs,
                             std::vector<ir::Attribute> attrs = {}, int opset = 17, size_t num_outputs = 1) {
  ir::Node node;
  node.name = "test_" + op;
  node.op_type = op;
  node.opset = opset;
  node.attributes = std::move(attrs);
  for (size_t i = 0; i < inputs.size(); ++i) node.inputs.push_back(inputs[i] ? "in" + std::to_string(i) : "");
  for (size_t i = 0; i < num_outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
  testing::OpResult result;
  const auto* def = reference::KernelRegistry::instance().find(op, "", opset);
  if (!def) {
    result.error = "no kernel";
    return result;
  }
  KernelContext ctx(node, inputs, [](const ir::Graph&, std::vector<RtValue>) -> std::vector<RtValue> { return {}; });
  try {
    def->fn(ctx);
  } catch (const KernelError& e) {
    result.error = e.what();
    return result;
  }
  result.outputs = std::move(ctx.outputs());
  return result;
}

Tensor F(const Shape& shape, const std::vector<float>& v) { return Tensor::from_vector<float>(shape, v); }
RtValue seq_of(std::vector<Tensor> ts, DType dt = DType::float32) { return RtValue::of_sequence(std::move(ts), dt); }
RtValue I64(int64_t v) { return RtValue::of(Tensor::scalar<int64_t>(v)); }

TEST(RefSequence, EmptyConstructLength) {
  auto e = run_values("SequenceEmpty", {}, {attr_i("dtype", 7)}, 11);
  ASSERT_TRUE(e.error.empty()) << e.error;
  ASSERT_TRUE(e.outputs[0].is_sequence());
  EXPECT_TRUE(e.outputs[0].sequence.empty());
  EXPECT_EQ(e.outputs[0].elem_dtype, DType::int64);
  e = run_values("SequenceEmpty", {}, {}, 11);
  EXPECT_EQ(e.outputs[0].elem_dtype, DType::float32);

  RtValue a = RtValue::of(F({2}, {1, 2})), b = RtValue::of(F({3}, {3, 4, 5}));
  auto c = run_values("SequenceConstruct", {&a, &b}, {}, 11);
  ASSERT_TRUE(c.error.empty()) << c.error;
  ASSERT_EQ(c.outputs[0].sequence.size(), 2u);
  EXPECT_EQ(c.outputs[0].sequence[1].shape(), Shape{3});
  auto len = run_values("SequenceLength", {&c.outputs[0]}, {}, 11);
  ASSERT_TRUE(len.error.empty()) << len.error;
  EXPECT_EQ(len.out().dtype(), DType::int64);
  EXPECT_EQ(len.out().data<int64_t>()[0], 2);

  RtValue i = RtValue::of(Tensor::from_vector<int32_t>({1}, {1}));
  c = run_values("SequenceConstruct", {&a, &i}, {}, 11);
  EXPECT_NE(c.error.find("dtype"), std::string::npos) << c.error;
}

TEST(RefSequence, InsertAtErase) {
  RtValue s = seq_of({F({1}, {10}), F({1}, {20})});
  RtValue t = RtValue::of(F({1}, {30}));
  auto ins = run_values("SequenceInsert", {&s, &t}, {}, 11);  // append
  ASSERT_TRUE(ins.error.empty()) << ins.error;
  ASSERT_EQ(ins.outputs[0].sequence.size(), 3u);
  EXPECT_EQ(ins.outputs[0].sequence[2].data<float>()[0], 30.f);
  RtValue pos = I64(-2);
  ins = run_values("SequenceInsert", {&s, &t, &pos}, {}, 11);  // before element 0 of [10, 20] counted from back
  ASSERT_TRUE(ins.error.empty()) << ins.error;
  EXPECT_EQ(ins.outputs[0].sequence[0].data<float>()[0], 30.f);
  RtValue bad = I64(3);
  ins = run_values("SequenceInsert", {&s, &t, &bad}, {}, 11);
  EXPECT_NE(ins.error.find("position"), std::string::npos) << ins.error;
  RtValue ti = RtValue::of(Tensor::from_vector<int64_t>({1}, {1}));
  ins = run_values("SequenceInsert", {&s, &ti}, {}, 11);
  EXPECT_NE(ins.error.find("dtype"), std::string::npos) << ins.error;

  RtValue m1 = I64(-1);
  auto at = run_values("SequenceAt", {&s, &m1}, {}, 11);
  ASSERT_TRUE(at.error.empty()) << at.error;
  EXPECT_EQ(at.out().data<float>()[0], 20.f);
  RtValue two = I64(2);
  at = run_values("SequenceAt", {&s, &two}, {}, 11);
  EXPECT_NE(at.error.find("out of range"), std::string::npos) << at.error;

  auto er = run_values("SequenceErase", {&s}, {}, 11);  // erase last
  ASSERT_TRUE(er.error.empty()) << er.error;
  ASSERT_EQ(er.outputs[0].sequence.size(), 1u);
  EXPECT_EQ(er.outputs[0].sequence[0].data<float>()[0], 10.f);
  RtValue zero = RtValue::of(Tensor::from_vector<int32_t>({}, {0}));
  er = run_values("SequenceErase", {&s, &zero}, {}, 11);
  ASSERT_TRUE(er.error.empty()) << er.error;
  EXPECT_EQ(er.outputs[0].sequence[0].data<float>()[0], 20.f);
  RtValue empty = seq_of({});
  er = run_values("SequenceErase", {&empty}, {}, 11);
  EXPECT_FALSE(er.error.empty());
}

TEST(RefSequence, ConcatFromSequence) {
  RtValue s = seq_of({F({2, 1}, {1, 2}), F({2, 2}, {3, 4, 5, 6})});
  auto r = run_values("ConcatFromSequence", {&s}, {attr_i("axis", -1)}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3}, {1, 3, 4, 2, 5, 6});
  RtValue s2 = seq_of({F({2}, {1, 2}), F({2}, {3, 4}), F({2}, {5, 6})});
  r = run_values("ConcatFromSequence", {&s2}, {attr_i("axis", 1), attr_i("new_axis", 1)}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {2, 3}, {1, 3, 5, 2, 4, 6});
  r = run_values("ConcatFromSequence", {&s2}, {attr_i("axis", 0), attr_i("new_axis", 1)}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.out(), {3, 2}, {1, 2, 3, 4, 5, 6});
  r = run_values("ConcatFromSequence", {&s}, {attr_i("axis", 0)}, 11);
  EXPECT_NE(r.error.find("incompatible"), std::string::npos) << r.error;
  r = run_values("ConcatFromSequence", {&s2}, {attr_i("axis", 2), attr_i("new_axis", 1)}, 11);
  EXPECT_NE(r.error.find("axis"), std::string::npos) << r.error;
  // Strings work too.
  Tensor a(DType::string, {1}), b(DType::string, {2});
  a.data<std::string>()[0] = "x";
  b.data<std::string>()[0] = "y";
  b.data<std::string>()[1] = "z";
  RtValue ss = seq_of({a, b}, DType::string);
  r = run_values("ConcatFromSequence", {&ss}, {attr_i("axis", 0)}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.out().data<std::string>()[2], "z");
}

TEST(RefSequence, SplitToSequence) {
  RtValue x = RtValue::of(F({2, 3}, {1, 2, 3, 4, 5, 6}));
  auto r = run_values("SplitToSequence", {&x}, {attr_i("axis", 1)}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.outputs[0].sequence.size(), 3u);
  testing::expect_tensor_near(r.outputs[0].sequence[1], {2, 1}, {2, 5});
  r = run_values("SplitToSequence", {&x}, {attr_i("axis", -1), attr_i("keepdims", 0)}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.outputs[0].sequence[2], {2}, {3, 6});
  RtValue chunk = I64(2);
  r = run_values("SplitToSequence", {&x, &chunk}, {attr_i("axis", 1), attr_i("keepdims", 0)}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.outputs[0].sequence.size(), 2u);
  testing::expect_tensor_near(r.outputs[0].sequence[0], {2, 2}, {1, 2, 4, 5});
  testing::expect_tensor_near(r.outputs[0].sequence[1], {2, 1}, {3, 6});
  RtValue sizes = RtValue::of(Tensor::from_vector<int32_t>({2}, {1, 1}));
  r = run_values("SplitToSequence", {&x, &sizes}, {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  testing::expect_tensor_near(r.outputs[0].sequence[1], {1, 3}, {4, 5, 6});
  RtValue wrong = RtValue::of(Tensor::from_vector<int64_t>({2}, {1, 2}));
  r = run_values("SplitToSequence", {&x, &wrong}, {}, 11);
  EXPECT_NE(r.error.find("sums to 3"), std::string::npos) << r.error;
  RtValue huge = RtValue::of(Tensor::from_vector<int64_t>({2}, {INT64_MAX, 1}));
  r = run_values("SplitToSequence", {&x, &huge}, {}, 11);
  EXPECT_NE(r.error.find("split"), std::string::npos) << r.error;
  // Zero-length pieces of an empty tensor.
  RtValue e = RtValue::of(Tensor(DType::float32, {0}));
  RtValue zeros = RtValue::of(Tensor::from_vector<int64_t>({3}, {0, 0, 0}));
  r = run_values("SplitToSequence", {&e, &zeros}, {}, 11);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.outputs[0].sequence.size(), 3u);
}

}  // namespace
}  // namespace hwopt
