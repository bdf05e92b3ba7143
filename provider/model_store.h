// The models a node holds, addressed by content hash (BLAKE2b-256 of the GGUF file). Scans a
// directory once at start-up; files named "<hash-hex>.gguf" are trusted to match their name only
// after being hashed once, and the hashes of other files are computed on the scan.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/result.h"

namespace infernet::provider {

struct StoredModel {
  Digest32 hash{};
  std::filesystem::path path;
  uint64_t size_bytes = 0;
  std::string name;  // file stem, informative
};

class ModelStore {
 public:
  // Hashes every regular *.gguf file directly in `directory` (not recursive; *.partial files
  // of interrupted downloads are skipped). Creates the directory when missing.
  static Result<std::unique_ptr<ModelStore>> Open(const std::filesystem::path& directory);

  const std::filesystem::path& directory() const { return directory_; }
  std::optional<StoredModel> Find(const Digest32& hash) const;
  std::vector<StoredModel> List() const;
  // Registers a file already verified to hash to `model.hash` (e.g. a completed download).
  void Add(StoredModel model);

 private:
  explicit ModelStore(std::filesystem::path directory) : directory_(std::move(directory)) {}

  std::filesystem::path directory_;
  mutable std::mutex mutex_;
  std::map<Digest32, StoredModel> models_;
};

}  // namespace infernet::provider
