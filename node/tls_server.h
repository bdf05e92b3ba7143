// A node's gRPC server over TLS 1.3 bound to its identity, on config.listen.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "core/identity.h"
#include "core/result.h"
#include "node/node_config.h"
#include "provider/provider_server.h"

namespace infernet::node {

struct TlsServer {
  std::unique_ptr<provider::ProviderServer> server;
  std::string address;  // "host:port" with the port actually bound (listen may ask for port 0)
};

// Serves `service` (which must outlive the server) on config.listen.
Result<TlsServer> ServeTls(const NodeConfig& config, const NodeIdentity& identity,
                           grpc::Service* service);

}  // namespace infernet::node
