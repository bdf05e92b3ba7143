#include "provider/admission_queue.h"

#include <gtest/gtest.h>

#include <future>
#include <optional>

namespace infernet::provider {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

TEST(AdmissionQueueTest, RunsUpToMaxConcurrentThenQueuesThenRefuses) {
  ManualClock clock(kNow);
  AdmissionQueue queue({.max_concurrent = 2, .max_queued = 1}, clock);
  auto a = queue.Admit(10, 0);
  auto b = queue.Admit(10, 0);
  auto c = queue.Admit(10, 0);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->queue_position(), 0u);
  EXPECT_TRUE(a->WaitForTurn(nullptr));
  EXPECT_TRUE(b->WaitForTurn(nullptr));
  EXPECT_EQ(c->queue_position(), 1u);
  EXPECT_EQ(queue.running(), 2u);
  EXPECT_EQ(queue.waiting(), 1u);

  auto d = queue.Admit(10, 0);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kResourceExhausted);
}

TEST(AdmissionQueueTest, AWaitingTaskRunsWhenASlotFrees) {
  ManualClock clock(kNow);
  AdmissionQueue queue({.max_concurrent = 1, .max_queued = 1}, clock);
  std::optional<AdmissionQueue::Ticket> first(queue.Admit(1, 0).value());
  ASSERT_TRUE(first->WaitForTurn(nullptr));
  auto second = queue.Admit(1, 0);
  ASSERT_TRUE(second.ok());
  auto turn = std::async(std::launch::async, [&] { return second->WaitForTurn(nullptr, 5); });
  EXPECT_EQ(turn.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  first.reset();  // the running task finishes
  ASSERT_EQ(turn.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(turn.get());
  EXPECT_EQ(queue.running(), 1u);
  EXPECT_EQ(queue.waiting(), 0u);
}

TEST(AdmissionQueueTest, AbandonedWaitGivesUpItsPlace) {
  ManualClock clock(kNow);
  AdmissionQueue queue({.max_concurrent = 1, .max_queued = 1}, clock);
  auto first = queue.Admit(1, 0);
  ASSERT_TRUE(first->WaitForTurn(nullptr));
  {
    auto second = queue.Admit(1, 0);
    ASSERT_TRUE(second.ok());
    EXPECT_FALSE(second->WaitForTurn([] { return true; }));
  }
  EXPECT_EQ(queue.waiting(), 0u);
  EXPECT_TRUE(queue.Admit(1, 0).ok());
}

TEST(AdmissionQueueTest, RefusesAPassedDeadline) {
  ManualClock clock(kNow);
  AdmissionQueue queue({}, clock);
  auto ticket = queue.Admit(1, kNow - 1);
  ASSERT_FALSE(ticket.ok());
  EXPECT_EQ(ticket.status().code(), StatusCode::kDeadlineExceeded);
}

TEST(AdmissionQueueTest, RefusesWhenQueuedWorkAtTheAssumedRateMissesTheDeadline) {
  ManualClock clock(kNow);
  AdmissionQueue queue({.max_concurrent = 1, .max_queued = 4, .assumed_tokens_per_second = 100},
                       clock);
  auto ahead = queue.Admit(500, 0);  // 5 s of work
  ASSERT_TRUE(ahead.ok());
  auto tight = queue.Admit(100, kNow + 5'500);  // needs 6 s in total
  ASSERT_FALSE(tight.ok());
  EXPECT_EQ(tight.status().code(), StatusCode::kDeadlineExceeded);
  auto loose = queue.Admit(100, kNow + 6'000);
  ASSERT_TRUE(loose.ok());
  EXPECT_EQ(loose->estimated_finish_ms(), kNow + 6'000);
}

TEST(AdmissionQueueTest, MeasuredThroughputReplacesTheAssumedRate) {
  ManualClock clock(kNow);
  AdmissionQueue queue({.assumed_tokens_per_second = 10}, clock);
  EXPECT_FALSE(queue.Admit(100, kNow + 1'000).ok());  // 10 s at the assumed rate
  queue.RecordThroughput(1000, 1.0);                  // 1000 tokens/s measured
  EXPECT_DOUBLE_EQ(queue.tokens_per_second(), 1000.0);
  EXPECT_TRUE(queue.Admit(100, kNow + 1'000).ok());
}

TEST(AdmissionQueueTest, WithoutAnyRateOnlyPassedDeadlinesAreRefused) {
  ManualClock clock(kNow);
  AdmissionQueue queue({}, clock);
  auto ticket = queue.Admit(1'000'000, kNow + 1);
  ASSERT_TRUE(ticket.ok());
  EXPECT_EQ(ticket->estimated_finish_ms(), 0);
}

}  // namespace
}  // namespace infernet::provider
