#include "op_test_util.h"

namespace hwopt {
namespace {


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

TEST(RefOptional, ConstructGetHas) {
  RtValue x = RtValue::of(F({2}, {1, 2}));
  auto o = run_values("Optional", {&x}, {}, 15);
  ASSERT_TRUE(o.error.empty()) << o.error;
  EXPECT_TRUE(o.outputs[0].is_tensor());
  auto has = run_values("OptionalHasElement", {&o.outputs[0]}, {}, 15);
  ASSERT_TRUE(has.error.empty()) << has.error;
  EXPECT_EQ(has.out().dtype(), DType::boolean);
  EXPECT_TRUE(has.out().data<bool>()[0]);
  auto get = run_values("OptionalGetElement", {&o.outputs[0]}, {}, 15);
  ASSERT_TRUE(get.error.empty()) << get.error;
  testing::expect_tensor_near(get.out(), {2}, {1, 2});

  ir::Attribute type;
  type.name = "type";
  type.type = ir::AttrType::type_proto;
  type.type_info.kind = ir::ValueKind::tensor;
  type.type_info.dtype = DType::int32;
  auto empty = run_values("Optional", {nullptr}, {type}, 15);
  ASSERT_TRUE(empty.error.empty()) << empty.error;
  EXPECT_TRUE(empty.outputs[0].is_none());
  EXPECT_EQ(empty.outputs[0].elem_dtype, DType::int32);
  has = run_values("OptionalHasElement", {&empty.outputs[0]}, {}, 15);
  EXPECT_FALSE(has.out().data<bool>()[0]);
  has = run_values("OptionalHasElement", {nullptr}, {}, 18);  // absent input
  ASSERT_TRUE(has.error.empty()) << has.error;
  EXPECT_FALSE(has.out().data<bool>()[0]);
  get = run_values("OptionalGetElement", {&empty.outputs[0]}, {}, 18);
  EXPECT_NE(get.error.find("empty"), std::string::npos) << get.error;
  auto bad = run_values("Optional", {nullptr}, {}, 15);
  EXPECT_NE(bad.error.find("type"), std::string::npos) << bad.error;

  RtValue s = seq_of({F({1}, {1})});
  get = run_values("OptionalGetElement", {&s}, {}, 18);
  ASSERT_TRUE(get.error.empty()) << get.error;
  EXPECT_TRUE(get.outputs[0].is_sequence());
}

}  // namespace
}  // namespace hwopt
