#include "node/client_network.h"

#include <spdlog/spdlog.h>

#include "discovery/loopback_dht_network.h"

namespace infernet::node {

Result<NodeIdentity> LoadOrCreateIdentity(const std::filesystem::path& key_file) {
  if (std::filesystem::exists(key_file)) return NodeIdentity::Load(key_file);
  std::error_code ec;
  if (key_file.has_parent_path()) {
    std::filesystem::create_directories(key_file.parent_path(), ec);
    if (ec)
      return Status::Io("cannot create " + key_file.parent_path().string() + ": " + ec.message());
    std::filesystem::permissions(key_file.parent_path(), std::filesystem::perms::owner_all, ec);
  }
  NodeIdentity identity = NodeIdentity::Generate();
  INFERNET_RETURN_IF_ERROR(identity.Save(key_file));
  spdlog::info("created a new node key {} (node {})", key_file.string(), identity.id().ToHex());
  return identity;
}

Result<std::unique_ptr<ClientNetwork>> ClientNetwork::Join(
    const NodeConfig& config, const Clock& clock, std::chrono::milliseconds connect_timeout) {
  if (config.bootstrap.empty()) {
    return Status::InvalidArgument(
        "no bootstrap peers: pass --bootstrap HOST:PORT or set network.bootstrap in the config");
  }
  INFERNET_ASSIGN_OR_RETURN(NodeIdentity identity, LoadOrCreateIdentity(config.key_file));
  std::unique_ptr<ClientNetwork> network(new ClientNetwork(std::move(identity), clock));
  discovery::DhtNodeOptions options;
  // Listen where the first bootstrap peer can answer: loopback peers need a loopback socket.
  INFERNET_ASSIGN_OR_RETURN(auto first, SplitHostPort(config.bootstrap.front()));
  options.bind_address = first.first.rfind("127.", 0) == 0 ? "127.0.0.1" : "0.0.0.0";
  options.port = 0;
  INFERNET_RETURN_IF_ERROR(network->dht_.Start(options).WithContext("starting the DHT node"));
  INFERNET_RETURN_IF_ERROR(network->dht_.Bootstrap(config.bootstrap).WithContext("bootstrapping"));
  bool connected =
      discovery::PollUntil([&] { return network->dht_.Connectivity().connected; }, connect_timeout);
  if (!connected) {
    return Status(StatusCode::kUnavailable,
                  "no DHT peer answered within " + std::to_string(connect_timeout.count()) +
                      " ms (bootstrap: " + config.bootstrap.front() + ")");
  }
  return network;
}

Result<discovery::ProviderLookupResult> ClientNetwork::FindProviders(
    const discovery::ProviderQuery& query, size_t min_results) {
  discovery::ProviderLookup lookup(dht_, clock_);
  const auto deadline = std::chrono::steady_clock::now() + query.timeout;
  discovery::ProviderQuery attempt = query;
  Result<discovery::ProviderLookupResult> last = Status(StatusCode::kUnavailable, "no lookup ran");
  // Records reach the keys' storing nodes a little after a provider starts; a bounded retry.
  discovery::PollUntil(
      [&] {
        auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        attempt.timeout = std::max(remaining, std::chrono::milliseconds(100));
        last = lookup.Find(attempt);
        return !last.ok() || last->providers.size() >= min_results;
      },
      query.timeout, std::chrono::milliseconds(200));
  return last;
}

}  // namespace infernet::node
