// ComputeStream::SelfAttention for a few rows (decode) in one hand-off to the threads; also the
// first half of each layer in ComputeStream::DecoderLayers, which runs every layer of a decode
// step in one hand-off (cpu_backend.cc).
//
// Op by op, a decode step's attention half is three hand-offs (Q/K/V, attention, output
// projection) with RMSNorm, RoPE, the KV store, two activation quantizations and the residual
// add run by the calling thread in between (see cpu_feed_forward.h for why that costs on a VM
// whose vCPUs sit far apart). Here all threads run it together, in phases separated by barriers:
//   1. each thread normalizes x and prepares the Q/K/V activations itself;
//   2. row blocks of Q, K and V (with their biases);
//   3. per (row, KV head) item: RoPE of its K head and query heads and the store of its K and V,
//      then, once every item is stored (a barrier, only when two rows share a sequence, since
//      otherwise an item reads no cache row another item writes), its attention;
//   4. each thread prepares the output projection's activations itself, then row blocks of it,
//      each followed by the residual add on its rows. A thread waiting for the others' attention
//      prefetches the front of its share of those rows.
// Every element gets the same operations as in the op-by-op path, so results are bit-identical
// to it (tested).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "engine/backend.h"
#include "engine/cpu/chunk_shares.h"
#include "engine/cpu/cpu_matmul.h"
#include "engine/cpu/cpu_types.h"
#include "engine/cpu/idle_prefetch.h"
#include "engine/cpu/rope_table.h"
#include "engine/cpu/thread_pool.h"

namespace infernet::cpu {

class FusedSelfAttention {
 public:
  // Batches of more rows go op by op: their products dominate and already split well.
  static constexpr int64_t kMaxRows = 4;
  // Plans held at once: a caller running several layers in one hand-off prepares the next
  // layer's while the threads run this one's.
  static constexpr int kSlots = 2;

  explicit FusedSelfAttention(int n_threads);

  // The CPU weights of SelfAttentionWeights (biases may be null).
  struct Weights {
    const CpuWeight* norm;
    const CpuWeight *wq, *bq, *wk, *bk, *wv, *bv, *wo;
  };
  // Shared working tensors (SelfAttentionScratch): y (xn) receives the output projection.
  struct Scratch {
    CpuTensor *y, *q, *k, *v, *attn;
  };
  // Everything one layer's attention half works on.
  struct Args {
    CpuTensor* x;
    Weights w;
    float eps;
    RopeParams q_rope, k_rope;  // differ only in n_head
    AttentionParams attention;
    CpuKvCache* cache;
    int64_t layer;
    TokenSlots slots;
    Scratch scratch;
  };

  // REQUIRES: 1 <= args.slots.size() <= kMaxRows.
  void Run(ThreadPool& pool, RopeTable& rope_table, const Args& args);

  // Run in steps, for callers that run it inside a hand-off of their own:
  //   - before the hand-off, rope_table.Prepare for the rows' positions, and Reserve(ScratchBytes)
  //     of every layer the hand-off will run (the per-thread scratch is not resized inside it);
  //   - Prepare(slot, ...) on one thread, at a point where no thread uses that slot; it is seen
  //     by the others after their next barrier;
  //   - RunThread(slot, ...) on every thread of the pool at once.
  static size_t ScratchBytes(const Args& args);
  void Reserve(size_t bytes);
  void Prepare(int slot, int threads, const RopeTable& rope_table, const Args& args);
  void RunThread(int slot, ThreadPool& pool, int thread);
  // After Prepare(slot): the front of `thread`'s first share of the Q/K/V rows, for it to
  // prefetch while it waits for the barrier before them.
  IdlePrefetch FirstShare(int slot, int thread) const;

 private:
  // Where each thread's scratch holds what: xn, the Q/K/V activations (one region per distinct
  // format), the output projection's activations, then attention scratch.
  struct Layout {
    std::array<size_t, 3> act_offset{};
    std::array<int, 3> act_owner{};  // the product whose activations each one reads
    size_t wo_offset = 0, scores_offset = 0, bytes = 0;
    int64_t max_len = 0;
    bool shared_sequence = false;  // two rows of one sequence
  };
  static Layout LayoutFor(const Args& args);

  // What Prepare works out for RunThread.
  struct Plan {
    Args args{};
    const RopeTable* rope_table = nullptr;
    Layout layout;
    ProductBlocks qkv;  // Q, K and V as one range of row blocks, as MatMuls splits them
    int threads = 1;
    int64_t qkv_per_chunk = 1;
    RowChunks wo_chunks{};
  };

  std::vector<std::vector<uint8_t>> per_thread_;  // xn, activations and attention scratch
  std::array<Plan, kSlots> plans_{};
  std::vector<ChunkShares> qkv_shares_, wo_shares_;  // one of each per slot
};

}  // namespace infernet::cpu
