#include "provider/task_service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstring>

#include "core/hex.h"
#include "provider/output_hash.h"
#include "provider/task_errors.h"

namespace infernet::provider {
namespace {

// How long streamed tokens may wait to be sent together (see RunTask).
constexpr auto kTokenFlushInterval = std::chrono::milliseconds(50);

constexpr size_t kTaskIdBytes = 16;
constexpr size_t kMaxCompletedRemembered = 1 << 16;

std::string Bytes(const Digest32& digest) {
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

bool ToDigest(const std::string& bytes, Digest32* digest) {
  if (bytes.size() != digest->size()) return false;
  std::memcpy(digest->data(), bytes.data(), digest->size());
  return true;
}

// Rough work estimate for admission: prompt bytes stand in for prompt tokens (an overestimate
// for most tokenizers) plus the tokens to generate.
uint64_t EstimateTokens(const v1::TaskRequest& request) {
  uint64_t tokens = 0;
  for (const v1::TaskInput& input : request.inputs()) {
    tokens += input.text().size() + input.continuation().size() + 1;
    if (request.kind() == v1::GENERATE) tokens += request.generation().max_tokens();
  }
  return tokens;
}

v1::TaskEvent ErrorEvent(const v1::Error& error) {
  v1::TaskEvent event;
  *event.mutable_error() = error;
  return event;
}

}  // namespace

struct TaskService::Accepted {
  v1::TaskRequest request;
  NodeId client;
  Digest32 model_hash{};
};

TaskService::TaskService(const NodeIdentity& identity, const Clock& clock, ModelLocator models,
                         ProviderConfig config, ModelChunkServer* chunks)
    : identity_(identity),
      clock_(clock),
      models_(std::move(models), config.execution.threads),
      config_(std::move(config)),
      chunks_(chunks),
      request_replay_(config_.freshness.max_age_ms + config_.freshness.max_future_ms,
                      config_.replay_capacity),
      receipt_replay_(config_.freshness.max_age_ms + config_.freshness.max_future_ms,
                      config_.replay_capacity),
      admission_(config_.admission, clock) {}

grpc::Status TaskService::Ping(grpc::ServerContext*, const v1::PingRequest* request,
                               v1::PingResponse* response) {
  if (request->nonce().size() > 64) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "ping nonce longer than 64 bytes");
  }
  response->set_nonce(request->nonce());
  response->set_protocol_version(net::kProtocolVersion);
  response->set_software_version(config_.software_version);
  return grpc::Status::OK;
}

bool TaskService::Screen(const v1::SignedEnvelope& envelope, Accepted* accepted, v1::Error* error) {
  auto author =
      net::VerifyClaim(envelope, clock_, config_.freshness, &request_replay_, &accepted->request);
  if (!author.ok()) {
    *error = ErrorForVerification(author.status());
    return false;
  }
  const v1::TaskRequest& request = accepted->request;
  accepted->client = author->id;
  if (request.provider_id() != Bytes(identity_.id().bytes)) {
    *error =
        MakeError(v1::Error::UNAUTHENTICATED, "request is addressed to another provider (this is " +
                                                  identity_.id().ToHex() + ")");
    return false;
  }
  if (request.task_id().size() != kTaskIdBytes) {
    *error = MakeError(v1::Error::INVALID_ARGUMENT, "task_id must be 16 bytes");
    return false;
  }
  if (!ToDigest(request.model_hash(), &accepted->model_hash)) {
    *error = MakeError(v1::Error::INVALID_ARGUMENT, "model_hash must be 32 bytes");
    return false;
  }
  if (!models_.Holds(accepted->model_hash)) {
    *error = MakeError(v1::Error::MODEL_NOT_FOUND,
                       "model " + HexEncode(accepted->model_hash) + " is not held here");
    return false;
  }
  if (request.max_price_per_mtok_micros() < config_.price_per_mtok_micros) {
    *error = MakeError(v1::Error::PRICE_TOO_LOW,
                       "price is " + std::to_string(config_.price_per_mtok_micros) +
                           " micros per million tokens, the request allows " +
                           std::to_string(request.max_price_per_mtok_micros()));
    return false;
  }
  if (request.kind() != v1::GENERATE && request.kind() != v1::EMBED &&
      request.kind() != v1::SCORE) {
    *error = MakeError(v1::Error::INVALID_ARGUMENT, "kind must be GENERATE, EMBED or SCORE");
    return false;
  }
  if (request.inputs_size() == 0) {
    *error = MakeError(v1::Error::INVALID_ARGUMENT, "request has no inputs");
    return false;
  }
  if (static_cast<uint32_t>(request.inputs_size()) > config_.max_inputs) {
    *error = MakeError(v1::Error::TOO_LARGE, std::to_string(request.inputs_size()) +
                                                 " inputs, at most " +
                                                 std::to_string(config_.max_inputs) + " accepted");
    return false;
  }
  for (int i = 0; i < request.inputs_size(); ++i) {
    const v1::TaskInput& input = request.inputs(i);
    const std::string name = "input " + std::to_string(input.index());
    if (i > 0 && input.index() <= request.inputs(i - 1).index()) {
      *error = MakeError(v1::Error::INVALID_ARGUMENT, "input indices must strictly increase");
      return false;
    }
    if (input.text().size() + input.continuation().size() > config_.max_input_bytes) {
      *error =
          MakeError(v1::Error::TOO_LARGE,
                    name + " is longer than " + std::to_string(config_.max_input_bytes) + " bytes");
      return false;
    }
    if (input.text().empty()) {
      *error = MakeError(v1::Error::INVALID_ARGUMENT, name + " has empty text");
      return false;
    }
    if (request.kind() == v1::SCORE && input.continuation().empty()) {
      *error = MakeError(v1::Error::INVALID_ARGUMENT, name + " has no continuation to score");
      return false;
    }
  }
  if (request.kind() == v1::GENERATE) {
    const uint32_t max_tokens = request.generation().max_tokens();
    if (max_tokens == 0 || max_tokens > config_.max_tokens_limit) {
      *error = MakeError(v1::Error::TOO_LARGE, "generation.max_tokens must be in [1, " +
                                                   std::to_string(config_.max_tokens_limit) + "]");
      return false;
    }
    auto sampling = ToSamplingParams(request.generation());
    if (!sampling.ok()) {
      *error = MakeError(v1::Error::INVALID_ARGUMENT, sampling.status().message());
      return false;
    }
  }
  return true;
}

grpc::Status TaskService::Refuse(grpc::ServerWriter<v1::TaskEvent>* writer, const v1::Error& error,
                                 uint64_t TaskCounters::*counter) {
  writer->Write(ErrorEvent(error));
  Count(counter);
  return ToGrpcStatus(error);
}

void TaskService::Count(uint64_t TaskCounters::*counter) {
  std::lock_guard lock(mutex_);
  ++(counters_.*counter);
  counters_changed_.notify_all();
}

grpc::Status TaskService::RunTask(grpc::ServerContext* context, const v1::SignedEnvelope* envelope,
                                  grpc::ServerWriter<v1::TaskEvent>* writer) {
  const int64_t received_ms = clock_.NowMs();
  Accepted task;
  v1::Error error;
  if (!Screen(*envelope, &task, &error)) return Refuse(writer, error, &TaskCounters::refused);
  const v1::TaskRequest& request = task.request;

  auto ticket = admission_.Admit(EstimateTokens(request), request.deadline_ms());
  if (!ticket.ok()) {
    const bool overloaded = ticket.status().code() == StatusCode::kResourceExhausted;
    return Refuse(writer,
                  MakeError(overloaded ? v1::Error::OVERLOADED : v1::Error::DEADLINE_UNMEETABLE,
                            ticket.status().message()),
                  &TaskCounters::refused);
  }
  v1::TaskEvent accepted_event;
  accepted_event.mutable_accepted()->set_queue_position(ticket->queue_position());
  accepted_event.mutable_accepted()->set_estimated_finish_ms(ticket->estimated_finish_ms());
  writer->Write(accepted_event);

  auto is_cancelled = [context] { return context->IsCancelled(); };
  const v1::Error cancelled = MakeError(v1::Error::CANCELLED, "task cancelled by the client");
  if (!ticket->WaitForTurn(is_cancelled))
    return Refuse(writer, cancelled, &TaskCounters::cancelled);

  const bool simulated = config_.runtime == "simulated";
  Result<std::shared_ptr<const LoadedModel>> model = std::shared_ptr<const LoadedModel>();
  if (!simulated) {  // the simulated runtime never needs the weights
    model = models_.Get(task.model_hash);
    if (!model.ok()) {
      spdlog::warn("task model {} failed to load: {}", HexEncode(task.model_hash),
                   model.status().ToString());
      return Refuse(writer, MakeError(v1::Error::INTERNAL, "model failed to load"),
                    &TaskCounters::failed);
    }
  }

  const int64_t started_ms = clock_.NowMs();
  const auto wall_start = std::chrono::steady_clock::now();
  ExecutionHooks hooks;
  hooks.is_cancelled = is_cancelled;
  // Token events are coalesced: a write with the buffer hint may wait for the next one, so a
  // flush goes out at most every kTokenFlushInterval (and with every output). One write, and
  // its wake-ups, per token cost the engine's threads several per cent on small machines.
  auto last_flush = std::chrono::steady_clock::now();
  hooks.on_token = [&](const v1::TaskEvent::Token& token) {
    v1::TaskEvent event;
    *event.mutable_token() = token;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_flush >= kTokenFlushInterval) {
      writer->Write(event);
      last_flush = now;
    } else {
      writer->Write(event, grpc::WriteOptions().set_buffer_hint());
    }
    if (config_.after_token_for_testing) config_.after_token_for_testing(is_cancelled);
  };
  hooks.on_output = [&](const v1::TaskOutput& output) {
    v1::TaskEvent event;
    *event.mutable_output() = output;
    writer->Write(event);
    last_flush = std::chrono::steady_clock::now();
  };
  auto summary = simulated ? runtime::RunSimulated(request, config_.simulated, hooks)
                           : ExecuteTask(*(*model)->model, request, config_.execution, hooks);
  if (!summary.ok()) {
    if (summary.status().code() == StatusCode::kCancelled) {
      return Refuse(writer, cancelled, &TaskCounters::cancelled);
    }
    const bool bad_input = summary.status().code() == StatusCode::kInvalidArgument ||
                           summary.status().code() == StatusCode::kOutOfRange;
    return Refuse(writer,
                  MakeError(bad_input ? v1::Error::INVALID_ARGUMENT : v1::Error::INTERNAL,
                            summary.status().message()),
                  &TaskCounters::failed);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  admission_.RecordThroughput(summary->prompt_tokens + summary->generated_tokens, seconds);

  v1::TaskResult result;
  result.set_task_id(request.task_id());
  result.set_request_hash(Bytes(Blake2b256(envelope->body())));
  result.set_client_id(Bytes(task.client.bytes));
  result.set_model_hash(request.model_hash());
  std::vector<Digest32> hashes;
  hashes.reserve(summary->outputs.size());
  for (const v1::TaskOutput& output : summary->outputs) {
    hashes.push_back(OutputHash(output));
    result.add_output_hashes(Bytes(hashes.back()));
  }
  result.set_outputs_hash(Bytes(OutputsHash(hashes)));
  v1::TaskTiming* timing = result.mutable_timing();
  timing->set_received_ms(received_ms);
  timing->set_started_ms(started_ms);
  timing->set_finished_ms(clock_.NowMs());
  timing->set_prompt_tokens(summary->prompt_tokens);
  timing->set_generated_tokens(summary->generated_tokens);
  *result.mutable_engine() = config_.engine;
  if (simulated) result.mutable_engine()->set_backend("simulated");
  // Rounded up: a task is never free unless the price is.
  const uint64_t tokens = summary->prompt_tokens + summary->generated_tokens;
  result.set_price_micros(static_cast<uint64_t>(
      std::ceil(static_cast<long double>(config_.price_per_mtok_micros) * tokens / 1e6L)));

  v1::SignedEnvelope signed_result = net::SignClaim(result, identity_, clock_);
  {
    std::lock_guard lock(mutex_);
    if (completed_.size() >= kMaxCompletedRemembered) completed_.erase(completed_.begin());
    completed_[request.task_id()] = {task.client, Bytes(Blake2b256(signed_result.body()))};
  }
  v1::TaskEvent result_event;
  *result_event.mutable_result() = std::move(signed_result);
  writer->Write(result_event);
  Count(&TaskCounters::completed);
  return grpc::Status::OK;
}

grpc::Status TaskService::SubmitReceipt(grpc::ServerContext*, const v1::SignedEnvelope* envelope,
                                        v1::ReceiptAck* response) {
  v1::TaskReceipt receipt;
  auto author = net::VerifyClaim(*envelope, clock_, config_.freshness, &receipt_replay_, &receipt);
  if (!author.ok()) return ToGrpcStatus(ErrorForVerification(author.status()));
  std::lock_guard lock(mutex_);
  auto it = completed_.find(receipt.task_id());
  if (it == completed_.end()) {
    return ToGrpcStatus(MakeError(v1::Error::INVALID_ARGUMENT, "no completed task with this id"));
  }
  if (it->second.client != author->id) {
    return ToGrpcStatus(
        MakeError(v1::Error::UNAUTHENTICATED, "receipt is not signed by the task's client"));
  }
  if (receipt.result_hash() != it->second.result_hash) {
    return ToGrpcStatus(
        MakeError(v1::Error::INVALID_ARGUMENT, "receipt names a result this node did not sign"));
  }
  receipts_[receipt.task_id()] = receipt;
  completed_.erase(it);
  response->set_recorded(true);
  return grpc::Status::OK;
}

grpc::Status TaskService::GetModelManifest(grpc::ServerContext*, const v1::ManifestRequest* request,
                                           v1::SignedEnvelope* response) {
  if (chunks_ == nullptr) return {grpc::StatusCode::UNIMPLEMENTED, "this node serves no models"};
  Digest32 hash;
  if (!ToDigest(request->model_hash(), &hash)) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "model_hash must be 32 bytes"};
  }
  auto manifest = chunks_->Manifest(hash);
  if (!manifest.ok()) return {grpc::StatusCode::NOT_FOUND, manifest.status().message()};
  *response = std::move(manifest).value();
  return grpc::Status::OK;
}

grpc::Status TaskService::GetModelChunk(grpc::ServerContext*, const v1::ChunkRequest* request,
                                        v1::Chunk* response) {
  if (chunks_ == nullptr) return {grpc::StatusCode::UNIMPLEMENTED, "this node serves no models"};
  Digest32 hash;
  if (!ToDigest(request->model_hash(), &hash)) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "model_hash must be 32 bytes"};
  }
  auto chunk = chunks_->ReadChunk(hash, request->chunk_index());
  if (!chunk.ok()) {
    const bool range = chunk.status().code() == StatusCode::kOutOfRange;
    return {range ? grpc::StatusCode::OUT_OF_RANGE : grpc::StatusCode::NOT_FOUND,
            chunk.status().message()};
  }
  *response = std::move(chunk).value();
  return grpc::Status::OK;
}

TaskCounters TaskService::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

bool TaskService::WaitForCounters(const std::function<bool(const TaskCounters&)>& done,
                                  int64_t timeout_ms) {
  std::unique_lock lock(mutex_);
  return counters_changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                    [&] { return done(counters_); });
}

std::map<std::string, v1::TaskReceipt> TaskService::receipts() const {
  std::lock_guard lock(mutex_);
  return receipts_;
}

}  // namespace infernet::provider
