// Builds a provider's signed NodeRecord envelope (docs/protocol.md §3) from what the node knows
// about itself.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/identity.h"
#include "infernet/v1/envelope.pb.h"
#include "infernet/v1/node_record.pb.h"

namespace infernet::discovery {

// Default record lifetime; publishers re-publish at half of it.
inline constexpr int64_t kDefaultRecordTtlMs = 10 * 60 * 1000;

// Everything in a NodeRecord that is not derived from the identity, the clock or the TTL.
struct ProviderDescription {
  std::vector<std::string> addresses;  // "host:port" of the gRPC endpoint
  v1::Hardware hardware;
  std::vector<v1::ModelOffer> models;
  v1::Capacity capacity;
  v1::ReputationSummary reputation;
  std::string software_version;
  std::vector<std::string> roles = {"provider"};
  std::string currency = "ledger-credit";
};

// A NodeRecord signed by `identity`: header (author, timestamp = clock.NowMs(), nonce), its
// X25519 key, protocol version, `description`, and expires_ms = now + ttl_ms.
v1::SignedEnvelope BuildSignedNodeRecord(const NodeIdentity& identity,
                                         const ProviderDescription& description, const Clock& clock,
                                         int64_t ttl_ms);

}  // namespace infernet::discovery
