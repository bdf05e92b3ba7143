// Several nodes in one process on 127.0.0.1: three providers (one bootstraps the DHT and holds a
// model, one pulls models it is asked for), found through discovery by a client that runs direct
// jobs over TLS.
#include <gtest/gtest.h>

#include <filesystem>

#include "client/direct_job.h"
#include "core/hex.h"
#include "engine/model/test_model.h"
#include "engine/testing/temp_test_model.h"
#include "net/channel_options.h"
#include "node/client_network.h"
#include "node/provider_node.h"

namespace infernet::node {
namespace {

constexpr int64_t kTimeoutMs = 20000;

class MultiNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDirectory();
    ASSERT_TRUE(dir.ok());
    base_ = *dir;
    std::filesystem::create_directories(base_ / "a" / "models");
    ASSERT_TRUE(WriteTestModel(TestModelSpec{}, base_ / "a" / "models" / "tiny.gguf").ok());
    auto hash = Blake2b256File(base_ / "a" / "models" / "tiny.gguf");
    ASSERT_TRUE(hash.ok());
    model_ = *hash;
  }
  void TearDown() override {
    for (auto& node : nodes_) node->Shutdown();
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
    EXPECT_TRUE(FinalizeNodeConfig(config).ok());
    return config;
  }

  ProviderNode& Start(NodeConfig config) {
    auto node = ProviderNode::Start(config, SystemClock::Instance());
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    nodes_.push_back(std::move(node).value());
    return *nodes_.back();
  }

  client::JobSpec Job() const {
    client::JobSpec job;
    job.model = model_;
    job.kind = v1::GENERATE;
    job.inputs = {{"Once upon a time", ""}, {"Peer to peer", ""}};
    job.generation.set_max_tokens(6);
    job.generation.set_temperature(0.7f);
    job.generation.set_seed(11);
    job.max_price_per_mtok_micros = 10000;
    job.deadline_seconds = 60;
    return job;
  }

  std::filesystem::path base_;
  Digest32 model_{};
  std::vector<std::unique_ptr<ProviderNode>> nodes_;
};

TEST_F(MultiNodeTest, ClientFindsProvidersAndRunsJobsThatAgreeAcrossProviders) {
  ProviderNode& a = Start(Config("a", {}));
  const std::vector<std::string> bootstrap = {"127.0.0.1:" + std::to_string(a.dht_port())};
  ProviderNode& b = Start(Config("b", bootstrap));
  NodeConfig c_config = Config("c", bootstrap);
  c_config.pull_missing_models = true;
  ProviderNode& c = Start(c_config);
  for (ProviderNode* node : {&a, &b, &c}) ASSERT_TRUE(node->WaitPublished(kTimeoutMs));

  auto network = ClientNetwork::Join(Config("client", bootstrap), SystemClock::Instance(),
                                     std::chrono::milliseconds(kTimeoutMs));
  ASSERT_TRUE(network.ok()) << network.status().ToString();
  discovery::ProviderQuery all;
  all.timeout = std::chrono::milliseconds(kTimeoutMs);
  auto everyone = (*network)->FindProviders(all, 3);
  ASSERT_TRUE(everyone.ok()) << everyone.status().ToString();
  std::set<NodeId> ids;
  for (const auto& p : everyone->providers) ids.insert(p.node_id);
  EXPECT_EQ(ids, (std::set<NodeId>{a.id(), b.id(), c.id()}));

  discovery::ProviderQuery by_model = all;
  by_model.model_hash.assign(model_.begin(), model_.end());
  auto holders = (*network)->FindProviders(by_model, 1);
  ASSERT_TRUE(holders.ok());
  ASSERT_EQ(holders->providers.size(), 1u);
  EXPECT_EQ(holders->providers[0].node_id, a.id());

  const NodeIdentity& me = (*network)->identity();
  auto on_a = net::DialNode(me, a.id(), a.grpc_address());
  ASSERT_TRUE(on_a.ok());
  auto from_a = client::RunDirectJob(*on_a, a.id(), Job(), me, SystemClock::Instance());
  ASSERT_TRUE(from_a.ok()) << from_a.status().ToString();
  ASSERT_EQ(from_a->outputs.size(), 2u);
  EXPECT_TRUE(from_a->receipt_recorded);

  // C lacks the model: the first task is refused and starts a pull from A; once C holds the
  // model, the same job gives bit-identical outputs (same engine, same seed).
  auto on_c = net::DialNode(me, c.id(), c.grpc_address());
  ASSERT_TRUE(on_c.ok());
  auto refused = client::RunDirectJob(*on_c, c.id(), Job(), me, SystemClock::Instance());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("MODEL_NOT_FOUND"), std::string::npos)
      << refused.status().message();
  ASSERT_TRUE(c.WaitHolds(model_, kTimeoutMs));
  auto from_c = client::RunDirectJob(*on_c, c.id(), Job(), me, SystemClock::Instance());
  ASSERT_TRUE(from_c.ok()) << from_c.status().ToString();
  ASSERT_EQ(from_c->result.output_hashes_size(), from_a->result.output_hashes_size());
  for (int i = 0; i < from_a->result.output_hashes_size(); ++i) {
    EXPECT_EQ(from_c->result.output_hashes(i), from_a->result.output_hashes(i)) << "output " << i;
  }
  // Generation ran: up to max_tokens (fewer when the model samples its end token).
  EXPECT_EQ(from_c->outputs[0].tokens().size(), from_a->outputs[0].tokens().size());
  EXPECT_GE(from_c->outputs[0].tokens().size(), 1);
  EXPECT_LE(from_c->outputs[0].tokens().size(), 6);

  // Dialing A's address while expecting B's node ID fails: A cannot prove to be B.
  auto impostor = net::DialNode(me, b.id(), a.grpc_address());
  ASSERT_TRUE(impostor.ok());
  auto wrong = client::RunDirectJob(*impostor, b.id(), Job(), me, SystemClock::Instance());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnavailable) << wrong.status().ToString();
}

}  // namespace
}  // namespace infernet::node
