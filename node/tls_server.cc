#include "node/tls_server.h"

#include "net/tls_credentials.h"

namespace infernet::node {

Result<TlsServer> ServeTls(const NodeConfig& config, const NodeIdentity& identity,
                           grpc::Service* service) {
  auto credentials = net::ServerCredentialsFor(identity);
  if (!credentials.ok()) return credentials.status().WithContext("TLS credentials");
  auto server = provider::ProviderServer::Start(config.listen, *credentials, service);
  if (!server.ok()) return server.status().WithContext("serving gRPC on " + config.listen);
  INFERNET_ASSIGN_OR_RETURN(auto listen, SplitHostPort(config.listen));
  TlsServer tls;
  tls.address = listen.first + ":" + std::to_string((*server)->port());
  tls.server = std::move(server).value();
  return tls;
}

}  // namespace infernet::node
