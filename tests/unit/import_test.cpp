// ONNX import of valid models: attributes of every type, subgraphs, symbolic dims through shape
// inference, initializer dtypes and per-node opsets.
#include <gtest/gtest.h>

#include <cstring>

#include "../malformed/model_builder.h"
#include "hwopt/session.h"
#include "onnx/import.h"

namespace hwopt::test {
namespace {

onnx_import::Model load_ok(const onnx::ModelProto& m, const onnx_import::ImportOptions& options = {}) {
  std::string bytes = serialize(m);
  auto r = onnx_import::load_model_from_bytes(bytes.data(), bytes.size(), "", options);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? std::move(r).value() : onnx_import::Model{};
}

onnx::AttributeProto* add_attr(onnx::NodeProto* n, const std::string& name, onnx::AttributeProto::AttributeType type) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(type);
  return a;
}

void identity_body(onnx::GraphProto* g, const std::string& name, const std::string& in, const std::string& out) {
  g->set_name(name);
  add_node(g, "Identity", {in}, {out}, name + "_id");
  add_untyped_output(g, out);
}

TEST(Import, AttributesOfEveryType) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {2});
  auto* n = add_node(g, "Identity", {"X"}, {"Y"}, "carrier");
  add_attr(n, "a_f", onnx::AttributeProto::FLOAT)->set_f(1.5f);
  add_attr(n, "a_i", onnx::AttributeProto::INT)->set_i(-7);
  add_attr(n, "a_s", onnx::AttributeProto::STRING)->set_s(std::string("bytes\0here", 10));
  {
    auto* t = add_attr(n, "a_t", onnx::AttributeProto::TENSOR)->mutable_t();
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(3);
    for (int64_t v : {4, 5, 6}) t->add_int64_data(v);
  }
  identity_body(add_attr(n, "a_g", onnx::AttributeProto::GRAPH)->mutable_g(), "body", "X", "inner");
  {
    auto* a = add_attr(n, "a_floats", onnx::AttributeProto::FLOATS);
    a->add_floats(0.25f);
    a->add_floats(-1.0f);
  }
  {
    auto* a = add_attr(n, "a_ints", onnx::AttributeProto::INTS);
    for (int64_t v : {int64_t{1}, INT64_MAX, INT64_MIN}) a->add_ints(v);
  }
  {
    auto* a = add_attr(n, "a_strings", onnx::AttributeProto::STRINGS);
    a->add_strings("x");
    a->add_strings("");
  }
  {
    auto* a = add_attr(n, "a_tensors", onnx::AttributeProto::TENSORS);
    for (float v : {1.0f, 2.0f}) {
      auto* t = a->add_tensors();
      t->set_data_type(onnx::TensorProto::FLOAT);
      t->add_float_data(v);  // a scalar
    }
  }
  {
    auto* a = add_attr(n, "a_graphs", onnx::AttributeProto::GRAPHS);
    identity_body(a->add_graphs(), "b0", "X", "i0");
    identity_body(a->add_graphs(), "b1", "X", "i1");
  }
  {
    auto* tp = add_attr(n, "a_tp", onnx::AttributeProto::TYPE_PROTO)->mutable_tp();
    tp->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::INT32);
  }
  // An old-style attribute without a type: inferred from the field that is set.
  n->add_attribute()->set_name("a_untyped");
  n->mutable_attribute(n->attribute_size() - 1)->set_i(42);
  add_output(g, "Y", onnx::TensorProto::FLOAT, {2});

  onnx_import::Model model = load_ok(m);
  ASSERT_TRUE(model.graph);
  const ir::Node& node = model.graph->nodes.at(0);
  EXPECT_EQ(node.name, "carrier");
  EXPECT_EQ(node.attributes.size(), 12u);

  ASSERT_TRUE(node.attr("a_f"));
  EXPECT_EQ(node.attr("a_f")->type, ir::AttrType::f);
  EXPECT_EQ(node.attr("a_f")->f, 1.5f);
  EXPECT_EQ(node.attr("a_i")->type, ir::AttrType::i);
  EXPECT_EQ(node.attr("a_i")->i, -7);
  EXPECT_EQ(node.attr("a_s")->type, ir::AttrType::s);
  EXPECT_EQ(node.attr("a_s")->s, std::string("bytes\0here", 10));

  const ir::Attribute* t = node.attr("a_t");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->type, ir::AttrType::t);
  EXPECT_EQ(t->t.dtype(), DType::int64);
  EXPECT_EQ(t->t.shape(), (Shape{3}));
  EXPECT_EQ(t->t.data<int64_t>()[2], 6);

  const ir::Attribute* ga = node.attr("a_g");
  ASSERT_TRUE(ga && ga->g);
  EXPECT_EQ(ga->type, ir::AttrType::g);
  EXPECT_EQ(ga->g->name, "body");
  ASSERT_EQ(ga->g->nodes.size(), 1u);
  EXPECT_EQ(ga->g->nodes[0].op_type, "Identity");
  EXPECT_EQ(ga->g->nodes[0].opset, 17);

  EXPECT_EQ(node.attr("a_floats")->type, ir::AttrType::floats);
  EXPECT_EQ(node.attr("a_floats")->floats, (std::vector<float>{0.25f, -1.0f}));
  EXPECT_EQ(node.attr("a_ints")->type, ir::AttrType::ints);
  EXPECT_EQ(node.attr("a_ints")->ints, (std::vector<int64_t>{1, INT64_MAX, INT64_MIN}));
  EXPECT_EQ(node.attr("a_strings")->type, ir::AttrType::strings);
  EXPECT_EQ(node.attr("a_strings")->strings, (std::vector<std::string>{"x", ""}));

  const ir::Attribute* ts = node.attr("a_tensors");
  EXPECT_EQ(ts->type, ir::AttrType::tensors);
  ASSERT_EQ(ts->tensors.size(), 2u);
  EXPECT_EQ(ts->tensors[1].rank(), 0);
  EXPECT_EQ(ts->tensors[1].data<float>()[0], 2.0f);

  const ir::Attribute* gs = node.attr("a_graphs");
  EXPECT_EQ(gs->type, ir::AttrType::graphs);
  ASSERT_EQ(gs->graphs.size(), 2u);
  EXPECT_EQ(gs->graphs[1]->name, "b1");
  EXPECT_EQ(gs->graphs[1]->outputs.at(0).name, "i1");

  const ir::Attribute* tp = node.attr("a_tp");
  EXPECT_EQ(tp->type, ir::AttrType::type_proto);
  EXPECT_EQ(tp->type_info.kind, ir::ValueKind::sequence);
  EXPECT_EQ(tp->type_info.dtype, DType::int32);

  EXPECT_EQ(node.attr("a_untyped")->type, ir::AttrType::i);
  EXPECT_EQ(node.attr("a_untyped")->i, 42);
  EXPECT_EQ(model.graph->total_nodes(), 4u);
}

onnx::ModelProto if_model() {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "cond", onnx::TensorProto::BOOL, {});
  add_input(g, "X", onnx::TensorProto::FLOAT, {2});
  add_float_initializer(g, "ten", {1}, {10.0f});
  auto* n = add_node(g, "If", {"cond"}, {"Y"}, "if0");
  {
    auto* then_g = add_attr(n, "then_branch", onnx::AttributeProto::GRAPH)->mutable_g();
    then_g->set_name("then");
    add_node(then_g, "Add", {"X", "ten"}, {"t_out"}, "then_add");  // reads two outer values
    add_output(then_g, "t_out", onnx::TensorProto::FLOAT, {2});
  }
  {
    auto* else_g = add_attr(n, "else_branch", onnx::AttributeProto::GRAPH)->mutable_g();
    else_g->set_name("else");
    add_node(else_g, "Neg", {"X"}, {"e_out"}, "else_neg");
    add_output(else_g, "e_out", onnx::TensorProto::FLOAT, {2});
  }
  add_output(g, "Y", onnx::TensorProto::FLOAT, {2});
  return m;
}

TEST(Import, SubgraphsKeepTheirStructureAndRun) {
  onnx_import::Model model = load_ok(if_model());
  ASSERT_TRUE(model.graph);
  const ir::Node& n = model.graph->nodes.at(0);
  const ir::Attribute* then_a = n.attr("then_branch");
  ASSERT_TRUE(then_a && then_a->g);
  EXPECT_EQ(then_a->g->name, "then");
  EXPECT_EQ(then_a->g->nodes.at(0).inputs, (std::vector<std::string>{"X", "ten"}));
  EXPECT_TRUE(then_a->g->initializers.empty());
  EXPECT_EQ(model.graph->total_nodes(), 3u);

  std::string bytes = serialize(if_model());
  auto s = Session::load_from_bytes(bytes.data(), bytes.size());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  Tensor x = Tensor::from_vector<float>({2}, {1, 2});
  auto yes = (*s)->run({{"cond", Tensor::scalar<bool>(true)}, {"X", x}});
  ASSERT_TRUE(yes.ok()) << yes.status().to_string();
  EXPECT_EQ(yes->at("Y").data<float>()[1], 12.0f);
  auto no = (*s)->run({{"cond", Tensor::scalar<bool>(false)}, {"X", x}});
  ASSERT_TRUE(no.ok()) << no.status().to_string();
  EXPECT_EQ(no->at("Y").data<float>()[1], -2.0f);
}

TEST(Import, SymbolicDimsSurviveShapeInference) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  auto* in = add_input(g, "X", onnx::TensorProto::FLOAT, {-1, 3});
  in->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_param("batch");
  add_node(g, "Relu", {"X"}, {"r"}, "relu0");
  add_attr_ints(add_node(g, "Transpose", {"r"}, {"Y"}, "t0"), "perm", {1, 0});
  g->add_output()->set_name("Y");  // no type: inference fills it

  onnx_import::Model model = load_ok(m);
  ASSERT_TRUE(model.graph);
  const ir::ValueInfo& x = model.graph->inputs.at(0);
  ASSERT_TRUE(x.has_shape);
  EXPECT_EQ(x.shape[0].param, "batch");
  EXPECT_FALSE(x.shape[0].known());
  EXPECT_EQ(x.type_str(), "float32[batch,3]");

  const ir::ValueInfo* r = model.graph->find_value("r");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type_str(), "float32[batch,3]");
  const ir::ValueInfo& y = model.graph->outputs.at(0);
  EXPECT_EQ(y.type_str(), "float32[3,batch]");
  EXPECT_FALSE(y.static_shape().has_value());

  // Without inference the intermediate stays unknown.
  onnx_import::ImportOptions no_infer;
  no_infer.infer_shapes = false;
  onnx_import::Model bare = load_ok(m, no_infer);
  ASSERT_TRUE(bare.graph);
  EXPECT_EQ(bare.graph->find_value("r"), nullptr);
}

TEST(Import, SymbolicDimsInsideSubgraphsAreInferred) {
  onnx::ModelProto m = if_model();
  auto* x = m.mutable_graph()->mutable_input(1)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0);
  x->clear_dim_value();
  x->set_dim_param("n");
  onnx_import::Model model = load_ok(m);
  ASSERT_TRUE(model.graph);
  EXPECT_EQ(model.graph->inputs.at(1).type_str(), "float32[n]");
}

// ---- initializer dtypes ----

Tensor tensor_ok(const onnx::TensorProto& p) {
  auto t = onnx_import::tensor_from_proto(p, "", p.name());
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  return t.ok() ? std::move(t).value() : Tensor();
}

onnx::TensorProto proto(const std::string& name, int32_t dtype, const std::vector<int64_t>& dims) {
  onnx::TensorProto p;
  p.set_name(name);
  p.set_data_type(dtype);
  for (int64_t d : dims) p.add_dims(d);
  return p;
}

TEST(ImportTensor, TypedFieldsOfEveryDtype) {
  {
    auto p = proto("f32", onnx::TensorProto::FLOAT, {2});
    p.add_float_data(1.5f);
    p.add_float_data(-0.0f);
    Tensor t = tensor_ok(p);
    EXPECT_EQ(t.dtype(), DType::float32);
    EXPECT_EQ(t.data<float>()[0], 1.5f);
  }
  {
    auto p = proto("f64", onnx::TensorProto::DOUBLE, {1});
    p.add_double_data(1e300);
    EXPECT_EQ(tensor_ok(p).data<double>()[0], 1e300);
  }
  {
    auto p = proto("i64", onnx::TensorProto::INT64, {2});
    p.add_int64_data(INT64_MIN);
    p.add_int64_data(INT64_MAX);
    Tensor t = tensor_ok(p);
    EXPECT_EQ(t.data<int64_t>()[0], INT64_MIN);
    EXPECT_EQ(t.data<int64_t>()[1], INT64_MAX);
  }
  {
    auto p = proto("i32", onnx::TensorProto::INT32, {1});
    p.add_int32_data(-123456);
    EXPECT_EQ(tensor_ok(p).data<int32_t>()[0], -123456);
  }
  {
    auto p = proto("i16", onnx::TensorProto::INT16, {1});
    p.add_int32_data(-30000);
    EXPECT_EQ(tensor_ok(p).data<int16_t>()[0], -30000);
  }
  {
    auto p = proto("i8", onnx::TensorProto::INT8, {2});
    p.add_int32_data(-128);
    p.add_int32_data(127);
    Tensor t = tensor_ok(p);
    EXPECT_EQ(t.data<int8_t>()[0], -128);
    EXPECT_EQ(t.data<int8_t>()[1], 127);
  }
  {
    auto p = proto("u8", onnx::TensorProto::UINT8, {1});
    p.add_int32_data(255);
    EXPECT_EQ(tensor_ok(p).data<uint8_t>()[0], 255);
  }
  {
    auto p = proto("u16", onnx::TensorProto::UINT16, {1});
    p.add_int32_data(65535);
    EXPECT_EQ(tensor_ok(p).data<uint16_t>()[0], 65535);
  }
  {
    auto p = proto("u32", onnx::TensorProto::UINT32, {1});
    p.add_uint64_data(4000000000u);
    EXPECT_EQ(tensor_ok(p).data<uint32_t>()[0], 4000000000u);
  }
  {
    auto p = proto("u64", onnx::TensorProto::UINT64, {1});
    p.add_uint64_data(UINT64_MAX);
    EXPECT_EQ(tensor_ok(p).data<uint64_t>()[0], UINT64_MAX);
  }
  {
    auto p = proto("b", onnx::TensorProto::BOOL, {3});
    for (int v : {0, 1, 5}) p.add_int32_data(v);
    Tensor t = tensor_ok(p);
    EXPECT_EQ(t.dtype(), DType::boolean);
    EXPECT_FALSE(t.data<bool>()[0]);
    EXPECT_TRUE(t.data<bool>()[1]);
    EXPECT_TRUE(t.data<bool>()[2]);
  }
  {
    // float16 as bit patterns in int32_data: 1.0, -2.0, 65504, smallest subnormal.
    auto p = proto("h", onnx::TensorProto::FLOAT16, {4});
    for (int v : {0x3C00, 0xC000, 0x7BFF, 0x0001}) p.add_int32_data(v);
    Tensor t = tensor_ok(p);
    EXPECT_EQ(t.dtype(), DType::float16);
    EXPECT_EQ(static_cast<float>(t.data<Half>()[0]), 1.0f);
    EXPECT_EQ(static_cast<float>(t.data<Half>()[1]), -2.0f);
    EXPECT_EQ(static_cast<float>(t.data<Half>()[2]), 65504.0f);
    EXPECT_EQ(static_cast<float>(t.data<Half>()[3]), 5.9604645e-08f);
  }
  {
    auto p = proto("bf", onnx::TensorProto::BFLOAT16, {2});
    for (int v : {0x3F80, 0xC040}) p.add_int32_data(v);  // 1.0, -3.0
    Tensor t = tensor_ok(p);
    EXPECT_EQ(t.dtype(), DType::bfloat16);
    EXPECT_EQ(static_cast<float>(t.data<BFloat16>()[0]), 1.0f);
    EXPECT_EQ(static_cast<float>(t.data<BFloat16>()[1]), -3.0f);
  }
  {
    auto p = proto("s", onnx::TensorProto::STRING, {3});
    p.add_string_data("hello");
    p.add_string_data("");
    p.add_string_data(std::string("a\0b", 3));
    Tensor t = tensor_ok(p);
    EXPECT_EQ(t.dtype(), DType::string);
    EXPECT_EQ(t.data<std::string>()[0], "hello");
    EXPECT_EQ(t.data<std::string>()[1], "");
    EXPECT_EQ(t.data<std::string>()[2], std::string("a\0b", 3));
  }
}

TEST(ImportTensor, RawDataOfSeveralDtypes) {
  {
    auto p = proto("f16raw", onnx::TensorProto::FLOAT16, {2});
    p.set_raw_data(raw_bytes(std::vector<uint16_t>{0x3C00, 0x4000}));
    Tensor t = tensor_ok(p);
    EXPECT_EQ(static_cast<float>(t.data<Half>()[1]), 2.0f);
  }
  {
    auto p = proto("i64raw", onnx::TensorProto::INT64, {2, 1});
    p.set_raw_data(raw_bytes(std::vector<int64_t>{-1, 1LL << 40}));
    Tensor t = tensor_ok(p);
    EXPECT_EQ(t.shape(), (Shape{2, 1}));
    EXPECT_EQ(t.data<int64_t>()[1], 1LL << 40);
  }
  {
    // Bools are normalised to 0/1 whatever the byte says.
    auto p = proto("braw", onnx::TensorProto::BOOL, {3});
    p.set_raw_data(std::string("\x00\x02\xff", 3));
    Tensor t = tensor_ok(p);
    const auto* bytes = static_cast<const uint8_t*>(t.raw_data());
    EXPECT_EQ(bytes[0], 0);
    EXPECT_EQ(bytes[1], 1);
    EXPECT_EQ(bytes[2], 1);
  }
}

TEST(ImportTensor, ScalarsAndEmptyTensors) {
  auto scalar = proto("sc", onnx::TensorProto::FLOAT, {});
  scalar.add_float_data(3.0f);
  Tensor s = tensor_ok(scalar);
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.data<float>()[0], 3.0f);

  auto empty = proto("em", onnx::TensorProto::FLOAT, {0, 4});
  Tensor e = tensor_ok(empty);  // no data needed for zero elements
  EXPECT_EQ(e.shape(), (Shape{0, 4}));
  EXPECT_EQ(e.numel(), 0);
}

TEST(Import, InitializersOfSeveralDtypesInAModel) {
  onnx::ModelProto m = make_model();
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT16, {2});
  {
    auto* h = g->add_initializer();
    *h = proto("H", onnx::TensorProto::FLOAT16, {2});
    h->add_int32_data(0x3C00);
    h->add_int32_data(0x4200);  // 3.0
  }
  {
    auto* s = g->add_initializer();
    *s = proto("names", onnx::TensorProto::STRING, {2});
    s->add_string_data("cat");
    s->add_string_data("dog");
  }
  add_node(g, "Add", {"X", "H"}, {"Y"}, "add_h");
  add_output(g, "Y", onnx::TensorProto::FLOAT16, {2});
  onnx_import::Model model = load_ok(m);
  ASSERT_TRUE(model.graph);
  EXPECT_EQ(model.graph->initializers.at("names").data<std::string>()[1], "dog");
  EXPECT_EQ(static_cast<float>(model.graph->initializers.at("H").data<Half>()[1]), 3.0f);
  EXPECT_EQ(model.graph->inputs.at(0).dtype, DType::float16);

  std::string bytes = serialize(m);
  auto sess = Session::load_from_bytes(bytes.data(), bytes.size());
  ASSERT_TRUE(sess.ok()) << sess.status().to_string();
  Tensor x(DType::float16, {2});
  x.data<Half>()[0] = Half(0.5f);
  x.data<Half>()[1] = Half(1.0f);
  auto out = (*sess)->run({{"X", x}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(static_cast<float>(out->at("Y").data<Half>()[0]), 1.5f);
  EXPECT_EQ(static_cast<float>(out->at("Y").data<Half>()[1]), 4.0f);
}

// ---- opsets ----

TEST(Import, OpsetPerNode) {
  onnx::ModelProto m = make_model(13);
  auto* ml = m.add_opset_import();
  ml->set_domain("ai.onnx.ml");
  ml->set_version(3);
  auto* g = m.mutable_graph();
  add_input(g, "X", onnx::TensorProto::FLOAT, {2});
  add_node(g, "Relu", {"X"}, {"r"}, "relu0");
  auto* spelled = add_node(g, "Neg", {"r"}, {"n"}, "neg0");
  spelled->set_domain("ai.onnx");  // the long name of the default domain
  auto* bin = add_node(g, "Binarizer", {"n"}, {"Y"}, "bin0");
  bin->set_domain("ai.onnx.ml");
  add_output(g, "Y", onnx::TensorProto::FLOAT, {2});

  onnx_import::Model model = load_ok(m);
  ASSERT_TRUE(model.graph);
  EXPECT_EQ(model.opsets.at(""), 13);
  EXPECT_EQ(model.opsets.at("ai.onnx.ml"), 3);
  EXPECT_EQ(model.graph->opsets, model.opsets);
  const auto& nodes = model.graph->nodes;
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].domain, "");
  EXPECT_EQ(nodes[0].opset, 13);
  EXPECT_EQ(nodes[1].domain, "");
  EXPECT_EQ(nodes[1].opset, 13);
  EXPECT_EQ(nodes[2].domain, "ai.onnx.ml");
  EXPECT_EQ(nodes[2].opset, 3);
  EXPECT_EQ(nodes[2].label(), "node 'bin0' (ai.onnx.ml.Binarizer)");
}

TEST(Import, OpsetOfNodesInsideSubgraphs) {
  onnx::ModelProto m = if_model();
  m.mutable_opset_import(0)->set_version(11);
  onnx_import::Model model = load_ok(m);
  ASSERT_TRUE(model.graph);
  EXPECT_EQ(model.graph->nodes[0].opset, 11);
  EXPECT_EQ(model.graph->nodes[0].attr("else_branch")->g->nodes[0].opset, 11);
}

TEST(Import, ModelMetadataAndBaseDirectory) {
  TempDir dir;
  onnx::ModelProto m = make_add_model();
  m.set_producer_name("unit-test");
  m.set_ir_version(7);
  auto r = onnx_import::load_model(write_model(dir, m));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->ir_version, 7);
  EXPECT_EQ(r->producer, "unit-test");
  EXPECT_EQ(r->base_dir, dir.path());
  EXPECT_EQ(r->graph->outputs.at(0).type_str(), "float32[2,3]");
}

TEST(Import, OpIsKnown) {
  EXPECT_TRUE(onnx_import::op_is_known("Conv", "", 11));
  EXPECT_TRUE(onnx_import::op_is_known("Conv", "ai.onnx", 11));
  EXPECT_FALSE(onnx_import::op_is_known("NoSuchOp", "", 17));
  EXPECT_FALSE(onnx_import::op_is_known("Conv", "com.nowhere", 1));
}

}  // namespace
}  // namespace hwopt::test
