#include "discovery/record_validation.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "discovery/record_store.h"
#include "net/signed_envelope.h"

namespace infernet::discovery {
namespace {

// True when the envelope's signature verifies over its own bytes, whoever the author claims to
// be: separates "forged author" from "bad signature" in the diagnostics.
bool SignatureVerifies(const v1::SignedEnvelope& envelope) {
  PublicKey signer;
  Signature signature;
  if (envelope.signer_key().size() != signer.size() ||
      envelope.signature().size() != signature.size()) {
    return false;
  }
  std::memcpy(signer.data(), envelope.signer_key().data(), signer.size());
  std::memcpy(signature.data(), envelope.signature().data(), signature.size());
  return VerifySignature(signer, net::SigningInput(envelope.kind(), envelope.body()), signature);
}

void CountRejection(const Status& status, const v1::SignedEnvelope& envelope,
                    IgnoredRecords* ignored) {
  switch (status.code()) {
    case StatusCode::kUnsupported:
      ++ignored->wrong_version;
      break;
    case StatusCode::kUnauthenticated:
      if (SignatureVerifies(envelope)) {
        ++ignored->wrong_author;
      } else {
        ++ignored->bad_signature;
      }
      break;
    case StatusCode::kOutOfRange:
      ++ignored->stale;
      break;
    default:
      ++ignored->malformed;
  }
}

}  // namespace

ValidatedRecords ValidateNodeRecords(const std::vector<std::string>& values, const Clock& clock,
                                     const RecordValidationPolicy& policy) {
  ValidatedRecords result;
  const net::FreshnessPolicy freshness{policy.max_record_age_ms, policy.max_future_ms};
  std::map<NodeId, ProviderRecord> newest;
  for (const std::string& value : values) {
    v1::SignedEnvelope envelope;
    // Size first: never hand an oversized untrusted buffer to the parser.
    if (value.size() > kMaxRecordValueBytes || !envelope.ParseFromString(value)) {
      ++result.ignored.malformed;
      continue;
    }
    v1::NodeRecord record;
    Result<net::VerifiedAuthor> author =
        net::VerifyClaim(envelope, clock, freshness, /*replay=*/nullptr, &record);
    if (!author.ok()) {
      CountRejection(author.status(), envelope, &result.ignored);
      continue;
    }
    if (record.protocol_version() != net::kProtocolVersion) {
      ++result.ignored.wrong_version;
      continue;
    }
    if (record.expires_ms() < clock.NowMs()) {
      ++result.ignored.expired;
      continue;
    }
    auto [it, inserted] = newest.try_emplace(author->id);
    if (!inserted) {
      ++result.ignored.superseded;
      if (it->second.record.header().timestamp_ms() >= record.header().timestamp_ms()) continue;
    }
    it->second = ProviderRecord{author->id, std::move(record), std::move(envelope)};
  }
  result.records.reserve(newest.size());
  for (auto& [id, record] : newest) result.records.push_back(std::move(record));
  return result;
}

bool SameSignerReplaces(std::string_view stored, std::string_view incoming) {
  v1::SignedEnvelope old_envelope;
  v1::SignedEnvelope new_envelope;
  if (!old_envelope.ParseFromArray(stored.data(), static_cast<int>(stored.size()))) return true;
  if (!new_envelope.ParseFromArray(incoming.data(), static_cast<int>(incoming.size()))) {
    return false;
  }
  // A signer key only counts when its signature verifies; otherwise anyone could copy it.
  return new_envelope.signer_key() == old_envelope.signer_key() && SignatureVerifies(new_envelope);
}

}  // namespace infernet::discovery
