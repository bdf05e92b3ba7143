#include "net/signed_envelope.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>

namespace infernet::net {
namespace {

constexpr char kDomain[] = "infernet/v1";  // followed by its terminating NUL in SigningInput
constexpr size_t kNonceBytes = 16;

}  // namespace

std::vector<uint8_t> SigningInput(const std::string& kind, const std::string& body) {
  // Sized once and filled with memcpy (GCC 12 misreports insert() chains as overflows).
  std::vector<uint8_t> input(sizeof(kDomain) + kind.size() + 1 + body.size());
  uint8_t* out = input.data();
  std::memcpy(out, kDomain, sizeof(kDomain));  // includes the NUL
  out += sizeof(kDomain);
  std::memcpy(out, kind.data(), kind.size());
  out += kind.size();
  *out++ = 0;
  if (!body.empty()) std::memcpy(out, body.data(), body.size());
  return input;
}

namespace internal {

std::string RandomNonce() {
  std::string nonce(kNonceBytes, '\0');
  if (sodium_init() < 0) std::abort();  // no randomness: nothing safe to do
  randombytes_buf(nonce.data(), nonce.size());
  return nonce;
}

v1::SignedEnvelope SealEnvelope(std::string kind, std::string body, const NodeIdentity& author) {
  Signature signature = author.Sign(SigningInput(kind, body));
  v1::SignedEnvelope envelope;
  envelope.set_protocol_version(kProtocolVersion);
  envelope.set_kind(std::move(kind));
  envelope.set_body(std::move(body));
  envelope.set_signer_key(author.signing_public_key().data(), author.signing_public_key().size());
  envelope.set_signature(signature.data(), signature.size());
  return envelope;
}

Status VerifyEnvelopeSignature(const v1::SignedEnvelope& envelope, const std::string& kind,
                               PublicKey* signer) {
  if (envelope.protocol_version() != kProtocolVersion) {
    return Status::Unsupported("envelope protocol version " +
                               std::to_string(envelope.protocol_version()) + " is not spoken (" +
                               std::to_string(kProtocolVersion) + " is)");
  }
  if (envelope.body().size() > kMaxEnvelopeBodyBytes) {
    return Status::Corrupt("envelope body of " + std::to_string(envelope.body().size()) +
                           " bytes exceeds the limit of " + std::to_string(kMaxEnvelopeBodyBytes));
  }
  if (envelope.signer_key().size() != signer->size()) {
    return Status::Corrupt("envelope signer key is " +
                           std::to_string(envelope.signer_key().size()) + " bytes, expected 32");
  }
  Signature signature;
  if (envelope.signature().size() != signature.size()) {
    return Status::Corrupt("envelope signature is " + std::to_string(envelope.signature().size()) +
                           " bytes, expected 64");
  }
  if (envelope.kind() != kind) {
    // Names are attacker-controlled; only the expected one is echoed back verbatim.
    return Status::Corrupt("envelope kind is not " + kind);
  }
  std::memcpy(signer->data(), envelope.signer_key().data(), signer->size());
  std::memcpy(signature.data(), envelope.signature().data(), signature.size());
  if (!VerifySignature(*signer, SigningInput(envelope.kind(), envelope.body()), signature)) {
    return Status(StatusCode::kUnauthenticated, "envelope signature does not verify");
  }
  return Status::Ok();
}

Result<VerifiedAuthor> VerifyHeader(const v1::ClaimHeader& header, const PublicKey& signer,
                                    const Clock& clock, const FreshnessPolicy& policy,
                                    ReplayGuard* replay) {
  VerifiedAuthor author{NodeId::FromPublicKey(signer), signer, header.timestamp_ms()};
  const std::string& claimed = header.author_id();
  if (claimed.size() != author.id.bytes.size() ||
      sodium_memcmp(claimed.data(), author.id.bytes.data(), author.id.bytes.size()) != 0) {
    return Status(
        StatusCode::kUnauthenticated,
        "claim author_id does not match the signer key (signer is " + author.id.ShortHex() + ")");
  }
  if (header.nonce().size() != kNonceBytes) {
    return Status::Corrupt("claim nonce is " + std::to_string(header.nonce().size()) +
                           " bytes, expected 16");
  }
  const int64_t now = clock.NowMs();
  // Timestamps are attacker-chosen int64s, so `now - ts` could overflow; the bounds are computed
  // from our own clock instead.
  const int64_t ts = header.timestamp_ms();
  if (ts < now - policy.max_age_ms) {
    return Status::OutOfRange("stale claim: timestamp " + std::to_string(ts) + " is more than " +
                              std::to_string(policy.max_age_ms) + " ms old (now " +
                              std::to_string(now) + ")");
  }
  if (ts > now + policy.max_future_ms) {
    return Status::OutOfRange("stale claim: timestamp " + std::to_string(ts) + " is more than " +
                              std::to_string(policy.max_future_ms) + " ms in the future (now " +
                              std::to_string(now) + ")");
  }
  if (replay != nullptr) {
    INFERNET_RETURN_IF_ERROR(replay->CheckAndRecord(author.id, header.nonce(), ts, now));
  }
  return author;
}

}  // namespace internal
}  // namespace infernet::net
