#include "aggregator/shard_request.h"

#include <sodium.h>

#include "aggregator/shard_runner.h"
#include "client/direct_job.h"
#include "net/signed_envelope.h"

namespace infernet::aggregator {
namespace {
constexpr size_t kTaskIdBytes = 16;
}

v1::TaskRequest BuildShardRequest(const v1::JobRequest& job, uint32_t first, uint32_t count,
                                  const NodeId& provider) {
  v1::TaskRequest request;
  std::string task_id(kTaskIdBytes, '\0');
  randombytes_buf(task_id.data(), task_id.size());
  request.set_task_id(task_id);
  request.set_provider_id(std::string(provider.bytes.begin(), provider.bytes.end()));
  request.set_model_hash(job.model_hash());
  request.set_kind(job.kind());
  for (uint32_t i = first; i < first + count; ++i) {
    *request.add_inputs() = job.inputs(static_cast<int>(i));
  }
  if (job.has_generation()) *request.mutable_generation() = job.generation();
  request.set_pooling(job.pooling());
  request.set_max_price_per_mtok_micros(job.max_price_per_mtok_micros());
  request.set_deadline_ms(job.deadline_ms());
  return request;
}

v1::SignedEnvelope SealShardRequest(const ShardDispatch& dispatch) {
  return net::SignClaim(dispatch.request, *dispatch.signer, *dispatch.clock);
}

Result<uint64_t> VerifyShard(const v1::SignedEnvelope& task_request, const NodeId& provider,
                             const std::vector<v1::TaskOutput>& outputs,
                             const v1::SignedEnvelope& task_result, const Clock& clock) {
  client::CollectedTask collected;
  collected.outputs = outputs;
  collected.result = task_result;
  INFERNET_ASSIGN_OR_RETURN(client::VerifiedJob verified,
                            client::VerifyCollectedTask(collected, provider, task_request, clock));
  return verified.result.price_micros();
}

}  // namespace infernet::aggregator
