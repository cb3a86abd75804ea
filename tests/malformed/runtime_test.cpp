// Run time: inputs that do not match the model, non-finite values, and kernels that fail on
// valid-looking models, each a clear Status naming the input or node.
#include <cmath>
#include <limits>

#include "hwopt/session.h"
#include "model_builder.h"

namespace hwopt::test {
namespace {

std::unique_ptr<Session> load_session(const onnx::ModelProto& m, const SessionOptions& options = {}) {
  std::string bytes = serialize(m);
  auto s = Session::load_from_bytes(bytes.data(), bytes.size(), options);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  return s.ok() ? std::move(s).value() : nullptr;
}

Tensor floats(const Shape& shape, float v = 1.0f) {
  const int64_t n = shape_numel(shape);
  return Tensor::from_vector<float>(shape, std::vector<float>(static_cast<size_t>(n), v));
}

TEST(RunInputs, ControlRuns) {
  auto s = load_session(make_add_model());
  ASSERT_TRUE(s);
  auto out = s->run({{"A", floats({2, 3}, 1)}, {"B", floats({2, 3}, 2)}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at("Y").data<float>()[5], 3.0f);
}

TEST(RunInputs, WrongDtype) {
  auto s = load_session(make_add_model());
  ASSERT_TRUE(s);
  Tensor b = Tensor::from_vector<int32_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(IsError(s->run({{"A", floats({2, 3})}, {"B", b}}).status(), StatusCode::invalid_argument,
                      {"input 'B'", "int32", "float32"}));
  Tensor d = Tensor::from_vector<double>({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(IsError(s->run({{"A", d}, {"B", floats({2, 3})}}).status(), StatusCode::invalid_argument,
                      {"input 'A'", "float64"}));
}

TEST(RunInputs, WrongRank) {
  auto s = load_session(make_add_model());
  ASSERT_TRUE(s);
  EXPECT_TRUE(IsError(s->run({{"A", floats({6})}, {"B", floats({2, 3})}}).status(), StatusCode::invalid_argument,
                      {"input 'A'", "rank 1", "rank 2"}));
  EXPECT_TRUE(IsError(s->run({{"A", floats({2, 3})}, {"B", floats({1, 2, 3})}}).status(),
                      StatusCode::invalid_argument, {"input 'B'", "rank 3"}));
  EXPECT_TRUE(IsError(s->run({{"A", Tensor::scalar<float>(1)}, {"B", floats({2, 3})}}).status(),
                      StatusCode::invalid_argument, {"input 'A'", "rank 0"}));
}

TEST(RunInputs, WrongStaticDim) {
  auto s = load_session(make_add_model());
  ASSERT_TRUE(s);
  EXPECT_TRUE(IsError(s->run({{"A", floats({2, 4})}, {"B", floats({2, 3})}}).status(), StatusCode::invalid_argument,
                      {"input 'A'", "[2,4]", "dim 1 must be 3"}));
  EXPECT_TRUE(IsError(s->run({{"A", floats({2, 3})}, {"B", floats({3, 3})}}).status(), StatusCode::invalid_argument,
                      {"input 'B'", "dim 0 must be 2"}));
  EXPECT_TRUE(IsError(s->run({{"A", floats({2, 3})}, {"B", floats({0, 3})}}).status(), StatusCode::invalid_argument,
                      {"input 'B'", "dim 0 must be 2"}));
}

TEST(RunInputs, MissingInput) {
  auto s = load_session(make_add_model());
  ASSERT_TRUE(s);
  EXPECT_TRUE(IsError(s->run({{"A", floats({2, 3})}}).status(), StatusCode::invalid_argument,
                      {"missing input 'B'"}));
  EXPECT_TRUE(IsError(s->run({}).status(), StatusCode::invalid_argument, {"missing input 'A'"}));
  // A default-constructed (undefined) tensor is as good as missing.
  EXPECT_TRUE(IsError(s->run({{"A", floats({2, 3})}, {"B", Tensor()}}).status(), StatusCode::invalid_argument,
                      {"input 'B'"}));
}

TEST(RunInputs, UnknownInputName) {
  auto s = load_session(make_add_model());
  ASSERT_TRUE(s);
  EXPECT_TRUE(IsError(s->run({{"A", floats({2, 3})}, {"B", floats({2, 3})}, {"C", floats({2, 3})}}).status(),
                      StatusCode::invalid_argument, {"unknown input 'C'", "A, B"}));
  EXPECT_TRUE(IsError(s->run({{"a", floats({2, 3})}, {"B", floats({2, 3})}}).status(), StatusCode::invalid_argument,
                      {"unknown input 'a'"}));
  // An intermediate or output name is not an input either.
  EXPECT_TRUE(IsError(s->run({{"A", floats({2, 3})}, {"B", floats({2, 3})}, {"Y", floats({2, 3})}}).status(),
                      StatusCode::invalid_argument, {"unknown input 'Y'"}));
}

TEST(RunInputs, SymbolicDimAcceptsAnySize) {
  auto s = load_session(make_add_model({-1, 3}));
  ASSERT_TRUE(s);
  ASSERT_EQ(s->inputs().size(), 2u);
  EXPECT_EQ(s->inputs()[0].shape, (std::vector<int64_t>{-1, 3}));
  EXPECT_EQ(s->inputs()[0].dim_names[0], "N");
  for (int64_t n : {1, 2, 7, 64, 0}) {
    auto out = s->run({{"A", floats({n, 3}, 1)}, {"B", floats({n, 3}, 2)}});
    ASSERT_TRUE(out.ok()) << n << ": " << out.status().to_string();
    EXPECT_EQ(out->at("Y").shape(), (Shape{n, 3}));
  }
  // The static dim is still checked.
  EXPECT_TRUE(IsError(s->run({{"A", floats({4, 2})}, {"B", floats({4, 2})}}).status(), StatusCode::invalid_argument,
                      {"input 'A'", "dim 1 must be 3"}));
}

TEST(RunInputs, NonFiniteRunsByDefault) {
  auto s = load_session(make_add_model());
  ASSERT_TRUE(s);
  Tensor a = floats({2, 3});
  a.data<float>()[1] = std::numeric_limits<float>::quiet_NaN();
  a.data<float>()[4] = std::numeric_limits<float>::infinity();
  auto out = s->run({{"A", a}, {"B", floats({2, 3})}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_TRUE(std::isnan(out->at("Y").data<float>()[1]));
  EXPECT_TRUE(std::isinf(out->at("Y").data<float>()[4]));
}

TEST(RunInputs, NonFiniteFlaggedWithCheckFinite) {
  SessionOptions opts;
  opts.check_finite = true;
  auto s = load_session(make_add_model(), opts);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->run({{"A", floats({2, 3})}, {"B", floats({2, 3})}}).ok());
  Tensor a = floats({2, 3});
  a.data<float>()[4] = -std::numeric_limits<float>::infinity();
  EXPECT_TRUE(IsError(s->run({{"A", a}, {"B", floats({2, 3})}}).status(), StatusCode::invalid_argument,
                      {"input 'A'", "non-finite", "index 4"}));
  Tensor b = floats({2, 3});
  b.data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(IsError(s->run({{"A", floats({2, 3})}, {"B", b}}).status(), StatusCode::invalid_argument,
                      {"input 'B'", "non-finite", "index 0"}));
  // Finite inputs whose sum overflows: the output is flagged.
  Tensor big = floats({2, 3}, 3e38f);
  EXPECT_TRUE(IsError(s->run({{"A", big}, {"B", big}}).status(), StatusCode::runtime_error,
                      {"output 'Y'", "non-finite"}));
}

// ---- kernel errors at run time: runtime_error naming the node ----

Status run_model(const onnx::ModelProto& m, const std::map<std::string, Tensor>& inputs) {
  auto s = load_session(m);
  if (!s) return Status(StatusCode::internal, "load failed");
  return s->run(inputs).status();
}

TEST(KernelErrors, ReshapeToAnIncompatibleShape) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {2, 3});
  add_int64_initializer(g, "shape", {2}, {4, 4});
  add_node(g, "Reshape", {"X", "shape"}, {"Y"}, "bad_reshape");
  add_untyped_output(g, "Y");
  EXPECT_TRUE(IsError(run_model(m, {{"X", floats({2, 3})}}), StatusCode::runtime_error,
                      {"node 'bad_reshape' (Reshape)", "[4,4]"}));
}

TEST(KernelErrors, ReshapeWithTheShapeAsAnInput) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {2, 3});
  add_input(g, "shape", onnx::TensorProto::INT64, {2});
  add_node(g, "Reshape", {"X", "shape"}, {"Y"}, "dyn_reshape");
  add_untyped_output(g, "Y");
  auto s = load_session(m);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->run({{"X", floats({2, 3})}, {"shape", Tensor::from_vector<int64_t>({2}, {3, 2})}}).ok());
  EXPECT_TRUE(IsError(s->run({{"X", floats({2, 3})}, {"shape", Tensor::from_vector<int64_t>({2}, {-1, -1})}}).status(),
                      StatusCode::runtime_error, {"node 'dyn_reshape'"}));
  EXPECT_TRUE(IsError(
      s->run({{"X", floats({2, 3})}, {"shape", Tensor::from_vector<int64_t>({2}, {INT64_MAX, INT64_MAX})}}).status(),
      StatusCode::runtime_error, {"node 'dyn_reshape'"}));
  EXPECT_TRUE(IsError(s->run({{"X", floats({2, 3})}, {"shape", Tensor::from_vector<int64_t>({2}, {-7, 6})}}).status(),
                      StatusCode::runtime_error, {"node 'dyn_reshape'"}));
}

TEST(KernelErrors, GatherWithAnOutOfRangeIndex) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "data", onnx::TensorProto::FLOAT, {3, 2});
  add_input(g, "idx", onnx::TensorProto::INT64, {-1});
  add_node(g, "Gather", {"data", "idx"}, {"Y"}, "gather0");
  add_untyped_output(g, "Y");
  auto s = load_session(m);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->run({{"data", floats({3, 2})}, {"idx", Tensor::from_vector<int64_t>({2}, {2, -3})}}).ok());
  for (int64_t bad : {int64_t{3}, int64_t{-4}, INT64_MAX, INT64_MIN}) {
    EXPECT_TRUE(IsError(s->run({{"data", floats({3, 2})}, {"idx", Tensor::from_vector<int64_t>({2}, {0, bad})}}).status(),
                        StatusCode::runtime_error, {"node 'gather0' (Gather)", "out of range"}))
        << bad;
  }
}

TEST(KernelErrors, ConvWeightRankDisagreesWithInput) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {1, 1, 4, 4});
  add_float_initializer(g, "W", {1, 1, 3}, std::vector<float>(3, 1.0f));
  add_node(g, "Conv", {"X", "W"}, {"Y"}, "conv0");
  add_untyped_output(g, "Y");
  EXPECT_TRUE(IsError(run_model(m, {{"X", floats({1, 1, 4, 4})}}), StatusCode::runtime_error,
                      {"node 'conv0' (Conv)", "rank"}));
}

TEST(KernelErrors, ConvChannelMismatchAndKernelLargerThanInput) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {1, 2, 4, 4});
  add_input(g, "W", onnx::TensorProto::FLOAT, {-1, -1, -1, -1});
  add_node(g, "Conv", {"X", "W"}, {"Y"}, "conv1");
  add_untyped_output(g, "Y");
  auto s = load_session(m);
  ASSERT_TRUE(s);
  EXPECT_TRUE(IsError(s->run({{"X", floats({1, 2, 4, 4})}, {"W", floats({1, 3, 3, 3})}}).status(),
                      StatusCode::runtime_error, {"node 'conv1' (Conv)"}));
  EXPECT_TRUE(IsError(s->run({{"X", floats({1, 2, 4, 4})}, {"W", floats({1, 2, 5, 5})}}).status(),
                      StatusCode::runtime_error, {"node 'conv1' (Conv)"}));
}

TEST(KernelErrors, TransposePermOutOfRange) {
  for (const std::vector<int64_t>& perm : {std::vector<int64_t>{0, 5}, {0, -1}, {1, 1}, {0, 1, 2},
                                          {INT64_MAX, 0}}) {
    onnx::ModelProto m = make_model();
    auto* g = m.mutable_graph();
    add_input(g, "X", onnx::TensorProto::FLOAT, {2, 3});
    add_attr_ints(add_node(g, "Transpose", {"X"}, {"Y"}, "transpose0"), "perm", perm);
    add_untyped_output(g, "Y");
    EXPECT_TRUE(IsError(run_model(m, {{"X", floats({2, 3})}}), StatusCode::runtime_error,
                        {"node 'transpose0' (Transpose)", "perm"}));
  }
}

TEST(KernelErrors, ConcatAxisOutOfRange) {
  for (int64_t axis : {int64_t{2}, int64_t{-3}, int64_t{100}, INT64_MIN}) {
    onnx::ModelProto m = make_model();
    auto* g = m.mutable_graph();
    add_input(g, "X", onnx::TensorProto::FLOAT, {2, 3});
    add_input(g, "Z", onnx::TensorProto::FLOAT, {2, 3});
    add_attr_int(add_node(g, "Concat", {"X", "Z"}, {"Y"}, "concat0"), "axis", axis);
    add_untyped_output(g, "Y");
    EXPECT_TRUE(IsError(run_model(m, {{"X", floats({2, 3})}, {"Z", floats({2, 3})}}), StatusCode::runtime_error,
                        {"node 'concat0' (Concat)", "axis"}))
        << axis;
  }
}

TEST(KernelErrors, ConcatShapesDisagree) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {2, 3});
  add_input(g, "Z", onnx::TensorProto::FLOAT, {2, 4});
  add_attr_int(add_node(g, "Concat", {"X", "Z"}, {"Y"}, "concat1"), "axis", 0);
  add_untyped_output(g, "Y");
  EXPECT_TRUE(IsError(run_model(m, {{"X", floats({2, 3})}, {"Z", floats({2, 4})}}), StatusCode::runtime_error,
                      {"node 'concat1' (Concat)"}));
}

TEST(KernelErrors, SplitSizesDoNotSumUp) {
  // Opset 13+: sizes as an input.
  onnx::ModelProto m = make_model(13);
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {6});
  add_int64_initializer(g, "sizes", {2}, {2, 2});
  add_node(g, "Split", {"X", "sizes"}, {"a", "b"}, "split0");
  add_untyped_output(g, "a");
  add_untyped_output(g, "b");
  EXPECT_TRUE(IsError(run_model(m, {{"X", floats({6})}}), StatusCode::runtime_error,
                      {"node 'split0' (Split)", "sums to 4"}));
  // Opset 11: sizes as an attribute; also negative sizes.
  for (const std::vector<int64_t>& split : {std::vector<int64_t>{4, 4}, {7, -1}, {1, 2}}) {
    onnx::ModelProto m11 = make_model(11);
    auto* g11 = m11.mutable_graph();
    add_input(g11, "X", onnx::TensorProto::FLOAT, {6});
    add_attr_ints(add_node(g11, "Split", {"X"}, {"a", "b"}, "split1"), "split", split);
    add_untyped_output(g11, "a");
    add_untyped_output(g11, "b");
    EXPECT_TRUE(IsError(run_model(m11, {{"X", floats({6})}}), StatusCode::runtime_error, {"node 'split1' (Split)"}));
  }
}

TEST(KernelErrors, BroadcastMismatchBetweenSymbolicInputs) {
  auto s = load_session(make_add_model({-1, -1}));
  ASSERT_TRUE(s);
  EXPECT_TRUE(IsError(s->run({{"A", floats({2, 3})}, {"B", floats({2, 4})}}).status(), StatusCode::runtime_error,
                      {"node 'add0' (Add)", "broadcast"}));
}

TEST(KernelErrors, ErrorInsideASubgraphNamesTheInnerNode) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "cond", onnx::TensorProto::BOOL, {});
  add_input(g, "X", onnx::TensorProto::FLOAT, {2, 3});
  add_int64_initializer(g, "shape", {2}, {5, 5});
  auto* n = add_node(g, "If", {"cond"}, {"Y"}, "if0");
  for (const char* branch : {"then_branch", "else_branch"}) {
    auto* a = n->add_attribute();
    a->set_name(branch);
    a->set_type(onnx::AttributeProto::GRAPH);
    auto* sg = a->mutable_g();
    sg->set_name(branch);
    const std::string out = std::string(branch) + "_y";
    add_node(sg, "Reshape", {"X", "shape"}, {out}, std::string("reshape_in_") + branch);
    add_untyped_output(sg, out);
  }
  add_untyped_output(g, "Y");
  EXPECT_TRUE(IsError(run_model(m, {{"cond", Tensor::scalar<bool>(true)}, {"X", floats({2, 3})}}),
                      StatusCode::runtime_error, {"node 'if0' (If)", "node 'reshape_in_then_branch' (Reshape)"}));
}

}  // namespace
}  // namespace hwopt::test
