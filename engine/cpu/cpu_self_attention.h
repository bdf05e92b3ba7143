// ComputeStream::SelfAttention for a few rows (decode) in one hand-off to the threads.
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

#include <cstdint>
#include <vector>

#include "engine/backend.h"
#include "engine/cpu/chunk_shares.h"
#include "engine/cpu/cpu_types.h"
#include "engine/cpu/rope_table.h"
#include "engine/cpu/thread_pool.h"

namespace infernet::cpu {

class FusedSelfAttention {
 public:
  // Batches of more rows go op by op: their products dominate and already split well.
  static constexpr int64_t kMaxRows = 4;

  explicit FusedSelfAttention(int n_threads);

  // The CPU weights of SelfAttentionWeights (biases may be null).
  struct Weights {
    const CpuWeight& norm;
    const CpuWeight *wq, *bq, *wk, *bk, *wv, *bv, *wo;
  };
  // Shared working tensors (SelfAttentionScratch): y (xn) receives the output projection.
  struct Scratch {
    CpuTensor &y, &q, &k, &v, &attn;
  };

  // REQUIRES: 1 <= slots.size() <= kMaxRows; q_rope and k_rope differ only in n_head.
  void Run(ThreadPool& pool, RopeTable& rope_table, CpuTensor& x, const Weights& w, float eps,
           const RopeParams& q_rope, const RopeParams& k_rope, const AttentionParams& attention,
           CpuKvCache& cache, int64_t layer, const TokenSlots& slots, const Scratch& scratch);

 private:
  std::vector<std::vector<uint8_t>> per_thread_;  // xn, activations and attention scratch
  ChunkShares qkv_shares_;
  ChunkShares wo_shares_;
};

}  // namespace infernet::cpu
