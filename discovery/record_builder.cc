#include "discovery/record_builder.h"

#include "net/signed_envelope.h"

namespace infernet::discovery {

v1::SignedEnvelope BuildSignedNodeRecord(const NodeIdentity& identity,
                                         const ProviderDescription& description, const Clock& clock,
                                         int64_t ttl_ms) {
  v1::NodeRecord record;
  const PublicKey& x25519 = identity.encryption_public_key();
  record.set_x25519_public_key(x25519.data(), x25519.size());
  for (const std::string& address : description.addresses) record.add_addresses(address);
  *record.mutable_hardware() = description.hardware;
  for (const v1::ModelOffer& offer : description.models) *record.add_models() = offer;
  *record.mutable_capacity() = description.capacity;
  *record.mutable_reputation() = description.reputation;
  record.set_software_version(description.software_version);
  record.set_protocol_version(net::kProtocolVersion);
  record.set_expires_ms(clock.NowMs() + ttl_ms);
  for (const std::string& role : description.roles) record.add_roles(role);
  record.set_currency(description.currency);
  return net::SignClaim(std::move(record), identity, clock);
}

}  // namespace infernet::discovery
