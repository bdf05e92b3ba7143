// The client's end-to-end check of a shard forwarded by an aggregator: a genuine shard passes;
// any alteration by the aggregator (inputs, parameters, provider, signatures) or by a provider
// (outputs) is caught.
#include "client/aggregated_job.h"

#include <gtest/gtest.h>

#include "core/hash.h"
#include "net/signed_envelope.h"
#include "provider/output_hash.h"

namespace infernet::client {
namespace {

std::string Bytes(const NodeId& id) { return std::string(id.bytes.begin(), id.bytes.end()); }
std::string Bytes(const Digest32& d) { return std::string(d.begin(), d.end()); }

class VerifyShardDoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    JobSpec spec;
    spec.model.fill(3);
    spec.kind = v1::GENERATE;
    for (int i = 0; i < 6; ++i) spec.inputs.push_back({"input " + std::to_string(i), ""});
    spec.generation.set_max_tokens(2);
    spec.generation.set_seed(9);
    spec.max_price_per_mtok_micros = 1000;
    job_ = BuildJobRequest(spec, aggregator_.id(), clock_.NowMs());
    v1::SignedEnvelope envelope = net::SignClaim(job_, client_, clock_);
    job_.ParseFromString(envelope.body());
  }

  // The aggregator's task request for inputs [2, 5), as `edit` leaves it, and the provider's
  // outputs and signed result for it.
  v1::ShardDone MakeShard(const std::function<void(v1::TaskRequest&)>& edit = nullptr) {
    v1::TaskRequest request;
    request.set_task_id(std::string(16, 't'));
    request.set_provider_id(Bytes(provider_.id()));
    request.set_model_hash(job_.model_hash());
    request.set_kind(job_.kind());
    for (int i = 2; i < 5; ++i) *request.add_inputs() = job_.inputs(i);
    *request.mutable_generation() = job_.generation();
    request.set_max_price_per_mtok_micros(job_.max_price_per_mtok_micros());
    request.set_deadline_ms(job_.deadline_ms());
    if (edit) edit(request);
    v1::ShardDone shard;
    shard.set_first_index(2);
    shard.set_count(3);
    shard.set_provider_id(Bytes(provider_.id()));
    *shard.mutable_task_request() = net::SignClaim(request, aggregator_, clock_);
    outputs_.clear();
    v1::TaskResult result;
    result.set_task_id(request.task_id());
    result.set_request_hash(Bytes(Blake2b256(shard.task_request().body())));
    result.set_client_id(Bytes(aggregator_.id()));
    result.set_model_hash(request.model_hash());
    std::vector<Digest32> hashes;
    for (const v1::TaskInput& input : request.inputs()) {
      v1::TaskOutput& o = outputs_.emplace_back();
      o.set_index(input.index());
      o.set_text("out " + input.text());
      o.add_tokens(1);
      o.add_tokens(2);
      hashes.push_back(provider::OutputHash(o));
      result.add_output_hashes(Bytes(hashes.back()));
    }
    result.set_outputs_hash(Bytes(provider::OutputsHash(hashes)));
    result.mutable_timing()->set_generated_tokens(2 * hashes.size());
    *shard.mutable_task_result() = net::SignClaim(result, provider_, clock_);
    return shard;
  }

  Status Check(const v1::ShardDone& shard) {
    return VerifyShardDone(job_, aggregator_.id(), shard, outputs_, clock_).status();
  }

  const Clock& clock_ = SystemClock::Instance();
  NodeIdentity client_ = NodeIdentity::Generate();
  NodeIdentity aggregator_ = NodeIdentity::Generate();
  NodeIdentity provider_ = NodeIdentity::Generate();
  v1::JobRequest job_;
  std::vector<v1::TaskOutput> outputs_;
};

TEST_F(VerifyShardDoneTest, AGenuineShardPasses) {
  auto verified = VerifyShardDone(job_, aggregator_.id(), MakeShard(), outputs_, clock_);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->first_index, 2u);
  EXPECT_EQ(verified->provider, provider_.id());
}

TEST_F(VerifyShardDoneTest, AlteredInputsOrParametersAreCaught) {
  EXPECT_EQ(
      Check(MakeShard([](v1::TaskRequest& r) { r.mutable_inputs(1)->set_text("evil"); })).code(),
      StatusCode::kCorrupt);
  EXPECT_EQ(
      Check(MakeShard([](v1::TaskRequest& r) { r.mutable_generation()->set_seed(1); })).code(),
      StatusCode::kCorrupt);
  EXPECT_EQ(
      Check(MakeShard([](v1::TaskRequest& r) { r.set_max_price_per_mtok_micros(5000); })).code(),
      StatusCode::kCorrupt);
  EXPECT_EQ(Check(MakeShard([](v1::TaskRequest& r) { r.mutable_inputs()->RemoveLast(); })).code(),
            StatusCode::kCorrupt);
  EXPECT_EQ(
      Check(MakeShard([](v1::TaskRequest& r) { r.set_model_hash(std::string(32, 'x')); })).code(),
      StatusCode::kCorrupt);
}

TEST_F(VerifyShardDoneTest, ShardClaimingOtherIndicesIsCaught) {
  v1::ShardDone shard = MakeShard();
  shard.set_first_index(1);  // the request carries inputs 2..4, not 1..3
  EXPECT_EQ(Check(shard).code(), StatusCode::kCorrupt);
  shard.set_first_index(5);  // beyond the job
  EXPECT_EQ(Check(shard).code(), StatusCode::kCorrupt);
}

TEST_F(VerifyShardDoneTest, AlteredOutputsOrForeignSignaturesAreCaught) {
  v1::ShardDone shard = MakeShard();
  outputs_[1].set_text("changed");
  EXPECT_EQ(Check(shard).code(), StatusCode::kCorrupt);

  shard = MakeShard();
  NodeIdentity impostor = NodeIdentity::Generate();
  shard.set_provider_id(Bytes(impostor.id()));  // results signed by someone else
  EXPECT_FALSE(Check(shard).ok());

  shard = MakeShard();
  v1::TaskRequest request;
  request.ParseFromString(shard.task_request().body());
  *shard.mutable_task_request() = net::SignClaim(request, impostor, clock_);  // not the aggregator
  EXPECT_EQ(Check(shard).code(), StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace infernet::client
