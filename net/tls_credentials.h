// gRPC credentials that bind TLS to node identities (docs/protocol.md §6):
// - a server presents its node certificate and requires one from every client (a client without
//   a valid self-signed Ed25519 certificate is refused in the handshake);
// - a client presents its own and accepts only a server whose certificate key hashes to the node
//   ID it dialed (no CA, no host name checks: the node ID is the name).
// TLS 1.2 and below are refused (RequireTls13).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "core/identity.h"
#include "core/result.h"

namespace infernet::net {

Result<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(const NodeIdentity& identity);
Result<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const NodeIdentity& identity, const NodeId& expected_peer);

// gRPC 1.51 offers no TLS version setting and sets its SSL_CTXs' version range to TLS 1.2-1.3
// itself, so the minimum is imposed process-wide through OpenSSL's configuration: the
// system_default section, which OpenSSL applies to every SSL_CTX created afterwards, disables
// TLS 1.2 and below as options ("Protocol = -TLSv1.2, ..."), which a version range does not undo.
// Idempotent; the credential factories call it. (Tested: a TLS 1.2 client is refused.)
Status RequireTls13();

// The node ID of the peer of a call, from the certificate TLS verified (server side).
Result<NodeId> PeerNodeId(const grpc::ServerContext& context);

}  // namespace infernet::net
