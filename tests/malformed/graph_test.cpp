// Graph structure: dangling inputs, cycles, duplicate producers, unknown ops and domains, bad
// opsets, deep subgraph nesting, empty op types and repeated attributes.
#include <string>

#include "hwopt/session.h"
#include "model_builder.h"
#include "onnx/import.h"

namespace hwopt::test {
namespace {

Status load(const onnx::ModelProto& m) {
  std::string bytes = serialize(m);
  return onnx_import::load_model_from_bytes(bytes.data(), bytes.size()).status();
}

// X: float [2,3] in, Y out; the caller adds the nodes.
onnx::ModelProto base_model(int64_t opset = 17) {
  onnx::ModelProto m = make_model(opset);
  add_input(m.mutable_graph(), "X", onnx::TensorProto::FLOAT, {2, 3});
  add_output(m.mutable_graph(), "Y", onnx::TensorProto::FLOAT, {2, 3});
  return m;
}

TEST(Graph, ControlLoads) {
  onnx::ModelProto m = base_model();
  add_node(m.mutable_graph(), "Relu", {"X"}, {"Y"}, "relu0");
  EXPECT_TRUE(load(m).ok());
}

TEST(Graph, DanglingNodeInput) {
  onnx::ModelProto m = base_model();
  add_node(m.mutable_graph(), "Add", {"X", "ghost"}, {"Y"}, "add0");
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"node 'add0' (Add)", "'ghost'"}));
}

TEST(Graph, Cycle) {
  onnx::ModelProto m = base_model();
  add_node(m.mutable_graph(), "Add", {"X", "b"}, {"a"}, "first");
  add_node(m.mutable_graph(), "Relu", {"a"}, {"b"}, "second");
  add_node(m.mutable_graph(), "Relu", {"b"}, {"Y"}, "third");
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"cycle", "node 'first' (Add)"}));
}

TEST(Graph, SelfLoop) {
  onnx::ModelProto m = base_model();
  add_node(m.mutable_graph(), "Add", {"X", "Y"}, {"Y"}, "loop");
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"cycle", "node 'loop'"}));
}

TEST(Graph, TwoProducersOfOneName) {
  onnx::ModelProto m = base_model();
  add_node(m.mutable_graph(), "Relu", {"X"}, {"Y"}, "p1");
  add_node(m.mutable_graph(), "Sigmoid", {"X"}, {"Y"}, "p2");
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"'Y' is produced twice", "'p1'", "'p2'"}));
}

TEST(Graph, NodeOverwritesAGraphInput) {
  onnx::ModelProto m = base_model();
  add_node(m.mutable_graph(), "Relu", {"X"}, {"X"}, "clobber");
  add_node(m.mutable_graph(), "Relu", {"X"}, {"Y"}, "r");
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"'X'", "graph input", "'clobber'"}));
}

TEST(Graph, OutputThatNothingProduces) {
  onnx::ModelProto m = base_model();
  add_node(m.mutable_graph(), "Relu", {"X"}, {"Y"}, "relu0");
  add_output(m.mutable_graph(), "nowhere", onnx::TensorProto::FLOAT, {2, 3});
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"graph output 'nowhere'"}));
}

TEST(Graph, NoOutputsOrNoGraph) {
  onnx::ModelProto m = make_model();
  add_input(m.mutable_graph(), "X", onnx::TensorProto::FLOAT, {2});
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"no outputs"}));
  onnx::ModelProto empty;
  empty.set_ir_version(8);
  EXPECT_TRUE(IsError(load(empty), StatusCode::invalid_model, {"no graph"}));
}

TEST(Graph, DuplicateGraphInput) {
  onnx::ModelProto m = base_model();
  add_input(m.mutable_graph(), "X", onnx::TensorProto::FLOAT, {2, 3});
  add_node(m.mutable_graph(), "Relu", {"X"}, {"Y"}, "relu0");
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"'X'", "twice"}));
}

TEST(Graph, UnknownOp) {
  onnx::ModelProto m = base_model();
  add_node(m.mutable_graph(), "FrobnicateFast", {"X"}, {"Y"}, "frob");
  EXPECT_TRUE(IsError(load(m), StatusCode::unsupported, {"node 'frob'", "'FrobnicateFast'", "'ai.onnx'"}));
  // Also through Session (same error, not a crash in planning).
  std::string bytes = serialize(m);
  EXPECT_TRUE(IsError(Session::load_from_bytes(bytes.data(), bytes.size()).status(), StatusCode::unsupported,
                      {"'FrobnicateFast'", "'ai.onnx'"}));
}

TEST(Graph, OpNotYetInTheImportedOpset) {
  onnx::ModelProto m = base_model(/*opset=*/11);
  add_node(m.mutable_graph(), "Mish", {"X"}, {"Y"}, "mish");  // since opset 18
  EXPECT_TRUE(IsError(load(m), StatusCode::unsupported, {"'Mish'", "'ai.onnx'", "opset 11"}));
}

TEST(Graph, UnknownDomain) {
  onnx::ModelProto m = base_model();
  auto* n = add_node(m.mutable_graph(), "Relu", {"X"}, {"Y"}, "custom");
  n->set_domain("com.example.nothing");
  EXPECT_TRUE(IsError(load(m), StatusCode::unsupported, {"node 'custom'", "'com.example.nothing'", "does not import"}));
  // Imported, but no op of that name exists in it.
  auto* op = m.add_opset_import();
  op->set_domain("com.example.nothing");
  op->set_version(1);
  EXPECT_TRUE(IsError(load(m), StatusCode::unsupported, {"node 'custom'", "'Relu'", "'com.example.nothing'"}));
}

TEST(Graph, OpsetOutOfRange) {
  for (int64_t v : {int64_t{22}, int64_t{0}, int64_t{-1}, int64_t{1000000}, INT64_MIN}) {
    onnx::ModelProto m = base_model(v);
    add_node(m.mutable_graph(), "Relu", {"X"}, {"Y"}, "relu0");
    EXPECT_TRUE(IsError(load(m), StatusCode::unsupported, {"opset " + std::to_string(v), "ai.onnx"})) << v;
  }
  onnx::ModelProto m = base_model(21);
  add_node(m.mutable_graph(), "Relu", {"X"}, {"Y"}, "relu0");
  EXPECT_TRUE(load(m).ok());
}

TEST(Graph, OpsetImportedTwiceOrMissing) {
  onnx::ModelProto m = base_model();
  add_node(m.mutable_graph(), "Relu", {"X"}, {"Y"}, "relu0");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"imported twice"}));
  m.clear_opset_import();
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"no opset"}));
}

TEST(Graph, EmptyOpType) {
  onnx::ModelProto m = base_model();
  add_node(m.mutable_graph(), "", {"X"}, {"Y"}, "nameless");
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"node 'nameless'", "no op_type"}));
}

TEST(Graph, RepeatedAttribute) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {2, 3});
  add_input(g, "Z", onnx::TensorProto::FLOAT, {2, 3});
  auto* n = add_node(g, "Concat", {"X", "Z"}, {"Y"}, "cat");
  add_attr_int(n, "axis", 0);
  add_attr_int(n, "axis", 1);
  add_output(g, "Y", onnx::TensorProto::FLOAT, {4, 3});
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"node 'cat' (Concat)", "'axis' twice"}));
}

TEST(Graph, DanglingReadInsideASubgraph) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "cond", onnx::TensorProto::BOOL, {});
  auto* n = add_node(g, "If", {"cond"}, {"Y"}, "if0");
  for (const char* branch : {"then_branch", "else_branch"}) {
    auto* a = n->add_attribute();
    a->set_name(branch);
    a->set_type(onnx::AttributeProto::GRAPH);
    auto* sg = a->mutable_g();
    sg->set_name(branch);
    add_node(sg, "Identity", {"ghost"}, {std::string(branch) + "_out"}, std::string(branch) + "_id");
    add_untyped_output(sg, std::string(branch) + "_out");
  }
  add_untyped_output(g, "Y");
  EXPECT_TRUE(IsError(load(m), StatusCode::invalid_model, {"node 'if0' (If)", "'ghost'", "subgraph"}));
}

// ---- deep nesting ----

// `depth` If nodes, each nested in the then_branch of the one before; every else_branch and the
// innermost then_branch return x. Subgraph outputs are untyped to keep protobuf nesting low.
onnx::ModelProto nested_if_model(int depth) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "cond", onnx::TensorProto::BOOL, {});
  add_input(g, "x", onnx::TensorProto::FLOAT, {1});
  onnx::GraphProto* cur = g;
  for (int k = 0; k < depth; ++k) {
    const std::string y = "y" + std::to_string(k);
    auto* n = add_node(cur, "If", {"cond"}, {y}, "if" + std::to_string(k));
    if (k == 0) add_output(cur, y, onnx::TensorProto::FLOAT, {1});
    else add_untyped_output(cur, y);
    auto* ea = n->add_attribute();
    ea->set_name("else_branch");
    ea->set_type(onnx::AttributeProto::GRAPH);
    auto* eg = ea->mutable_g();
    eg->set_name("else" + std::to_string(k));
    add_node(eg, "Identity", {"x"}, {"e" + std::to_string(k)}, "");
    add_untyped_output(eg, "e" + std::to_string(k));
    auto* ta = n->add_attribute();
    ta->set_name("then_branch");
    ta->set_type(onnx::AttributeProto::GRAPH);
    cur = ta->mutable_g();
    cur->set_name("then" + std::to_string(k));
  }
  add_node(cur, "Identity", {"x"}, {"z"}, "");
  add_untyped_output(cur, "z");
  return m;
}

TEST(Nesting, ThirtyTwoDeepLoadsAndRuns) {
  std::string bytes = serialize(nested_if_model(32));
  auto s = Session::load_from_bytes(bytes.data(), bytes.size());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  auto out = (*s)->run({{"cond", Tensor::scalar<bool>(true)}, {"x", Tensor::from_vector<float>({1}, {5.0f})}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(out->at("y0").data<float>()[0], 5.0f);
}

TEST(Nesting, ThirtyThreeDeepIsRefusedAsNesting) {
  TempDir dir;
  onnx::ModelProto m = nested_if_model(33);
  std::string bytes = serialize(m);
  EXPECT_TRUE(IsError(onnx_import::load_model_from_bytes(bytes.data(), bytes.size()).status(),
                      StatusCode::invalid_model, {"nested more than 32 deep"}));
  EXPECT_TRUE(IsError(onnx_import::load_model(write_model(dir, m)).status(), StatusCode::invalid_model,
                      {"nested more than 32 deep"}));
  EXPECT_TRUE(IsError(Session::load_from_bytes(bytes.data(), bytes.size()).status(), StatusCode::invalid_model,
                      {"nested more than 32 deep"}));
}

// Protobuf wire format, written by hand so that a 10,000-deep model never exists as a C++
// message (building or destroying one would itself recurse 30,000 frames deep).
void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) v >>= 7, ++n;
  return n;
}
void put_tag(std::string& out, int field, int wire_type) { put_varint(out, static_cast<uint64_t>(field << 3 | wire_type)); }
void put_bytes_field(std::string& out, int field, const std::string& bytes) {
  put_tag(out, field, 2);
  put_varint(out, bytes.size());
  out += bytes;
}
void put_varint_field(std::string& out, int field, uint64_t v) {
  put_tag(out, field, 0);
  put_varint(out, v);
}

// The bytes of nested_if_model(depth) up to naming (every level uses the same value names).
std::string nested_if_bytes(int depth) {
  // Field numbers from onnx.proto.
  constexpr int kModelIrVersion = 1, kModelGraph = 7, kModelOpset = 8;
  constexpr int kGraphNode = 1, kGraphName = 2, kGraphInput = 11, kGraphOutput = 12;
  constexpr int kNodeInput = 1, kNodeOutput = 2, kNodeOpType = 4, kNodeAttribute = 5;
  constexpr int kAttrName = 1, kAttrGraph = 6, kAttrType = 20, kAttrTypeGraph = 5;
  constexpr int kOpsetVersion = 2, kValueInfoName = 1;

  auto value_info = [&](const std::string& name) {
    std::string vi;
    put_bytes_field(vi, kValueInfoName, name);
    return vi;
  };
  auto identity_graph = [&](const std::string& out_name) {
    std::string node, g;
    put_bytes_field(node, kNodeInput, "x");
    put_bytes_field(node, kNodeOutput, out_name);
    put_bytes_field(node, kNodeOpType, "Identity");
    put_bytes_field(g, kGraphNode, node);
    put_bytes_field(g, kGraphName, "leaf");
    put_bytes_field(g, kGraphOutput, value_info(out_name));
    return g;
  };
  // Node prefix: everything of an If node before its then_branch attribute.
  std::string node_pre;
  put_bytes_field(node_pre, kNodeInput, "cond");
  put_bytes_field(node_pre, kNodeOutput, "y");
  put_bytes_field(node_pre, kNodeOpType, "If");
  {
    std::string else_attr;
    put_bytes_field(else_attr, kAttrName, "else_branch");
    put_varint_field(else_attr, kAttrType, kAttrTypeGraph);
    put_bytes_field(else_attr, kAttrGraph, identity_graph("e"));
    put_bytes_field(node_pre, kNodeAttribute, else_attr);
  }
  std::string attr_pre;  // then_branch attribute up to the graph's bytes
  put_bytes_field(attr_pre, kAttrName, "then_branch");
  put_varint_field(attr_pre, kAttrType, kAttrTypeGraph);
  put_tag(attr_pre, kAttrGraph, 2);
  std::string graph_suffix;  // after the node: the output
  put_bytes_field(graph_suffix, kGraphOutput, value_info("y"));
  std::string main_suffix = graph_suffix;
  put_bytes_field(main_suffix, kGraphInput, value_info("cond"));
  put_bytes_field(main_suffix, kGraphInput, value_info("x"));

  const std::string leaf = identity_graph("y");
  // Sizes from the inside out: graph_len[k] is the size of the graph at nesting level k.
  std::vector<uint64_t> graph_len(depth + 1), attr_len(depth), node_len(depth);
  graph_len[depth] = leaf.size();
  for (int k = depth - 1; k >= 0; --k) {
    attr_len[k] = attr_pre.size() + varint_size(graph_len[k + 1]) + graph_len[k + 1];
    node_len[k] = node_pre.size() + 1 + varint_size(attr_len[k]) + attr_len[k];
    graph_len[k] = 1 + varint_size(node_len[k]) + node_len[k] + (k == 0 ? main_suffix : graph_suffix).size();
  }
  std::string out;
  put_varint_field(out, kModelIrVersion, 8);
  {
    std::string opset;
    put_varint_field(opset, kOpsetVersion, 17);
    put_bytes_field(out, kModelOpset, opset);
  }
  put_tag(out, kModelGraph, 2);
  put_varint(out, graph_len[0]);
  for (int k = 0; k < depth; ++k) {
    put_tag(out, kGraphNode, 2);
    put_varint(out, node_len[k]);
    out += node_pre;
    put_tag(out, kNodeAttribute, 2);
    put_varint(out, attr_len[k]);
    out += attr_pre;
    put_varint(out, graph_len[k + 1]);
  }
  out += leaf;
  for (int k = depth - 1; k >= 0; --k) out += k == 0 ? main_suffix : graph_suffix;
  return out;
}

TEST(Nesting, HandWrittenEncoderMatchesProtobuf) {
  // The encoder is right if protobuf parses a shallow model and finds the expected nesting.
  std::string bytes = nested_if_bytes(3);
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(bytes));
  const onnx::GraphProto* g = &m.graph();
  int depth = 0;
  while (g->node_size() == 1 && g->node(0).op_type() == "If") {
    ASSERT_EQ(g->node(0).attribute_size(), 2);
    g = &g->node(0).attribute(1).g();
    ++depth;
  }
  EXPECT_EQ(depth, 3);
  EXPECT_EQ(g->node(0).op_type(), "Identity");
  EXPECT_EQ(m.graph().input_size(), 2);
  // And the same bytes at 33 deep give our nesting error.
  std::string deep = nested_if_bytes(33);
  EXPECT_TRUE(IsError(onnx_import::load_model_from_bytes(deep.data(), deep.size()).status(),
                      StatusCode::invalid_model, {"nested more than 32 deep"}));
}

::testing::AssertionResult IsDepthError(const Status& st) {
  if (std::getenv("HWOPT_TEST_VERBOSE")) std::printf("  status: %s\n", st.to_string().c_str());
  if (st.code() != StatusCode::invalid_model) return ::testing::AssertionFailure() << st.to_string();
  if (st.message().find("nested") == std::string::npos && st.message().find("deep") == std::string::npos)
    return ::testing::AssertionFailure() << "message does not mention nesting: " << st.to_string();
  return ::testing::AssertionSuccess();
}

TEST(Nesting, TenThousandDeepFromBytesAndFile) {
  std::string bytes = nested_if_bytes(10000);
  EXPECT_TRUE(IsDepthError(onnx_import::load_model_from_bytes(bytes.data(), bytes.size()).status()));
  EXPECT_TRUE(IsDepthError(Session::load_from_bytes(bytes.data(), bytes.size()).status()));
  TempDir dir;
  write_file(dir / "deep.onnx", bytes);
  EXPECT_TRUE(IsDepthError(onnx_import::load_model(dir / "deep.onnx").status()));
  EXPECT_TRUE(IsDepthError(Session::load(dir / "deep.onnx").status()));
}

TEST(Nesting, DeepTypeProtoNestingIsRefused) {
  // sequence(sequence(...(tensor))) 10,000 deep in a graph input's type, written from the
  // outside in (wrapping the string level by level would be quadratic).
  constexpr int kLevels = 10000;
  std::string inner;  // innermost TypeProto: tensor_type { elem_type: 1 }
  {
    std::string tensor;
    put_varint_field(tensor, 1, 1);
    put_bytes_field(inner, 1, tensor);
  }
  // type_len[i]: size of the TypeProto i levels out from the innermost; seq_len likewise.
  std::vector<uint64_t> type_len(kLevels + 1), seq_len(kLevels + 1);
  type_len[0] = inner.size();
  for (int i = 1; i <= kLevels; ++i) {
    seq_len[i] = 1 + varint_size(type_len[i - 1]) + type_len[i - 1];  // Sequence.elem_type
    type_len[i] = 1 + varint_size(seq_len[i]) + seq_len[i];          // TypeProto.sequence_type
  }
  std::string type;
  for (int i = kLevels; i >= 1; --i) {
    put_tag(type, 4, 2);
    put_varint(type, seq_len[i]);
    put_tag(type, 1, 2);
    put_varint(type, type_len[i - 1]);
  }
  type += inner;
  ASSERT_EQ(type.size(), type_len[kLevels]);
  std::string vi, graph, opset, model;
  put_bytes_field(vi, 1, "X");
  put_bytes_field(vi, 2, type);
  put_bytes_field(graph, 11, vi);
  put_varint_field(model, 1, 8);
  put_varint_field(opset, 2, 17);
  put_bytes_field(model, 8, opset);
  put_bytes_field(model, 7, graph);
  EXPECT_TRUE(IsDepthError(onnx_import::load_model_from_bytes(model.data(), model.size()).status()));
}

}  // namespace
}  // namespace hwopt::test
