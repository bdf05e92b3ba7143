// ChunkSource over a peer's Provider gRPC service.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "client/model_puller.h"
#include "infernet/v1/service.grpc.pb.h"

namespace infernet::client {

class GrpcChunkSource final : public ChunkSource {
 public:
  // `channel` must already be authenticated as `node_id` (net/tls_credentials.h).
  GrpcChunkSource(NodeId node_id, std::string address, std::shared_ptr<grpc::Channel> channel,
                  std::chrono::milliseconds per_call_timeout = std::chrono::seconds(60));

  const NodeId& node_id() const override { return node_id_; }
  std::string Describe() const override { return node_id_.ShortHex() + "@" + address_; }
  Result<v1::SignedEnvelope> GetManifest(const Digest32& model_hash) override;
  Result<v1::Chunk> GetChunk(const Digest32& model_hash, uint32_t chunk_index) override;

 private:
  NodeId node_id_;
  std::string address_;
  std::unique_ptr<v1::Provider::Stub> stub_;
  std::chrono::milliseconds timeout_;
};

}  // namespace infernet::client
