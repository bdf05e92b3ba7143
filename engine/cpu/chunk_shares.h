// Chunks of a range split into even, contiguous shares, one per owner thread, with stealing.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

namespace infernet::cpu {

// An owner takes the chunks of its own share front to back, so its reads stay one stream that
// prefetching can run ahead of; a thread whose share is done takes chunks from the back of
// another's, so one that was descheduled or started late does less of the work instead of holding
// everyone up. Which thread runs a chunk varies from use to use.
class ChunkShares {
 public:
  static constexpr int64_t kMaxChunks = INT32_MAX;  // a share's bounds are packed in 64 bits

  explicit ChunkShares(int max_owners) : shares_(static_cast<size_t>(max_owners)) {}

  // Splits chunks [0, chunks) among owners = min(threads, chunks) threads: owner t gets
  // [chunks*t/owners, chunks*(t+1)/owners). REQUIRES: 1 <= threads <= max_owners,
  // 0 <= chunks <= kMaxChunks; no Claim in progress.
  void Reset(int64_t chunks, int threads);
  // The chunks Reset(chunks, threads) gives `thread`: [first, second), empty for a non-owner.
  static std::pair<int64_t, int64_t> InitialShare(int64_t chunks, int threads, int thread);
  // The next chunk for `thread`: the front of its own share, else the back of the first other
  // non-empty share; -1 when all are empty.
  int64_t Claim(int thread);

 private:
  // One owner's chunks [next, end), both in one word so that the owner (taking the front) and
  // thieves (taking the back) claim with one compare-and-swap and never both get a chunk.
  struct alignas(64) Share {
    std::atomic<uint64_t> bounds{0};
    int64_t TakeFront();
    int64_t TakeBack();
  };

  std::vector<Share> shares_;
  int owners_ = 0;
};

}  // namespace infernet::cpu
