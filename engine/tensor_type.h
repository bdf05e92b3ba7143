// Tensor element types, numbered as in GGUF/ggml so files from the ecosystem load unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace infernet {

enum class TensorType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ8_0 = 8,
  kQ4_K = 12,
  kQ6_K = 14,
  kQ8_K = 15,  // activations only (paired with K-quant weights); never a stored weight type here
  kBF16 = 30,
};

struct TensorTypeTraits {
  std::string_view name;  // "F32", "Q4_K", ...
  int64_t block_elems;    // elements per block (1 for float types)
  size_t block_bytes;     // bytes per block
};

// Traits of a raw GGUF type id, or nullopt when the id is unknown or unsupported as a stored
// tensor type (Q8_K is an internal activation format and is rejected here).
std::optional<TensorType> TensorTypeFromGguf(uint32_t raw);
const TensorTypeTraits& Traits(TensorType type);
inline std::string_view TypeName(TensorType t) { return Traits(t).name; }
// Parses "F16", "q4_k", ... (case-insensitive) for command-line flags.
std::optional<TensorType> TensorTypeFromName(std::string_view name);

// Bytes for `n` elements. REQUIRES: n % Traits(type).block_elems == 0.
inline size_t RowBytes(TensorType type, int64_t n) {
  const auto& t = Traits(type);
  return static_cast<size_t>(n / t.block_elems) * t.block_bytes;
}

}  // namespace infernet
