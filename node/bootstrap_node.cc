#include "node/bootstrap_node.h"

#include "node/client_network.h"

namespace infernet::node {

Result<std::unique_ptr<BootstrapNode>> BootstrapNode::Start(const NodeConfig& config) {
  INFERNET_ASSIGN_OR_RETURN(NodeIdentity identity, LoadOrCreateIdentity(config.key_file));
  std::unique_ptr<BootstrapNode> node(new BootstrapNode(std::move(identity)));
  INFERNET_ASSIGN_OR_RETURN(auto listen, SplitHostPort(config.dht_listen));
  discovery::DhtNodeOptions options;
  options.bind_address = listen.first;
  options.port = listen.second;
  options.replace_policy = discovery::SameSignerReplaces;
  INFERNET_RETURN_IF_ERROR(node->dht_.Start(options).WithContext("starting the DHT node"));
  if (!config.bootstrap.empty()) {
    INFERNET_RETURN_IF_ERROR(
        node->dht_.Bootstrap(config.bootstrap).WithContext("bootstrapping the DHT"));
  }
  return node;
}

}  // namespace infernet::node
