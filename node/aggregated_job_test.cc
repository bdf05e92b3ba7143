// A job through an aggregator in one process on 127.0.0.1, on the native engine: a bootstrap
// node, three providers holding the model and an aggregator, all found through the DHT. The
// sharded job's outputs must be bit-identical to the same job run directly on one provider
// (sampling is seeded per input, so how inputs are split cannot change them), every shard must
// verify end to end, and the aggregator must have spread the work.
#include "client/aggregated_job.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "client/direct_job.h"
#include "engine/model/test_model.h"
#include "engine/testing/temp_test_model.h"
#include "net/channel_options.h"
#include "node/aggregator_node.h"
#include "node/bootstrap_node.h"
#include "node/client_network.h"
#include "node/provider_node.h"
#include "provider/output_hash.h"

namespace infernet::node {
namespace {

constexpr int64_t kTimeoutMs = 30000;

class AggregatedJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDirectory();
    ASSERT_TRUE(dir.ok());
    base_ = *dir;
    std::filesystem::create_directories(base_ / "model");
    ASSERT_TRUE(WriteTestModel(TestModelSpec{}, base_ / "model" / "tiny.gguf").ok());
    auto hash = Blake2b256File(base_ / "model" / "tiny.gguf");
    ASSERT_TRUE(hash.ok());
    model_ = *hash;
  }
  void TearDown() override {
    if (aggregator_) aggregator_->Shutdown();
    for (auto& node : providers_) node->Shutdown();
    if (bootstrap_) bootstrap_->Shutdown();
    std::filesystem::remove_all(base_);
  }

  NodeConfig Config(const std::string& name, const std::vector<std::string>& bootstrap) {
    NodeConfig config;
    config.home = base_ / name;
    config.listen = "127.0.0.1:0";
    config.dht_listen = "127.0.0.1:0";
    config.bootstrap = bootstrap;
    config.threads = 1;
    config.record_ttl_seconds = 60;
    config.target_shard_ms = 50;
    EXPECT_TRUE(FinalizeNodeConfig(config).ok());
    return config;
  }

  client::JobSpec Job() const {
    client::JobSpec job;
    job.model = model_;
    job.kind = v1::GENERATE;
    for (int i = 0; i < 24; ++i) job.inputs.push_back({"input number " + std::to_string(i), ""});
    job.generation.set_max_tokens(8);
    job.generation.set_temperature(0.8f);
    job.generation.set_seed(5);
    job.max_price_per_mtok_micros = 10000;
    job.deadline_seconds = 120;
    return job;
  }

  std::filesystem::path base_;
  Digest32 model_{};
  std::unique_ptr<BootstrapNode> bootstrap_;
  std::vector<std::unique_ptr<ProviderNode>> providers_;
  std::unique_ptr<AggregatorNode> aggregator_;
};

TEST_F(AggregatedJobTest, ShardedJobMatchesTheDirectJobBitForBit) {
  auto boot = BootstrapNode::Start(Config("boot", {}));
  ASSERT_TRUE(boot.ok()) << boot.status().ToString();
  bootstrap_ = std::move(boot).value();
  const std::vector<std::string> peers = {"127.0.0.1:" + std::to_string(bootstrap_->dht_port())};
  for (const char* name : {"p1", "p2", "p3"}) {
    NodeConfig config = Config(name, peers);
    std::filesystem::create_directories(config.model_dir);
    std::filesystem::copy_file(base_ / "model" / "tiny.gguf", config.model_dir / "tiny.gguf");
    auto node = ProviderNode::Start(config, SystemClock::Instance());
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    providers_.push_back(std::move(node).value());
  }
  for (auto& p : providers_) ASSERT_TRUE(p->WaitPublished(kTimeoutMs));
  auto aggregator = AggregatorNode::Start(Config("agg", peers), SystemClock::Instance());
  ASSERT_TRUE(aggregator.ok()) << aggregator.status().ToString();
  aggregator_ = std::move(aggregator).value();

  auto network = ClientNetwork::Join(Config("client", peers), SystemClock::Instance(),
                                     std::chrono::milliseconds(kTimeoutMs));
  ASSERT_TRUE(network.ok()) << network.status().ToString();
  const NodeIdentity& me = (*network)->identity();
  auto channel = net::DialNode(me, aggregator_->id(), aggregator_->grpc_address());
  ASSERT_TRUE(channel.ok());
  client::ProviderEndpoint endpoint{aggregator_->id(), aggregator_->grpc_address()};
  auto sharded = client::RunAggregatedJob(*channel, endpoint, Job(), me, SystemClock::Instance());
  ASSERT_TRUE(sharded.ok()) << sharded.status().ToString();
  ASSERT_TRUE(sharded->summary.complete()) << sharded->summary.failure();
  EXPECT_EQ(sharded->summary.inputs_done(), 24u);
  std::set<NodeId> used;
  for (const client::VerifiedShard& shard : sharded->shards) used.insert(shard.provider);
  EXPECT_GE(used.size(), 2u) << "the aggregator used one provider only";
  EXPECT_GT(sharded->shards.size(), 1u);

  const ProviderNode& one = *providers_.front();
  auto direct_channel = net::DialNode(me, one.id(), one.grpc_address());
  ASSERT_TRUE(direct_channel.ok());
  auto direct = client::RunDirectJob(*direct_channel, one.id(), Job(), me, SystemClock::Instance());
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  ASSERT_EQ(direct->outputs.size(), 24u);
  for (size_t i = 0; i < 24; ++i) {
    ASSERT_TRUE(sharded->outputs[i].has_value()) << i;
    EXPECT_EQ(provider::OutputHash(*sharded->outputs[i]), provider::OutputHash(direct->outputs[i]))
        << "input " << i << " differs between the sharded and the direct job";
  }

  // A second aggregator-addressed job with a different client identity cannot attach to this one:
  // covered by the coordinator tests; here the summary's fee is within 0.5-2 % of the price.
  EXPECT_LE(sharded->summary.fee_micros(), sharded->summary.price_micros() * 2 / 100 + 1);
}

}  // namespace
}  // namespace infernet::node
