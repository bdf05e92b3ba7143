// Serves the models a node holds to peers, in chunks (docs/protocol.md §5): a manifest signed by
// this node (chunk size and each chunk's hash, so a puller verifies every chunk as it arrives and
// can blame a bad manifest on its signer), and chunks read straight from the file.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>

#include "core/clock.h"
#include "core/identity.h"
#include "core/result.h"
#include "infernet/v1/envelope.pb.h"
#include "infernet/v1/model.pb.h"
#include "provider/model_store.h"

namespace infernet::provider {

inline constexpr uint32_t kDefaultChunkBytes = 4 << 20;

class ModelChunkServer {
 public:
  // `store`, `identity` and `clock` must outlive this object.
  ModelChunkServer(const ModelStore& store, const NodeIdentity& identity, const Clock& clock,
                   uint32_t chunk_bytes = kDefaultChunkBytes);

  // The signed manifest of a held model; kNotFound when not held. Chunk hashes are computed on
  // first request and cached. Thread-safe.
  Result<v1::SignedEnvelope> Manifest(const Digest32& model_hash);
  // The chunk's bytes; kNotFound / kOutOfRange for unknown models or indices. Thread-safe.
  Result<v1::Chunk> ReadChunk(const Digest32& model_hash, uint32_t chunk_index) const;

  uint32_t chunk_bytes() const { return chunk_bytes_; }

 private:
  const ModelStore& store_;
  const NodeIdentity& identity_;
  const Clock& clock_;
  const uint32_t chunk_bytes_;
  std::mutex mutex_;
  std::map<Digest32, v1::ModelManifest> manifests_;  // unsigned bodies, re-signed per request
};

}  // namespace infernet::provider
