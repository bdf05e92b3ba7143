#include "provider/provider_server.h"

#include <chrono>

#include "net/channel_options.h"

namespace infernet::provider {

Result<std::unique_ptr<ProviderServer>> ProviderServer::Start(
    const std::string& address, std::shared_ptr<grpc::ServerCredentials> credentials,
    grpc::Service* service) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, std::move(credentials), &port);
  net::ConfigureServer(builder);  // message limits, keep-alives
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return Status(StatusCode::kUnavailable, "cannot listen on " + address);
  }
  return std::unique_ptr<ProviderServer>(new ProviderServer(std::move(server), port));
}

void ProviderServer::Shutdown() {
  if (server_ == nullptr) return;
  // A deadline so that handlers stuck in a long task are cancelled rather than awaited forever.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server_->Wait();
  server_.reset();
}

ProviderServer::~ProviderServer() { Shutdown(); }

}  // namespace infernet::provider
