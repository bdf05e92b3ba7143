// Causal multi-head attention with grouped KV heads over an F32 KV cache, on the CPU.
#pragma once

#include <vector>

#include "engine/cpu/cpu_types.h"
#include "engine/cpu/thread_pool.h"

namespace infernet::cpu {

// For each row i and query head h: softmax(scale * q_h . k_j) over positions j = 0..pos[i] of
// sequence seq[i], then sum_j p_j v_j, accumulated in float in ascending j. Work is split over
// (row, KV head) pairs, each computed alone, so a row's result never depends on the batch.
// `scores` holds one buffer per thread (resized here as needed).
void CausalAttention(ThreadPool& pool, std::vector<std::vector<float>>& scores, const CpuTensor& q,
                     const CpuKvCache& cache, int64_t layer, const TokenSlots& slots,
                     const AttentionParams& params, CpuTensor& out);

}  // namespace infernet::cpu
