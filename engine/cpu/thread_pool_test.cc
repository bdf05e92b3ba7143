#include "engine/cpu/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "engine/cpu/idle_prefetch.h"

namespace infernet::cpu {
namespace {

TEST(ThreadPoolTest, ParallelForVisitsEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {0, 1, 2, 7, 64, 1001}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.ParallelFor(n, 1, [&](int64_t begin, int64_t end, int thread) {
        EXPECT_GE(thread, 0);
        EXPECT_LT(thread, threads);
        for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)]++;
      });
      for (int64_t i = 0; i < n; ++i) {
        EXPECT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "n=" << n << " threads=" << threads;
      }
    }
  }
}

TEST(ThreadPoolTest, SharesAreContiguousStaticAndDistinctPerThread) {
  ThreadPool pool(4);
  std::vector<std::pair<int64_t, int64_t>> shares(4, {-1, -1});
  pool.ParallelFor(10, 1, [&](int64_t begin, int64_t end, int thread) {
    shares[static_cast<size_t>(thread)] = {begin, end};
  });
  // Thread t of T gets [n*t/T, n*(t+1)/T).
  EXPECT_EQ(shares[0], std::make_pair(int64_t{0}, int64_t{2}));
  EXPECT_EQ(shares[1], std::make_pair(int64_t{2}, int64_t{5}));
  EXPECT_EQ(shares[2], std::make_pair(int64_t{5}, int64_t{7}));
  EXPECT_EQ(shares[3], std::make_pair(int64_t{7}, int64_t{10}));
}

TEST(ThreadPoolTest, MinPerThreadLimitsHowManyThreadsTakePart) {
  ThreadPool pool(4);
  std::atomic<int> calls{0};
  pool.ParallelFor(10, 5, [&](int64_t begin, int64_t end, int thread) {
    EXPECT_LT(thread, 2);
    EXPECT_EQ(end - begin, 5);
    calls++;
  });
  EXPECT_EQ(calls.load(), 2);
  calls = 0;
  pool.ParallelFor(3, 100, [&](int64_t begin, int64_t end, int thread) {
    EXPECT_EQ(thread, 0);
    EXPECT_EQ(begin, 0);
    EXPECT_EQ(end, 3);
    calls++;
  });
  EXPECT_EQ(calls.load(), 1);
}

TEST(ThreadPoolTest, ParallelForChunksVisitsEveryIndexOnceInWholeChunks) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 7, 64, 1001}) {
      for (int64_t chunk : {1, 3, 64, 5000}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<int> calls{0};
        pool.ParallelForChunks(n, chunk, [&](int64_t begin, int64_t end, int thread) {
          EXPECT_GE(thread, 0);
          EXPECT_LT(thread, threads);
          EXPECT_EQ(begin % chunk, 0);
          EXPECT_EQ(end, std::min(n, begin + chunk));
          for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)]++;
          calls++;
        });
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1)
              << "n=" << n << " chunk=" << chunk << " threads=" << threads;
        }
        EXPECT_EQ(calls.load(), n == 0 ? 0 : (n + chunk - 1) / chunk);
      }
    }
  }
}

TEST(ThreadPoolTest, ParallelForChunksLetsOtherThreadsTakeOverFromASlowOne) {
  // The thread that claims chunk 0 stalls until every other chunk is done: with fixed shares
  // that would deadlock (its share would include chunks nobody else may take).
  ThreadPool pool(2);
  constexpr int64_t kChunks = 16;
  std::atomic<int64_t> done{0};
  std::atomic<bool> others_finished_first{false};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  pool.ParallelForChunks(kChunks, 1, [&](int64_t begin, int64_t, int) {
    if (begin == 0) {
      while (done.load() < kChunks - 1 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      others_finished_first = done.load() == kChunks - 1;
    }
    done++;
  });
  EXPECT_EQ(done.load(), kChunks);
  EXPECT_TRUE(others_finished_first) << "the other thread did not take the stalled one's chunks";
}

TEST(ThreadPoolTest, ParallelForChunksRunsOwnSharesFrontToBackAndStealsFromTheBack) {
  // Thread t owns chunks [C*t/T, C*(t+1)/T). Whatever the timing, each thread must take its own
  // chunks in ascending order (one forward stream) and other threads' chunks in descending order.
  for (int threads : {2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t chunks : {2, 5, 64, 1000}) {
      std::vector<std::vector<int64_t>> order(static_cast<size_t>(threads));
      pool.ParallelForChunks(chunks, 1, [&](int64_t begin, int64_t, int thread) {
        order[static_cast<size_t>(thread)].push_back(begin);
      });
      const int64_t owners = std::min<int64_t>(threads, chunks);
      const auto owner_of = [&](int64_t c) {
        for (int64_t t = 0; t < owners; ++t) {
          if (c < chunks * (t + 1) / owners) return t;
        }
        return owners;
      };
      int64_t total = 0;
      for (int t = 0; t < threads; ++t) {
        std::vector<int64_t> last(static_cast<size_t>(owners), -1);
        for (int64_t c : order[static_cast<size_t>(t)]) {
          const int64_t owner = owner_of(c);
          int64_t& prev = last[static_cast<size_t>(owner)];
          if (owner == t) {
            EXPECT_GT(c, prev) << "own chunks out of order, thread " << t;
          } else if (prev >= 0) {
            EXPECT_LT(c, prev) << "stolen chunks not from the back, thread " << t;
          }
          prev = c;
        }
        total += static_cast<int64_t>(order[static_cast<size_t>(t)].size());
      }
      EXPECT_EQ(total, chunks);
    }
  }
}

TEST(ThreadPoolTest, RunsManyConsecutiveJobs) {
  ThreadPool pool(3);
  int64_t total = 0;
  std::vector<int64_t> partial(3);
  for (int round = 0; round < 300; ++round) {
    std::fill(partial.begin(), partial.end(), 0);
    pool.ParallelFor(30, 1, [&](int64_t begin, int64_t end, int thread) {
      for (int64_t i = begin; i < end; ++i) partial[static_cast<size_t>(thread)] += i;
    });
    total += partial[0] + partial[1] + partial[2];
  }
  EXPECT_EQ(total, 300 * (29 * 30 / 2));
}

// Each round, every thread writes its slot, waits at the barrier and reads every other slot: a
// thread passing the barrier early, or a write not yet visible, shows as a stale value.
TEST(ThreadPoolTest, RunOnAllRunsEveryThreadAndBarriersSeparateItsPhases) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    std::vector<std::atomic<int64_t>> slots(static_cast<size_t>(threads));
    std::atomic<int> mismatches{0}, calls{0};
    constexpr int kRounds = 200, kCalls = 3;
    int base = 0;  // the rounds of earlier calls: the barrier counts carry over between calls
    for (int call = 0; call < kCalls; ++call, base += kRounds) {
      pool.RunOnAll([&](int thread) {
        calls++;
        for (int round = base + 1; round <= base + kRounds; ++round) {
          slots[static_cast<size_t>(thread)].store(round, std::memory_order_relaxed);
          pool.Barrier(thread);
          for (int t = 0; t < threads; ++t) {
            const int64_t seen = slots[static_cast<size_t>(t)].load(std::memory_order_relaxed);
            if (seen != round) mismatches++;
          }
          pool.Barrier(thread);
        }
      });
    }
    EXPECT_EQ(calls.load(), kCalls * threads);
    EXPECT_EQ(mismatches.load(), 0) << threads << " threads";
  }
}

// Thread 1 reaches the barrier first (thread 0 waits until thread 1's idle work has run), so it
// runs idle() while it waits, until idle() says it is done; thread 0 arrives last and does not
// wait, so its idle() never runs.
TEST(ThreadPoolTest, BarrierRunsIdleWorkOnlyWhileWaitingAndUntilItIsDone) {
  ThreadPool pool(2);
  constexpr int kIdleCalls = 5;
  std::atomic<int> waiter_calls{0}, last_calls{0};
  std::atomic<bool> passed{false};
  pool.RunOnAll([&](int thread) {
    if (thread == 1) {
      pool.Barrier(thread, [&] { return ++waiter_calls < kIdleCalls; });
      passed = true;
    } else {
      while (waiter_calls.load() < kIdleCalls) {
      }
      EXPECT_FALSE(passed.load()) << "thread 1 left the barrier before thread 0 reached it";
      pool.Barrier(thread, [&] { return ++last_calls < kIdleCalls; });
    }
  });
  EXPECT_EQ(waiter_calls.load(), kIdleCalls);
  EXPECT_EQ(last_calls.load(), 0);

  ThreadPool single(1);
  single.RunOnAll(
      [&](int thread) { single.Barrier(thread, [&] { return ++last_calls < kIdleCalls; }); });
  EXPECT_EQ(last_calls.load(), 0);
}

TEST(IdlePrefetchTest, ReportsWorkLeftUntilEveryLineIsRequested) {
  std::vector<uint8_t> bytes(64 * 9);
  IdlePrefetch nine_lines(bytes.data(), bytes.size());
  EXPECT_TRUE(nine_lines());   // lines 0-3
  EXPECT_TRUE(nine_lines());   // 4-7
  EXPECT_FALSE(nine_lines());  // 8
  EXPECT_FALSE(nine_lines());
  IdlePrefetch nothing(bytes.data(), 0);
  EXPECT_FALSE(nothing());
}

TEST(ChunkSharesTest, EveryChunkIsClaimedOnceAndOwnersTakeTheirShareFrontToBack) {
  for (int threads : {1, 2, 3, 5}) {
    for (int64_t chunks : {1, 2, 7, 100}) {
      ThreadPool pool(threads);
      ChunkShares shares(threads);
      const int owners = static_cast<int>(std::min<int64_t>(threads, chunks));
      shares.Reset(chunks, threads);  // owners: min(threads, chunks)
      std::vector<std::atomic<int>> hits(static_cast<size_t>(chunks));
      std::vector<std::vector<int64_t>> taken(static_cast<size_t>(threads));
      pool.RunOnAll([&](int thread) {
        for (int64_t c = shares.Claim(thread); c >= 0; c = shares.Claim(thread)) {
          hits[static_cast<size_t>(c)]++;
          taken[static_cast<size_t>(thread)].push_back(c);
        }
      });
      for (int64_t c = 0; c < chunks; ++c) EXPECT_EQ(hits[static_cast<size_t>(c)].load(), 1);
      for (int t = owners; t < threads; ++t) {
        const auto [begin, end] = ChunkShares::InitialShare(chunks, threads, t);
        EXPECT_EQ(begin, end) << "thread " << t << " owns no chunks";
      }
      for (int t = 0; t < owners; ++t) {
        // Its own chunks come first, in order; stolen ones (from other shares) may follow.
        const int64_t begin = chunks * t / owners, end = chunks * (t + 1) / owners;
        EXPECT_EQ(ChunkShares::InitialShare(chunks, threads, t), std::make_pair(begin, end));
        const auto& mine = taken[static_cast<size_t>(t)];
        int64_t expect = begin;
        for (int64_t c : mine) {
          if (c < begin || c >= end) break;
          EXPECT_EQ(c, expect++) << "thread " << t;
        }
      }
    }
  }
}

}  // namespace
}  // namespace infernet::cpu
