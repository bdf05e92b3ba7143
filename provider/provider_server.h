// A gRPC server hosting the Provider service on one address, with the credentials the caller
// chooses (TLS bound to the node identity in production, insecure on loopback in tests).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "core/result.h"

namespace infernet::provider {

class ProviderServer {
 public:
  // Listens on `address` ("host:port"; port 0 picks a free one) and serves `service`, which must
  // outlive the server. kUnavailable when the address cannot be bound.
  static Result<std::unique_ptr<ProviderServer>> Start(
      const std::string& address, std::shared_ptr<grpc::ServerCredentials> credentials,
      grpc::Service* service);
  // Shuts down (cancelling calls in flight) and waits for handlers to return.
  ~ProviderServer();

  int port() const { return port_; }
  void Shutdown();

 private:
  ProviderServer(std::unique_ptr<grpc::Server> server, int port)
      : server_(std::move(server)), port_(port) {}
  std::unique_ptr<grpc::Server> server_;
  int port_;
};

}  // namespace infernet::provider
