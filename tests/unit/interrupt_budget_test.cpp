// The Ctrl-C flag (core/interrupt.h) and the per-run memory budget (core/memory_budget.h).
#include <gtest/gtest.h>

#include <csignal>

#include "core/interrupt.h"
#include "core/memory_budget.h"
#include "hwopt/tensor.h"

namespace hwopt {
namespace {

TEST(Interrupt, FirstSignalOnlySetsTheFlag) {
  install_interrupt_handler();
  clear_interrupt();
  EXPECT_FALSE(interrupted());
  std::raise(SIGINT);  // handled: the process goes on
  EXPECT_TRUE(interrupted());
  EXPECT_EQ(interrupt_signal(), SIGINT);
  clear_interrupt();
  EXPECT_FALSE(interrupted());
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

TEST(MemoryBudget, ChargesReleasesAndRefuses) {
  auto budget = std::make_shared<MemoryBudget>(size_t{1} << 20);
  {
    MemoryBudgetScope scope(budget);
    auto a = Tensor::create(DType::float32, {128, 1024});  // 512 KiB
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(budget->used(), size_t{512} << 10);
    auto b = Tensor::create(DType::float32, {192, 1024});  // 768 KiB: over the 1 MiB left
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.status().code(), StatusCode::out_of_memory);
    EXPECT_NE(b.status().message().find("max_memory_mb"), std::string::npos) << b.status().to_string();
    EXPECT_TRUE(last_allocation_failure().over_budget);
    {
      MemoryBudgetScope none(nullptr);  // nested: no cap inside
      EXPECT_TRUE(Tensor::create(DType::float32, {192, 1024}).ok());
    }
  }
  // Released when the tensor dies, even after the scope ended.
  EXPECT_EQ(budget->used(), 0u);
  EXPECT_EQ(budget->peak(), size_t{512} << 10);
  EXPECT_EQ(current_memory_budget(), nullptr);
}

TEST(MemoryBudget, TensorsOutliveTheirBudget) {
  Tensor kept;
  {
    auto budget = std::make_shared<MemoryBudget>(size_t{1} << 20);
    MemoryBudgetScope scope(budget);
    kept = Tensor(DType::int64, {1000});
  }
  EXPECT_EQ(kept.numel(), 1000);  // its charge keeps the (dead) budget alive until it goes
}

}  // namespace
}  // namespace hwopt
