// What `hwopt bench` measures: a model (a Session, or a fake in tests) run on one of several
// random input sets per batch size, rotated so that caches do not flatter the result.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bench/measure.h"
#include "hwopt/session.h"

namespace hwopt::bench {

using TensorMap = std::map<std::string, Tensor>;
/// Runs one batch (any batch size) and returns the outputs.
using BatchRunner = std::function<Expected<TensorMap>(const TensorMap& inputs)>;
/// Builds one random input set of `batch` samples from `seed`.
using InputFactory = std::function<Expected<TensorMap>(int64_t batch, uint64_t seed)>;

class Workload {
 public:
  /// `input_sets` random input sets are made per batch size (seeds seed, seed+1, ...).
  Workload(BatchRunner run, InputFactory inputs, int input_sets = 4, uint64_t seed = 0);
  /// A workload running `session` (which must outlive it).
  static Workload for_session(const Session& session, InputFactory inputs, int input_sets = 4, uint64_t seed = 0);

  /// The input sets of `batch` (made on first use; an allocation failure is out_of_memory).
  Expected<std::vector<TensorMap>> input_sets(int64_t batch);
  /// A Runner for measure(): runs input set `iteration % input_sets` of `batch`. Fails if the
  /// inputs cannot be made.
  Expected<Runner> runner(int64_t batch);
  /// Frees the input sets of `batch`.
  void release(int64_t batch);

  const BatchRunner& run() const { return run_; }
  const InputFactory& inputs() const { return inputs_; }
  int sets() const { return sets_; }

 private:
  BatchRunner run_;
  InputFactory inputs_;
  int sets_ = 4;
  uint64_t seed_ = 0;
  std::shared_ptr<std::mutex> mu_ = std::make_shared<std::mutex>();
  std::map<int64_t, std::shared_ptr<std::vector<TensorMap>>> cache_;
};

/// Bytes of all tensors in `m`.
size_t tensor_bytes(const TensorMap& m);

}  // namespace hwopt::bench
