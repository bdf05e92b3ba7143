// The TaskRequest the aggregator sends for one shard of a job, and the check it applies to what
// the provider returns for it.
#pragma once

#include <cstdint>
#include <vector>

#include "core/clock.h"
#include "core/identity.h"
#include "core/result.h"
#include "infernet/v1/aggregator.pb.h"
#include "infernet/v1/task.pb.h"

namespace infernet::aggregator {

// Inputs [first, first + count) of `job` (their job indices kept, so outputs carry them back),
// its model, kind, parameters, price and deadline, a fresh random task id, addressed to
// `provider`. Unsigned: the caller signs it.
v1::TaskRequest BuildShardRequest(const v1::JobRequest& job, uint32_t first, uint32_t count,
                                  const NodeId& provider);

// The provider's outputs and signed result for `task_request`, verified
// (client::VerifyCollectedTask: signature by `provider`, request hash, one output per input with
// matching hashes, price). Returns the price charged.
Result<uint64_t> VerifyShard(const v1::SignedEnvelope& task_request, const NodeId& provider,
                             const std::vector<v1::TaskOutput>& outputs,
                             const v1::SignedEnvelope& task_result, const Clock& clock);

}  // namespace infernet::aggregator
