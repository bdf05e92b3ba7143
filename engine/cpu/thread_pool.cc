#include "engine/cpu/thread_pool.h"

#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace infernet::cpu {
namespace {

// Pauses this many times (~50 us: a pause takes ~25 ns on this Zen 4 VM) before yielding. A
// sched_yield takes ~0.5 us there, so a waiter that has moved on to yielding notices the thread
// it waits for up to that late; with the earlier 128 pauses (~3 us) that was the case at most of
// decode's barriers (a barrier's idle prefetching counted towards the 128), and yielding later
// measured 0.3 % faster decode when the vCPUs were far apart.
constexpr int kPausesBeforeYield = 2048;

// Spins, then yields so that, when threads outnumber free cores, the thread being waited for
// gets to run.
inline void CpuRelax(int iteration) {
  if (iteration < kPausesBeforeYield) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}

// Waiters spin this long before sleeping: decode issues many short ops back to back, and a
// futex wake-up per op would cost more than the op.
constexpr auto kSpinTime = std::chrono::microseconds(300);

template <class Pred>
void SpinThenWait(const std::atomic<uint64_t>& word, uint64_t old, Pred done) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0;; ++i) {
    if (done()) return;
    CpuRelax(i);
    if ((i & 63) == 63 && std::chrono::steady_clock::now() - start > kSpinTime) break;
  }
  while (!done()) word.wait(old, std::memory_order_acquire);
}

}  // namespace

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(n_threads < 1 ? 1 : n_threads),
      shares_(n_threads_),
      arrivals_(std::make_unique<Arrivals[]>(static_cast<size_t>(n_threads_))) {
  workers_.reserve(n_threads_ - 1);
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  stop_ = true;
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::Dispatch(Call call, void* ctx) {
  call_ = call;
  ctx_ = ctx;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  call(ctx, 0);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0;; ++i) {
    int left = pending_.load(std::memory_order_acquire);
    if (left == 0) return;
    CpuRelax(i);
    if ((i & 63) == 63 && std::chrono::steady_clock::now() - start > kSpinTime) {
      pending_.wait(left, std::memory_order_acquire);
    }
  }
}

void ThreadPool::Relax(int iteration) { CpuRelax(iteration); }

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    SpinThenWait(generation_, seen,
                 [&] { return generation_.load(std::memory_order_acquire) != seen; });
    seen = generation_.load(std::memory_order_acquire);
    if (stop_) return;
    call_(ctx_, index);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
  }
}

}  // namespace infernet::cpu
