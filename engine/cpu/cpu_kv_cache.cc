#include "engine/cpu/cpu_types.h"
#include "engine/quant/quant.h"

namespace infernet::cpu {

CpuKvCache::CpuKvCache(int64_t n_layer, int64_t n_seq, int64_t n_ctx, int64_t n_head_kv,
                       int64_t head_dim, TensorType type)
    : KvCache(n_layer, n_seq, n_ctx, n_head_kv, head_dim, type),
      element_bytes_(RowBytes(type, 1)),
      elements_(static_cast<size_t>(n_layer * n_seq * n_ctx * n_head_kv * head_dim)),
      k_(std::make_unique_for_overwrite<uint8_t[]>(elements_ * element_bytes_)),
      v_(std::make_unique_for_overwrite<uint8_t[]>(elements_ * element_bytes_)) {}

void CpuKvCache::Store(const float* src, int64_t count, uint8_t* dst) {
  quant::QuantizeRow(type(), src, dst, count * head_dim());
}

}  // namespace infernet::cpu
