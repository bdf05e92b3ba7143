#include "engine/cpu/cpu_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/cpu/float_vector.h"

namespace infernet::cpu {

void CausalAttention(ThreadPool& pool, std::vector<std::vector<float>>& scores, const CpuTensor& q,
                     const CpuKvCache& cache, int64_t layer, const TokenSlots& slots,
                     const AttentionParams& params, CpuTensor& out) {
  const int64_t n = slots.size();
  const int64_t head_dim = params.head_dim;
  const int64_t group = params.n_head / params.n_head_kv;
  int64_t max_len = 0;
  for (int32_t p : slots.pos) max_len = std::max<int64_t>(max_len, p + 1);
  scores.resize(static_cast<size_t>(pool.size()));
  for (auto& s : scores) {
    if (static_cast<int64_t>(s.size()) < max_len) s.resize(static_cast<size_t>(max_len));
  }

  const int64_t items = n * params.n_head_kv;
  // Short contexts make each item cheap; keep hand-offs rare for them.
  const int64_t min_items = max_len >= 64 ? 1 : 8;
  pool.ParallelFor(items, min_items, [&](int64_t begin, int64_t end, int thread) {
    float* s = scores[static_cast<size_t>(thread)].data();
    for (int64_t item = begin; item < end; ++item) {
      const int64_t i = item / params.n_head_kv;
      const int64_t g = item % params.n_head_kv;
      const int64_t seq = slots.seq[static_cast<size_t>(i)];
      const int64_t len = slots.pos[static_cast<size_t>(i)] + 1;
      const float* k0 = cache.k(layer, seq, g, 0);
      const float* v0 = cache.v(layer, seq, g, 0);
      const int64_t stride = head_dim;
      for (int64_t h = g * group; h < (g + 1) * group; ++h) {
        const float* qh = q.row(i) + h * head_dim;
        float* oh = out.row(i) + h * head_dim;
        DotF32Rows(qh, k0, stride, len, head_dim, s);
        float max_score = -INFINITY;
        for (int64_t j = 0; j < len; ++j) {
          s[j] = s[j] * params.scale;
          max_score = std::max(max_score, s[j]);
        }
        float sum = 0.0f;
        for (int64_t j = 0; j < len; ++j) {
          s[j] = std::exp(s[j] - max_score);
          sum += s[j];
        }
        std::memset(oh, 0, static_cast<size_t>(head_dim) * sizeof(float));
        AxpyF32Rows(s, v0, stride, len, oh, head_dim);
        const float inv = 1.0f / sum;
        for (int64_t d = 0; d < head_dim; ++d) oh[d] *= inv;
      }
    }
  });
}

}  // namespace infernet::cpu
