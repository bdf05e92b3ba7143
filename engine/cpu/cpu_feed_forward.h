// ComputeStream::FeedForward for a few rows (decode) in one hand-off to the threads; also the
// second half of each layer in ComputeStream::DecoderLayers (cpu_backend.cc).
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

#include <array>
#include <cstdint>
#include <vector>

#include "engine/cpu/chunk_shares.h"
#include "engine/cpu/cpu_matmul.h"
#include "engine/cpu/cpu_types.h"
#include "engine/cpu/idle_prefetch.h"
#include "engine/cpu/thread_pool.h"

namespace infernet::cpu {

class FusedFeedForward {
 public:
  // Batches of more rows go op by op: their products dominate and already split well.
  static constexpr int64_t kMaxRows = 4;
  // Plans held at once (see FusedSelfAttention::kSlots).
  static constexpr int kSlots = 2;

  explicit FusedFeedForward(int n_threads);

  // x (n rows of n_embd) += down(SiLU(gate xn) * (up xn)), xn = RmsNorm(x, norm, eps).
  // `h`, `u`: n * n_ff floats; `y`: n * n_embd floats (scratch).
  struct Args {
    CpuTensor* x;
    const CpuWeight *norm, *gate, *up, *down;
    float eps;
    int64_t n;
    float *h, *u, *y;
  };

  // REQUIRES: 1 <= args.n <= kMaxRows.
  void Run(ThreadPool& pool, const Args& args);

  // Run in steps, as FusedSelfAttention's: Reserve(ScratchBytes) of every layer before the
  // hand-off, Prepare(slot, ...) on one thread where no thread uses that slot, RunThread on all;
  // the first RunThread of a slot after a barrier that follows everything it reads.
  struct ScratchSize {
    size_t per_thread, shared;
  };
  static ScratchSize ScratchBytes(const Args& args);
  void Reserve(ScratchSize bytes);
  void Prepare(int slot, int threads, const Args& args);
  void RunThread(int slot, ThreadPool& pool, int thread);
  // After Prepare(slot): the front of `thread`'s first share of the gate rows, for it to
  // prefetch while it waits for that barrier.
  IdlePrefetch FirstShare(int slot, int thread) const;

 private:
  // Where the scratch holds what (see ScratchBytes), and how much of it there is.
  struct Layout {
    bool shared_format = false;  // up reads the gate activations
    bool quantize_down = false;  // down reads quantized activations from down_act_
    size_t xn_bytes = 0, gate_bytes = 0, down_stride = 0;
    ScratchSize size{0, 0};
  };
  static Layout LayoutFor(const Args& args);

  // What Prepare works out for RunThread.
  struct Plan {
    Args args{};
    int threads = 1;
    Layout layout;
    int64_t n_embd = 0, n_ff = 0;
    int64_t down_block = 1, down_blocks = 0;
    RowChunks gate_up_chunks{}, down_chunks{};
  };

  std::vector<std::vector<uint8_t>> per_thread_;  // each thread's xn and gate/up activations
  std::vector<uint8_t> down_act_;                 // the down product's activations (shared)
  std::array<Plan, kSlots> plans_{};
  std::vector<ChunkShares> gate_up_shares_, down_shares_;  // one of each per slot
};

}  // namespace infernet::cpu
