// How the coordinator reaches providers: start one shard (a signed TaskRequest) on one provider
// and hear back exactly once with its verified outputs, or why not. The real runner is gRPC over
// TLS (grpc_shard_runner.h); benchmarks drive the coordinator with in-process simulated providers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/identity.h"
#include "core/status.h"
#include "infernet/v1/envelope.pb.h"
#include "infernet/v1/task.pb.h"

namespace infernet::aggregator {

struct ShardDispatch {
  uint64_t attempt_id = 0;
  NodeId provider{};
  std::string address;  // "host:port"
  // The request, addressed to `provider`, unsigned: the runner seals it (SealShardRequest) on its
  // own thread, so that signing never serializes dispatching.
  v1::TaskRequest request;
  const NodeIdentity* signer = nullptr;  // the aggregator
  const Clock* clock = nullptr;
  int64_t deadline_ms = 0;  // Unix ms: give up (and cancel) after this
};

// Signs `dispatch.request` as the aggregator.
v1::SignedEnvelope SealShardRequest(const ShardDispatch& dispatch);

struct ShardOutcome {
  uint64_t attempt_id = 0;
  Status status;  // ok: outputs and result verified against the request (VerifyShard)
  v1::SignedEnvelope task_request;      // the sealed request as sent (empty if never sent)
  std::vector<v1::TaskOutput> outputs;  // in input order
  v1::SignedEnvelope task_result;
  uint64_t price_micros = 0;
};

class ShardRunner {
 public:
  using Done = std::function<void(ShardOutcome)>;
  virtual ~ShardRunner() = default;
  // Runs `dispatch` and calls `done` exactly once, from any thread (possibly before Start
  // returns). A cancelled attempt reports kCancelled.
  virtual void Start(ShardDispatch dispatch, Done done) = 0;
  // Cancels a started attempt; unknown or finished ids are ignored.
  virtual void Cancel(uint64_t attempt_id) = 0;
};

}  // namespace infernet::aggregator
