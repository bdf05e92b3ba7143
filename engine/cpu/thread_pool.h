// A fixed set of threads running one parallel-for at a time with static partitioning.
//
// Work is split into contiguous, equal shares decided only by the range and the thread count, and
// callers partition only over independent outputs (matrix rows, heads, tokens), never over the
// terms of one sum; so results never depend on the number of threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "engine/cpu/chunk_shares.h"

namespace infernet::cpu {

class ThreadPool {
 public:
  // REQUIRES: n_threads >= 1. The calling thread counts as thread 0; n_threads - 1 are started.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(begin, end, thread) for each thread's share of [0, n): thread t of T gets
  // [n*t/T, n*(t+1)/T); empty shares are skipped. Returns when all shares are done. At most
  // max(1, n / min_per_thread) threads take part, so tiny ranges run inline without a hand-off.
  // `thread` indexes per-thread scratch (< size()). Not reentrant.
  template <class F>
  void ParallelFor(int64_t n, int64_t min_per_thread, F&& fn) {
    if (n <= 0) return;
    int64_t threads = n_threads_;
    if (min_per_thread > 1) {
      threads = std::min<int64_t>(threads, std::max<int64_t>(1, n / min_per_thread));
    }
    if (threads == 1) {
      fn(int64_t{0}, n, 0);
      return;
    }
    struct Job {
      F* fn;
      int64_t n;
      int64_t threads;
    } job{&fn, n, threads};
    Dispatch(
        [](void* ctx, int thread) {
          auto* j = static_cast<Job*>(ctx);
          if (thread >= j->threads) return;
          const int64_t begin = j->n * thread / j->threads;
          const int64_t end = j->n * (thread + 1) / j->threads;
          if (begin < end) (*j->fn)(begin, end, thread);
        },
        &job);
  }

  // Calls fn(begin, end, thread) on chunks [c*chunk, min(n, (c+1)*chunk)). Each thread owns an
  // even, contiguous share of the chunks and runs it front to back, so its reads stay one stream
  // that prefetching can run ahead of; a thread whose share is done takes chunks from the back of
  // another's, so one that was descheduled or started late does less of the work instead of
  // holding everyone up. Which thread runs a chunk varies from call to call: use only where chunks
  // write disjoint outputs. Not reentrant.
  template <class F>
  void ParallelForChunks(int64_t n, int64_t chunk, F&& fn) {
    if (n <= 0) return;
    if (chunk < 1) chunk = 1;
    constexpr int64_t kMaxChunks = ChunkShares::kMaxChunks;
    if ((n + chunk - 1) / chunk > kMaxChunks) chunk = (n + kMaxChunks - 1) / kMaxChunks;
    const int64_t chunks = (n + chunk - 1) / chunk;
    if (n_threads_ == 1 || chunks == 1) {
      for (int64_t begin = 0; begin < n; begin += chunk) fn(begin, std::min(n, begin + chunk), 0);
      return;
    }
    shares_.Reset(chunks, n_threads_);
    struct Job {
      ChunkShares* shares;
      F* fn;
      int64_t n;
      int64_t chunk;
    } job{&shares_, &fn, n, chunk};
    Dispatch(
        [](void* ctx, int thread) {
          auto* j = static_cast<Job*>(ctx);
          for (;;) {
            const int64_t c = j->shares->Claim(thread);
            if (c < 0) return;
            (*j->fn)(c * j->chunk, std::min(j->n, (c + 1) * j->chunk), thread);
          }
        },
        &job);
  }

  // Calls fn(thread) on every thread at once and returns when all are done: for work in phases
  // that the threads separate with Barrier(), in one hand-off instead of one per phase.
  template <class F>
  void RunOnAll(F&& fn) {
    if (n_threads_ == 1) {
      fn(0);
      return;
    }
    Dispatch([](void* ctx, int thread) { (*static_cast<F*>(ctx))(thread); }, &fn);
  }

  // Inside RunOnAll only, called by every thread the same number of times, `thread` being the
  // index RunOnAll passed it: returns once all have called it, and everything each wrote before
  // its call is visible to all after theirs.
  void Barrier(int thread) {
    Barrier(thread, [] { return false; });
  }
  // Barrier() that calls idle() while it waits, until idle() returns false: work that only
  // helps the next phase (prefetching its data), done in time otherwise spent spinning.
  //
  // Each thread counts its arrivals in a line of its own and waits until every other count has
  // caught up: no line is written by two threads, so the last to arrive only stores and reads,
  // where a shared counter made it wait for that line to come over from the other core (a
  // locked add) before it could publish the round. When this VM's two vCPUs sit on distant cores
  // a transfer costs ~0.25 us, and decode crosses 72 barriers a token (100m models): 0.2 %
  // faster decode there, in alternated A/B.
  template <class Idle>
  void Barrier(int thread, Idle&& idle) {
    if (n_threads_ == 1) return;
    std::atomic<uint64_t>& mine = arrivals_[static_cast<size_t>(thread)].count;
    const uint64_t round = mine.load(std::memory_order_relaxed) + 1;
    mine.store(round, std::memory_order_release);
    bool busy = true;
    int waits = 0;
    for (int t = 0; t < n_threads_; ++t) {
      if (t == thread) continue;
      while (arrivals_[static_cast<size_t>(t)].count.load(std::memory_order_acquire) < round) {
        if (busy) {
          busy = idle();
        } else {
          Relax(waits++);
        }
      }
    }
  }

 private:
  // Spins (pause), then yields, so that when threads outnumber free cores the thread being
  // waited for gets to run.
  static void Relax(int iteration);
  using Call = void (*)(void*, int);
  // Runs call(ctx, t) on every thread t (the caller runs t = 0) and waits for all.
  void Dispatch(Call call, void* ctx);
  void WorkerLoop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  ChunkShares shares_;
  // What a worker reads on waking, in the line it spins on, so one transfer between cores brings
  // it all: when the VM's two vCPUs sit far apart (this Zen 4 host at times), each transfer costs
  // ~0.25 us, and a 2-thread hand-off with data went from ~7.0 to ~5.8 us (~1.9 to ~1.8 near).
  alignas(64) std::atomic<uint64_t> generation_{0};
  Call call_ = nullptr;
  void* ctx_ = nullptr;
  bool stop_ = false;
  alignas(64) std::atomic<int> pending_{0};
  // Barrier(): how many times each thread has arrived, one cache line each.
  struct alignas(64) Arrivals {
    std::atomic<uint64_t> count{0};
  };
  std::unique_ptr<Arrivals[]> arrivals_;
};

}  // namespace infernet::cpu
