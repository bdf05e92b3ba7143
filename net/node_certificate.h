// TLS certificates bound to node identities: a node's certificate is self-signed and its key IS
// the node's Ed25519 identity key, so completing a TLS handshake proves possession of the key
// whose hash is the node ID (docs/protocol.md §6). No CA is involved.
#pragma once

#include <string>
#include <string_view>

#include "core/identity.h"
#include "core/result.h"

namespace infernet::net {

struct NodeCertificate {
  std::string certificate_pem;
  std::string private_key_pem;  // secret: never log
};

// A fresh self-signed X.509 v3 certificate for `identity` (subject CN = node ID hex, valid from
// an hour ago for a year; the dates carry no meaning, the key does).
Result<NodeCertificate> MakeNodeCertificate(const NodeIdentity& identity);

// The node ID a peer's certificate stands for: the certificate must parse, carry an Ed25519 key
// and be validly self-signed by it. kUnauthenticated otherwise, naming the problem.
Result<NodeId> NodeIdFromCertificatePem(std::string_view pem);

}  // namespace infernet::net
