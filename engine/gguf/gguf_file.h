// GGUF v3 reader: memory-maps a model file and exposes metadata and zero-copy tensor data.
//
// Everything in the file is untrusted: Open() validates magic, version, counts, string lengths,
// value types, tensor dimensions and types, offsets, alignment and extents before returning, so
// callers can index tensor data without further checks. Malformed input yields a CORRUPT (or
// UNSUPPORTED for well-formed but unknown types) Status whose message names the problem and the
// byte offset; never a crash or an over-read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/result.h"
#include "engine/gguf/gguf_value.h"
#include "engine/tensor_type.h"

namespace infernet::gguf {

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
inline constexpr uint32_t kVersion = 3;
inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr int kMaxDims = 4;

struct TensorInfo {
  std::string name;
  // GGUF order: shape[0] is the contiguous dimension (a weight's row length / input features).
  std::vector<int64_t> shape;
  TensorType type = TensorType::kF32;
  uint64_t offset = 0;  // relative to the start of the data section; a multiple of the alignment
  uint64_t size_bytes = 0;

  int64_t num_elements() const;
  int64_t rows() const { return shape.empty() ? 1 : num_elements() / shape[0]; }
  int64_t row_length() const { return shape.empty() ? 1 : shape[0]; }
};

class GgufFile {
 public:
  // Maps `path` read-only. The mapping lives as long as the GgufFile.
  static Result<std::unique_ptr<GgufFile>> Open(const std::filesystem::path& path);
  // Parses a caller-owned buffer without copying it; the buffer must outlive the GgufFile.
  static Result<std::unique_ptr<GgufFile>> FromBuffer(std::span<const uint8_t> bytes);

  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return bytes_.size(); }

  // Metadata in file order; keys are unique (duplicates are rejected as CORRUPT).
  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  const Value* Find(std::string_view key) const;
  // Frees the elements of array `key` (see Value::ReleaseArrayElements) for an owner that has
  // taken what it needs from them; no-op when absent.
  void ReleaseArrayElements(std::string_view key);
  // Typed look-ups: NOT_FOUND when absent, INVALID_ARGUMENT on a type mismatch; the key is named.
  Result<uint64_t> GetUint(std::string_view key) const;
  Result<double> GetFloat(std::string_view key) const;
  Result<std::string_view> GetString(std::string_view key) const;
  Result<bool> GetBool(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* FindTensor(std::string_view name) const;
  // The tensor's bytes inside the mapping (already bounds-checked by Open).
  std::span<const uint8_t> TensorData(const TensorInfo& info) const;

 private:
  GgufFile() = default;
  Status Parse();
  // After Parse has copied every key, value and tensor name out of the mapping, the pages wholly
  // before the tensor data are no longer read: dropping them keeps a 32,000-token vocabulary's
  // metadata (about 1 MiB of file) from staying resident beside its decoded copy.
  void ReleaseHeaderPages();

  std::span<const uint8_t> bytes_;
  void* mapping_ = nullptr;  // non-null when this object owns an mmap of bytes_
  uint32_t version_ = 0;
  uint64_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<TensorInfo> tensors_;
  // Look-up indexes; the keys view the names owned by metadata_ and tensors_, which are reserved
  // to their final size before the first insertion and so never move.
  std::unordered_map<std::string_view, size_t> metadata_index_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace infernet::gguf
