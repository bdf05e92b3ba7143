// Test support: spells out GGUF files byte by byte, independent of GgufWriter, so reader tests
// can build exactly the malformed input each validation is about.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace infernet::gguf::testing {

class GgufBytes {
 public:
  GgufBytes& U8(uint8_t v) { return Put(v); }
  GgufBytes& U32(uint32_t v) { return Put(v); }
  GgufBytes& U64(uint64_t v) { return Put(v); }
  GgufBytes& F32(float v) { return Put(v); }
  GgufBytes& Str(std::string_view s) {
    U64(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  // magic, version, tensor count, metadata count.
  GgufBytes& Header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
    return U32(0x46554747).U32(version).U64(tensors).U64(kvs);
  }
  // One tensor-info record.
  GgufBytes& Tensor(std::string_view name, std::vector<uint64_t> dims, uint32_t type,
                    uint64_t offset) {
    Str(name).U32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) U64(d);
    return U32(type).U64(offset);
  }
  GgufBytes& PadTo(size_t alignment) {
    bytes_.resize((bytes_.size() + alignment - 1) / alignment * alignment, 0);
    return *this;
  }
  GgufBytes& Zeros(size_t n) {
    bytes_.resize(bytes_.size() + n, 0);
    return *this;
  }
  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  template <class T>
  GgufBytes& Put(T v) {
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &v, sizeof(T));
    return *this;
  }
  std::vector<uint8_t> bytes_;
};

}  // namespace infernet::gguf::testing
