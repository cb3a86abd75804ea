#include "runtime/single_op.h"

#include <algorithm>

#include "backends/backend.h"
#include "backends/reference/registry.h"
#include "core/threads.h"

namespace hwopt {

SingleOpRunner::SingleOpRunner(const std::string& backend, SingleOp op, int threads) : op_(std::move(op)) {
  node_.name = "single_" + op_.op_type;
  node_.op_type = op_.op_type;
  node_.domain = op_.domain;
  node_.opset = op_.opset;
  node_.attributes = op_.attributes;
  for (size_t i = 0; i < op_.inputs.size(); ++i) {
    std::string name = op_.inputs[i].defined() ? "in" + std::to_string(i) : "";
    node_.inputs.push_back(name);
    if (name.empty()) continue;
    const bool constant =
        std::find(op_.constant_inputs.begin(), op_.constant_inputs.end(), i) != op_.constant_inputs.end();
    if (constant) {
      graph_.initializers[name] = op_.inputs[i];
      continue;
    }
    ir::ValueInfo vi;
    vi.name = name;
    vi.dtype = op_.inputs[i].dtype();
    vi.has_shape = true;
    for (int64_t d : op_.inputs[i].shape()) vi.shape.push_back(ir::Dim{d, ""});
    graph_.inputs.push_back(vi);
  }
  for (size_t i = 0; i < op_.num_outputs; ++i) node_.outputs.push_back("out" + std::to_string(i));
  const auto* def = reference::KernelRegistry::instance().find(op_.op_type, op_.domain, op_.opset);
  if (!def) {
    error_ = "no reference kernel for " + op_.op_type;
    return;
  }
  if (backend != "reference") set_intra_op_threads(threads);
  NodeContext nctx{node_, graph_, threads > 0 ? threads : physical_cores(), op_.precision, &op_.ranges};
  nctx.conv_algorithm = op_.conv_algorithm;
  try {
    KernelChoice choice = choose_kernel(backend, nctx, def->fn);
    fn_ = std::move(choice.fn);
    implementation_ = std::move(choice.implementation);
    declined_ = std::move(choice.declined);
  } catch (const std::exception& e) {
    implementation_ = "ref:" + op_.op_type;
    error_ = e.what();
  }
}

SingleOpResult SingleOpRunner::run(bool plain) const {
  SingleOpResult result;
  result.implementation = implementation_;
  result.declined = declined_;
  if (!error_.empty()) {
    result.error = error_;
    return result;
  }
  std::vector<RtValue> values(op_.inputs.size());
  std::vector<const RtValue*> ptrs(op_.inputs.size(), nullptr);
  for (size_t i = 0; i < op_.inputs.size(); ++i) {
    if (!op_.inputs[i].defined()) continue;
    values[i] = RtValue::of(op_.inputs[i]);
    ptrs[i] = &values[i];
  }
  KernelContext ctx(node_, ptrs, [](const ir::Graph&, std::vector<RtValue>) -> std::vector<RtValue> {
    throw KernelError("subgraphs are not available when running a single op");
  });
  try {
    fn_(ctx);
  } catch (const KernelError& e) {
    result.error = e.what();
    return result;
  } catch (const std::bad_alloc&) {
    result.error = "out of memory";
    return result;
  }
  result.kernel = ctx.kernel_detail();
  result.outputs = std::move(ctx.outputs());
  if (plain)
    for (auto& v : result.outputs)
      if (v.is_tensor() && !v.tensor.is_plain()) v.tensor = v.tensor.to_plain();
  return result;
}

SingleOpResult run_single_op(const std::string& backend, const SingleOp& op, int threads) {
  return SingleOpRunner(backend, op, threads).run();
}

}  // namespace hwopt
