#include "engine/cpu/chunk_shares.h"

#include <algorithm>

namespace infernet::cpu {

std::pair<int64_t, int64_t> ChunkShares::InitialShare(int64_t chunks, int threads, int thread) {
  const int64_t owners = std::min<int64_t>(threads, chunks);
  if (thread >= owners) return {0, 0};
  return {chunks * thread / owners, chunks * (thread + 1) / owners};
}

void ChunkShares::Reset(int64_t chunks, int threads) {
  owners_ = static_cast<int>(std::min<int64_t>(threads, chunks));
  for (int t = 0; t < owners_; ++t) {
    const auto [begin, end] = InitialShare(chunks, threads, t);
    shares_[static_cast<size_t>(t)].bounds.store(
        static_cast<uint64_t>(begin) << 32 | static_cast<uint64_t>(end), std::memory_order_relaxed);
  }
}

int64_t ChunkShares::Share::TakeFront() {
  uint64_t cur = bounds.load(std::memory_order_relaxed);
  for (;;) {
    const uint64_t next = cur >> 32, end = cur & 0xFFFFFFFFu;
    if (next >= end) return -1;
    if (bounds.compare_exchange_weak(cur, (next + 1) << 32 | end, std::memory_order_relaxed)) {
      return static_cast<int64_t>(next);
    }
  }
}

int64_t ChunkShares::Share::TakeBack() {
  uint64_t cur = bounds.load(std::memory_order_relaxed);
  for (;;) {
    const uint64_t next = cur >> 32, end = cur & 0xFFFFFFFFu;
    if (next >= end) return -1;
    if (bounds.compare_exchange_weak(cur, next << 32 | (end - 1), std::memory_order_relaxed)) {
      return static_cast<int64_t>(end - 1);
    }
  }
}

int64_t ChunkShares::Claim(int thread) {
  if (thread < owners_) {
    const int64_t own = shares_[static_cast<size_t>(thread)].TakeFront();
    if (own >= 0) return own;
  }
  for (int i = 1; i <= owners_; ++i) {
    const int victim = (thread + i) % owners_;
    if (victim == thread) continue;
    const int64_t stolen = shares_[static_cast<size_t>(victim)].TakeBack();
    if (stolen >= 0) return stolen;
  }
  return -1;
}

}  // namespace infernet::cpu
