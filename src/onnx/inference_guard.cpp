#include "onnx/inference_guard.h"

#include <onnx/defs/schema.h>
#include <onnx/defs/shape_inference.h>
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <mutex>
#include <set>
#include <vector>

#include "onnx/import.h"

namespace hwopt::onnx_import {

namespace {

struct Guard {
  const char* op;
  std::vector<int> inputs;  // input indices whose rank is checked when their shape is known
  int min_rank, max_rank;   // the ranks the inference function assumes
  bool same_rank;           // the listed inputs must also have one rank (a Conv's X and W)
  std::vector<const char*> positive_ints = {};  // int-list attributes it divides by
  bool axis_in_rank = false;  // attribute 'axis', when given, must be in [-r, r) for input 0's rank r
};

const std::vector<const char*> kWindow = {"strides", "dilations", "kernel_shape"};

// Each kind of check was found by fuzzing (tests/fuzz) and has a regression input in
// tests/fuzz/corpus/model and a case in tests/malformed; it is applied to the op's whole family.
// The checks are what the ops' specs require anyway, so they change nothing for valid models.
const std::vector<Guard>& guards() {
  static const std::vector<Guard> g = {
      // Gemm-6 reads dim(transA ? 1 : 0) of A and B: a scalar A read past an empty dim list.
      {"Gemm", {0, 1}, 2, 2, false},
      // ConvTranspose reads X's spatial dims by W's rank: an X of lower rank read past its dims.
      // convPoolShapeInference divides by the strides: a stride of 0 was a SIGFPE.
      {"ConvTranspose", {0, 1}, 3, INT32_MAX, true, kWindow},
      {"Conv", {0, 1}, 3, INT32_MAX, true, kWindow},
      {"ConvInteger", {0, 1}, 3, INT32_MAX, true, kWindow},
      {"QLinearConv", {0, 3}, 3, INT32_MAX, true, kWindow},
      {"MaxPool", {0}, 3, INT32_MAX, false, kWindow},
      {"AveragePool", {0}, 3, INT32_MAX, false, kWindow},
      {"LpPool", {0}, 3, INT32_MAX, false, kWindow},
      // LayerNormalization-17 indexes X's dims by 'axis' unchecked: axis -3 of a rank-2 X read
      // out of bounds. The ops below take an axis in [-r, r) too.
      {"LayerNormalization", {}, 0, INT32_MAX, false, {}, true},
      {"Softmax", {}, 0, INT32_MAX, false, {}, true},
      {"LogSoftmax", {}, 0, INT32_MAX, false, {}, true},
      {"Hardmax", {}, 0, INT32_MAX, false, {}, true},
      {"Gather", {}, 0, INT32_MAX, false, {}, true},
      {"GatherElements", {}, 0, INT32_MAX, false, {}, true},
      {"Concat", {}, 0, INT32_MAX, false, {}, true},
      {"Split", {}, 0, INT32_MAX, false, {}, true},
      {"ArgMax", {}, 0, INT32_MAX, false, {}, true},
      {"ArgMin", {}, 0, INT32_MAX, false, {}, true},
  };
  return g;
}

}  // namespace

void guard_shape_inference() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const Guard& guard : guards()) {
      std::set<const onnx::OpSchema*> seen;
      for (int version = 1; version <= kMaxOpset; ++version) {
        const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(guard.op, version, "");
        if (!schema || !seen.insert(schema).second) continue;
        // The registry hands out const schemas; this is the one place hwopt changes one, before
        // any inference runs (call_once), so no inference reads it while it changes.
        auto* s = const_cast<onnx::OpSchema*>(schema);
        onnx::InferenceFunction original = s->GetTypeAndShapeInferenceFunction();
        s->TypeAndShapeInferenceFunction([original, guard](onnx::InferenceContext& ctx) {
          int first_rank = -1;
          for (int i : guard.inputs) {
            if (static_cast<size_t>(i) >= ctx.getNumInputs() || !onnx::hasInputShape(ctx, i)) continue;
            const int rank = ctx.getInputType(i)->tensor_type().shape().dim_size();
            if (rank < guard.min_rank || rank > guard.max_rank)
              fail_shape_inference(guard.op, " input ", i, " has rank ", rank, ", outside [", guard.min_rank, ", ",
                                   guard.max_rank, "]");
            if (guard.same_rank && first_rank >= 0 && rank != first_rank)
              fail_shape_inference(guard.op, " input ", i, " has rank ", rank, ", unlike the rank ", first_rank,
                                   " of the inputs before it");
            if (first_rank < 0) first_rank = rank;
          }
          if (guard.axis_in_rank && ctx.getNumInputs() > 0 && onnx::hasInputShape(ctx, 0))
            if (const onnx::AttributeProto* a = ctx.getAttribute("axis")) {
              const int64_t r = ctx.getInputType(0)->tensor_type().shape().dim_size();
              if (a->i() < -r || a->i() >= r)
                fail_shape_inference(guard.op, " attribute 'axis' = ", a->i(), " is out of range for rank ", r);
            }
          for (const char* name : guard.positive_ints)
            if (const onnx::AttributeProto* a = ctx.getAttribute(name))
              for (int64_t v : a->ints())
                if (v <= 0) fail_shape_inference(guard.op, " attribute '", name, "' has ", v, ", must be positive");
          if (original) original(ctx);
        });
      }
    }
  });
}

namespace {

bool nodes_match_schemas(const onnx::GraphProto& graph, const std::map<std::string, int>& opsets) {
  for (const auto& node : graph.node()) {
    const std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
    auto it = opsets.find(domain);
    if (it != opsets.end()) {
      if (const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(node.op_type(), it->second, domain)) {
        try {
          schema->Verify(node);
        } catch (const std::exception&) {
          return false;
        }
      }
    }
    for (const auto& a : node.attribute()) {
      if (a.has_g() && !nodes_match_schemas(a.g(), opsets)) return false;
      for (const auto& g : a.graphs())
        if (!nodes_match_schemas(g, opsets)) return false;
    }
  }
  return true;
}

}  // namespace

bool safe_for_shape_inference(const onnx::ModelProto& model, const std::map<std::string, int>& opsets) {
  for (const auto& input : model.graph().input())
    if (!input.has_type() || input.type().value_case() == onnx::TypeProto::VALUE_NOT_SET) return false;
  return nodes_match_schemas(model.graph(), opsets);
}

}  // namespace hwopt::onnx_import
