// Node identity: an Ed25519 signing key (node ID = BLAKE2b-256 of its public key) and an X25519
// key for encrypting payloads to the node, both kept in one key file readable by its owner only.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "core/hash.h"
#include "core/result.h"

namespace infernet {

using PublicKey = std::array<uint8_t, 32>;  // Ed25519 or X25519 public key
using Signature = std::array<uint8_t, 64>;  // Ed25519 signature

// 32-byte node identifier: BLAKE2b-256 of the node's Ed25519 public key.
struct NodeId {
  Digest32 bytes{};

  static NodeId FromPublicKey(const PublicKey& signing_key);
  // Parses 64 lowercase or uppercase hex digits.
  static Result<NodeId> FromHex(std::string_view hex);
  std::string ToHex() const;
  // First 8 bytes in hex: for logs and tables, never for authentication.
  std::string ShortHex() const;

  friend bool operator==(const NodeId&, const NodeId&) = default;
  friend auto operator<=>(const NodeId&, const NodeId&) = default;
};

// Verifies an Ed25519 signature over `message` by `signer`. Constant-time in the key material.
bool VerifySignature(const PublicKey& signer, std::span<const uint8_t> message,
                     const Signature& signature);

// A node's secret keys. Move-only; secret bytes are wiped on destruction and never logged.
class NodeIdentity {
 public:
  // Fresh random keys.
  static NodeIdentity Generate();
  // Deterministic keys from a 32-byte seed (tests and simulations only).
  static NodeIdentity FromSeed(std::span<const uint8_t, 32> seed);

  // Key file: JSON {"version":1,"ed25519_seed":hex,"x25519_secret":hex}, mode 0600.
  // Load refuses files readable or writable by group or others, and malformed contents.
  static Result<NodeIdentity> Load(const std::filesystem::path& path);
  // Creates `path` (mode 0600) atomically; refuses to overwrite an existing file.
  Status Save(const std::filesystem::path& path) const;

  NodeIdentity(NodeIdentity&&) noexcept;
  NodeIdentity& operator=(NodeIdentity&&) noexcept;
  NodeIdentity(const NodeIdentity&) = delete;
  NodeIdentity& operator=(const NodeIdentity&) = delete;
  ~NodeIdentity();

  const NodeId& id() const { return id_; }
  const PublicKey& signing_public_key() const { return signing_public_; }
  const PublicKey& encryption_public_key() const { return encryption_public_; }
  // The 32-byte Ed25519 seed (e.g. to build a TLS private key). Handle with care.
  std::span<const uint8_t, 32> signing_seed() const { return std::span<const uint8_t, 32>(seed_); }

  Signature Sign(std::span<const uint8_t> message) const;

 private:
  NodeIdentity() = default;
  void Wipe();

  std::array<uint8_t, 32> seed_{};
  std::array<uint8_t, 64> signing_secret_{};  // libsodium's seed || public key form
  std::array<uint8_t, 32> encryption_secret_{};
  PublicKey signing_public_{};
  PublicKey encryption_public_{};
  NodeId id_;
};

}  // namespace infernet
