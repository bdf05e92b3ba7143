#include "client/direct_job.h"

#include <sodium.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "client/job_request_fill.h"
#include "core/hex.h"
#include "net/signed_envelope.h"
#include "provider/output_hash.h"
#include "provider/task_errors.h"

namespace infernet::client {
namespace {

constexpr size_t kTaskIdBytes = 16;
// Extra time the RPC may take beyond the task's own deadline (the result travels after it).
constexpr int64_t kRpcSlackMs = 10'000;

std::string Bytes(const Digest32& digest) {
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

std::string HexOf(const std::string& bytes) {
  return HexEncode(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

Status Mismatch(const std::string& what) {
  return Status::Corrupt("result from provider does not verify: " + what);
}

void SubmitReceipt(v1::Provider::Stub& stub, const v1::TaskReceipt& receipt,
                   const NodeIdentity& client, const Clock& clock, bool* recorded) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::ReceiptAck ack;
  grpc::Status status = stub.SubmitReceipt(&context, net::SignClaim(receipt, client, clock), &ack);
  *recorded = status.ok() && ack.recorded();
}

}  // namespace

v1::TaskRequest BuildTaskRequest(const JobSpec& job, const NodeId& provider, int64_t now_ms) {
  v1::TaskRequest request;
  std::string task_id(kTaskIdBytes, '\0');
  if (sodium_init() < 0) std::abort();  // no randomness: nothing safe to do
  randombytes_buf(task_id.data(), task_id.size());
  request.set_task_id(task_id);
  request.set_provider_id(Bytes(provider.bytes));
  FillFromJob(job, now_ms, &request);
  return request;
}

Result<CollectedTask> CollectTask(v1::Provider::Stub& stub, const v1::SignedEnvelope& request,
                                  int64_t deadline_ms, const ProgressCallback& progress) {
  grpc::ClientContext context;
  context.set_deadline(
      std::chrono::system_clock::time_point(std::chrono::milliseconds(deadline_ms + kRpcSlackMs)));
  return CollectTaskOn(context, stub, request, progress);
}

Result<CollectedTask> CollectTaskOn(grpc::ClientContext& context, v1::Provider::Stub& stub,
                                    const v1::SignedEnvelope& request,
                                    const ProgressCallback& progress) {
  v1::TaskRequest parsed;  // our own request: only read for the input count
  parsed.ParseFromString(request.body());
  JobProgress state;
  state.outputs_total = static_cast<size_t>(parsed.inputs_size());
  CollectedTask collected;
  std::optional<v1::Error> error;
  bool have_result = false;
  auto reader = stub.RunTask(&context, request);
  for (v1::TaskEvent event; reader->Read(&event);) {
    switch (event.event_case()) {
      case v1::TaskEvent::kAccepted:
        state.accepted = true;
        state.queue_position = event.accepted().queue_position();
        break;
      case v1::TaskEvent::kToken:
        ++state.tokens_streamed;
        break;
      case v1::TaskEvent::kOutput:
        if (collected.outputs.size() >= state.outputs_total) {
          context.TryCancel();
          return Mismatch("more outputs than inputs");
        }
        collected.outputs.push_back(event.output());
        ++state.outputs_done;
        break;
      case v1::TaskEvent::kResult:
        collected.result = event.result();
        have_result = true;
        break;
      case v1::TaskEvent::kError:
        error = event.error();
        break;
      default:
        break;
    }
    if (progress) progress(state);
  }
  grpc::Status status = reader->Finish();
  if (error) return provider::ToStatus(*error);
  if (!status.ok()) {
    return Status(StatusCode::kUnavailable, "task call failed: " + status.error_message());
  }
  if (!have_result)
    return Status(StatusCode::kUnavailable, "provider ended the task without a result");
  return collected;
}

Result<VerifiedJob> VerifyCollectedTask(const CollectedTask& collected, const NodeId& provider,
                                        const v1::SignedEnvelope& request_envelope,
                                        const Clock& clock, const net::FreshnessPolicy& freshness) {
  v1::TaskRequest request;
  if (!request.ParseFromString(request_envelope.body())) {
    return Status::InvalidArgument("request envelope does not hold a TaskRequest");
  }
  VerifiedJob job;
  auto author =
      net::VerifyClaim(collected.result, clock, freshness, /*replay=*/nullptr, &job.result);
  if (!author.ok()) return author.status().WithContext("task result");
  if (author->id != provider) {
    return Status(StatusCode::kUnauthenticated, "task result is signed by " + author->id.ToHex() +
                                                    ", not by the provider " + provider.ToHex());
  }
  const v1::TaskResult& result = job.result;
  if (result.task_id() != request.task_id()) return Mismatch("task_id differs");
  if (result.request_hash() != Bytes(Blake2b256(request_envelope.body()))) {
    return Mismatch("request_hash is not the hash of this request");
  }
  if (result.client_id() != request.header().author_id()) return Mismatch("client_id differs");
  if (result.model_hash() != request.model_hash()) return Mismatch("model_hash differs");
  if (collected.outputs.size() != static_cast<size_t>(request.inputs_size())) {
    return Mismatch(std::to_string(collected.outputs.size()) + " outputs for " +
                    std::to_string(request.inputs_size()) + " inputs");
  }
  if (result.output_hashes_size() != request.inputs_size()) {
    return Mismatch("output_hashes has " + std::to_string(result.output_hashes_size()) +
                    " entries for " + std::to_string(request.inputs_size()) + " inputs");
  }
  std::vector<Digest32> hashes;
  uint64_t generated = 0;
  for (size_t i = 0; i < collected.outputs.size(); ++i) {
    const v1::TaskOutput& output = collected.outputs[i];
    if (output.index() != request.inputs(static_cast<int>(i)).index()) {
      return Mismatch("output " + std::to_string(i) + " has index " +
                      std::to_string(output.index()));
    }
    hashes.push_back(provider::OutputHash(output));
    if (result.output_hashes(static_cast<int>(i)) != Bytes(hashes.back())) {
      return Mismatch("output " + std::to_string(output.index()) +
                      " does not match its signed hash");
    }
    generated += static_cast<uint64_t>(output.tokens_size());
  }
  if (result.outputs_hash() != Bytes(provider::OutputsHash(hashes))) {
    return Mismatch("outputs_hash is not the hash of output_hashes");
  }
  if (result.timing().generated_tokens() != generated) {
    return Mismatch("timing.generated_tokens disagrees with the outputs");
  }
  const long double tokens = static_cast<long double>(result.timing().prompt_tokens()) +
                             static_cast<long double>(result.timing().generated_tokens());
  const long double allowed =
      std::ceil(static_cast<long double>(request.max_price_per_mtok_micros()) * tokens / 1e6L);
  if (static_cast<long double>(result.price_micros()) > allowed) {
    return Mismatch("price " + std::to_string(result.price_micros()) +
                    " micros is above the request's maximum");
  }
  job.provider = provider;
  job.outputs = collected.outputs;
  job.result_envelope = collected.result;
  job.result_hash = Blake2b256(collected.result.body());
  return job;
}

Result<VerifiedJob> RunDirectJob(const std::shared_ptr<grpc::Channel>& channel,
                                 const NodeId& provider, const JobSpec& job,
                                 const NodeIdentity& client, const Clock& clock,
                                 const ProgressCallback& progress) {
  v1::TaskRequest request = BuildTaskRequest(job, provider, clock.NowMs());
  const int64_t deadline_ms = request.deadline_ms();
  const std::string task_id = request.task_id();
  v1::SignedEnvelope envelope = net::SignClaim(std::move(request), client, clock);
  auto stub = v1::Provider::NewStub(channel);
  INFERNET_ASSIGN_OR_RETURN(CollectedTask collected,
                            CollectTask(*stub, envelope, deadline_ms, progress));
  auto verified = VerifyCollectedTask(collected, provider, envelope, clock);

  v1::TaskReceipt receipt;
  receipt.set_task_id(task_id);
  receipt.set_result_hash(Bytes(Blake2b256(collected.result.body())));
  receipt.set_accepted(verified.ok());
  if (!verified.ok()) receipt.set_reason(verified.status().ToString());
  bool recorded = false;
  SubmitReceipt(*stub, receipt, client, clock, &recorded);
  if (!verified.ok()) return verified.status();
  verified->receipt_recorded = recorded;
  return verified;
}

void WriteResultLine(const v1::TaskOutput& output, v1::TaskKind kind,
                     const std::string& output_hash, const std::string& provider_hex,
                     const std::string& result_hash_hex, std::ostream& out) {
  nlohmann::ordered_json line;
  line["index"] = output.index();
  switch (kind) {
    case v1::GENERATE:
      line["text"] = output.text();
      line["tokens"] = std::vector<uint32_t>(output.tokens().begin(), output.tokens().end());
      line["logprobs"] = std::vector<float>(output.logprobs().begin(), output.logprobs().end());
      line["finish_reason"] = output.finish_reason();
      break;
    case v1::EMBED:
      line["embedding"] = std::vector<float>(output.embedding().begin(), output.embedding().end());
      break;
    default:
      line["score_logprob"] = output.score_logprob();
      break;
  }
  line["prompt_tokens"] = output.prompt_tokens();
  line["output_hash"] = HexOf(output_hash);
  line["provider"] = provider_hex;
  line["result_hash"] = result_hash_hex;
  out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

Status WriteResultsJsonl(const VerifiedJob& job, v1::TaskKind kind, std::ostream& out) {
  const std::string provider_hex = job.provider.ToHex();
  const std::string result_hash = HexEncode(job.result_hash);
  for (size_t i = 0; i < job.outputs.size(); ++i) {
    WriteResultLine(job.outputs[i], kind, job.result.output_hashes(static_cast<int>(i)),
                    provider_hex, result_hash, out);
  }
  out.flush();
  if (!out) return Status::Io("cannot write results");
  return Status::Ok();
}

}  // namespace infernet::client
