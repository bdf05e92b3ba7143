#include "aggregator/aggregator_service.h"

#include "core/hex.h"
#include "provider/task_errors.h"

namespace infernet::aggregator {
namespace {

constexpr size_t kJobIdBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr auto kPollInterval = std::chrono::milliseconds(200);

using provider::MakeError;

std::string Bytes(const NodeId& id) { return std::string(id.bytes.begin(), id.bytes.end()); }

v1::JobEvent ErrorEvent(const v1::Error& error) {
  v1::JobEvent event;
  *event.mutable_error() = error;
  return event;
}

}  // namespace

AggregatorService::AggregatorService(const NodeIdentity& identity, const Clock& clock,
                                     Coordinator& coordinator, AggregatorLimits limits)
    : identity_(identity),
      clock_(clock),
      coordinator_(coordinator),
      limits_(std::move(limits)),
      replay_(limits_.freshness.max_age_ms + limits_.freshness.max_future_ms,
              limits_.replay_capacity) {}

grpc::Status AggregatorService::Ping(grpc::ServerContext*, const v1::PingRequest* request,
                                     v1::PingResponse* response) {
  if (request->nonce().size() > 64) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "ping nonce longer than 64 bytes");
  }
  response->set_nonce(request->nonce());
  response->set_protocol_version(net::kProtocolVersion);
  response->set_software_version(limits_.software_version);
  return grpc::Status::OK;
}

bool AggregatorService::Screen(const v1::SignedEnvelope& envelope, v1::JobRequest* request,
                               NodeId* client, v1::Error* error) {
  auto author = net::VerifyClaim(envelope, clock_, limits_.freshness, &replay_, request);
  if (!author.ok()) {
    *error = provider::ErrorForVerification(author.status());
    return false;
  }
  *client = author->id;
  auto fail = [&](v1::Error::Code code, std::string message) {
    *error = MakeError(code, std::move(message));
    return false;
  };
  if (request->aggregator_id() != Bytes(identity_.id())) {
    return fail(v1::Error::UNAUTHENTICATED,
                "job is addressed to another aggregator (this is " + identity_.id().ToHex() + ")");
  }
  if (request->job_id().size() != kJobIdBytes) {
    return fail(v1::Error::INVALID_ARGUMENT, "job_id must be 16 bytes");
  }
  if (request->model_hash().size() != kHashBytes) {
    return fail(v1::Error::INVALID_ARGUMENT, "model_hash must be 32 bytes");
  }
  if (request->kind() != v1::GENERATE && request->kind() != v1::EMBED &&
      request->kind() != v1::SCORE) {
    return fail(v1::Error::INVALID_ARGUMENT, "kind must be GENERATE, EMBED or SCORE");
  }
  if (request->inputs_size() == 0) return fail(v1::Error::INVALID_ARGUMENT, "job has no inputs");
  if (static_cast<uint32_t>(request->inputs_size()) > limits_.max_inputs) {
    return fail(v1::Error::TOO_LARGE, std::to_string(request->inputs_size()) + " inputs, at most " +
                                          std::to_string(limits_.max_inputs) + " accepted");
  }
  for (int i = 0; i < request->inputs_size(); ++i) {
    const v1::TaskInput& input = request->inputs(i);
    const std::string name = "input " + std::to_string(i);
    if (input.index() != static_cast<uint32_t>(i)) {
      return fail(v1::Error::INVALID_ARGUMENT, "input indices must be 0, 1, 2, ... in order");
    }
    if (input.text().size() + input.continuation().size() > limits_.max_input_bytes) {
      return fail(v1::Error::TOO_LARGE,
                  name + " is longer than " + std::to_string(limits_.max_input_bytes) + " bytes");
    }
    if (input.text().empty()) return fail(v1::Error::INVALID_ARGUMENT, name + " has empty text");
    if (request->kind() == v1::SCORE && input.continuation().empty()) {
      return fail(v1::Error::INVALID_ARGUMENT, name + " has no continuation to score");
    }
  }
  if (request->kind() == v1::GENERATE) {
    const v1::GenerationParams& g = request->generation();
    if (g.max_tokens() == 0 || g.max_tokens() > limits_.max_tokens_limit) {
      return fail(v1::Error::TOO_LARGE, "generation.max_tokens must be in [1, " +
                                            std::to_string(limits_.max_tokens_limit) + "]");
    }
    if (!(g.temperature() >= 0) || !(g.top_p() >= 0 && g.top_p() <= 1) ||
        !(g.min_p() >= 0 && g.min_p() <= 1) || !(g.repetition_penalty() >= 0)) {
      return fail(v1::Error::INVALID_ARGUMENT,
                  "generation parameters out of range (temperature >= 0, top_p and min_p in "
                  "[0, 1], repetition_penalty >= 0)");
    }
  }
  if (request->deadline_ms() <= clock_.NowMs()) {
    return fail(v1::Error::DEADLINE_UNMEETABLE, "the job's deadline has already passed");
  }
  return true;
}

grpc::Status AggregatorService::SubmitJob(grpc::ServerContext* context,
                                          const v1::SignedEnvelope* envelope,
                                          grpc::ServerWriter<v1::JobEvent>* writer) {
  v1::JobRequest request;
  NodeId client;
  v1::Error error;
  if (!Screen(*envelope, &request, &client, &error)) {
    writer->Write(ErrorEvent(error));
    return provider::ToGrpcStatus(error);
  }
  auto existed = coordinator_.Submit(request, *envelope);
  if (!existed.ok()) {
    error = MakeError(existed.status().code() == StatusCode::kInvalidArgument
                          ? v1::Error::INVALID_ARGUMENT
                          : v1::Error::INTERNAL,
                      existed.status().message());
    writer->Write(ErrorEvent(error));
    return provider::ToGrpcStatus(error);
  }
  return Stream(context, request.job_id(), client, *existed,
                static_cast<uint32_t>(request.inputs_size()), writer);
}

grpc::Status AggregatorService::AttachJob(grpc::ServerContext* context,
                                          const v1::SignedEnvelope* envelope,
                                          grpc::ServerWriter<v1::JobEvent>* writer) {
  v1::JobAttach attach;
  auto author = net::VerifyClaim(*envelope, clock_, limits_.freshness, &replay_, &attach);
  v1::Error error;
  if (!author.ok()) {
    error = provider::ErrorForVerification(author.status());
  } else if (attach.aggregator_id() != Bytes(identity_.id())) {
    error = MakeError(v1::Error::UNAUTHENTICATED, "attach is addressed to another aggregator");
  } else if (attach.job_id().size() != kJobIdBytes) {
    error = MakeError(v1::Error::INVALID_ARGUMENT, "job_id must be 16 bytes");
  } else {
    return Stream(context, attach.job_id(), author->id, /*resumed=*/true, 0, writer);
  }
  writer->Write(ErrorEvent(error));
  return provider::ToGrpcStatus(error);
}

grpc::Status AggregatorService::Stream(grpc::ServerContext* context, const std::string& job_id,
                                       const NodeId& client, bool resumed, uint32_t inputs,
                                       grpc::ServerWriter<v1::JobEvent>* writer) {
  auto queue = coordinator_.Subscribe(job_id, client);
  if (!queue.ok()) {
    const StatusCode code = queue.status().code();
    v1::Error error = MakeError(code == StatusCode::kNotFound          ? v1::Error::INVALID_ARGUMENT
                                : code == StatusCode::kUnauthenticated ? v1::Error::UNAUTHENTICATED
                                                                       : v1::Error::INTERNAL,
                                queue.status().message());
    if (code == StatusCode::kNotFound) {
      *error.mutable_message() = "no job " + JobIdHex(job_id) + " here";
    }
    writer->Write(ErrorEvent(error));
    return provider::ToGrpcStatus(error);
  }
  v1::JobEvent accepted;
  accepted.mutable_accepted()->set_inputs(inputs);
  accepted.mutable_accepted()->set_resumed(resumed);
  if (!writer->Write(accepted)) return grpc::Status(grpc::StatusCode::CANCELLED, "client left");
  // The job runs on whether or not the client stays; leaving only stops this stream.
  while (!context->IsCancelled()) {
    bool timed_out = false;
    auto event = (*queue)->Pop(kPollInterval, &timed_out);
    if (!event) {
      if (timed_out) continue;
      break;  // closed: summary sent, or the aggregator is stopping
    }
    if (!writer->Write(*event)) return grpc::Status(grpc::StatusCode::CANCELLED, "client left");
  }
  if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "client left");
  return grpc::Status::OK;
}

}  // namespace infernet::aggregator
