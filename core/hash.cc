#include "core/hash.h"

#include <cstdio>
#include <memory>
#include <vector>

namespace infernet {
namespace {

// libsodium must be initialised once before use; sodium_init is idempotent and thread-safe.
void EnsureSodium() {
  static const int once = sodium_init();
  (void)once;
}

}  // namespace

Digest32 Blake2b256(std::span<const uint8_t> data) {
  EnsureSodium();
  Digest32 out;
  crypto_generichash(out.data(), out.size(), data.data(), data.size(), nullptr, 0);
  return out;
}

Digest32 Blake2b256(std::string_view data) {
  return Blake2b256(std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

Digest32 Sha256(std::span<const uint8_t> data) {
  EnsureSodium();
  Digest32 out;
  crypto_hash_sha256(out.data(), data.data(), data.size());
  return out;
}

Digest32 Sha256(std::string_view data) {
  return Sha256(std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

Blake2b256Hasher::Blake2b256Hasher() {
  EnsureSodium();
  crypto_generichash_init(&state_, nullptr, 0, 32);
}

void Blake2b256Hasher::Update(std::span<const uint8_t> data) {
  crypto_generichash_update(&state_, data.data(), data.size());
}

Digest32 Blake2b256Hasher::Finish() {
  Digest32 out;
  crypto_generichash_final(&state_, out.data(), out.size());
  return out;
}

Result<Digest32> Blake2b256File(const std::filesystem::path& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return Status::Io("cannot open " + path.string());
  Blake2b256Hasher hasher;
  std::vector<uint8_t> buffer(1 << 20);
  while (true) {
    size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    if (n > 0) hasher.Update(std::span(buffer.data(), n));
    if (n < buffer.size()) {
      if (std::ferror(file.get())) return Status::Io("read failed: " + path.string());
      break;
    }
  }
  return hasher.Finish();
}

}  // namespace infernet
