// Content hashing. BLAKE2b-256 addresses models and results; SHA-256 is for interoperability.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

#include "core/result.h"

namespace infernet {

using Digest32 = std::array<uint8_t, 32>;

Digest32 Blake2b256(std::span<const uint8_t> data);
Digest32 Blake2b256(std::string_view data);
Digest32 Sha256(std::span<const uint8_t> data);
Digest32 Sha256(std::string_view data);

// Incremental BLAKE2b-256, for data that arrives in pieces (files, chunks).
class Blake2b256Hasher {
 public:
  Blake2b256Hasher();
  void Update(std::span<const uint8_t> data);
  Digest32 Finish();  // REQUIRES: called once

 private:
  crypto_generichash_state state_;
};

// BLAKE2b-256 of a whole file, read in bounded chunks (never loaded whole).
Result<Digest32> Blake2b256File(const std::filesystem::path& path);

}  // namespace infernet
