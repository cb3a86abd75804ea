#include "onnx/import.h"

#include <fmt/format.h>
#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <filesystem>
#include <set>

#include "backends/reference/registry.h"
#include "onnx/external_data.h"
#include "onnx/inference_guard.h"

namespace hwopt::onnx_import {
namespace {

Status invalid(const std::string& msg) { return Status(StatusCode::invalid_model, msg); }

std::string domain_label(const std::string& d) { return d.empty() ? "ai.onnx" : d; }


// Typed fields: the number of values must equal the element count.
Status fill_from_typed(const onnx::TensorProto& p, Tensor& t, const std::string& what) {
  const int64_t n = t.numel();
  auto count_err = [&](int64_t have) {
    return invalid(fmt::format("tensor '{}' has {} values for dims {} ({} elements)", what, have,
                               shape_str(t.shape()), n));
  };
  switch (t.dtype()) {
    case DType::float32:
      if (p.float_data_size() != n) return count_err(p.float_data_size());
      for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = p.float_data(static_cast<int>(i));
      return Status::OK();
    case DType::float64:
      if (p.double_data_size() != n) return count_err(p.double_data_size());
      for (int64_t i = 0; i < n; ++i) t.data<double>()[i] = p.double_data(static_cast<int>(i));
      return Status::OK();
    case DType::int64:
      if (p.int64_data_size() != n) return count_err(p.int64_data_size());
      for (int64_t i = 0; i < n; ++i) t.data<int64_t>()[i] = p.int64_data(static_cast<int>(i));
      return Status::OK();
    case DType::uint32:
    case DType::uint64:
      if (p.uint64_data_size() != n) return count_err(p.uint64_data_size());
      for (int64_t i = 0; i < n; ++i) {
        uint64_t v = p.uint64_data(static_cast<int>(i));
        if (t.dtype() == DType::uint32) t.data<uint32_t>()[i] = static_cast<uint32_t>(v);
        else t.data<uint64_t>()[i] = v;
      }
      return Status::OK();
    case DType::string:
      if (p.string_data_size() != n) return count_err(p.string_data_size());
      for (int64_t i = 0; i < n; ++i) t.data<std::string>()[i] = p.string_data(static_cast<int>(i));
      return Status::OK();
    default: break;
  }
  // int32_data carries int32, int16, int8, uint16, uint8, bool, float16 and bfloat16 (as bits).
  if (p.int32_data_size() != n) return count_err(p.int32_data_size());
  for (int64_t i = 0; i < n; ++i) {
    int32_t v = p.int32_data(static_cast<int>(i));
    switch (t.dtype()) {
      case DType::int32: t.data<int32_t>()[i] = v; break;
      case DType::int16: t.data<int16_t>()[i] = static_cast<int16_t>(v); break;
      case DType::int8: t.data<int8_t>()[i] = static_cast<int8_t>(v); break;
      case DType::uint16: t.data<uint16_t>()[i] = static_cast<uint16_t>(v); break;
      case DType::uint8: t.data<uint8_t>()[i] = static_cast<uint8_t>(v); break;
      case DType::boolean: t.data<bool>()[i] = v != 0; break;
      case DType::float16: t.data<Half>()[i] = Half::from_bits(static_cast<uint16_t>(v)); break;
      case DType::bfloat16: t.data<BFloat16>()[i] = BFloat16::from_bits(static_cast<uint16_t>(v)); break;
      default: return Status(StatusCode::internal, "unhandled dtype in int32_data");
    }
  }
  return Status::OK();
}

int typed_field_count(const onnx::TensorProto& p) {
  return p.float_data_size() + p.int32_data_size() + p.string_data_size() + p.int64_data_size() +
         p.double_data_size() + p.uint64_data_size();
}

// Drops a weight's bytes from its proto once they are in a Tensor (a tensor of more than 64
// elements: shape inference reads the small ones, e.g. Reshape's shape).
void drop_weight_bytes(onnx::TensorProto& init) {
  if (init.dims_size() == 0 || shape_numel({init.dims().begin(), init.dims().end()}) <= 64) return;
  // Swapped with empty ones, not cleared: clear() keeps the memory.
  std::string().swap(*init.mutable_raw_data());
  init.clear_raw_data();
  google::protobuf::RepeatedField<float>().Swap(init.mutable_float_data());
  google::protobuf::RepeatedField<int64_t>().Swap(init.mutable_int64_data());
  google::protobuf::RepeatedField<int32_t>().Swap(init.mutable_int32_data());
  google::protobuf::RepeatedField<double>().Swap(init.mutable_double_data());
  google::protobuf::RepeatedField<uint64_t>().Swap(init.mutable_uint64_data());
  init.clear_external_data();
  init.set_data_location(onnx::TensorProto::DEFAULT);
}

}  // namespace

Expected<Tensor> tensor_from_proto(const onnx::TensorProto& p, const std::string& base_dir, const std::string& what) {
  if (p.data_type() == onnx::TensorProto::UNDEFINED)
    return invalid(fmt::format("tensor '{}' has no data type (data_type 0, UNDEFINED)", what));
  if (!dtype_is_known(p.data_type()))
    return Status(StatusCode::unsupported,
                  fmt::format("tensor '{}' has unknown or unsupported data type {}", what, p.data_type()));
  DType dtype = static_cast<DType>(p.data_type());
  Shape shape;
  for (int64_t d : p.dims()) {
    if (d < 0) return invalid(fmt::format("tensor '{}' has a negative dim {} in {}", what, d, shape_str({p.dims().begin(), p.dims().end()})));
    shape.push_back(d);
  }
  int64_t n = shape_numel(shape);
  if (n < 0) return invalid(fmt::format("tensor '{}': the element count of dims {} overflows int64", what, shape_str(shape)));
  if (p.has_segment()) return Status(StatusCode::unsupported, fmt::format("tensor '{}' uses segments, which are not supported", what));
  const uint64_t esize = dtype_size(dtype);
  if (dtype != DType::string && static_cast<uint64_t>(n) > (uint64_t{1} << 62) / esize)
    return invalid(fmt::format("tensor '{}' with dims {} is too large", what, shape_str(shape)));
  const uint64_t expected_bytes = static_cast<uint64_t>(n) * esize;
  const bool external = p.data_location() == onnx::TensorProto::EXTERNAL;
  const bool has_raw = p.has_raw_data();
  const int typed = typed_field_count(p);
  if (has_raw && typed > 0)
    return invalid(fmt::format("tensor '{}' has both raw_data and typed data fields", what));
  if (external && (has_raw || typed > 0))
    return invalid(fmt::format("tensor '{}' is marked EXTERNAL but also holds data inline", what));
  if (dtype == DType::string && (has_raw || external))
    return invalid(fmt::format("tensor '{}' of dtype string must use string_data", what));
  if (!has_raw && !external && typed == 0 && n > 0)
    return invalid(fmt::format("tensor '{}' has dims {} ({} elements) but no data", what, shape_str(shape), n));
  if (has_raw && p.raw_data().size() != expected_bytes)
    return invalid(fmt::format("tensor '{}' has {} bytes of raw_data but dims {} and dtype {} need {}", what,
                               p.raw_data().size(), shape_str(shape), dtype_name(dtype), expected_bytes));
  std::vector<char> ext_bytes;
  if (external) {
    auto bytes = read_external_data(p, base_dir, expected_bytes, what);
    if (!bytes.ok()) return bytes.status();
    ext_bytes = std::move(bytes).value();
  }
  auto t = Tensor::create(dtype, shape);
  if (!t.ok()) return Status(t.status().code(), fmt::format("tensor '{}': {}", what, t.status().message()));
  Tensor out = std::move(t).value();
  if (n == 0) return out;
  if (has_raw) {
    std::memcpy(out.raw_data(), p.raw_data().data(), expected_bytes);
    if (dtype == DType::boolean)  // normalise to 0/1 so bool loads never hold other bit patterns
      for (int64_t i = 0; i < n; ++i) reinterpret_cast<uint8_t*>(out.raw_data())[i] = reinterpret_cast<uint8_t*>(out.raw_data())[i] != 0;
  } else if (external) {
    std::memcpy(out.raw_data(), ext_bytes.data(), expected_bytes);
  } else {
    HWOPT_RETURN_IF_ERROR(fill_from_typed(p, out, what));
  }
  return out;
}

bool op_is_known(const std::string& op_type, const std::string& domain, int opset) {
  std::string dom = domain == "ai.onnx" ? "" : domain;
  if (reference::KernelRegistry::instance().find(op_type, dom, opset)) return true;
  const auto* schema = onnx::OpSchemaRegistry::Schema(op_type, opset, dom);
  return schema != nullptr && !schema->Deprecated();
}

namespace {

struct Converter {
  std::string base_dir;
  std::map<std::string, int> opsets;
  const ImportOptions& options;
  std::vector<std::string> unknown_ops;

  Status convert_type(const onnx::TypeProto& tp, ir::ValueInfo& vi, const std::string& what) {
    const onnx::TypeProto* t = &tp;
    if (t->has_optional_type()) {
      const auto& elem = t->optional_type().elem_type();
      if (elem.has_sequence_type()) {
        vi.kind = ir::ValueKind::optional_sequence;
        t = &elem.sequence_type().elem_type();
      } else {
        vi.kind = ir::ValueKind::optional_tensor;
        t = &elem;
      }
    } else if (t->has_sequence_type()) {
      vi.kind = ir::ValueKind::sequence;
      t = &t->sequence_type().elem_type();
    }
    if (t->has_tensor_type()) {
      const auto& tt = t->tensor_type();
      if (tt.elem_type() != 0) {
        if (!dtype_is_known(tt.elem_type()))
          return Status(StatusCode::unsupported, fmt::format("value '{}' has unknown or unsupported data type {}", what, tt.elem_type()));
        vi.dtype = static_cast<DType>(tt.elem_type());
      }
      if (tt.has_shape()) {
        vi.has_shape = true;
        for (const auto& d : tt.shape().dim()) {
          ir::Dim dim;
          if (d.has_dim_value()) {
            if (d.dim_value() < 0)
              return invalid(fmt::format("value '{}' has a negative dim {}", what, d.dim_value()));
            dim.value = d.dim_value();
          } else if (d.has_dim_param()) {
            dim.param = d.dim_param();
          }
          vi.shape.push_back(dim);
        }
        if (auto s = vi.static_shape(); s && shape_numel(*s) < 0)
          return invalid(fmt::format("value '{}': the element count of its shape overflows int64", what));
      }
    } else if (t->has_sparse_tensor_type()) {
      return Status(StatusCode::unsupported, fmt::format("value '{}' is a sparse tensor, which is not supported", what));
    } else if (t->has_map_type()) {
      return Status(StatusCode::unsupported, fmt::format("value '{}' is a map, which is not supported", what));
    } else if (vi.kind == ir::ValueKind::tensor) {
      vi.kind = ir::ValueKind::unknown;
    }
    return Status::OK();
  }

  Status convert_value_info(const onnx::ValueInfoProto& p, ir::ValueInfo& vi) {
    vi.name = p.name();
    if (!p.has_type()) return Status::OK();
    return convert_type(p.type(), vi, p.name());
  }

  Status convert_attribute(const onnx::AttributeProto& p, ir::Attribute& a, const std::string& node_label, int depth) {
    a.name = p.name();
    std::string what = fmt::format("attribute '{}' of {}", p.name(), node_label);
    if (!p.ref_attr_name().empty())
      return Status(StatusCode::unsupported, fmt::format("{} refers to a function attribute outside a function", what));
    auto type = p.type();
    if (type == onnx::AttributeProto::UNDEFINED) {  // old models: infer from the field that is set
      if (p.has_f()) type = onnx::AttributeProto::FLOAT;
      else if (p.has_i()) type = onnx::AttributeProto::INT;
      else if (p.has_s()) type = onnx::AttributeProto::STRING;
      else if (p.has_t()) type = onnx::AttributeProto::TENSOR;
      else if (p.has_g()) type = onnx::AttributeProto::GRAPH;
      else if (p.floats_size()) type = onnx::AttributeProto::FLOATS;
      else if (p.ints_size()) type = onnx::AttributeProto::INTS;
      else if (p.strings_size()) type = onnx::AttributeProto::STRINGS;
      else if (p.tensors_size()) type = onnx::AttributeProto::TENSORS;
      else if (p.graphs_size()) type = onnx::AttributeProto::GRAPHS;
    }
    switch (type) {
      case onnx::AttributeProto::FLOAT: a.type = ir::AttrType::f; a.f = p.f(); break;
      case onnx::AttributeProto::INT: a.type = ir::AttrType::i; a.i = p.i(); break;
      case onnx::AttributeProto::STRING: a.type = ir::AttrType::s; a.s = p.s(); break;
      case onnx::AttributeProto::TENSOR: {
        a.type = ir::AttrType::t;
        auto t = tensor_from_proto(p.t(), base_dir, what);
        if (!t.ok()) return t.status();
        a.t = std::move(t).value();
        break;
      }
      case onnx::AttributeProto::GRAPH: {
        a.type = ir::AttrType::g;
        a.g = std::make_shared<ir::Graph>();
        HWOPT_RETURN_IF_ERROR(convert_graph(p.g(), *a.g, depth + 1, what));
        break;
      }
      case onnx::AttributeProto::FLOATS: a.type = ir::AttrType::floats; a.floats.assign(p.floats().begin(), p.floats().end()); break;
      case onnx::AttributeProto::INTS: a.type = ir::AttrType::ints; a.ints.assign(p.ints().begin(), p.ints().end()); break;
      case onnx::AttributeProto::STRINGS: a.type = ir::AttrType::strings; a.strings.assign(p.strings().begin(), p.strings().end()); break;
      case onnx::AttributeProto::TENSORS:
        a.type = ir::AttrType::tensors;
        for (const auto& tp : p.tensors()) {
          auto t = tensor_from_proto(tp, base_dir, what);
          if (!t.ok()) return t.status();
          a.tensors.push_back(std::move(t).value());
        }
        break;
      case onnx::AttributeProto::GRAPHS:
        a.type = ir::AttrType::graphs;
        for (const auto& gp : p.graphs()) {
          auto g = std::make_shared<ir::Graph>();
          HWOPT_RETURN_IF_ERROR(convert_graph(gp, *g, depth + 1, what));
          a.graphs.push_back(std::move(g));
        }
        break;
      case onnx::AttributeProto::TYPE_PROTO:
        a.type = ir::AttrType::type_proto;
        HWOPT_RETURN_IF_ERROR(convert_type(p.tp(), a.type_info, what));
        break;
      case onnx::AttributeProto::SPARSE_TENSOR:
        if (p.has_sparse_tensor()) {
          return Status(StatusCode::unsupported, fmt::format("{} is a sparse tensor, which is not supported", what));
        }
        [[fallthrough]];
      default:
        return Status(StatusCode::unsupported, fmt::format("{} has unsupported type {}", what, static_cast<int>(type)));
    }
    return Status::OK();
  }

  /// `owned`: gp itself, given where the caller lets each weight's bytes go once converted (the
  /// main graph: a large model's weights are then held about once while loading, not twice).
  Status convert_graph(const onnx::GraphProto& gp, ir::Graph& g, int depth, const std::string& context,
                       onnx::GraphProto* owned = nullptr) {
    if (depth > options.max_subgraph_depth)
      return invalid(fmt::format("subgraphs are nested more than {} deep (at {})", options.max_subgraph_depth, context));
    g.name = gp.name();
    for (int i = 0; i < gp.initializer_size(); ++i) {
      const onnx::TensorProto& init = gp.initializer(i);
      if (init.name().empty()) return invalid("an initializer has no name");
      if (g.initializers.count(init.name())) return invalid(fmt::format("initializer '{}' is defined twice", init.name()));
      auto t = tensor_from_proto(init, base_dir, init.name());
      if (!t.ok()) return t.status();
      g.initializers.emplace(init.name(), std::move(t).value());
      if (owned) drop_weight_bytes(*owned->mutable_initializer(i));
    }
    if (gp.sparse_initializer_size() > 0)
      return Status(StatusCode::unsupported, fmt::format("graph '{}' has sparse initializers, which are not supported", gp.name()));
    for (const auto& vi : gp.input()) {
      ir::ValueInfo v;
      // The main graph's inputs are what callers feed: their element type must be given.
      if (depth == 0 && vi.type().has_tensor_type() && vi.type().tensor_type().elem_type() == 0)
        return invalid(fmt::format("graph input '{}' has no element type (elem_type 0, UNDEFINED)", vi.name()));
      HWOPT_RETURN_IF_ERROR(convert_value_info(vi, v));
      g.inputs.push_back(std::move(v));
    }
    for (const auto& vi : gp.output()) {
      ir::ValueInfo v;
      HWOPT_RETURN_IF_ERROR(convert_value_info(vi, v));
      g.outputs.push_back(std::move(v));
    }
    for (const auto& vi : gp.value_info()) {
      ir::ValueInfo v;
      HWOPT_RETURN_IF_ERROR(convert_value_info(vi, v));
      g.value_info[v.name] = std::move(v);
    }
    for (const auto& np : gp.node()) {
      ir::Node n;
      n.name = np.name();
      n.op_type = np.op_type();
      n.domain = np.domain() == "ai.onnx" ? "" : np.domain();
      n.inputs.assign(np.input().begin(), np.input().end());
      n.outputs.assign(np.output().begin(), np.output().end());
      auto it = opsets.find(n.domain);
      if (it == opsets.end())
        return Status(StatusCode::unsupported,
                      fmt::format("{} uses domain '{}', which the model does not import", n.label(), domain_label(n.domain)));
      n.opset = it->second;
      if (n.op_type.empty())
        return invalid(fmt::format("node '{}' (first output '{}') has no op_type", n.name,
                                   n.outputs.empty() ? "" : n.outputs[0]));
      if (!op_is_known(n.op_type, n.domain, n.opset))
        return Status(StatusCode::unsupported,
                      fmt::format("{}: unknown op '{}' in domain '{}' at opset {}", n.label(), n.op_type,
                                  domain_label(n.domain), n.opset));
      std::set<std::string> seen;
      for (const auto& ap : np.attribute()) {
        if (!seen.insert(ap.name()).second)
          return invalid(fmt::format("{} has attribute '{}' twice", n.label(), ap.name()));
        ir::Attribute a;
        HWOPT_RETURN_IF_ERROR(convert_attribute(ap, a, n.label(), depth));
        n.attributes.push_back(std::move(a));
      }
      g.nodes.push_back(std::move(n));
    }
    return Status::OK();
  }
};

void merge_inferred(const onnx::GraphProto& gp, ir::Graph& g, Converter& conv) {
  for (const auto& vi : gp.value_info()) {
    if (g.value_info.count(vi.name())) continue;
    ir::ValueInfo v;
    if (conv.convert_value_info(vi, v).ok()) g.value_info[v.name] = std::move(v);
  }
  for (int i = 0; i < gp.output_size() && i < static_cast<int>(g.outputs.size()); ++i) {
    ir::ValueInfo v;
    if (!g.outputs[i].has_shape && conv.convert_value_info(gp.output(i), v).ok() && v.has_shape) g.outputs[i] = v;
  }
  // Subgraphs: walk in parallel (same node order).
  for (int ni = 0; ni < gp.node_size() && ni < static_cast<int>(g.nodes.size()); ++ni) {
    const auto& np = gp.node(ni);
    auto& n = g.nodes[ni];
    for (const auto& ap : np.attribute()) {
      ir::Attribute* a = nullptr;
      for (auto& x : n.attributes)
        if (x.name == ap.name()) a = &x;
      if (!a) continue;
      if (ap.has_g() && a->g) merge_inferred(ap.g(), *a->g, conv);
      for (int k = 0; k < ap.graphs_size() && k < static_cast<int>(a->graphs.size()); ++k)
        merge_inferred(ap.graphs(k), *a->graphs[k], conv);
    }
  }
}

Expected<Model> convert_model(onnx::ModelProto& mp, const std::string& base_dir, const ImportOptions& options) {
  Model model;
  model.ir_version = mp.ir_version();
  model.producer = mp.producer_name();
  model.base_dir = base_dir;
  if (!mp.has_graph()) return invalid("the model has no graph (empty or not an ONNX model)");
  for (const auto& op : mp.opset_import()) {
    std::string dom = op.domain() == "ai.onnx" ? "" : op.domain();
    if (model.opsets.count(dom)) return invalid(fmt::format("opset for domain '{}' is imported twice", domain_label(dom)));
    int64_t v = op.version();
    if (dom.empty()) {
      if (v < kMinOpset || v > kMaxOpset)
        return Status(StatusCode::unsupported, fmt::format("ai.onnx opset {} is not supported (supported: {} to {})", v, kMinOpset, kMaxOpset));
    } else if (dom != "ai.onnx.ml" && dom != "ai.onnx.preview.training" && dom != "com.microsoft") {
      // Unknown domains are accepted only if no node uses them; checked per node below.
    }
    if (v < 1 || v > 1000) return Status(StatusCode::unsupported, fmt::format("opset {} of domain '{}' is not supported", v, domain_label(dom)));
    model.opsets[dom] = static_cast<int>(v);
  }
  if (mp.opset_import_size() == 0) {
    if (mp.ir_version() >= 3) return invalid("the model imports no opset");
    model.opsets[""] = 1;
  }
  if (mp.functions_size() > 0)
    return Status(StatusCode::unsupported, "model-local functions are not supported yet");
  Converter conv{base_dir, model.opsets, options, {}};
  model.graph = std::make_shared<ir::Graph>();
  HWOPT_RETURN_IF_ERROR(conv.convert_graph(mp.graph(), *model.graph, 0, "main graph", mp.mutable_graph()));
  model.graph->opsets = model.opsets;
  if (model.graph->outputs.empty()) return invalid("the model's graph has no outputs");
  HWOPT_RETURN_IF_ERROR(ir::validate_graph(*model.graph, options.max_subgraph_depth));
  // Shape inference needs no weights, and model.graph holds them now: it runs on mp itself with
  // its subgraphs' weight bytes dropped too (not on a copy of mp, which held the model's bytes
  // once more while loading: BERT-base's 435 MB file peaked at 2.1 GB of RSS with the copy).
  std::function<void(onnx::GraphProto&)> strip = [&](onnx::GraphProto& g) {
    for (auto& init : *g.mutable_initializer()) drop_weight_bytes(init);
    for (auto& n : *g.mutable_node())
      for (auto& a : *n.mutable_attribute()) {
        if (a.has_g()) strip(*a.mutable_g());
        for (auto& sg : *a.mutable_graphs()) strip(sg);
      }
  };
  // Inference is skipped for a model whose nodes break their schemas or whose inputs are untyped
  // (the kernels still check everything at run time): libonnx's inference is not written for them.
  if (options.infer_shapes && safe_for_shape_inference(mp, model.opsets)) {
    strip(*mp.mutable_graph());
    try {
      guard_shape_inference();
      onnx::ShapeInferenceOptions opts(false, 0, true);
      onnx::shape_inference::InferShapes(mp, onnx::OpSchemaRegistry::Instance(), opts);
      merge_inferred(mp.graph(), *model.graph, conv);
    } catch (const std::exception&) {
      // Inference is advisory: types are checked again at run time by the kernels.
    }
  }
  return model;
}

// Parses a model from `in` (at most `size` bytes) and converts it.
Expected<Model> parse_and_convert(google::protobuf::io::ZeroCopyInputStream& in, uint64_t size,
                                  const std::string& base_dir, const ImportOptions& options) {
  if (size == 0) return invalid("the model file is empty");
  // Protobuf parses at most INT_MAX bytes at once, whatever the option says.
  const uint64_t limit = std::min<uint64_t>(options.max_file_bytes, INT_MAX);
  if (size > limit) return invalid(fmt::format("the model is {} bytes, over the {}-byte limit", size, limit));
  onnx::ModelProto mp;
  // Each level of subgraph nesting is three protobuf messages deep (graph, node, attribute):
  // allow max_subgraph_depth levels plus protobuf's default headroom, so that our own depth
  // check gives the error for moderately deep models and protobuf refuses absurd ones.
  const int recursion_limit = 3 * std::max(options.max_subgraph_depth, 0) + 100;
  google::protobuf::io::CodedInputStream stream(&in);
  stream.SetTotalBytesLimit(static_cast<int>(size));
  stream.SetRecursionLimit(recursion_limit);
  if (!mp.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
    return invalid(fmt::format("the file is not a valid ONNX model (protobuf parsing failed: truncated, not ONNX, "
                               "or messages nested more than {} deep)",
                               recursion_limit));
  return convert_model(mp, base_dir, options);
}

}  // namespace

Expected<Model> load_model_from_bytes(const void* data, size_t size, const std::string& base_dir,
                                      const ImportOptions& options) {
  google::protobuf::io::ArrayInputStream in(data, static_cast<int>(std::min<size_t>(size, INT_MAX)));
  return parse_and_convert(in, size, base_dir, options);
}

Expected<Model> load_model(const std::string& path, const ImportOptions& options) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Status(StatusCode::not_found, fmt::format("model file '{}' not found", path));
  if (!S_ISREG(st.st_mode)) return Status(StatusCode::invalid_argument, fmt::format("'{}' is not a regular file", path));
  const uint64_t limit = std::min<uint64_t>(options.max_file_bytes, INT_MAX);
  if (static_cast<uint64_t>(st.st_size) > limit)
    return invalid(fmt::format("model file '{}' is {} bytes, over the {}-byte limit of a single ONNX file; "
                               "store large weights as external data",
                               path, static_cast<uint64_t>(st.st_size), limit));
  // Parsed straight from the file in chunks: no buffer of the whole file beside the parsed model.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(StatusCode::io_error, fmt::format("cannot open model file '{}'", path));
  google::protobuf::io::FileInputStream in(fd, 1 << 20);
  in.SetCloseOnDelete(true);
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) parent = std::filesystem::path(".");
  const std::string dir = parent.string();
  auto m = parse_and_convert(in, static_cast<uint64_t>(st.st_size), dir, options);
  if (in.GetErrno() != 0)
    return Status(StatusCode::io_error, fmt::format("cannot read model file '{}': {}", path, std::strerror(in.GetErrno())));
  if (!m.ok()) return Status(m.status().code(), fmt::format("{}: {}", path, m.status().message()));
  return m;
}

}  // namespace hwopt::onnx_import
