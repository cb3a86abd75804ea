#include "onnx/export.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <cstdio>
#include <fstream>

#include "core/atomic_file.h"

namespace hwopt::onnx_import {

namespace {

void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto& p) {
  p.set_name(name);
  p.set_data_type(static_cast<int32_t>(t.dtype()));
  for (int64_t d : t.shape()) p.add_dims(d);
  Tensor c = t.contiguous();
  if (t.dtype() == DType::string) {
    for (int64_t i = 0; i < c.numel(); ++i) p.add_string_data(c.data<std::string>()[i]);
  } else {
    p.set_raw_data(std::string(static_cast<const char*>(c.raw_data()), c.nbytes()));
  }
}

void type_to_proto(const ir::ValueInfo& vi, onnx::TypeProto& tp) {
  onnx::TypeProto* tensor_holder = &tp;
  switch (vi.kind) {
    case ir::ValueKind::sequence: tensor_holder = tp.mutable_sequence_type()->mutable_elem_type(); break;
    case ir::ValueKind::optional_tensor: tensor_holder = tp.mutable_optional_type()->mutable_elem_type(); break;
    case ir::ValueKind::optional_sequence:
      tensor_holder = tp.mutable_optional_type()->mutable_elem_type()->mutable_sequence_type()->mutable_elem_type();
      break;
    default: break;
  }
  auto* tt = tensor_holder->mutable_tensor_type();
  tt->set_elem_type(static_cast<int32_t>(vi.dtype));
  if (vi.has_shape) {
    auto* shape = tt->mutable_shape();
    for (const auto& d : vi.shape) {
      auto* dim = shape->add_dim();
      if (d.known()) dim->set_dim_value(d.value);
      else if (!d.param.empty()) dim->set_dim_param(d.param);
    }
  }
}

void value_info_to_proto(const ir::ValueInfo& vi, onnx::ValueInfoProto& p) {
  p.set_name(vi.name);
  if (vi.kind != ir::ValueKind::unknown && vi.dtype != DType::undefined) type_to_proto(vi, *p.mutable_type());
}

void graph_to_proto(const ir::Graph& g, onnx::GraphProto& gp);

void attribute_to_proto(const ir::Attribute& a, onnx::AttributeProto& p) {
  p.set_name(a.name);
  switch (a.type) {
    case ir::AttrType::f: p.set_type(onnx::AttributeProto::FLOAT); p.set_f(a.f); break;
    case ir::AttrType::i: p.set_type(onnx::AttributeProto::INT); p.set_i(a.i); break;
    case ir::AttrType::s: p.set_type(onnx::AttributeProto::STRING); p.set_s(a.s); break;
    case ir::AttrType::t: p.set_type(onnx::AttributeProto::TENSOR); tensor_to_proto(a.t, "", *p.mutable_t()); break;
    case ir::AttrType::g: p.set_type(onnx::AttributeProto::GRAPH); graph_to_proto(*a.g, *p.mutable_g()); break;
    case ir::AttrType::floats:
      p.set_type(onnx::AttributeProto::FLOATS);
      for (float f : a.floats) p.add_floats(f);
      break;
    case ir::AttrType::ints:
      p.set_type(onnx::AttributeProto::INTS);
      for (int64_t i : a.ints) p.add_ints(i);
      break;
    case ir::AttrType::strings:
      p.set_type(onnx::AttributeProto::STRINGS);
      for (const auto& s : a.strings) p.add_strings(s);
      break;
    case ir::AttrType::tensors:
      p.set_type(onnx::AttributeProto::TENSORS);
      for (const auto& t : a.tensors) tensor_to_proto(t, "", *p.add_tensors());
      break;
    case ir::AttrType::graphs:
      p.set_type(onnx::AttributeProto::GRAPHS);
      for (const auto& sg : a.graphs) graph_to_proto(*sg, *p.add_graphs());
      break;
    case ir::AttrType::type_proto:
      p.set_type(onnx::AttributeProto::TYPE_PROTO);
      type_to_proto(a.type_info, *p.mutable_tp());
      break;
    case ir::AttrType::undefined: break;
  }
}

void graph_to_proto(const ir::Graph& g, onnx::GraphProto& gp) {
  gp.set_name(g.name);
  for (const auto& [name, t] : g.initializers) tensor_to_proto(t, name, *gp.add_initializer());
  for (const auto& v : g.inputs) value_info_to_proto(v, *gp.add_input());
  for (const auto& v : g.outputs) value_info_to_proto(v, *gp.add_output());
  for (const auto& [name, v] : g.value_info) {
    bool is_io = false;
    for (const auto& x : g.inputs) is_io |= x.name == name;
    for (const auto& x : g.outputs) is_io |= x.name == name;
    if (!is_io && v.dtype != DType::undefined) value_info_to_proto(v, *gp.add_value_info());
  }
  for (const auto& n : g.nodes) {
    auto* np = gp.add_node();
    np->set_name(n.name);
    np->set_op_type(n.op_type);
    np->set_domain(n.domain);
    for (const auto& i : n.inputs) np->add_input(i);
    for (const auto& o : n.outputs) np->add_output(o);
    for (const auto& a : n.attributes) attribute_to_proto(a, *np->add_attribute());
  }
}

}  // namespace

Expected<std::string> save_model_to_bytes(const Model& model) {
  onnx::ModelProto mp;
  mp.set_ir_version(model.ir_version > 0 ? model.ir_version : 8);
  mp.set_producer_name("hwopt");
  mp.set_producer_version("0.1.0");
  for (const auto& [domain, version] : model.opsets) {
    auto* op = mp.add_opset_import();
    op->set_domain(domain);
    op->set_version(version);
  }
  graph_to_proto(*model.graph, *mp.mutable_graph());
  size_t size = mp.ByteSizeLong();
  if (size > (size_t{2} << 30) - 1)
    return Status(StatusCode::unsupported, fmt::format("the model would be {} bytes, over protobuf's 2 GiB limit", size));
  std::string bytes;
  if (!mp.SerializeToString(&bytes)) return Status(StatusCode::internal, "serialising the model failed");
  return bytes;
}

Status save_model(const Model& model, const std::string& path) {
  auto bytes = save_model_to_bytes(model);
  if (!bytes.ok()) return bytes.status();
  return write_file_atomic(path, *bytes);
}

}  // namespace hwopt::onnx_import
