#include "node/node_config.h"

#include <gtest/gtest.h>

namespace infernet::node {
namespace {

TEST(NodeConfigTest, EmptyFileGivesDefaults) {
  auto c = ParseNodeConfig("", "empty.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  NodeConfig defaults;
  EXPECT_EQ(c->roles, defaults.roles);
  EXPECT_EQ(c->listen, defaults.listen);
  EXPECT_EQ(c->max_queue, defaults.max_queue);
}

TEST(NodeConfigTest, ReadsEverySection) {
  auto c = ParseNodeConfig(R"(
[node]
roles = ["provider"]
home = "/tmp/h"
key_file = "/tmp/h/k.key"
[network]
listen = "127.0.0.1:9000"
advertise = ["127.0.0.2:9000"]
dht_listen = "127.0.0.1:0"
bootstrap = ["127.0.0.1:4222", "127.0.0.3:4222"]
[provider]
model_dir = "/tmp/h/m"
price_per_mtok_micros = 250
max_concurrent = 2
max_queue = 3
threads = 4
serve_downloads = false
pull_missing_models = true
record_ttl_seconds = 120
)",
                           "full.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->key_file, "/tmp/h/k.key");
  EXPECT_EQ(c->listen, "127.0.0.1:9000");
  EXPECT_EQ(c->advertise, std::vector<std::string>{"127.0.0.2:9000"});
  EXPECT_EQ(c->bootstrap.size(), 2u);
  EXPECT_EQ(c->price_per_mtok_micros, 250u);
  EXPECT_EQ(c->max_concurrent, 2u);
  EXPECT_EQ(c->threads, 4u);
  EXPECT_FALSE(c->serve_downloads);
  EXPECT_TRUE(c->pull_missing_models);
  EXPECT_EQ(c->record_ttl_seconds, 120u);
}

void ExpectError(const std::string& text, const std::string& fragment) {
  auto c = ParseNodeConfig(text, "bad.toml");
  ASSERT_FALSE(c.ok()) << "accepted: " << text;
  EXPECT_NE(c.status().message().find(fragment), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("bad.toml"), std::string::npos) << c.status().message();
}

TEST(NodeConfigTest, BadInputIsRefusedNamingTheProblem) {
  ExpectError("[network]\nlisen = \"x\"\n", "network.lisen");
  ExpectError("[nodes]\n", "nodes");
  ExpectError("[provider]\nmax_queue = \"8\"\n", "provider.max_queue");
  ExpectError("[provider]\nmax_concurrent = 0\n", "provider.max_concurrent");
  ExpectError("[provider]\nthreads = -1\n", "provider.threads");
  ExpectError("[provider]\nserve_downloads = 1\n", "provider.serve_downloads");
  ExpectError("[network]\nbootstrap = \"127.0.0.1:1\"\n", "network.bootstrap");
  ExpectError("[network\n", "bad.toml");
  ExpectError("node = 3\n", "[node]");
}

TEST(NodeConfigTest, FinalizeFillsPathsAndChecksAddresses) {
  NodeConfig c;
  c.home = "/tmp/infernet-home";
  ASSERT_TRUE(FinalizeNodeConfig(c).ok());
  EXPECT_EQ(c.key_file, std::filesystem::path("/tmp/infernet-home/node.key"));
  EXPECT_EQ(c.model_dir, std::filesystem::path("/tmp/infernet-home/models"));
  EXPECT_EQ(c.advertise, std::vector<std::string>{c.listen});

  NodeConfig bad_listen;
  bad_listen.home = "/tmp/x";
  bad_listen.listen = "127.0.0.1";
  Status s = FinalizeNodeConfig(bad_listen);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("network.listen"), std::string::npos) << s.message();

  NodeConfig bad_role;
  bad_role.home = "/tmp/x";
  bad_role.roles = {"miner"};
  s = FinalizeNodeConfig(bad_role);
  EXPECT_NE(s.message().find("miner"), std::string::npos) << s.message();
}

TEST(NodeConfigTest, SplitHostPort) {
  auto ok = SplitHostPort("127.0.0.1:4222");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->first, "127.0.0.1");
  EXPECT_EQ(ok->second, 4222);
  auto v6 = SplitHostPort("[::1]:80");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->first, "::1");
  EXPECT_FALSE(SplitHostPort("host:").ok());
  EXPECT_FALSE(SplitHostPort("host:99999").ok());
  EXPECT_FALSE(SplitHostPort("host:12a").ok());
  EXPECT_FALSE(SplitHostPort(":80").ok());
}

}  // namespace
}  // namespace infernet::node
