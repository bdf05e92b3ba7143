#include "client/grpc_chunk_source.h"

namespace infernet::client {
namespace {

Status FromGrpc(const grpc::Status& status, const std::string& what) {
  StatusCode code = StatusCode::kUnavailable;
  switch (status.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      code = StatusCode::kNotFound;
      break;
    case grpc::StatusCode::OUT_OF_RANGE:
      code = StatusCode::kOutOfRange;
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      code = StatusCode::kDeadlineExceeded;
      break;
    case grpc::StatusCode::UNAUTHENTICATED:
      code = StatusCode::kUnauthenticated;
      break;
    default:
      break;
  }
  return Status(code, what + ": " + status.error_message());
}

}  // namespace

GrpcChunkSource::GrpcChunkSource(NodeId node_id, std::string address,
                                 std::shared_ptr<grpc::Channel> channel,
                                 std::chrono::milliseconds per_call_timeout)
    : node_id_(node_id),
      address_(std::move(address)),
      stub_(v1::Provider::NewStub(std::move(channel))),
      timeout_(per_call_timeout) {}

Result<v1::SignedEnvelope> GrpcChunkSource::GetManifest(const Digest32& model_hash) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout_);
  v1::ManifestRequest request;
  request.set_model_hash(std::string(reinterpret_cast<const char*>(model_hash.data()), 32));
  v1::SignedEnvelope response;
  grpc::Status status = stub_->GetModelManifest(&context, request, &response);
  if (!status.ok()) return FromGrpc(status, "manifest from " + Describe());
  return response;
}

Result<v1::Chunk> GrpcChunkSource::GetChunk(const Digest32& model_hash, uint32_t chunk_index) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout_);
  v1::ChunkRequest request;
  request.set_model_hash(std::string(reinterpret_cast<const char*>(model_hash.data()), 32));
  request.set_chunk_index(chunk_index);
  v1::Chunk response;
  grpc::Status status = stub_->GetModelChunk(&context, request, &response);
  if (!status.ok())
    return FromGrpc(status, "chunk " + std::to_string(chunk_index) + " from " + Describe());
  return response;
}

}  // namespace infernet::client
