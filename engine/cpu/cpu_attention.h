// Causal multi-head attention with grouped KV heads over an F16 or F32 KV cache, on the CPU.
#pragma once

#include <vector>

#include "engine/cpu/cpu_types.h"
#include "engine/cpu/thread_pool.h"

namespace infernet::cpu {

// Floats of per-thread scratch AttendItem needs for contexts of up to max_len positions.
size_t AttentionScratchFloats(const AttentionParams& params, int64_t max_len,
                              TensorType cache_type);

// One item of CausalAttention: item = i * n_head_kv + g, row i's query heads of KV group g, over
// positions 0..slots.pos[i] (max_len >= all of slots' pos + 1). `scratch`: AttentionScratchFloats.
void AttendItem(const CpuTensor& q, const CpuKvCache& cache, int64_t layer, const TokenSlots& slots,
                const AttentionParams& params, int64_t item, int64_t max_len, float* scratch,
                CpuTensor& out);

// For each row i and query head h, over positions j = 0..pos[i] of sequence seq[i]:
//   s_j = DotF32(q_h, k_j) (k_j, v_j: the cache's values as floats, exact conversions); m =
//   ScaleAndMax(s, scale); e = ExpShiftedAndSum(s, m) (s_j becomes e^(s_j - m)); out_h = (sum_j s_j
//   v_j by AxpyF32 in ascending j) * (1 / e).
// Work is split over (row, KV head) pairs, each computed alone, so a row's result never depends
// on the batch or the thread count. `scores` holds one buffer per thread (resized as needed).
void CausalAttention(ThreadPool& pool, std::vector<std::vector<float>>& scores, const CpuTensor& q,
                     const CpuKvCache& cache, int64_t layer, const TokenSlots& slots,
                     const AttentionParams& params, CpuTensor& out);

}  // namespace infernet::cpu
