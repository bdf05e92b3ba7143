// A job through an aggregator: the client signs a JobRequest, follows the event stream, and checks
// every shard end to end — the aggregator's signed TaskRequest must carry exactly the job's inputs
// and parameters, and the provider's signed result must commit to exactly the outputs received —
// so neither the aggregator nor a provider can alter, drop or reorder outputs unnoticed. When the
// stream breaks (aggregator restarted, connection lost) the client re-attaches until the deadline.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "client/job_file.h"
#include "core/clock.h"
#include "core/identity.h"
#include "core/result.h"
#include "infernet/v1/aggregator.pb.h"

namespace infernet::client {

struct VerifiedShard {
  uint32_t first_index = 0;
  uint32_t count = 0;
  NodeId provider{};
  uint32_t attempts = 1;
  std::vector<std::string> failed_attempts;
  v1::TaskResult result;
  Digest32 result_hash{};
  int64_t started_ms = 0, finished_ms = 0;
};

struct AggregatedJob {
  NodeId aggregator{};
  std::vector<std::optional<v1::TaskOutput>> outputs;  // by input index; empty where unfinished
  std::vector<VerifiedShard> shards;                   // in input order
  v1::JobSummary summary;
  uint32_t reattachments = 0;
};

struct AggregatedProgress {
  uint32_t inputs_total = 0;
  uint32_t inputs_verified = 0;  // received and checked by this client
  uint32_t inputs_done = 0;      // reported done by the aggregator
  uint32_t shards_in_flight = 0;
  uint32_t retries = 0;
  uint32_t reattachments = 0;
  std::string last_retry;  // "<first>-<end> on <provider>: <why>"
};
using AggregatedProgressCallback = std::function<void(const AggregatedProgress&)>;

// The unsigned request for `job`, addressed to `aggregator`: a fresh random job id, input indices
// 0..n-1, deadline = now + job.deadline_seconds.
v1::JobRequest BuildJobRequest(const JobSpec& job, const NodeId& aggregator, int64_t now_ms);

// Checks one ShardDone and its outputs against `job` (see the file comment). kUnauthenticated for
// a signature by the wrong node, kCorrupt for any mismatch, naming it.
Result<VerifiedShard> VerifyShardDone(const v1::JobRequest& job, const NodeId& aggregator,
                                      const v1::ShardDone& shard,
                                      const std::vector<v1::TaskOutput>& outputs,
                                      const Clock& clock);

// Runs `job` through the aggregator at `aggregator`: submits, verifies each shard as it arrives,
// re-attaches after a broken stream, and returns once the signed summary arrives. A job that did
// not complete is still returned (summary.complete = false, summary.failure says why; outputs of
// the finished shards are present). Errors: the aggregator refused the job, a shard failed
// verification (kCorrupt / kUnauthenticated), or no summary by the deadline (kDeadlineExceeded).
Result<AggregatedJob> RunAggregatedJob(const std::shared_ptr<grpc::Channel>& channel,
                                       const ProviderEndpoint& aggregator, const JobSpec& job,
                                       const NodeIdentity& client, const Clock& clock,
                                       const AggregatedProgressCallback& progress = nullptr);

// The finished outputs as JSONL lines (the direct job's format, each with its shard's provider and
// result hash), in input order.
Status WriteAggregatedResultsJsonl(const AggregatedJob& job, v1::TaskKind kind, std::ostream& out);

}  // namespace infernet::client
