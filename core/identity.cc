#include "core/identity.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/hex.h"

namespace infernet {
namespace {

constexpr int kKeyFileVersion = 1;
constexpr off_t kMaxKeyFileBytes = 64 * 1024;

// Overwrites the string values of a parsed key file, which include the secrets.
void WipeJsonStrings(nlohmann::json& doc) {
  for (auto& item : doc.items()) {
    if (item.value().is_string()) {
      auto& text = item.value().get_ref<std::string&>();
      sodium_memzero(text.data(), text.size());
    }
  }
}

bool EnsureSodium() { return sodium_init() >= 0; }

Result<std::array<uint8_t, 32>> Decode32(const nlohmann::json& doc, const char* field) {
  if (!doc.contains(field) || !doc[field].is_string()) {
    return Status::Corrupt(std::string("key file lacks string field \"") + field + "\"");
  }
  auto bytes = HexDecode(doc[field].get<std::string>());
  if (!bytes.ok() || bytes->size() != 32) {
    return Status::Corrupt(std::string("key file field \"") + field + "\" is not 64 hex digits");
  }
  std::array<uint8_t, 32> out;
  std::memcpy(out.data(), bytes->data(), 32);
  sodium_memzero(bytes->data(), bytes->size());
  return out;
}

}  // namespace

NodeId NodeId::FromPublicKey(const PublicKey& signing_key) {
  return NodeId{Blake2b256(std::span<const uint8_t>(signing_key))};
}

Result<NodeId> NodeId::FromHex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  if (!bytes.ok() || bytes->size() != 32) {
    return Status::InvalidArgument("node ID must be 64 hex digits, got \"" + std::string(hex) +
                                   "\"");
  }
  NodeId id;
  std::memcpy(id.bytes.data(), bytes->data(), 32);
  return id;
}

std::string NodeId::ToHex() const { return HexEncode(bytes); }
std::string NodeId::ShortHex() const { return HexEncode(std::span<const uint8_t>(bytes).first(8)); }

bool VerifySignature(const PublicKey& signer, std::span<const uint8_t> message,
                     const Signature& signature) {
  if (!EnsureSodium()) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     signer.data()) == 0;
}

NodeIdentity NodeIdentity::Generate() {
  std::array<uint8_t, 32> seed;
  EnsureSodium();
  randombytes_buf(seed.data(), seed.size());
  NodeIdentity identity = FromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  return identity;
}

NodeIdentity NodeIdentity::FromSeed(std::span<const uint8_t, 32> seed) {
  EnsureSodium();
  NodeIdentity identity;
  std::memcpy(identity.seed_.data(), seed.data(), 32);
  crypto_sign_seed_keypair(identity.signing_public_.data(), identity.signing_secret_.data(),
                           identity.seed_.data());
  // The X25519 key is derived from the seed with a separate hash domain, so one secret (the
  // seed) backs both keys and an X25519 compromise does not reveal the signing key.
  crypto_generichash(identity.encryption_secret_.data(), 32, identity.seed_.data(), 32,
                     reinterpret_cast<const uint8_t*>("infernet/v1/x25519"), 18);
  crypto_scalarmult_base(identity.encryption_public_.data(), identity.encryption_secret_.data());
  identity.id_ = NodeId::FromPublicKey(identity.signing_public_);
  return identity;
}

Result<NodeIdentity> NodeIdentity::Load(const std::filesystem::path& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::NotFound("key file " + path.string() + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::Corrupt("key file " + path.string() + " is not a regular file");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Status(
        StatusCode::kPermissionDenied,
        "key file " + path.string() + " is accessible by group or others; run chmod 600 on it");
  }
  // A key file is a few hundred bytes; refuse anything large before reading it.
  if (st.st_size > kMaxKeyFileBytes) {
    return Status::Corrupt("key file " + path.string() + " is too large to be a key file");
  }
  std::ifstream in(path);
  if (!in) return Status::Io("cannot read key file " + path.string());
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  nlohmann::json doc = nlohmann::json::parse(contents, nullptr, /*allow_exceptions=*/false);
  sodium_memzero(contents.data(), contents.size());
  struct WipeOnExit {
    nlohmann::json& doc;
    ~WipeOnExit() {
      if (doc.is_object()) WipeJsonStrings(doc);
    }
  } wipe_on_exit{doc};
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::Corrupt("key file " + path.string() + " is not a JSON object");
  }
  if (!doc.contains("version") || !doc["version"].is_number_integer() ||
      doc["version"] != kKeyFileVersion) {
    return Status::Unsupported("key file " + path.string() + " has an unsupported version");
  }
  auto seed = Decode32(doc, "ed25519_seed");
  if (!seed.ok()) return seed.status().WithContext(path.string());
  NodeIdentity identity = FromSeed(*seed);
  sodium_memzero(seed->data(), seed->size());
  auto x25519 = Decode32(doc, "x25519_secret");
  if (!x25519.ok()) return x25519.status().WithContext(path.string());
  const bool x25519_matches =
      sodium_memcmp(x25519->data(), identity.encryption_secret_.data(), 32) == 0;
  sodium_memzero(x25519->data(), x25519->size());
  if (!x25519_matches) {
    return Status::Corrupt("key file " + path.string() +
                           ": x25519_secret does not belong to ed25519_seed");
  }
  // The public fields are informative copies; if present they must agree, or the file was
  // edited or mixed from two keys and should not be trusted.
  const std::pair<const char*, std::string> public_fields[] = {
      {"node_id", identity.id_.ToHex()},
      {"ed25519_public", HexEncode(identity.signing_public_)},
      {"x25519_public", HexEncode(identity.encryption_public_)}};
  for (const auto& [field, expected] : public_fields) {
    if (!doc.contains(field)) continue;
    auto given = doc[field].is_string() ? HexDecode(doc[field].get<std::string>())
                                        : Status::Corrupt("not a string");
    if (!given.ok() || HexEncode(*given) != expected) {
      return Status::Corrupt("key file " + path.string() + ": " + field +
                             " does not match the secret keys");
    }
  }
  return identity;
}

Status NodeIdentity::Save(const std::filesystem::path& path) const {
  nlohmann::json doc = {{"version", kKeyFileVersion},
                        {"node_id", id_.ToHex()},
                        {"ed25519_public", HexEncode(signing_public_)},
                        {"x25519_public", HexEncode(encryption_public_)},
                        {"ed25519_seed", HexEncode(seed_)},
                        {"x25519_secret", HexEncode(encryption_secret_)}};
  std::string text = doc.dump(2) + "\n";
  // A unique temporary name (mkstemp creates it 0600), so a file left by a crash between
  // creating and linking never blocks a later Save.
  std::string tmp_name = path.string() + ".tmp.XXXXXX";
  int fd = ::mkostemp(tmp_name.data(), O_CLOEXEC);
  const std::filesystem::path tmp = tmp_name;
  if (fd < 0) {
    sodium_memzero(text.data(), text.size());
    return Status::Io("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                 ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(text.data(), text.size());
  if (!written) {
    ::unlink(tmp.c_str());
    return Status::Io("cannot write " + tmp.string());
  }
  // link() fails when `path` exists, so an existing key is never replaced.
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) {
      return Status(StatusCode::kAlreadyExists,
                    "key file " + path.string() + " already exists; refusing to overwrite it");
    }
    return Status::Io("cannot create " + path.string() + ": " + std::strerror(err));
  }
  ::unlink(tmp.c_str());
  return Status::Ok();
}

NodeIdentity::NodeIdentity(NodeIdentity&& other) noexcept { *this = std::move(other); }

NodeIdentity& NodeIdentity::operator=(NodeIdentity&& other) noexcept {
  if (this != &other) {
    seed_ = other.seed_;
    signing_secret_ = other.signing_secret_;
    encryption_secret_ = other.encryption_secret_;
    signing_public_ = other.signing_public_;
    encryption_public_ = other.encryption_public_;
    id_ = other.id_;
    other.Wipe();
  }
  return *this;
}

NodeIdentity::~NodeIdentity() { Wipe(); }

void NodeIdentity::Wipe() {
  sodium_memzero(seed_.data(), seed_.size());
  sodium_memzero(signing_secret_.data(), signing_secret_.size());
  sodium_memzero(encryption_secret_.data(), encryption_secret_.size());
}

Signature NodeIdentity::Sign(std::span<const uint8_t> message) const {
  Signature signature;
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(),
                       signing_secret_.data());
  return signature;
}

}  // namespace infernet
