#include "discovery/dht_node.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "discovery/loopback_dht_network.h"

namespace infernet::discovery {
namespace {

using std::chrono::milliseconds;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr milliseconds kOpTimeout(5000);
// DHT propagation is eventual: a Get may run before the value reached the nodes it asks.
constexpr milliseconds kPropagationTimeout(10000);

std::vector<std::string> ValuesAt(DhtNode& node, std::string_view key) {
  Result<RecordStoreGet> got = node.Get(key, kOpTimeout);
  if (!got.ok()) return {};
  return got->values;
}

class DhtNodeNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto network = LoopbackDhtNetwork::Create(6);
    ASSERT_TRUE(network.ok()) << network.status().ToString();
    network_ = std::move(network).value();
    ASSERT_TRUE(network_->WaitConnected(1, milliseconds(10000)).ok());
  }
  std::unique_ptr<LoopbackDhtNetwork> network_;
};

TEST(DhtNodeTest, StartOnPortZeroReportsTheBoundPort) {
  DhtNode node;
  EXPECT_EQ(node.port(), 0);
  ASSERT_TRUE(node.Start({}).ok());
  EXPECT_NE(node.port(), 0);
  EXPECT_EQ(node.Start({}).code(), StatusCode::kAlreadyExists);
  node.Stop();
  node.Stop();  // idempotent
  EXPECT_EQ(node.port(), 0);
}

TEST(DhtNodeTest, StartRefusesAnAddressThatIsNotIpv4) {
  DhtNode node;
  DhtNodeOptions options;
  options.bind_address = "localhost:80";
  EXPECT_EQ(node.Start(options).code(), StatusCode::kInvalidArgument);
}

TEST(DhtNodeTest, CallsBeforeStartAreUnavailable) {
  DhtNode node;
  EXPECT_EQ(node.Put("k", "v", 1, kOpTimeout).code(), StatusCode::kUnavailable);
  EXPECT_EQ(node.Get("k", kOpTimeout).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(node.Bootstrap({"127.0.0.1:1"}).code(), StatusCode::kUnavailable);
  EXPECT_FALSE(node.Connectivity().connected);
}

TEST(DhtNodeTest, BootstrapRefusesMalformedPeers) {
  DhtNode node;
  ASSERT_TRUE(node.Start({}).ok());
  EXPECT_EQ(node.Bootstrap({"no-port"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(node.Bootstrap({"127.0.0.1:"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(node.Bootstrap({"127.0.0.1:70000"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(node.Bootstrap({":4222"}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(node.Bootstrap({"127.0.0.1:4222"}).ok());
}

TEST(DhtNodeTest, PutRefusesInvalidArguments) {
  DhtNode node;
  ASSERT_TRUE(node.Start({}).ok());
  EXPECT_EQ(node.Put("", "v", 1, kOpTimeout).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(node.Put("k", "v", 0, kOpTimeout).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(node.Put("k", std::string(kMaxRecordValueBytes + 1, 'x'), 1, kOpTimeout).code(),
            StatusCode::kOutOfRange);
}

TEST_F(DhtNodeNetworkTest, AValuePutByOneNodeIsFoundByAnother) {
  ASSERT_TRUE(network_->node(3).Put("infernet/test/a", "hello", 42, kOpTimeout).ok());
  EXPECT_TRUE(PollUntil(
      [&] {
        return ValuesAt(network_->node(5), "infernet/test/a") == std::vector<std::string>{"hello"};
      },
      kPropagationTimeout));
  EXPECT_TRUE(ValuesAt(network_->node(5), "infernet/test/other").empty());
}

TEST_F(DhtNodeNetworkTest, ValuesWithDistinctIdsAccumulate) {
  ASSERT_TRUE(network_->node(1).Put("infernet/test/b", "one", 1, kOpTimeout).ok());
  ASSERT_TRUE(network_->node(2).Put("infernet/test/b", "two", 2, kOpTimeout).ok());
  std::vector<std::string> values;
  EXPECT_TRUE(PollUntil(
      [&] {
        values = ValuesAt(network_->node(4), "infernet/test/b");
        return values.size() == 2;
      },
      kPropagationTimeout));
  EXPECT_THAT(values, UnorderedElementsAre("one", "two"));
}

TEST_F(DhtNodeNetworkTest, RepublishingUnderTheSameIdReplacesTheValue) {
  ASSERT_TRUE(network_->node(2).Put("infernet/test/c", "old", 7, kOpTimeout).ok());
  ASSERT_TRUE(PollUntil([&] { return ValuesAt(network_->node(4), "infernet/test/c").size() == 1; },
                        kPropagationTimeout));
  ASSERT_TRUE(network_->node(2).Put("infernet/test/c", "new", 7, kOpTimeout).ok());
  std::vector<std::string> values;
  EXPECT_TRUE(PollUntil(
      [&] {
        values = ValuesAt(network_->node(4), "infernet/test/c");
        return values == std::vector<std::string>{"new"};
      },
      kPropagationTimeout));
  EXPECT_THAT(values, ElementsAre("new"));
}

// Kademlia's join step and far-range refresh (LookUpFarRanges in dht_node.cc): every node of a
// network that formed through one bootstrap node soon knows a node in the half of the id space
// opposite its own, not only its own neighbourhood. Without it, the nodes in the bootstrap node's
// half know none for minutes, and their puts for keys out there land far from where lookups
// converge.
TEST(DhtNodeJoinTest, EveryNodeSoonKnowsANodeInTheFarHalfOfTheIdSpace) {
  auto network = LoopbackDhtNetwork::Create(40);
  ASSERT_TRUE(network.ok());
  ASSERT_TRUE((*network)->WaitConnected(1, milliseconds(10000)).ok());
  auto top_bit = [](const std::string& id_hex) {
    return std::stoi(id_hex.substr(0, 1), nullptr, 16) >> 3;
  };
  size_t blind = 0;
  const bool all_know = PollUntil(
      [&] {
        blind = 0;
        for (size_t i = 0; i < (*network)->size(); ++i) {
          DhtNode& node = (*network)->node(i);
          const int own = top_bit(node.LocalView("").node_id_hex);
          bool knows_far = false;
          for (const std::string& id : node.RoutingTableIds()) knows_far |= top_bit(id) != own;
          if (!knows_far) ++blind;
        }
        return blind == 0;
      },
      milliseconds(10000), milliseconds(100));
  EXPECT_TRUE(all_know) << blind << " of 40 nodes know no node in the far half";
}

TEST(DhtNodeReplacePolicyTest, StoringNodesApplyTheReplacePolicy) {
  DhtNodeOptions options;
  // Refuse replacements that start with "forged": stands in for "signed by another key".
  options.replace_policy = [](std::string_view, std::string_view incoming) {
    return incoming.substr(0, 6) != "forged";
  };
  auto network = LoopbackDhtNetwork::Create(5, options);
  ASSERT_TRUE(network.ok());
  ASSERT_TRUE((*network)->WaitConnected(1, milliseconds(10000)).ok());
  DhtNode& author = (*network)->node(1);
  DhtNode& attacker = (*network)->node(2);
  DhtNode& reader = (*network)->node(3);
  ASSERT_TRUE(author.Put("infernet/test/d", "genuine", 9, kOpTimeout).ok());
  ASSERT_TRUE(PollUntil([&] { return ValuesAt(reader, "infernet/test/d").size() == 1; },
                        kPropagationTimeout));
  // Storing nodes that hold the genuine value refuse the edit, so it is never replaced. (A storing
  // node the genuine value has not reached yet may accept the forged one as a new value: the DHT
  // cannot tell; readers drop it by its signature, see record_validation.h.)
  (void)attacker.Put("infernet/test/d", "forged value", 9, kOpTimeout);
  EXPECT_THAT(ValuesAt(reader, "infernet/test/d"), Contains("genuine"));
  ASSERT_TRUE(author.Put("infernet/test/d", "genuine v2", 9, kOpTimeout).ok());
  std::vector<std::string> values;
  EXPECT_TRUE(PollUntil(
      [&] {
        values = ValuesAt(reader, "infernet/test/d");
        return values == std::vector<std::string>{"genuine v2"};
      },
      kPropagationTimeout));
  EXPECT_THAT(values, ElementsAre("genuine v2"));
}

}  // namespace
}  // namespace infernet::discovery
