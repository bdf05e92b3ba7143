#include <cstring>

#include "engine/cpu/cpu_types.h"
#include "engine/quant/float_convert.h"

namespace infernet::cpu {

CpuKvCache::CpuKvCache(int64_t n_layer, int64_t n_seq, int64_t n_ctx, int64_t n_head_kv,
                       int64_t head_dim, TensorType type)
    : KvCache(n_layer, n_seq, n_ctx, n_head_kv, head_dim, type),
      element_bytes_(type == TensorType::kF16 ? sizeof(uint16_t) : sizeof(float)),
      elements_(static_cast<size_t>(n_layer * n_seq * n_ctx * n_head_kv * head_dim)),
      k_(std::make_unique_for_overwrite<uint8_t[]>(elements_ * element_bytes_)),
      v_(std::make_unique_for_overwrite<uint8_t[]>(elements_ * element_bytes_)) {}

void CpuKvCache::Store(const float* src, int64_t count, uint8_t* dst) {
  const int64_t n = count * head_dim();
  if (type() == TensorType::kF16) {
    quant::FloatToFp16Row(src, reinterpret_cast<uint16_t*>(dst), n);
  } else {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
  }
}

}  // namespace infernet::cpu
