// ComputeStream::FeedForward for a few rows (decode) in one hand-off to the threads.
//
// Done op by op, a decode step's feed-forward half is three hand-offs (gate and up, SwiGLU, down)
// with RMSNorm, two activation quantizations and the residual add run by the calling thread in
// between, each reading rows the other threads just wrote. When the two vCPUs of the Zen 4 VM
// sit far apart, every hand-off and every such read costs several times more (docs/benchmarks.md,
// twelfth session). Here all threads run the half-layer together, in phases separated by
// barriers:
//   1. each thread normalizes x and prepares the gate/up activations itself (a few KiB of work,
//      cheaper than waiting for one thread to share them);
//   2. row blocks of gate and up together, each followed by SwiGLU on its rows;
//   3. the down activations, their quantization blocks split over the threads;
//   4. row blocks of down, each followed by the residual add on its rows.
// A thread waiting at the barriers before 4 prefetches the front of its share of down's rows
// (IdlePrefetch): the wait does the first misses of the next phase's stream.
// Every element gets the same operations as in the op-by-op path, so results are bit-identical
// to it (tested).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/cpu/chunk_shares.h"
#include "engine/cpu/cpu_types.h"
#include "engine/cpu/thread_pool.h"

namespace infernet::cpu {

class FusedFeedForward {
 public:
  // Batches of more rows go op by op: their products dominate and already split well.
  static constexpr int64_t kMaxRows = 4;

  explicit FusedFeedForward(int n_threads);

  // x (n rows of n_embd) += down(SiLU(gate xn) * (up xn)), xn = RmsNorm(x, norm, eps).
  // `h`, `u`: n * n_ff floats; `y`: n * n_embd floats (scratch). REQUIRES: 1 <= n <= kMaxRows.
  void Run(ThreadPool& pool, CpuTensor& x, const CpuWeight& norm, const CpuWeight& gate,
           const CpuWeight& up, const CpuWeight& down, float eps, int64_t n, float* h, float* u,
           float* y);

 private:
  std::vector<std::vector<uint8_t>> per_thread_;  // each thread's xn and gate/up activations
  std::vector<uint8_t> down_act_;                 // the down product's activations (shared)
  ChunkShares gate_up_shares_;
  ChunkShares down_shares_;
};

}  // namespace infernet::cpu
