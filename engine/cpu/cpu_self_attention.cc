#include "engine/cpu/cpu_self_attention.h"

#include <algorithm>
#include <array>

#include "engine/cpu/cpu_attention.h"
#include "engine/cpu/cpu_matmul.h"
#include "engine/cpu/float_vector.h"
#include "engine/quant/quant.h"

namespace infernet::cpu {
FusedSelfAttention::FusedSelfAttention(int n_threads)
    : per_thread_(static_cast<size_t>(n_threads)) {
  for (int slot = 0; slot < kSlots; ++slot) {
    qkv_shares_.emplace_back(n_threads);
    wo_shares_.emplace_back(n_threads);
  }
}

FusedSelfAttention::Layout FusedSelfAttention::LayoutFor(const Args& args) {
  const int64_t n = args.slots.size();
  const int64_t n_embd = args.x->cols();
  const std::array<const CpuWeight*, 3> weights = {args.w.wq, args.w.wk, args.w.wv};
  Layout layout;
  size_t need = static_cast<size_t>(n * n_embd) * sizeof(float);
  for (int p = 0; p < 3; ++p) {
    layout.act_owner[p] = p;
    for (int o = 0; o < p; ++o) {
      if (quant::ActivationType(weights[o]->type()) == quant::ActivationType(weights[p]->type())) {
        layout.act_owner[p] = layout.act_owner[o];
        break;
      }
    }
    if (layout.act_owner[p] == p) {
      layout.act_offset[p] = need;
      need += PreparedActivationBytes(*weights[p], n, n_embd);
    }
  }
  layout.wo_offset = need;
  need += PreparedActivationBytes(*args.w.wo, n, args.w.wo->row_length());
  const TokenSlots& slots = args.slots;
  for (int64_t i = 0; i < n; ++i) {
    layout.max_len = std::max<int64_t>(layout.max_len, slots.pos[static_cast<size_t>(i)] + 1);
    for (int64_t j = 0; j < i; ++j) {
      layout.shared_sequence |=
          slots.seq[static_cast<size_t>(i)] == slots.seq[static_cast<size_t>(j)];
    }
  }
  layout.scores_offset = (need + 63) / 64 * 64;
  layout.bytes =
      layout.scores_offset +
      AttentionScratchFloats(args.attention, layout.max_len, args.cache->type()) * sizeof(float);
  return layout;
}

size_t FusedSelfAttention::ScratchBytes(const Args& args) { return LayoutFor(args).bytes; }

void FusedSelfAttention::Reserve(size_t bytes) {
  for (auto& buffer : per_thread_) {
    if (buffer.size() < bytes) buffer.resize(bytes);
  }
}

void FusedSelfAttention::Run(ThreadPool& pool, RopeTable& rope_table, const Args& args) {
  rope_table.Prepare(pool, args.q_rope.freq_base, args.q_rope.freq_scale, args.q_rope.n_rot,
                     args.slots.pos);
  Reserve(ScratchBytes(args));
  Prepare(0, pool.size(), rope_table, args);
  pool.RunOnAll([&](int thread) { RunThread(0, pool, thread); });
}

void FusedSelfAttention::Prepare(int slot, int threads, const RopeTable& rope_table,
                                 const Args& args) {
  Plan& p = plans_[static_cast<size_t>(slot)];
  p.args = args;
  p.rope_table = &rope_table;
  p.layout = LayoutFor(args);
  p.threads = threads;
  const int64_t n = args.slots.size();
  const Weights& w = args.w;
  const Scratch& scratch = args.scratch;
  const MatMulTarget qkv_targets[] = {{w.wq, w.bq ? w.bq->floats() : nullptr, scratch.q->data()},
                                      {w.wk, w.bk ? w.bk->floats() : nullptr, scratch.k->data()},
                                      {w.wv, w.bv ? w.bv->floats() : nullptr, scratch.v->data()}};
  p.qkv = ProductBlocks(qkv_targets);
  p.qkv_per_chunk = p.qkv.ChunkBlocks(n, threads);
  qkv_shares_[static_cast<size_t>(slot)].Reset(p.qkv.Chunks(p.qkv_per_chunk), threads);
  p.wo_chunks = RowChunks::For(args.x->cols(), w.wo->row_bytes(), n, threads);
  wo_shares_[static_cast<size_t>(slot)].Reset(p.wo_chunks.count, threads);
}

IdlePrefetch FusedSelfAttention::FirstShare(int slot, int thread) const {
  const Plan& p = plans_[static_cast<size_t>(slot)];
  const auto [first, last] =
      ChunkShares::InitialShare(p.qkv.Chunks(p.qkv_per_chunk), p.threads, thread);
  return p.qkv.Front(first * p.qkv_per_chunk, std::min(p.qkv.blocks(), last * p.qkv_per_chunk));
}

namespace {

// Requests the cache lines of [p, p + bytes) for reading or for writing, all at once.
void PrefetchLines(const void* p, size_t bytes, bool write) {
  const auto first = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{63};
  const auto end = reinterpret_cast<uintptr_t>(p) + bytes;
  for (uintptr_t line = first; line < end; line += 64) {
    if (write) {
      __builtin_prefetch(reinterpret_cast<const void*>(line), 1, 3);
    } else {
      __builtin_prefetch(reinterpret_cast<const void*>(line), 0, 3);
    }
  }
}

}  // namespace

void FusedSelfAttention::RunThread(int slot, ThreadPool& pool, int thread) {
  const Plan& p = plans_[static_cast<size_t>(slot)];
  const Args& args = p.args;
  const Layout& layout = p.layout;
  const Weights& w = args.w;
  const Scratch& scratch = args.scratch;
  const AttentionParams& attention = args.attention;
  CpuKvCache& cache = *args.cache;
  CpuTensor& x = *args.x;
  const TokenSlots& slots = args.slots;
  const RopeTable& rope_table = *p.rope_table;
  ChunkShares& qkv_shares = qkv_shares_[static_cast<size_t>(slot)];
  ChunkShares& wo_shares = wo_shares_[static_cast<size_t>(slot)];
  const int threads = p.threads;
  const int64_t n = slots.size();
  const int64_t n_embd = x.cols();
  const int64_t q_dim = w.wo->row_length();
  const int64_t items = n * attention.n_head_kv;
  const int64_t group = attention.n_head / attention.n_head_kv;
  const int64_t head_dim = attention.head_dim;
  const bool neox = args.q_rope.ordering == RopeOrdering::kNeox;
  const std::array<const CpuWeight*, 3> weights = {w.wq, w.wk, w.wv};
  const ProductBlocks& qkv = p.qkv;

  uint8_t* mine = per_thread_[static_cast<size_t>(thread)].data();
  auto* xn = reinterpret_cast<float*>(mine);
  for (int64_t t = 0; t < n; ++t) {
    RmsNormF32(x.row(t), w.norm->floats(), n_embd, args.eps, xn + t * n_embd);
  }
  std::array<PreparedActivations, 3> acts{};
  for (int i = 0; i < 3; ++i) {
    acts[i] = layout.act_owner[i] == i
                  ? PrepareActivations(*weights[i], xn, n, n_embd, mine + layout.act_offset[i])
                  : acts[layout.act_owner[i]];
  }

  for (int64_t c = qkv_shares.Claim(thread); c >= 0; c = qkv_shares.Claim(thread)) {
    qkv.Run(acts, c * p.qkv_per_chunk, std::min(qkv.blocks(), (c + 1) * p.qkv_per_chunk), n);
  }
  pool.Barrier(thread);

  // The same items per thread in both loops, as CausalAttention splits them.
  const int64_t item_begin = items * thread / threads, item_end = items * (thread + 1) / threads;
  // The rows below were mostly written by other threads' QKV chunks, and the cache positions are
  // new: requested as the loop reached them, one transfer waited after another. Asking for all
  // lines first overlaps them (when the vCPUs were far apart, 100m-Q4_K decode 0.3 % faster).
  const size_t head_bytes = static_cast<size_t>(head_dim) * sizeof(float);
  const size_t cache_row_bytes = static_cast<size_t>(head_dim) * cache.element_bytes();
  for (int64_t item = item_begin; item < item_end; ++item) {
    const int64_t i = item / attention.n_head_kv, g = item % attention.n_head_kv;
    const int32_t seq = slots.seq[static_cast<size_t>(i)];
    const int32_t pos = slots.pos[static_cast<size_t>(i)];
    PrefetchLines(scratch.q->row(i) + g * group * head_dim, head_bytes * group, true);
    PrefetchLines(scratch.k->row(i) + g * head_dim, head_bytes, true);
    PrefetchLines(scratch.v->row(i) + g * head_dim, head_bytes, false);
    PrefetchLines(cache.k(args.layer, seq, g, pos), cache_row_bytes, true);
    PrefetchLines(cache.v(args.layer, seq, g, pos), cache_row_bytes, true);
  }
  for (int64_t item = item_begin; item < item_end; ++item) {
    const int64_t i = item / attention.n_head_kv, g = item % attention.n_head_kv;
    const float* cos = rope_table.cos(i);
    const float* sin = rope_table.sin(i);
    float* k = scratch.k->row(i);
    RotateHeads(k, head_dim, args.k_rope.n_rot, neox, cos, sin, g, g + 1);
    RotateHeads(scratch.q->row(i), head_dim, args.q_rope.n_rot, neox, cos, sin, g * group,
                (g + 1) * group);
    const int32_t seq = slots.seq[static_cast<size_t>(i)];
    const int32_t pos = slots.pos[static_cast<size_t>(i)];
    cache.StoreK(args.layer, seq, g, pos, 1, k + g * head_dim);
    cache.StoreV(args.layer, seq, g, pos, 1, scratch.v->row(i) + g * head_dim);
  }
  if (layout.shared_sequence) pool.Barrier(thread);
  auto* scores = reinterpret_cast<float*>(mine + layout.scores_offset);
  for (int64_t item = item_begin; item < item_end; ++item) {
    AttendItem(*scratch.q, cache, args.layer, slots, attention, item, layout.max_len, scores,
               *scratch.attn);
  }
  pool.Barrier(thread, ShareOfRows(*w.wo, p.wo_chunks, threads, thread));

  const PreparedActivations wo_act =
      PrepareActivations(*w.wo, scratch.attn->data(), n, q_dim, mine + layout.wo_offset);
  for (int64_t c = wo_shares.Claim(thread); c >= 0; c = wo_shares.Claim(thread)) {
    MultiplyRowsAndAdd(*w.wo, wo_act.data, wo_act.stride, n, p.wo_chunks.Begin(c),
                       p.wo_chunks.End(c), scratch.y->data(), x.data());
  }
}

}  // namespace infernet::cpu
