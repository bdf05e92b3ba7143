#include "provider/model_chunk_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/hex.h"
#include "net/signed_envelope.h"

namespace infernet::provider {
namespace {

std::string AsBytes(const Digest32& digest) {
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

// Reads [offset, offset + length) of `path` into `out`.
Status ReadRange(const std::filesystem::path& path, uint64_t offset, size_t length,
                 std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Io("cannot open " + path.string() + ": " + std::strerror(errno));
  out->resize(length);
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, out->data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return Status::Io("short read from " + path.string());
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return Status::Ok();
}

}  // namespace

ModelChunkServer::ModelChunkServer(const ModelStore& store, const NodeIdentity& identity,
                                   const Clock& clock, uint32_t chunk_bytes)
    : store_(store), identity_(identity), clock_(clock), chunk_bytes_(chunk_bytes) {}

Result<v1::SignedEnvelope> ModelChunkServer::Manifest(const Digest32& model_hash) {
  auto model = store_.Find(model_hash);
  if (!model) return Status::NotFound("model " + HexEncode(model_hash) + " is not held here");
  v1::ModelManifest manifest;
  {
    std::lock_guard lock(mutex_);
    auto it = manifests_.find(model_hash);
    if (it != manifests_.end()) manifest = it->second;
  }
  if (manifest.model_hash().empty()) {
    // Hashing happens outside the lock: other models stay servable meanwhile.
    manifest.set_model_hash(AsBytes(model_hash));
    manifest.set_size_bytes(model->size_bytes);
    manifest.set_chunk_size(chunk_bytes_);
    std::string chunk;
    for (uint64_t offset = 0; offset < model->size_bytes; offset += chunk_bytes_) {
      size_t length =
          static_cast<size_t>(std::min<uint64_t>(chunk_bytes_, model->size_bytes - offset));
      INFERNET_RETURN_IF_ERROR(ReadRange(model->path, offset, length, &chunk));
      manifest.add_chunk_hashes(AsBytes(Blake2b256(chunk)));
    }
    std::lock_guard lock(mutex_);
    manifests_[model_hash] = manifest;
  }
  return net::SignClaim(std::move(manifest), identity_, clock_);
}

Result<v1::Chunk> ModelChunkServer::ReadChunk(const Digest32& model_hash,
                                              uint32_t chunk_index) const {
  auto model = store_.Find(model_hash);
  if (!model) return Status::NotFound("model " + HexEncode(model_hash) + " is not held here");
  uint64_t offset = uint64_t{chunk_index} * chunk_bytes_;
  if (offset >= model->size_bytes) {
    return Status::OutOfRange("chunk " + std::to_string(chunk_index) +
                              " is past the end of model " + HexEncode(model_hash));
  }
  size_t length = static_cast<size_t>(std::min<uint64_t>(chunk_bytes_, model->size_bytes - offset));
  v1::Chunk chunk;
  chunk.set_chunk_index(chunk_index);
  INFERNET_RETURN_IF_ERROR(ReadRange(model->path, offset, length, chunk.mutable_data()));
  return chunk;
}

}  // namespace infernet::provider
