#include "engine/cpu/cpu_self_attention.h"

#include <algorithm>
#include <array>

#include "engine/cpu/cpu_attention.h"
#include "engine/cpu/cpu_matmul.h"
#include "engine/cpu/float_vector.h"
#include "engine/quant/quant.h"

namespace infernet::cpu {
FusedSelfAttention::FusedSelfAttention(int n_threads)
    : per_thread_(static_cast<size_t>(n_threads)), qkv_shares_(n_threads), wo_shares_(n_threads) {}

void FusedSelfAttention::Run(ThreadPool& pool, RopeTable& rope_table, CpuTensor& x,
                             const Weights& w, float eps, const RopeParams& q_rope,
                             const RopeParams& k_rope, const AttentionParams& attention,
                             CpuKvCache& cache, int64_t layer, const TokenSlots& slots,
                             const Scratch& scratch) {
  const int threads = pool.size();
  const int64_t n = slots.size();
  const int64_t n_embd = x.cols();
  const int64_t q_dim = w.wo->row_length();

  // Q, K and V as one range of row blocks, as MatMuls splits them.
  const std::array<const CpuWeight*, 3> weights = {w.wq, w.wk, w.wv};
  const MatMulTarget qkv_targets[] = {{w.wq, w.bq ? w.bq->floats() : nullptr, scratch.q.data()},
                                      {w.wk, w.bk ? w.bk->floats() : nullptr, scratch.k.data()},
                                      {w.wv, w.bv ? w.bv->floats() : nullptr, scratch.v.data()}};
  const ProductBlocks qkv(qkv_targets);
  const int64_t qkv_per_chunk = qkv.ChunkBlocks(n, threads);
  qkv_shares_.Reset((qkv.blocks() + qkv_per_chunk - 1) / qkv_per_chunk, threads);
  const RowChunks wo_chunks = RowChunks::For(n_embd, w.wo->row_bytes(), n, threads);
  wo_shares_.Reset(wo_chunks.count, threads);

  // Per thread: xn, the Q/K/V activations (one region per distinct format), the output
  // projection's activations, then attention scratch.
  std::array<size_t, 3> act_offset{};
  std::array<int, 3> act_owner{};  // the product whose activations each one reads
  size_t need = static_cast<size_t>(n * n_embd) * sizeof(float);
  for (int p = 0; p < 3; ++p) {
    act_owner[p] = p;
    for (int o = 0; o < p; ++o) {
      if (quant::ActivationType(weights[o]->type()) == quant::ActivationType(weights[p]->type())) {
        act_owner[p] = act_owner[o];
        break;
      }
    }
    if (act_owner[p] == p) {
      act_offset[p] = need;
      need += PreparedActivationBytes(*weights[p], n, n_embd);
    }
  }
  const size_t wo_offset = need;
  need += PreparedActivationBytes(*w.wo, n, q_dim);
  int64_t max_len = 0;
  bool shared_sequence = false;
  for (int64_t i = 0; i < n; ++i) {
    max_len = std::max<int64_t>(max_len, slots.pos[static_cast<size_t>(i)] + 1);
    for (int64_t j = 0; j < i; ++j) {
      shared_sequence |= slots.seq[static_cast<size_t>(i)] == slots.seq[static_cast<size_t>(j)];
    }
  }
  const size_t scores_offset = (need + 63) / 64 * 64;
  need = scores_offset + AttentionScratchFloats(attention, max_len, cache.type()) * sizeof(float);
  for (auto& buffer : per_thread_) {
    if (buffer.size() < need) buffer.resize(need);
  }
  rope_table.Prepare(pool, q_rope.freq_base, q_rope.freq_scale, q_rope.n_rot, slots.pos);
  const bool neox = q_rope.ordering == RopeOrdering::kNeox;
  const int64_t items = n * attention.n_head_kv;
  const int64_t group = attention.n_head / attention.n_head_kv;
  const int64_t head_dim = attention.head_dim;

  pool.RunOnAll([&](int thread) {
    uint8_t* mine = per_thread_[static_cast<size_t>(thread)].data();
    auto* xn = reinterpret_cast<float*>(mine);
    for (int64_t t = 0; t < n; ++t) {
      RmsNormF32(x.row(t), w.norm.floats(), n_embd, eps, xn + t * n_embd);
    }
    std::array<PreparedActivations, 3> acts{};
    for (int p = 0; p < 3; ++p) {
      acts[p] = act_owner[p] == p
                    ? PrepareActivations(*weights[p], xn, n, n_embd, mine + act_offset[p])
                    : acts[act_owner[p]];
    }

    for (int64_t c = qkv_shares_.Claim(thread); c >= 0; c = qkv_shares_.Claim(thread)) {
      qkv.Run(acts, c * qkv_per_chunk, std::min(qkv.blocks(), (c + 1) * qkv_per_chunk), n);
    }
    pool.Barrier();

    // The same items per thread in both loops, as CausalAttention splits them.
    const int64_t item_begin = items * thread / threads, item_end = items * (thread + 1) / threads;
    for (int64_t item = item_begin; item < item_end; ++item) {
      const int64_t i = item / attention.n_head_kv, g = item % attention.n_head_kv;
      const float* cos = rope_table.cos(i);
      const float* sin = rope_table.sin(i);
      float* k = scratch.k.row(i);
      RotateHeads(k, head_dim, k_rope.n_rot, neox, cos, sin, g, g + 1);
      RotateHeads(scratch.q.row(i), head_dim, q_rope.n_rot, neox, cos, sin, g * group,
                  (g + 1) * group);
      const int32_t seq = slots.seq[static_cast<size_t>(i)];
      const int32_t pos = slots.pos[static_cast<size_t>(i)];
      cache.StoreK(layer, seq, g, pos, 1, k + g * head_dim);
      cache.StoreV(layer, seq, g, pos, 1, scratch.v.row(i) + g * head_dim);
    }
    if (shared_sequence) pool.Barrier();
    auto* scores = reinterpret_cast<float*>(mine + scores_offset);
    for (int64_t item = item_begin; item < item_end; ++item) {
      AttendItem(scratch.q, cache, layer, slots, attention, item, max_len, scores, scratch.attn);
    }
    pool.Barrier(ShareOfRows(*w.wo, wo_chunks, threads, thread));

    const PreparedActivations wo_act =
        PrepareActivations(*w.wo, scratch.attn.data(), n, q_dim, mine + wo_offset);
    for (int64_t c = wo_shares_.Claim(thread); c >= 0; c = wo_shares_.Claim(thread)) {
      MultiplyRowsAndAdd(*w.wo, wo_act.data, wo_act.stride, n, wo_chunks.Begin(c), wo_chunks.End(c),
                         scratch.y.data(), x.data());
    }
  });
}

}  // namespace infernet::cpu
