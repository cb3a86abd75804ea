#include "hwopt/session.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>

#include "core/memory_budget.h"
#include "hw/cpu_info.h"
#include "onnx/import.h"
#include "passes/pipeline.h"
#include "runtime/plan.h"

namespace hwopt {

namespace {

TensorInfo to_info(const ir::ValueInfo& vi) {
  TensorInfo info;
  info.name = vi.name;
  info.dtype = vi.dtype;
  info.has_shape = vi.has_shape;
  info.is_sequence = vi.kind == ir::ValueKind::sequence || vi.kind == ir::ValueKind::optional_sequence;
  for (const auto& d : vi.shape) {
    info.shape.push_back(d.known() ? d.value : -1);
    info.dim_names.push_back(d.param);
  }
  return info;
}

// The precision must be one hwopt knows, on a backend and CPU that can run it.
Status check_precision(const SessionOptions& options) {
  if (options.inter_op < 1 || options.inter_op > 1024)
    return Status(StatusCode::invalid_argument, fmt::format("inter_op must be 1 to 1024, got {}", options.inter_op));
  const std::string& p = options.precision;
  if (p != "fp32" && p != "bf16" && p != "int8" && p != "int8-dynamic")
    return Status(StatusCode::invalid_argument,
                  fmt::format("unknown precision '{}' (fp32, bf16, int8 or int8-dynamic)", p));
  const auto& layouts = layout_names();
  if (std::find(layouts.begin(), layouts.end(), options.layout) == layouts.end())
    return Status(StatusCode::invalid_argument,
                  fmt::format("unknown layout '{}' ({})", options.layout, fmt::join(layouts, ", ")));
  const auto& algorithms = conv_algorithm_names();
  if (std::find(algorithms.begin(), algorithms.end(), options.conv_algorithm) == algorithms.end())
    return Status(StatusCode::invalid_argument, fmt::format("unknown convolution algorithm '{}' ({})",
                                                            options.conv_algorithm, fmt::join(algorithms, ", ")));
  if (p == "fp32") return Status::OK();
  if (options.backend != "cpu")
    return Status(StatusCode::invalid_argument,
                  fmt::format("precision {} needs the cpu backend (backend '{}' runs fp32 only)", p, options.backend));
  static const hw::CpuInfo cpu = hw::detect_cpu();
  if (p == "bf16" && !cpu.has("avx512_bf16") && !cpu.has("amx_bf16"))
    return Status(StatusCode::unsupported,
                  "precision bf16: this CPU has no native BF16 arithmetic (AVX-512 BF16 or AMX); emulated BF16 "
                  "would be slower than fp32, so keep fp32");
  for (const auto& [name, r] : options.activation_ranges)
    if (!std::isfinite(r.min) || !std::isfinite(r.max) || !std::isfinite(r.threshold) || r.threshold < 0 || r.min > r.max)
      return Status(StatusCode::invalid_argument,
                    fmt::format("activation range of '{}' is invalid (min {}, max {}, threshold {})", name, r.min, r.max,
                                r.threshold));
  return Status::OK();
}

}  // namespace

const std::vector<std::string>& layout_names() {
  static const std::vector<std::string> names{"blocked", "channels_last", "any"};
  return names;
}

const std::vector<std::string>& conv_algorithm_names() {
  static const std::vector<std::string> names{"winograd", "direct"};
  return names;
}

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

Expected<std::unique_ptr<Session>> finish(Expected<onnx_import::Model> model, const SessionOptions& options,
                                          std::unique_ptr<Session> session, std::unique_ptr<Plan>& plan_slot,
                                          std::vector<TensorInfo>& inputs, std::vector<TensorInfo>& outputs,
                                          OptimizationSummary& summary, LoadTimes& times, Clock::time_point t0) {
  times.import_ms = ms_since(t0);
  if (!model.ok()) return model.status();
  summary.imported_nodes.reserve(model->graph->nodes.size());
  for (const auto& n : model->graph->nodes) summary.imported_nodes.push_back(n.provenance_name());
  HWOPT_RETURN_IF_ERROR(check_precision(options));
  auto t_opt = Clock::now();
  const bool int8 = options.precision == "int8";
  std::map<std::string, ActivationRange> ranges = options.activation_ranges;
  if (options.optimize || int8) {
    passes::PipelineOptions popts;
    popts.disabled.insert(options.disabled_passes.begin(), options.disabled_passes.end());
    // At int8 the Q/DQ pairs of a QDQ model become ranges (passes/fold_qdq.cpp), and QOperator
    // ops become QDQ first (passes/decompose_qlinear.cpp), optimizing or not; ONNX Runtime's
    // dynamically quantized MatMulInteger/ConvInteger chains likewise become float MatMul/Conv
    // (passes/decompose_integer.cpp) rather than stay on the reference integer kernels.
    if (int8) popts.enabled.insert("fold_qdq");
    if (options.precision == "bf16")
      for (const auto& name : passes::value_hiding_passes()) popts.disabled.insert(name);
    if (!options.optimize)
      for (const auto& name : passes::pass_names())
        if (name != "fold_qdq" && name != "decompose_qlinear" && name != "decompose_integer")
          popts.disabled.insert(name);
    passes::PipelineReport report;
    HWOPT_RETURN_IF_ERROR(passes::run_pipeline(model.value(), popts, &report));
    summary.ran = true;
    summary.nodes_before = report.nodes_before;
    summary.nodes_after = report.nodes_after;
    for (const auto& p : report.passes) {
      summary.ms += p.ms;
      if (p.enabled) summary.rewrites.emplace_back(p.name, p.rewrites);
    }
    ranges.insert(report.activation_ranges.begin(), report.activation_ranges.end());  // explicit ranges win
  }
  if (int8 && ranges.empty())
    return Status(StatusCode::invalid_argument,
                  "precision int8 needs calibrated activation ranges (quant::calibrate, hwopt's --calibration, or a "
                  "QDQ model that carries them)");
  times.optimize_ms = options.optimize || int8 ? ms_since(t_opt) : 0;
  auto t_plan = Clock::now();
  if (options.max_memory_mb > 0 && options.max_memory_mb > SIZE_MAX / (size_t{1} << 20))
    return Status(StatusCode::invalid_argument, fmt::format("max_memory_mb {} is too large", options.max_memory_mb));
  PlanOptions po;
  po.backend = options.backend;
  po.threads = options.threads;
  po.pin_threads = options.pin_threads;
  po.inter_op = options.inter_op;
  po.precision = options.precision;
  po.layout = options.layout;
  po.conv_algorithm = options.conv_algorithm;
  po.ranges = std::move(ranges);
  po.fp32_nodes.insert(options.fp32_nodes.begin(), options.fp32_nodes.end());
  auto plan = Plan::create(model->graph, po);
  if (!plan.ok()) return plan.status();
  plan_slot = std::move(plan).value();
  const size_t planned = plan_slot->main().planned_peak_bytes;
  if (options.max_memory_mb > 0 && planned > options.max_memory_mb << 20)
    return Status(StatusCode::out_of_memory,
                  fmt::format("the memory plan needs {:.1f} MiB for intermediate tensors at the declared input shapes, "
                              "over the max_memory_mb cap of {} MiB",
                              static_cast<double>(planned) / 1048576.0, options.max_memory_mb));
  const ir::Graph& g = plan_slot->graph();
  for (const auto& v : g.inputs)
    if (!g.initializers.count(v.name)) inputs.push_back(to_info(v));
  for (const auto& v : g.outputs) outputs.push_back(to_info(v));
  times.plan_ms = ms_since(t_plan);
  return session;
}

Status check_finite(const Tensor& t, const std::string& what, StatusCode code) {
  if (!dtype_is_float(t.dtype())) return Status::OK();
  Tensor c = t.contiguous();
  for (int64_t i = 0; i < c.numel(); ++i) {
    double v = c.element_as_double(i);
    if (!std::isfinite(v))
      return Status(code, fmt::format("{} holds a non-finite value ({}) at flat index {}", what, v, i));
  }
  return Status::OK();
}

}  // namespace

Session::~Session() = default;

Expected<std::unique_ptr<Session>> Session::load(const std::string& path, const SessionOptions& options) {
  auto s = std::unique_ptr<Session>(new Session());
  s->options_ = options;
  Session* raw = s.get();
  const auto t0 = Clock::now();
  return finish(onnx_import::load_model(path), options, std::move(s), raw->plan_, raw->inputs_, raw->outputs_,
                raw->optimization_, raw->load_times_, t0);
}

Expected<std::unique_ptr<Session>> Session::load_from_bytes(const void* data, size_t size, const SessionOptions& options) {
  auto s = std::unique_ptr<Session>(new Session());
  s->options_ = options;
  Session* raw = s.get();
  const auto t0 = Clock::now();
  return finish(onnx_import::load_model_from_bytes(data, size), options, std::move(s), raw->plan_, raw->inputs_,
                raw->outputs_, raw->optimization_, raw->load_times_, t0);
}

size_t Session::planned_peak_bytes() const { return plan_->main().planned_peak_bytes; }
size_t Session::planned_unknown_values() const { return plan_->main().planned_unknown; }
size_t Session::num_nodes() const { return plan_->graph().total_nodes(); }

const ir::Graph& Session::graph() const { return plan_->graph(); }

std::vector<PlanStepInfo> Session::plan_steps() const {
  std::vector<PlanStepInfo> out;
  for (const auto& step : plan_->main().steps)
    out.push_back({step.node->name.empty() ? step.node->outputs.at(0) : step.node->name, step.node->op_type,
                   step.implementation});
  return out;
}

std::vector<std::string> Session::describe_plan(bool declines) const {
  std::vector<std::string> lines;
  for (const auto& step : plan_->main().steps) {
    std::string name = step.node->name.empty() ? step.node->outputs.at(0) : step.node->name;
    lines.push_back(fmt::format("{:<36} {:<26} {}", name, step.node->op_type, step.implementation));
    if (declines)
      for (const auto& d : step.declined) lines.push_back(fmt::format("    declined {}", d));
  }
  return lines;
}

Expected<std::map<std::string, Tensor>> Session::run(const std::map<std::string, Tensor>& inputs,
                                                    const RunOptions& options, RunStats* stats) const {
  const ir::Graph& g = plan_->graph();
  for (const auto& [name, t] : inputs) {
    bool found = false;
    for (const auto& v : g.inputs) found |= v.name == name;
    if (!found) {
      std::string names;
      for (const auto& i : inputs_) names += (names.empty() ? "" : ", ") + i.name;
      return Status(StatusCode::invalid_argument,
                    fmt::format("unknown input '{}' (the model's inputs are: {})", name, names));
    }
  }
  std::vector<RtValue> values;
  for (const auto& v : g.inputs) {
    auto it = inputs.find(v.name);
    if (it == inputs.end()) {
      if (g.initializers.count(v.name)) {
        values.emplace_back();
        continue;
      }
      return Status(StatusCode::invalid_argument, fmt::format("missing input '{}' ({})", v.name, v.type_str()));
    }
    const Tensor& t = it->second;
    if (!t.defined()) return Status(StatusCode::invalid_argument, fmt::format("input '{}' is an empty tensor handle", v.name));
    if (v.dtype != DType::undefined && t.dtype() != v.dtype)
      return Status(StatusCode::invalid_argument, fmt::format("input '{}' has dtype {} but the model expects {}", v.name,
                                                              dtype_name(t.dtype()), dtype_name(v.dtype)));
    if (v.has_shape) {
      if (t.rank() != static_cast<int64_t>(v.shape.size()))
        return Status(StatusCode::invalid_argument,
                      fmt::format("input '{}' has rank {} (shape {}) but the model expects rank {} ({})", v.name,
                                  t.rank(), shape_str(t.shape()), v.shape.size(), v.type_str()));
      for (size_t d = 0; d < v.shape.size(); ++d)
        if (v.shape[d].known() && v.shape[d].value != t.shape()[d])
          return Status(StatusCode::invalid_argument,
                        fmt::format("input '{}' has shape {} but the model expects {} (dim {} must be {})", v.name,
                                    shape_str(t.shape()), v.type_str(), d, v.shape[d].value));
    }
    if (options_.check_finite) HWOPT_RETURN_IF_ERROR(check_finite(t, fmt::format("input '{}'", v.name), StatusCode::invalid_argument));
    values.push_back(RtValue::of(t));
  }
  std::shared_ptr<MemoryBudget> budget;
  if (options_.max_memory_mb > 0) budget = std::make_shared<MemoryBudget>(options_.max_memory_mb << 20);
  clear_allocation_failure();
  auto outs = [&] {
    MemoryBudgetScope scope(budget);
    return plan_->run(std::move(values), options, stats);
  }();
  if (!outs.ok()) {
    // A kernel reports a failed allocation as its own error (naming the node and tensor); say
    // that it was memory, and whether the cap or the system refused it.
    const AllocationFailure& f = last_allocation_failure();
    if (!f.failed) return outs.status();
    const std::string why = describe_allocation_failure(f);
    const std::string& msg = outs.status().message();
    return Status(StatusCode::out_of_memory, msg.find(why) != std::string::npos ? msg : msg + " (" + why + ")");
  }
  std::map<std::string, Tensor> result;
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    RtValue& v = (*outs)[i];
    if (!v.is_tensor())
      return Status(StatusCode::unsupported,
                    fmt::format("output '{}' is not a tensor (sequences and optionals are not returned by Session::run)",
                                g.outputs[i].name));
    if (options_.check_finite) HWOPT_RETURN_IF_ERROR(check_finite(v.tensor, fmt::format("output '{}'", g.outputs[i].name), StatusCode::runtime_error));
    result[g.outputs[i].name] = v.tensor;
  }
  return result;
}

}  // namespace hwopt
