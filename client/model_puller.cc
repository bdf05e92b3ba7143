#include "client/model_puller.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>

#include "core/hex.h"
#include "net/signed_envelope.h"

namespace infernet::client {
namespace {

constexpr uint32_t kMinChunkBytes = 64 << 10;
constexpr uint32_t kMaxChunkBytes = 64 << 20;

bool DigestEquals(const std::string& bytes, const Digest32& digest) {
  return bytes.size() == digest.size() &&
         std::memcmp(bytes.data(), digest.data(), digest.size()) == 0;
}

struct CheckedManifest {
  v1::ModelManifest manifest;
  ChunkSource* source = nullptr;
  uint64_t chunk_count = 0;
};

// A manifest is accepted only from the node that signed it and only when it describes the
// requested hash with a plausible geometry.
Result<CheckedManifest> FetchManifest(ChunkSource& source, const Digest32& model_hash,
                                      const Clock& clock, const PullOptions& options) {
  INFERNET_ASSIGN_OR_RETURN(v1::SignedEnvelope envelope, source.GetManifest(model_hash));
  CheckedManifest checked;
  checked.source = &source;
  INFERNET_ASSIGN_OR_RETURN(
      net::VerifiedAuthor author,
      net::VerifyClaim(envelope, clock, net::FreshnessPolicy{}, nullptr, &checked.manifest));
  const v1::ModelManifest& m = checked.manifest;
  if (author.id != source.node_id()) {
    return Status(StatusCode::kUnauthenticated, "manifest from " + source.Describe() +
                                                    " is signed by another node " +
                                                    author.id.ShortHex());
  }
  if (!DigestEquals(m.model_hash(), model_hash)) {
    return Status::Corrupt("manifest from " + source.Describe() + " is for another model");
  }
  if (m.size_bytes() == 0 || m.size_bytes() > options.max_model_bytes) {
    return Status::Corrupt("manifest from " + source.Describe() + " has implausible size " +
                           std::to_string(m.size_bytes()));
  }
  if (m.chunk_size() < kMinChunkBytes || m.chunk_size() > kMaxChunkBytes) {
    return Status::Corrupt("manifest from " + source.Describe() + " has chunk size " +
                           std::to_string(m.chunk_size()) + " outside [64 KiB, 64 MiB]");
  }
  checked.chunk_count = (m.size_bytes() + m.chunk_size() - 1) / m.chunk_size();
  if (static_cast<uint64_t>(m.chunk_hashes_size()) != checked.chunk_count) {
    return Status::Corrupt("manifest from " + source.Describe() + " lists " +
                           std::to_string(m.chunk_hashes_size()) + " chunk hashes, expected " +
                           std::to_string(checked.chunk_count));
  }
  for (const std::string& h : m.chunk_hashes()) {
    if (h.size() != 32)
      return Status::Corrupt("manifest from " + source.Describe() + " has a bad chunk hash");
  }
  return checked;
}

class PartialFile {
 public:
  static Result<PartialFile> Open(const std::filesystem::path& path, uint64_t size) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::Io("cannot open " + path.string() + ": " + std::strerror(errno));
    PartialFile file(fd);
    off_t current = ::lseek(fd, 0, SEEK_END);
    file.existing_bytes_ = current < 0 ? 0 : static_cast<uint64_t>(current);
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      return Status::Io("cannot size " + path.string() + ": " + std::strerror(errno));
    }
    return file;
  }
  PartialFile(PartialFile&& other) noexcept
      : fd_(other.fd_), existing_bytes_(other.existing_bytes_) {
    other.fd_ = -1;
  }
  ~PartialFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  uint64_t existing_bytes() const { return existing_bytes_; }

  Status Read(uint64_t offset, size_t length, std::string* out) const {
    out->resize(length);
    size_t done = 0;
    while (done < length) {
      ssize_t n =
          ::pread(fd_, out->data() + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Status::Io("short read from a partial download");
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }
  Status Write(uint64_t offset, const std::string& data) const {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n =
          ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        return Status::Io(std::string("cannot write a partial download: ") + std::strerror(errno));
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }
  Status Sync() const {
    return ::fsync(fd_) == 0 ? Status::Ok() : Status::Io("fsync of a partial download failed");
  }

 private:
  explicit PartialFile(int fd) : fd_(fd) {}
  int fd_;
  uint64_t existing_bytes_ = 0;
};

}  // namespace

Result<std::filesystem::path> PullModel(const Digest32& model_hash,
                                        const std::vector<ChunkSource*>& sources,
                                        const std::filesystem::path& directory, const Clock& clock,
                                        const PullOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return Status::Io("cannot create " + directory.string() + ": " + ec.message());
  const std::string hex = HexEncode(model_hash);
  const std::filesystem::path final_path = directory / (hex + ".gguf");
  if (std::filesystem::exists(final_path)) {
    INFERNET_ASSIGN_OR_RETURN(Digest32 existing, Blake2b256File(final_path));
    if (existing == model_hash) return final_path;
    return Status::Corrupt(final_path.string() + " exists but does not hash to its name");
  }
  if (sources.empty()) return Status::NotFound("no peer announces model " + hex);

  std::string errors;
  for (ChunkSource* manifest_source : sources) {
    auto manifest = FetchManifest(*manifest_source, model_hash, clock, options);
    if (!manifest.ok()) {
      errors += "\n  " + manifest.status().message();
      continue;
    }
    const v1::ModelManifest& m = manifest->manifest;
    const std::filesystem::path partial_path = directory / (hex + ".gguf.partial");
    INFERNET_ASSIGN_OR_RETURN(PartialFile file, PartialFile::Open(partial_path, m.size_bytes()));

    PullProgress progress;
    progress.chunks_total = manifest->chunk_count;
    progress.bytes_total = m.size_bytes();
    std::vector<int> failures(sources.size(), 0);
    std::string chunk;
    Status failed;
    for (uint64_t index = 0; index < manifest->chunk_count && failed.ok(); ++index) {
      const uint64_t offset = index * m.chunk_size();
      const size_t length =
          static_cast<size_t>(std::min<uint64_t>(m.chunk_size(), m.size_bytes() - offset));
      const std::string& expected = m.chunk_hashes(static_cast<int>(index));
      // Resume: a chunk fully inside what an earlier attempt wrote is kept if it verifies.
      if (offset + length <= file.existing_bytes()) {
        INFERNET_RETURN_IF_ERROR(file.Read(offset, length, &chunk));
        if (DigestEquals(expected, Blake2b256(chunk))) {
          ++progress.chunks_done;
          ++progress.chunks_resumed;
          progress.bytes_done += length;
          continue;
        }
      }
      bool stored = false;
      std::string chunk_errors;
      // Spread chunks over sources; skip sources that failed too often.
      for (size_t attempt = 0; attempt < sources.size() && !stored; ++attempt) {
        size_t s = (index + attempt) % sources.size();
        if (failures[s] >= options.max_failures_per_source) continue;
        auto fetched = sources[s]->GetChunk(model_hash, static_cast<uint32_t>(index));
        if (!fetched.ok()) {
          ++failures[s];
          chunk_errors += "\n  " + sources[s]->Describe() + ": " + fetched.status().message();
          continue;
        }
        if (fetched->chunk_index() != index || fetched->data().size() != length ||
            !DigestEquals(expected, Blake2b256(fetched->data()))) {
          ++failures[s];
          chunk_errors += "\n  " + sources[s]->Describe() + ": chunk " + std::to_string(index) +
                          " does not match the manifest";
          continue;
        }
        INFERNET_RETURN_IF_ERROR(file.Write(offset, fetched->data()));
        stored = true;
      }
      if (!stored) {
        failed = Status(StatusCode::kUnavailable,
                        "no peer delivered chunk " + std::to_string(index) + " of model " + hex +
                            " (the partial download is kept for resuming):" + chunk_errors);
        break;
      }
      ++progress.chunks_done;
      progress.bytes_done += length;
      if (options.on_progress) options.on_progress(progress);
    }
    INFERNET_RETURN_IF_ERROR(file.Sync());
    if (!failed.ok()) return failed;

    INFERNET_ASSIGN_OR_RETURN(Digest32 whole, Blake2b256File(partial_path));
    if (whole != model_hash) {
      // Every chunk matched the manifest, so the manifest itself was wrong: blame its signer
      // and start over from another source's manifest.
      std::filesystem::remove(partial_path, ec);
      errors += "\n  manifest from " + manifest_source->Describe() +
                " describes a file that does not hash to the model hash";
      continue;
    }
    std::filesystem::rename(partial_path, final_path, ec);
    if (ec) return Status::Io("cannot rename " + partial_path.string() + ": " + ec.message());
    return final_path;
  }
  return Status(StatusCode::kUnavailable, "cannot fetch model " + hex + " from any peer:" + errors);
}

}  // namespace infernet::client
