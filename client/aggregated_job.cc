#include "client/aggregated_job.h"

#include <sodium.h>

#include <algorithm>
#include <thread>

#include "client/direct_job.h"
#include "client/job_request_fill.h"
#include "core/hash.h"
#include "core/hex.h"
#include "infernet/v1/service.grpc.pb.h"
#include "net/signed_envelope.h"
#include "provider/task_errors.h"

namespace infernet::client {
namespace {

constexpr size_t kJobIdBytes = 16;
constexpr int64_t kRpcSlackMs = 10000;
constexpr int64_t kFirstBackoffMs = 200;
constexpr int64_t kMaxBackoffMs = 3000;

std::string Bytes(const NodeId& id) { return std::string(id.bytes.begin(), id.bytes.end()); }

Status Mismatch(const std::string& what) {
  return Status::Corrupt("shard does not match the job: " + what);
}

bool SameMessage(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  std::string x, y;
  a.SerializeToString(&x);
  b.SerializeToString(&y);
  return x == y;
}

}  // namespace

v1::JobRequest BuildJobRequest(const JobSpec& job, const NodeId& aggregator, int64_t now_ms) {
  v1::JobRequest request;
  std::string job_id(kJobIdBytes, '\0');
  randombytes_buf(job_id.data(), job_id.size());
  request.set_job_id(job_id);
  request.set_aggregator_id(Bytes(aggregator));
  FillFromJob(job, now_ms, &request);
  return request;
}

Result<VerifiedShard> VerifyShardDone(const v1::JobRequest& job, const NodeId& aggregator,
                                      const v1::ShardDone& shard,
                                      const std::vector<v1::TaskOutput>& outputs,
                                      const Clock& clock) {
  // Shards are replayed after a re-attach: accept claims as old as the job itself.
  net::FreshnessPolicy freshness;
  freshness.max_age_ms = std::max<int64_t>(
      freshness.max_age_ms, job.deadline_ms() - job.header().timestamp_ms() + 24 * 3600 * 1000);
  v1::TaskRequest request;
  auto author = net::VerifyClaim(shard.task_request(), clock, freshness, nullptr, &request);
  if (!author.ok()) return author.status().WithContext("shard task request");
  if (author->id != aggregator) {
    return Status(StatusCode::kUnauthenticated,
                  "shard task request is not signed by the aggregator");
  }
  const uint64_t end = static_cast<uint64_t>(shard.first_index()) + shard.count();
  if (shard.count() == 0 || end > static_cast<uint64_t>(job.inputs_size())) {
    return Mismatch("inputs [" + std::to_string(shard.first_index()) + ", " + std::to_string(end) +
                    ") are outside the job");
  }
  if (request.inputs_size() != static_cast<int>(shard.count())) {
    return Mismatch("task request has " + std::to_string(request.inputs_size()) + " inputs, not " +
                    std::to_string(shard.count()));
  }
  for (uint32_t i = 0; i < shard.count(); ++i) {
    if (!SameMessage(request.inputs(static_cast<int>(i)),
                     job.inputs(static_cast<int>(shard.first_index() + i)))) {
      return Mismatch("input " + std::to_string(shard.first_index() + i) + " was altered");
    }
  }
  if (request.model_hash() != job.model_hash()) return Mismatch("model differs");
  if (request.kind() != job.kind()) return Mismatch("kind differs");
  if (!SameMessage(request.generation(), job.generation())) {
    return Mismatch("generation parameters differ");
  }
  if (request.pooling() != job.pooling()) return Mismatch("pooling differs");
  if (request.max_price_per_mtok_micros() > job.max_price_per_mtok_micros()) {
    return Mismatch("maximum price raised");
  }
  if (request.provider_id() != shard.provider_id() || shard.provider_id().size() != 32) {
    return Mismatch("provider id differs from the task request's");
  }
  VerifiedShard verified;
  std::copy(shard.provider_id().begin(), shard.provider_id().end(),
            verified.provider.bytes.begin());
  CollectedTask collected;
  collected.outputs = outputs;
  collected.result = shard.task_result();
  INFERNET_ASSIGN_OR_RETURN(
      VerifiedJob task,
      VerifyCollectedTask(collected, verified.provider, shard.task_request(), clock, freshness));
  verified.first_index = shard.first_index();
  verified.count = shard.count();
  verified.attempts = shard.attempts();
  verified.failed_attempts.assign(shard.failed_attempts().begin(), shard.failed_attempts().end());
  verified.result = std::move(task.result);
  verified.result_hash = task.result_hash;
  verified.started_ms = shard.started_ms();
  verified.finished_ms = shard.finished_ms();
  return verified;
}

namespace {

// Follows one stream (submit or attach) until it ends. Returns true when the summary arrived.
Result<bool> FollowStream(grpc::ClientReaderInterface<v1::JobEvent>& reader,
                          const v1::JobRequest& request, const NodeId& aggregator,
                          const Clock& clock, AggregatedJob& job, AggregatedProgress& state,
                          const AggregatedProgressCallback& progress) {
  std::optional<v1::ShardDone> pending;
  std::vector<v1::TaskOutput> pending_outputs;
  auto finish_shard = [&]() -> Status {
    INFERNET_ASSIGN_OR_RETURN(VerifiedShard shard, VerifyShardDone(request, aggregator, *pending,
                                                                   pending_outputs, clock));
    if (!job.outputs[shard.first_index].has_value()) {  // replays after re-attach are skipped
      for (v1::TaskOutput& output : pending_outputs) {
        const uint32_t index = output.index();
        job.outputs[index] = std::move(output);
      }
      state.inputs_verified += shard.count;
      job.shards.push_back(std::move(shard));
    }
    pending.reset();
    pending_outputs.clear();
    return Status::Ok();
  };
  for (v1::JobEvent event; reader.Read(&event);) {
    if (pending && (event.event_case() != v1::JobEvent::kOutput ||
                    pending_outputs.size() == pending->count())) {
      INFERNET_RETURN_IF_ERROR(finish_shard());
    }
    switch (event.event_case()) {
      case v1::JobEvent::kShard:
        pending = event.shard();
        break;
      case v1::JobEvent::kOutput:
        if (!pending) return Status::Corrupt("an output arrived outside a shard");
        pending_outputs.push_back(event.output());
        break;
      case v1::JobEvent::kProgress:
        state.inputs_done = event.progress().inputs_done();
        state.shards_in_flight = event.progress().shards_in_flight();
        state.retries = event.progress().retries();
        break;
      case v1::JobEvent::kRetry: {
        const auto& r = event.retry();
        NodeId provider;
        if (r.provider_id().size() == 32) {
          std::copy(r.provider_id().begin(), r.provider_id().end(), provider.bytes.begin());
        }
        state.last_retry = std::to_string(r.first_index()) + "-" +
                           std::to_string(r.first_index() + r.count()) + " on " +
                           provider.ShortHex() + ": " + r.reason();
        break;
      }
      case v1::JobEvent::kSummary: {
        auto author =
            net::VerifyClaim(event.summary(), clock, net::FreshnessPolicy{}, nullptr, &job.summary);
        if (!author.ok()) return author.status().WithContext("job summary");
        if (author->id != aggregator) {
          return Status(StatusCode::kUnauthenticated,
                        "job summary is not signed by the aggregator");
        }
        if (job.summary.job_id() != request.job_id()) {
          return Status::Corrupt("job summary is for another job");
        }
        if (progress) progress(state);
        return true;
      }
      case v1::JobEvent::kError:
        return provider::ToStatus(event.error());
      default:
        break;
    }
    if (progress) progress(state);
  }
  if (pending && pending_outputs.size() == pending->count()) {
    INFERNET_RETURN_IF_ERROR(finish_shard());
  }
  return false;
}

}  // namespace

Result<AggregatedJob> RunAggregatedJob(const std::shared_ptr<grpc::Channel>& channel,
                                       const ProviderEndpoint& aggregator, const JobSpec& spec,
                                       const NodeIdentity& client, const Clock& clock,
                                       const AggregatedProgressCallback& progress) {
  auto stub = v1::Aggregator::NewStub(channel);
  const v1::JobRequest request = BuildJobRequest(spec, aggregator.id, clock.NowMs());
  const v1::SignedEnvelope envelope = net::SignClaim(request, client, clock);
  AggregatedJob job;
  job.aggregator = aggregator.id;
  job.outputs.resize(spec.inputs.size());
  AggregatedProgress state;
  state.inputs_total = static_cast<uint32_t>(spec.inputs.size());
  int64_t backoff_ms = kFirstBackoffMs;
  bool submitted = false;
  std::string last_error;
  while (clock.NowMs() < request.deadline_ms() + kRpcSlackMs) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::time_point(
        std::chrono::milliseconds(request.deadline_ms() + kRpcSlackMs)));
    std::unique_ptr<grpc::ClientReaderInterface<v1::JobEvent>> reader;
    if (!submitted) {
      reader = stub->SubmitJob(&context, envelope);
    } else {
      v1::JobAttach attach;
      attach.set_job_id(request.job_id());
      attach.set_aggregator_id(Bytes(aggregator.id));
      reader = stub->AttachJob(&context, net::SignClaim(attach, client, clock));
    }
    auto finished = FollowStream(*reader, request, aggregator.id, clock, job, state, progress);
    grpc::Status status = reader->Finish();
    if (!finished.ok()) {
      // A refusal of the job itself is final; a refused attach (e.g. the restarted aggregator
      // has not loaded the job yet) is retried.
      if (!submitted || finished.status().code() == StatusCode::kCorrupt ||
          finished.status().code() == StatusCode::kUnauthenticated) {
        return finished.status();
      }
      last_error = finished.status().ToString();
    } else if (*finished) {
      job.reattachments = state.reattachments;
      std::sort(job.shards.begin(), job.shards.end(),
                [](const VerifiedShard& a, const VerifiedShard& b) {
                  return a.first_index < b.first_index;
                });
      return job;
    } else {
      last_error = status.ok() ? "stream ended without a summary" : status.error_message();
    }
    // The request reached the aggregator if anything came back; otherwise submit again (the job
    // id makes a second submission attach to the first).
    submitted = submitted || state.inputs_verified > 0 || status.error_code() != grpc::UNAVAILABLE;
    ++state.reattachments;
    if (progress) progress(state);
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));  // retry back-off
    backoff_ms = std::min(kMaxBackoffMs, backoff_ms * 2);
  }
  return Status(StatusCode::kDeadlineExceeded, "no job summary by the deadline (" +
                                                   std::to_string(state.inputs_verified) + " of " +
                                                   std::to_string(state.inputs_total) +
                                                   " inputs verified; last: " + last_error + ")");
}

Status WriteAggregatedResultsJsonl(const AggregatedJob& job, v1::TaskKind kind, std::ostream& out) {
  for (const VerifiedShard& shard : job.shards) {
    const std::string provider_hex = shard.provider.ToHex();
    const std::string result_hash = HexEncode(shard.result_hash);
    for (uint32_t i = 0; i < shard.count; ++i) {
      const auto& output = job.outputs[shard.first_index + i];
      if (!output) continue;
      WriteResultLine(*output, kind, shard.result.output_hashes(static_cast<int>(i)), provider_hex,
                      result_hash, out);
    }
  }
  out.flush();
  if (!out) return Status::Io("cannot write results");
  return Status::Ok();
}

}  // namespace infernet::client
