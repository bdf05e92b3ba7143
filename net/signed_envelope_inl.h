// Template definitions for net/signed_envelope.h; included only from there.
#pragma once

#include <string>
#include <utility>

#include "infernet/v1/envelope.pb.h"

namespace infernet::net {
namespace internal {

// 16 random bytes for ClaimHeader.nonce.
std::string RandomNonce();

// The checks that do not depend on the body type, in the documented order: version, size,
// key/signature lengths, kind, signature. On success `*signer` holds the signer's key.
Status VerifyEnvelopeSignature(const v1::SignedEnvelope& envelope, const std::string& kind,
                               PublicKey* signer);

// The checks on a parsed header: author matches the signer, timestamp fresh, nonce new.
Result<VerifiedAuthor> VerifyHeader(const v1::ClaimHeader& header, const PublicKey& signer,
                                    const Clock& clock, const FreshnessPolicy& policy,
                                    ReplayGuard* replay);

// Signs SigningInput(kind, body) and fills the envelope.
v1::SignedEnvelope SealEnvelope(std::string kind, std::string body, const NodeIdentity& author);

}  // namespace internal

template <class Body>
v1::SignedEnvelope SignClaim(Body body, const NodeIdentity& author, const Clock& clock) {
  v1::ClaimHeader* header = body.mutable_header();
  header->set_author_id(author.id().bytes.data(), author.id().bytes.size());
  header->set_timestamp_ms(clock.NowMs());
  header->set_nonce(internal::RandomNonce());
  std::string serialized;
  body.SerializeToString(&serialized);
  return internal::SealEnvelope(Body::descriptor()->full_name(), std::move(serialized), author);
}

template <class Body>
Result<VerifiedAuthor> VerifyClaim(const v1::SignedEnvelope& envelope, const Clock& clock,
                                   const FreshnessPolicy& policy, ReplayGuard* replay, Body* body) {
  PublicKey signer;
  INFERNET_RETURN_IF_ERROR(
      internal::VerifyEnvelopeSignature(envelope, Body::descriptor()->full_name(), &signer));
  // Parse into a scratch message so that `*body` is only touched once everything holds.
  Body parsed;
  if (!parsed.ParseFromString(envelope.body())) {
    return Status::Corrupt("envelope body is not a valid " + Body::descriptor()->full_name());
  }
  INFERNET_ASSIGN_OR_RETURN(VerifiedAuthor author,
                            internal::VerifyHeader(parsed.header(), signer, clock, policy, replay));
  if (body != nullptr) *body = std::move(parsed);
  return author;
}

}  // namespace infernet::net
