// A direct job: the client sends one signed TaskRequest to a provider it already knows (node id
// and address), follows the event stream, verifies the signed result against the outputs it
// received, and signs a receipt. Nothing the provider sends is trusted before verification: the
// outputs are only returned when the result is signed by that provider, names this request, and
// commits (output_hashes, outputs_hash) to exactly these outputs.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <vector>

#include "client/job_file.h"
#include "core/clock.h"
#include "core/identity.h"
#include "core/result.h"
#include "infernet/v1/envelope.pb.h"
#include "infernet/v1/service.grpc.pb.h"
#include "infernet/v1/task.pb.h"
#include "net/signed_envelope.h"

namespace infernet::client {

struct JobProgress {
  bool accepted = false;
  uint32_t queue_position = 0;
  size_t outputs_done = 0;
  size_t outputs_total = 0;
  uint64_t tokens_streamed = 0;
};
using ProgressCallback = std::function<void(const JobProgress&)>;

// The unsigned request for `job` addressed to `provider`: a fresh random task id, input indices
// 0..n-1 in file order, deadline = now + job.deadline_seconds.
v1::TaskRequest BuildTaskRequest(const JobSpec& job, const NodeId& provider, int64_t now_ms);

// What a provider sent for one task, before verification.
struct CollectedTask {
  std::vector<v1::TaskOutput> outputs;  // in arrival order
  v1::SignedEnvelope result;
};

// Sends `request` and reads the stream to its end. A provider's Error event becomes the Status
// provider::ToStatus gives (message starting with the code name, e.g. "OVERLOADED: ..."); a
// stream that ends without a result is kUnavailable.
Result<CollectedTask> CollectTask(v1::Provider::Stub& stub, const v1::SignedEnvelope& request,
                                  int64_t deadline_ms, const ProgressCallback& progress);
// The same on a caller's context (its deadline set by the caller), so that another thread can
// cancel the call with context->TryCancel().
Result<CollectedTask> CollectTaskOn(grpc::ClientContext& context, v1::Provider::Stub& stub,
                                    const v1::SignedEnvelope& request,
                                    const ProgressCallback& progress);

struct VerifiedJob {
  NodeId provider;
  std::vector<v1::TaskOutput> outputs;  // one per input, in input order
  v1::TaskResult result;
  v1::SignedEnvelope result_envelope;
  Digest32 result_hash{};  // BLAKE2b-256 of the result envelope's body
  bool receipt_recorded = false;
};

// Checks `collected` against the request: the result's signature, author == `provider`,
// task_id, request_hash (of `request_envelope`), client_id, model_hash, one output per input in
// order, each output's canonical hash == output_hashes[i], outputs_hash, generated-token count
// and price within the request's maximum. kUnauthenticated for a bad signature or author,
// kCorrupt for any mismatch; the message names the first check that failed.
// `freshness` bounds the result's age (results replayed by an aggregator may be older).
Result<VerifiedJob> VerifyCollectedTask(const CollectedTask& collected, const NodeId& provider,
                                        const v1::SignedEnvelope& request_envelope,
                                        const Clock& clock,
                                        const net::FreshnessPolicy& freshness = {});

// The whole direct job over `channel`: build, sign, run, verify, then sign and submit a receipt
// (accepted, or rejected with the reason when verification fails — then the error is returned).
// A receipt the provider does not record leaves `receipt_recorded` false; it is not an error.
Result<VerifiedJob> RunDirectJob(const std::shared_ptr<grpc::Channel>& channel,
                                 const NodeId& provider, const JobSpec& job,
                                 const NodeIdentity& client, const Clock& clock,
                                 const ProgressCallback& progress = nullptr);

// One JSON line per output, in input order: {"index", then "text", "tokens", "logprobs",
// "finish_reason" (generate) | "embedding" (embed) | "score_logprob" (score), "prompt_tokens",
// "output_hash", "provider", "result_hash"}.
Status WriteResultsJsonl(const VerifiedJob& job, v1::TaskKind kind, std::ostream& out);
// One such line (`output_hash` raw bytes; the ids already in hex).
void WriteResultLine(const v1::TaskOutput& output, v1::TaskKind kind,
                     const std::string& output_hash, const std::string& provider_hex,
                     const std::string& result_hash_hex, std::ostream& out);

}  // namespace infernet::client
