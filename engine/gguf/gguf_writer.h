// GGUF v3 writer: builds a file from metadata and tensors (used by `model make-test`, tests, and
// conversions). Tensors are laid out in insertion order, each at an aligned offset.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "engine/gguf/gguf_value.h"
#include "engine/tensor_type.h"

namespace infernet::gguf {

class GgufWriter {
 public:
  // Sets (or replaces) a metadata key. "general.alignment" is managed by set_alignment().
  void SetValue(std::string key, Value value);
  // REQUIRES nothing: validates that the name is unique, the shape has 1..4 positive dims whose
  // first is a multiple of the type's block size, and data.size() matches the shape and type.
  Status AddTensor(std::string name, std::vector<int64_t> shape, TensorType type,
                   std::vector<uint8_t> data);
  // A power of two; default 32.
  Status set_alignment(uint32_t alignment);

  std::vector<uint8_t> WriteToBuffer() const;
  // Writes to a temporary file beside `path` and renames it, so a crash never leaves a torn file.
  Status WriteFile(const std::filesystem::path& path) const;

 private:
  struct PendingTensor {
    std::string name;
    std::vector<int64_t> shape;
    TensorType type;
    std::vector<uint8_t> data;
  };
  uint32_t alignment_ = 32;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace infernet::gguf
