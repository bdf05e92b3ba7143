#include "engine/cpu/cpu_attention.h"

#include <algorithm>
#include <cstring>

#include "engine/cpu/float_exp.h"
#include "engine/cpu/float_vector.h"

namespace infernet::cpu {
namespace {

// Positions per block. A block's K (or V) rows, kBlockRows * head_dim floats (16 KiB at head_dim
// 64), stay in L1 while the query heads of the group read them (all at once where the CPU has 32
// vector registers, in passes otherwise), so each row comes from memory once per group instead of
// once per head. DotF32RowsHeads computes rows independently and AxpyF32RowsHeads accumulates
// them in ascending order, so the blocking changes no result.
constexpr int64_t kBlockRows = 64;

}  // namespace

size_t AttentionScratchFloats(const AttentionParams& params, int64_t max_len,
                              TensorType cache_type) {
  const int64_t group = params.n_head / params.n_head_kv;
  const int64_t block_floats = cache_type == TensorType::kF32 ? 0 : kBlockRows * params.head_dim;
  return static_cast<size_t>(group * (max_len + 1) + block_floats);
}

void AttendItem(const CpuTensor& q, const CpuKvCache& cache, int64_t layer, const TokenSlots& slots,
                const AttentionParams& params, int64_t item, int64_t max_len, float* scratch,
                CpuTensor& out) {
  const int64_t head_dim = params.head_dim;
  const int64_t group = params.n_head / params.n_head_kv;
  const bool f16 = cache.type() == TensorType::kF16;
  // scratch: max_len scores for each head of the group, then each head's 1 / sum, then a block
  // of K or V rows as floats for the F16 passes that convert first (float_vector.h).
  float* s = scratch;
  float* inv_sum = s + group * max_len;
  float* block = inv_sum + group;
  const int64_t i = item / params.n_head_kv;
  const int64_t g = item % params.n_head_kv;
  const int64_t seq = slots.seq[static_cast<size_t>(i)];
  const int64_t len = slots.pos[static_cast<size_t>(i)] + 1;
  const uint8_t* k0 = cache.k(layer, seq, g, 0);
  const uint8_t* v0 = cache.v(layer, seq, g, 0);
  const size_t row_bytes = static_cast<size_t>(head_dim) * cache.element_bytes();
  const int64_t stride = head_dim;
  const float* q0 = q.row(i) + g * group * head_dim;  // the group's query heads, in turn
  float* o0 = out.row(i) + g * group * head_dim;
  for (int64_t j0 = 0; j0 < len; j0 += kBlockRows) {
    const int64_t rows = std::min(kBlockRows, len - j0);
    const uint8_t* k = k0 + j0 * row_bytes;
    if (f16) {
      DotF16RowsHeads(q0, group, reinterpret_cast<const uint16_t*>(k), stride, rows, head_dim,
                      s + j0, max_len, block);
    } else {
      DotF32RowsHeads(q0, group, reinterpret_cast<const float*>(k), stride, rows, head_dim, s + j0,
                      max_len);
    }
  }
  for (int64_t h = 0; h < group; ++h) {
    float* sh = s + h * max_len;
    const float max_score = ScaleAndMax(sh, len, params.scale);
    inv_sum[h] = 1.0f / ExpShiftedAndSum(sh, len, max_score);
    std::memset(o0 + h * head_dim, 0, static_cast<size_t>(head_dim) * sizeof(float));
  }
  for (int64_t j0 = 0; j0 < len; j0 += kBlockRows) {
    const int64_t rows = std::min(kBlockRows, len - j0);
    const uint8_t* v = v0 + j0 * row_bytes;
    if (f16) {
      AxpyF16RowsHeads(s + j0, max_len, group, reinterpret_cast<const uint16_t*>(v), stride, rows,
                       o0, head_dim, block);
    } else {
      AxpyF32RowsHeads(s + j0, max_len, group, reinterpret_cast<const float*>(v), stride, rows, o0,
                       head_dim);
    }
  }
  for (int64_t h = 0; h < group; ++h) {
    float* oh = o0 + h * head_dim;
    for (int64_t d = 0; d < head_dim; ++d) oh[d] *= inv_sum[h];
  }
}

void CausalAttention(ThreadPool& pool, std::vector<std::vector<float>>& scores, const CpuTensor& q,
                     const CpuKvCache& cache, int64_t layer, const TokenSlots& slots,
                     const AttentionParams& params, CpuTensor& out) {
  const int64_t n = slots.size();
  int64_t max_len = 0;
  for (int32_t p : slots.pos) max_len = std::max<int64_t>(max_len, p + 1);
  const size_t per_thread = AttentionScratchFloats(params, max_len, cache.type());
  scores.resize(static_cast<size_t>(pool.size()));
  for (auto& s : scores) {
    if (s.size() < per_thread) s.resize(per_thread);
  }

  const int64_t items = n * params.n_head_kv;
  // Short contexts make each item cheap; keep hand-offs rare for them.
  const int64_t min_items = max_len >= 64 ? 1 : 8;
  pool.ParallelFor(items, min_items, [&](int64_t begin, int64_t end, int thread) {
    float* scratch = scores[static_cast<size_t>(thread)].data();
    for (int64_t item = begin; item < end; ++item) {
      AttendItem(q, cache, layer, slots, params, item, max_len, scratch, out);
    }
  });
}

}  // namespace infernet::cpu
