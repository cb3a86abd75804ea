#include "bench/batcher.h"

#include <fmt/format.h>

#include <chrono>
#include <cstring>

namespace hwopt::bench {

int64_t samples_of(const TensorMap& inputs) {
  if (inputs.empty()) return 1;
  const Tensor& t = inputs.begin()->second;
  return t.rank() >= 1 ? t.dim(0) : 1;
}

Expected<TensorMap> concat_batch(const std::vector<const TensorMap*>& parts) {
  if (parts.empty()) return TensorMap{};
  if (parts.size() == 1) return *parts[0];
  TensorMap out;
  for (const auto& [name, first] : *parts[0]) {
    if (first.rank() < 1) return Status(StatusCode::invalid_argument, fmt::format("input '{}' has no batch dimension", name));
    if (first.dtype() == DType::string)
      return Status(StatusCode::unsupported, fmt::format("input '{}': string tensors are not batched", name));
    int64_t total = 0;
    std::vector<Tensor> plain;
    for (const TensorMap* p : parts) {
      auto it = p->find(name);
      if (it == p->end()) return Status(StatusCode::invalid_argument, fmt::format("a request lacks input '{}'", name));
      const Tensor& t = it->second;
      if (t.dtype() != first.dtype() || t.rank() != first.rank() ||
          !std::equal(t.shape().begin() + 1, t.shape().end(), first.shape().begin() + 1))
        return Status(StatusCode::invalid_argument,
                      fmt::format("input '{}': requests of shapes {} and {} cannot be batched", name,
                                  shape_str(first.shape()), shape_str(t.shape())));
      total += t.dim(0);
      plain.push_back(t.to_plain().contiguous());
    }
    Shape shape = first.shape();
    shape[0] = total;
    auto cat = Tensor::create(first.dtype(), shape);
    if (!cat.ok()) return cat.status();
    char* dst = static_cast<char*>(cat->raw_data());
    for (const Tensor& t : plain) {
      std::memcpy(dst, t.raw_data(), t.nbytes());
      dst += t.nbytes();
    }
    out[name] = std::move(cat).value();
  }
  return out;
}

Expected<std::vector<TensorMap>> split_batch(const TensorMap& outputs, const std::vector<int64_t>& sizes) {
  std::vector<TensorMap> parts(sizes.size());
  if (sizes.size() == 1) {
    parts[0] = outputs;
    return parts;
  }
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  for (const auto& [name, t] : outputs) {
    if (t.rank() < 1 || t.dim(0) != total || t.dtype() == DType::string) {
      for (auto& p : parts) p[name] = t;
      continue;
    }
    const Tensor c = t.to_plain().contiguous();
    const size_t row = total > 0 ? c.nbytes() / static_cast<size_t>(total) : 0;
    const char* src = static_cast<const char*>(c.raw_data());
    for (size_t i = 0; i < sizes.size(); ++i) {
      Shape shape = c.shape();
      shape[0] = sizes[i];
      auto piece = Tensor::create(c.dtype(), shape);
      if (!piece.ok()) return piece.status();
      std::memcpy(piece->raw_data(), src, row * static_cast<size_t>(sizes[i]));
      src += row * static_cast<size_t>(sizes[i]);
      parts[i][name] = std::move(piece).value();
    }
  }
  return parts;
}

DynamicBatcher::DynamicBatcher(BatchRunner run, BatcherOptions options) : run_(std::move(run)), options_(options) {
  options_.max_batch = std::max<int64_t>(options_.max_batch, 1);
  options_.workers = std::max(options_.workers, 1);
  options_.max_queue_delay_ms = std::max(options_.max_queue_delay_ms, 0.0);
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { worker(); });
}

DynamicBatcher::~DynamicBatcher() { shutdown(); }

Status DynamicBatcher::submit(TensorMap inputs, Callback done) {
  Request r;
  r.samples = samples_of(inputs);
  if (r.samples > options_.max_batch)
    return Status(StatusCode::invalid_argument,
                  fmt::format("a request of {} samples is larger than the max batch {}", r.samples, options_.max_batch));
  r.inputs = std::move(inputs);
  r.done = std::move(done);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return Status(StatusCode::runtime_error, "the batcher was shut down");
    r.enqueue_s = steady_seconds();
    queued_samples_ += r.samples;
    queue_.push_back(std::move(r));
  }
  cv_.notify_all();
  return Status();
}

void DynamicBatcher::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

std::vector<BatchRecord> DynamicBatcher::batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_;
}

void DynamicBatcher::worker() {
  std::unique_lock<std::mutex> lock(mu_);
  const double delay_s = options_.max_queue_delay_ms / 1000.0;
  while (true) {
    const double free_s = steady_seconds();
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    // Hold the oldest request until the batch is full or its queue delay is spent. When
    // stopping, dispatch at once.
    while (!stop_ && !queue_.empty() && queued_samples_ < options_.max_batch) {
      const double deadline = queue_.front().enqueue_s + delay_s;
      const double now = steady_seconds();
      if (now >= deadline) break;
      cv_.wait_for(lock, std::chrono::duration<double>(deadline - now));
    }
    if (queue_.empty()) continue;  // another worker took them
    std::vector<Request> batch;
    int64_t samples = 0;
    while (!queue_.empty() && (batch.empty() || samples + queue_.front().samples <= options_.max_batch)) {
      samples += queue_.front().samples;
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_samples_ -= samples;
    BatchRecord rec;
    rec.requests = batch.size();
    rec.samples = samples;
    rec.oldest_enqueue_s = batch.front().enqueue_s;
    rec.worker_free_s = free_s;
    rec.dispatch_s = steady_seconds();
    rec.full = samples >= options_.max_batch;
    records_.push_back(rec);
    lock.unlock();

    std::vector<const TensorMap*> parts;
    std::vector<int64_t> sizes;
    for (const auto& r : batch) {
      parts.push_back(&r.inputs);
      sizes.push_back(r.samples);
    }
    Status st;
    std::vector<TensorMap> outs;
    try {
      auto in = concat_batch(parts);
      if (!in.ok()) {
        st = in.status();
      } else {
        auto out = run_(*in);
        if (!out.ok()) {
          st = out.status();
        } else {
          auto split = split_batch(*out, sizes);
          if (split.ok())
            outs = std::move(split).value();
          else
            st = split.status();
        }
      }
    } catch (const std::bad_alloc&) {
      st = Status(StatusCode::out_of_memory, fmt::format("out of memory running a batch of {}", samples));
    }
    const double done_s = steady_seconds();
    for (size_t i = 0; i < batch.size(); ++i) {
      Completion c;
      c.status = st;
      if (st.ok()) c.outputs = std::move(outs[i]);
      c.enqueue_s = batch[i].enqueue_s;
      c.dispatch_s = rec.dispatch_s;
      c.done_s = done_s;
      c.batch_samples = samples;
      if (batch[i].done) batch[i].done(std::move(c));
    }
    lock.lock();
  }
}

}  // namespace hwopt::bench
