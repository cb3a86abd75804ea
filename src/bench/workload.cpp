#include "bench/workload.h"

#include <fmt/format.h>

#include <new>

namespace hwopt::bench {

Workload::Workload(BatchRunner run, InputFactory inputs, int input_sets, uint64_t seed)
    : run_(std::move(run)), inputs_(std::move(inputs)), sets_(std::max(input_sets, 1)), seed_(seed) {}

Workload Workload::for_session(const Session& session, InputFactory inputs, int input_sets, uint64_t seed) {
  const Session* s = &session;
  return Workload([s](const TensorMap& in) { return s->run(in); }, std::move(inputs), input_sets, seed);
}

Expected<std::vector<TensorMap>> Workload::input_sets(int64_t batch) {
  std::lock_guard<std::mutex> lock(*mu_);
  auto it = cache_.find(batch);
  if (it != cache_.end()) return *it->second;
  auto sets = std::make_shared<std::vector<TensorMap>>();
  try {
    for (int i = 0; i < sets_; ++i) {
      auto in = inputs_(batch, seed_ + static_cast<uint64_t>(i));
      if (!in.ok()) return in.status();
      sets->push_back(std::move(in).value());
    }
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::out_of_memory, fmt::format("out of memory making the inputs of batch {}", batch));
  }
  cache_[batch] = sets;
  return *sets;
}

Expected<Runner> Workload::runner(int64_t batch) {
  auto sets = input_sets(batch);
  if (!sets.ok()) return sets.status();
  auto shared = std::make_shared<std::vector<TensorMap>>(std::move(sets).value());
  BatchRunner run = run_;
  return Runner([shared, run](size_t iteration) -> Status {
    auto out = run((*shared)[iteration % shared->size()]);
    return out.ok() ? Status() : out.status();
  });
}

void Workload::release(int64_t batch) {
  std::lock_guard<std::mutex> lock(*mu_);
  cache_.erase(batch);
}

size_t tensor_bytes(const TensorMap& m) {
  size_t n = 0;
  for (const auto& [name, t] : m) n += t.nbytes();
  return n;
}

}  // namespace hwopt::bench
