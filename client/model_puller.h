// Fetches a model by content hash from peers that announce it (docs/protocol.md §5): verifies the
// signed manifest, every chunk against it as it arrives, and the whole file against the content
// hash; resumes an interrupted download by re-verifying the chunks already on disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/hash.h"
#include "core/identity.h"
#include "core/result.h"
#include "infernet/v1/envelope.pb.h"
#include "infernet/v1/model.pb.h"

namespace infernet::client {

// One peer serving chunks. Implementations must be thread-compatible (one puller at a time).
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  virtual const NodeId& node_id() const = 0;
  virtual std::string Describe() const = 0;  // for messages: short node id and address
  virtual Result<v1::SignedEnvelope> GetManifest(const Digest32& model_hash) = 0;
  virtual Result<v1::Chunk> GetChunk(const Digest32& model_hash, uint32_t chunk_index) = 0;
};

struct PullProgress {
  uint64_t chunks_done = 0;
  uint64_t chunks_total = 0;
  uint64_t chunks_resumed = 0;  // already on disk and verified
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
};

struct PullOptions {
  uint64_t max_model_bytes = uint64_t{256} << 30;
  int max_failures_per_source = 3;
  std::function<void(const PullProgress&)> on_progress;  // called after each chunk
};

// Downloads `model_hash` into `directory` as "<hash-hex>.gguf" (via "<hash-hex>.gguf.partial"),
// returning the final path. Existing complete files are re-hashed and returned as they are.
Result<std::filesystem::path> PullModel(const Digest32& model_hash,
                                        const std::vector<ChunkSource*>& sources,
                                        const std::filesystem::path& directory, const Clock& clock,
                                        const PullOptions& options = {});

}  // namespace infernet::client
