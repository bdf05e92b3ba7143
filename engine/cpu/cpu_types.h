// The CPU back end's concrete handles behind backend.h (internal to engine/cpu/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/backend.h"
#include "engine/cpu/page_buffer.h"

namespace infernet::cpu {

// A view of a weight in the mapped file (zero copy). Vectors (norm weights, biases) are also
// available as floats: a view when stored F32 and aligned, otherwise a converted copy.
class CpuWeight final : public DeviceWeight {
 public:
  CpuWeight(TensorType type, int64_t row_length, int64_t rows, const uint8_t* data,
            size_t row_bytes)
      : DeviceWeight(type, row_length, rows), data_(data), row_bytes_(row_bytes) {}

  const uint8_t* data() const { return data_; }
  const uint8_t* row(int64_t r) const { return data_ + static_cast<size_t>(r) * row_bytes_; }
  size_t row_bytes() const { return row_bytes_; }
  // All elements as floats; null unless set_floats() was called (vectors only).
  const float* floats() const { return floats_; }
  void set_floats(const float* view) { floats_ = view; }
  void set_floats(std::vector<float> owned) {
    owned_floats_ = std::move(owned);
    floats_ = owned_floats_.data();
  }

 private:
  const uint8_t* data_;
  size_t row_bytes_;
  const float* floats_ = nullptr;
  std::vector<float> owned_floats_;
};

class CpuTensor final : public DeviceTensor {
 public:
  CpuTensor(int64_t rows, int64_t cols)
      : DeviceTensor(rows, cols), data_(static_cast<size_t>(rows * cols)) {}
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  float* row(int64_t r) { return data_.data() + r * cols(); }
  const float* row(int64_t r) const { return data_.data() + r * cols(); }

 private:
  PageBuffer data_;
};

// Keys and values, [layer][seq][kv head][pos][head_dim] each, as F16 or F32 (KvCache::type()).
// F16, the default, halves the bytes decode attention streams per position (at a 512-token
// context the 100m test model's cache is as many bytes per token as a quarter of its Q4_K
// weights) and its rounding is deterministic; F32 keeps attention exact with respect to the
// projections. Each head's positions are contiguous, so attention streams them (with positions
// interleaved across heads, a head's rows were head_dim floats every kv_dim: measured slower in
// decode).
class CpuKvCache final : public KvCache {
 public:
  // REQUIRES: IsKvCacheType(type).
  CpuKvCache(int64_t n_layer, int64_t n_seq, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim,
             TensorType type);

  uint64_t size_bytes() const override { return 2 * elements_ * element_bytes_; }
  size_t element_bytes() const { return element_bytes_; }

  // Position `pos` of KV head `head`, in type(); positions follow each other head_dim() elements
  // apart.
  const uint8_t* k(int64_t layer, int64_t seq, int64_t head, int64_t pos) const {
    return k_.get() + offset(layer, seq, head, pos);
  }
  const uint8_t* v(int64_t layer, int64_t seq, int64_t head, int64_t pos) const {
    return v_.get() + offset(layer, seq, head, pos);
  }
  // Stores `count` positions from `pos` (count * head_dim() floats), rounded to type().
  void StoreK(int64_t layer, int64_t seq, int64_t head, int64_t pos, int64_t count,
              const float* src) {
    Store(src, count, k_.get() + offset(layer, seq, head, pos));
  }
  void StoreV(int64_t layer, int64_t seq, int64_t head, int64_t pos, int64_t count,
              const float* src) {
    Store(src, count, v_.get() + offset(layer, seq, head, pos));
  }

 private:
  size_t offset(int64_t layer, int64_t seq, int64_t head, int64_t pos) const {
    return static_cast<size_t>((((layer * n_seq() + seq) * n_head_kv() + head) * n_ctx() + pos) *
                               head_dim()) *
           element_bytes_;
  }
  void Store(const float* src, int64_t count, uint8_t* dst);

  size_t element_bytes_;
  size_t elements_;
  std::unique_ptr<uint8_t[]> k_;
  std::unique_ptr<uint8_t[]> v_;
};

inline const CpuWeight& AsCpu(const DeviceWeight& w) { return static_cast<const CpuWeight&>(w); }
inline const CpuTensor& AsCpu(const DeviceTensor& t) { return static_cast<const CpuTensor&>(t); }
inline CpuTensor& AsCpu(DeviceTensor& t) { return static_cast<CpuTensor&>(t); }
inline const CpuKvCache& AsCpu(const KvCache& c) { return static_cast<const CpuKvCache&>(c); }
inline CpuKvCache& AsCpu(KvCache& c) { return static_cast<CpuKvCache&>(c); }

}  // namespace infernet::cpu
