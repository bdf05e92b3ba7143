#include "engine/tensor_type.h"

#include <cctype>
#include <string>

namespace infernet {
namespace {

constexpr TensorTypeTraits kF32{"F32", 1, 4};
constexpr TensorTypeTraits kF16{"F16", 1, 2};
constexpr TensorTypeTraits kBF16{"BF16", 1, 2};
constexpr TensorTypeTraits kQ4_0{"Q4_0", 32, 2 + 16};
constexpr TensorTypeTraits kQ8_0{"Q8_0", 32, 2 + 32};
constexpr TensorTypeTraits kQ4_K{"Q4_K", 256, 2 + 2 + 12 + 128};
constexpr TensorTypeTraits kQ6_K{"Q6_K", 256, 128 + 64 + 16 + 2};
constexpr TensorTypeTraits kQ8_K{"Q8_K", 256, 4 + 256 + 2 * 16};

constexpr TensorType kStoredTypes[] = {TensorType::kF32,  TensorType::kF16,  TensorType::kBF16,
                                       TensorType::kQ4_0, TensorType::kQ8_0, TensorType::kQ4_K,
                                       TensorType::kQ6_K};

}  // namespace

const TensorTypeTraits& Traits(TensorType type) {
  switch (type) {
    case TensorType::kF32: return kF32;
    case TensorType::kF16: return kF16;
    case TensorType::kBF16: return kBF16;
    case TensorType::kQ4_0: return kQ4_0;
    case TensorType::kQ8_0: return kQ8_0;
    case TensorType::kQ4_K: return kQ4_K;
    case TensorType::kQ6_K: return kQ6_K;
    case TensorType::kQ8_K: return kQ8_K;
  }
  return kF32;  // unreachable for valid enumerators
}

std::optional<TensorType> TensorTypeFromGguf(uint32_t raw) {
  for (TensorType t : kStoredTypes) {
    if (static_cast<uint32_t>(t) == raw) return t;
  }
  return std::nullopt;
}

std::optional<TensorType> TensorTypeFromName(std::string_view name) {
  std::string upper;
  for (char c : name) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  for (TensorType t : kStoredTypes) {
    if (Traits(t).name == upper) return t;
  }
  return std::nullopt;
}

}  // namespace infernet
