// Signing and verifying SignedEnvelopes (docs/protocol.md §2): the author signs the serialized
// body exactly as carried, under a domain that names the protocol and the body's type; receivers
// check the signature, that the body's ClaimHeader names the signer, that the timestamp is fresh
// and (optionally) that the nonce is new — and only then hand out the parsed body.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/identity.h"
#include "core/result.h"
#include "infernet/v1/envelope.pb.h"
#include "net/replay_guard.h"

namespace infernet::net {

inline constexpr uint32_t kProtocolVersion = 1;
// Largest body accepted for any envelope (bytes). Larger ones are refused before parsing.
inline constexpr size_t kMaxEnvelopeBodyBytes = 16 << 20;

struct FreshnessPolicy {
  int64_t max_age_ms = 5 * 60 * 1000;   // older claims are STALE
  int64_t max_future_ms = 60 * 1000;    // allowed clock skew into the future
};

// Fills header (author, timestamp from `clock`, random nonce) into `body`'s ClaimHeader, which
// must be field 1 named `header`, then serializes and signs it. `Body` is a generated message type.
template <class Body>
v1::SignedEnvelope SignClaim(Body body, const NodeIdentity& author, const Clock& clock);

// The bytes an envelope's signature covers.
std::vector<uint8_t> SigningInput(const std::string& kind, const std::string& body);

struct VerifiedAuthor {
  NodeId id;
  PublicKey key;
  int64_t timestamp_ms = 0;
};

// Verifies `envelope` as a claim of type Body: protocol version, kind == Body's full name, size,
// signature, header.author_id == hash(signer_key), freshness; when `replay` is non-null, also that
// (author, nonce) was not seen before (and records it). On success parses the body into `*body`.
// Errors: kUnauthenticated (signature/author), kDeadlineExceeded is NOT used; stale → a Status
// with code kOutOfRange and message starting "stale", replay → kAlreadyExists "replayed",
// malformed → kCorrupt, version → kUnsupported.
template <class Body>
Result<VerifiedAuthor> VerifyClaim(const v1::SignedEnvelope& envelope, const Clock& clock,
                                   const FreshnessPolicy& policy, ReplayGuard* replay, Body* body);

}  // namespace infernet::net

#include "net/signed_envelope_inl.h"
