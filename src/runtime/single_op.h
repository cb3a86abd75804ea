// Running one op through a backend's dispatch, as the planner would: for op tests, the
// cross-backend op checker and per-op microbenchmarks.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "backends/kernel.h"
#include "hwopt/session.h"
#include "ir/graph.h"

namespace hwopt {

struct SingleOp {
  std::string op_type;
  std::string domain;  // "" = ai.onnx
  int opset = 17;
  std::vector<ir::Attribute> attributes;
  std::vector<Tensor> inputs;           // an undefined Tensor = omitted optional input
  std::vector<size_t> constant_inputs;  // indices that become initializers (weights)
  size_t num_outputs = 1;
  /// SessionOptions::precision and the calibrated ranges of the op's values, which are named
  /// "in<i>" and "out<i>".
  std::string precision = "fp32";
  std::map<std::string, ActivationRange> ranges;
  std::string conv_algorithm = "winograd";  // SessionOptions::conv_algorithm
};

struct SingleOpResult {
  std::vector<RtValue> outputs;  // converted to plain row-major
  std::string implementation;    // "cpu:onednn:conv", or "ref:Conv" when every candidate declined
  std::string kernel;            // what it ran as (KernelContext::kernel_detail); may be empty
  std::vector<std::string> declined;
  std::string error;             // KernelError text; empty on success
  const Tensor& out(size_t i = 0) const { return outputs.at(i).tensor; }
};

/// A prepared single-op kernel that can be run repeatedly (for timing).
class SingleOpRunner {
 public:
  SingleOpRunner(const std::string& backend, SingleOp op, int threads);
  const std::string& implementation() const { return implementation_; }
  const std::vector<std::string>& declined() const { return declined_; }
  const std::string& error() const { return error_; }
  /// Runs the kernel once; outputs stay in the backend's layout unless `plain`.
  SingleOpResult run(bool plain = true) const;

 private:
  SingleOp op_;
  ir::Graph graph_;
  ir::Node node_;
  KernelFn fn_;
  std::string implementation_;
  std::vector<std::string> declined_;
  std::string error_;
};

SingleOpResult run_single_op(const std::string& backend, const SingleOp& op, int threads = 0);

}  // namespace hwopt
