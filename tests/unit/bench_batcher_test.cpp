// The dynamic batcher with a fake runner: requests come back with their own outputs, a batch
// never exceeds max_batch, and no request is held past the queue delay by the batcher.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "bench/batcher.h"

namespace hwopt::bench {
namespace {

TensorMap request(float id, int64_t samples = 1) {
  Tensor t(DType::float32, {samples, 3});
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = id;
  return {{"x", t}};
}

// Doubles x; also returns a batch-independent "meta" output and checks the batch size.
BatchRunner doubling_runner(int64_t max_batch, std::atomic<int64_t>* largest, double sleep_ms = 0) {
  return [=](const TensorMap& in) -> Expected<TensorMap> {
    const Tensor& x = in.at("x");
    int64_t seen = largest->load();
    while (x.dim(0) > seen && !largest->compare_exchange_weak(seen, x.dim(0))) {
    }
    if (x.dim(0) > max_batch) return Status(StatusCode::internal, "batch too large");
    if (sleep_ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(sleep_ms));
    Tensor y(DType::float32, x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) y.data<float>()[i] = 2 * x.data<float>()[i];
    return TensorMap{{"y", y}, {"meta", Tensor::scalar<float>(1)}};
  };
}

TEST(BenchBatcher, ConcatAndSplitRoundTrip) {
  const TensorMap a = request(1, 2), b = request(2, 3);
  auto cat = concat_batch({&a, &b});
  ASSERT_TRUE(cat.ok()) << cat.status().to_string();
  EXPECT_EQ(cat->at("x").shape(), (Shape{5, 3}));
  EXPECT_EQ(cat->at("x").data<float>()[5], 1);
  EXPECT_EQ(cat->at("x").data<float>()[6], 2);
  auto parts = split_batch(*cat, {2, 3});
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ((*parts)[0].at("x").shape(), (Shape{2, 3}));
  EXPECT_EQ((*parts)[1].at("x").data<float>()[8], 2);
  const TensorMap bad = {{"x", Tensor(DType::float32, {1, 4})}};
  EXPECT_FALSE(concat_batch({&a, &bad}).ok());
}

TEST(BenchBatcher, NeverExceedsMaxBatchAndReturnsEachRequestItsOutputs) {
  std::atomic<int64_t> largest{0};
  BatcherOptions o;
  o.max_batch = 4;
  o.max_queue_delay_ms = 5;
  o.workers = 2;
  std::atomic<int> ok{0}, wrong{0};
  {
    DynamicBatcher b(doubling_runner(4, &largest, 0.5), o);
    std::vector<std::thread> producers;
    for (int p = 0; p < 3; ++p)
      producers.emplace_back([&, p] {
        for (int i = 0; i < 40; ++i) {
          const float id = static_cast<float>(p * 100 + i);
          const int64_t n = 1 + (i % 2);  // requests of 1 or 2 samples
          ASSERT_TRUE(b.submit(request(id, n), [&, id, n](Completion&& c) {
                         const bool good = c.status.ok() && c.outputs.at("y").dim(0) == n &&
                                           c.outputs.at("y").data<float>()[0] == 2 * id &&
                                           c.outputs.at("meta").rank() == 0 && c.batch_samples <= 4;
                         (good ? ok : wrong)++;
                       }).ok());
        }
      });
    for (auto& t : producers) t.join();
    b.shutdown();
    for (const auto& r : b.batches()) EXPECT_LE(r.samples, 4);
    EXPECT_FALSE(b.submit(request(0), nullptr).ok());  // after shutdown
  }
  EXPECT_EQ(ok.load(), 120);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(largest.load(), 4);
  EXPECT_GE(largest.load(), 2);  // it did batch
}

TEST(BenchBatcher, FullBatchGoesAtOnceAndNoRequestIsHeldPastTheQueueDelay) {
  std::atomic<int64_t> largest{0};
  BatcherOptions o;
  o.max_batch = 4;
  o.max_queue_delay_ms = 1000;
  DynamicBatcher full(doubling_runner(4, &largest), o);
  std::atomic<int> done{0};
  const double t0 = steady_seconds();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(full.submit(request(i), [&](Completion&&) { done++; }).ok());
  while (done.load() < 4 && steady_seconds() - t0 < 5) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_LT(steady_seconds() - t0, 0.5);  // did not wait for the 1 s delay
  full.shutdown();
  ASSERT_EQ(full.batches().size(), 1u);
  EXPECT_TRUE(full.batches()[0].full);

  // Sparse requests: each waits for company only up to the delay, then runs alone.
  o.max_queue_delay_ms = 10;
  DynamicBatcher sparse(doubling_runner(4, &largest), o);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(sparse.submit(request(i), nullptr).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  sparse.shutdown();
  const auto recs = sparse.batches();
  ASSERT_EQ(recs.size(), 5u);
  for (const auto& r : recs) {
    EXPECT_EQ(r.samples, 1);
    EXPECT_FALSE(r.full);
    // It did wait for company (from the arrival) ...
    EXPECT_GE((r.dispatch_s - r.oldest_enqueue_s) * 1000, 10 - 0.5);
    // ... and the batcher held it no longer than the delay once a worker was free to run it
    // (slack for a busy machine's wake-ups).
    EXPECT_LE((r.dispatch_s - std::max(r.oldest_enqueue_s, r.worker_free_s)) * 1000, 10 + 15);
  }
}

}  // namespace
}  // namespace hwopt::bench
