// Prefetching a thread's next share of a weight while it waits at a barrier.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace infernet::cpu {

// An idle() for ThreadPool::Barrier: each call prefetches the next few cache lines of
// [begin, begin + bytes) into L2, and returns false once all are requested.
class IdlePrefetch {
 public:
  IdlePrefetch(const uint8_t* begin, size_t bytes) : next_(begin), end_(begin + bytes) {}

  bool operator()() {
    for (int i = 0; i < kLinesPerCall && next_ < end_; ++i, next_ += 64) {
      __builtin_prefetch(next_, 0, 2);
    }
    return next_ < end_;
  }

 private:
  static constexpr int kLinesPerCall = 4;
  const uint8_t* next_;
  const uint8_t* end_;
};

}  // namespace infernet::cpu
