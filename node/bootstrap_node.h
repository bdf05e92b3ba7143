// A bootstrap node: a DHT node and nothing else, for others to join the network through. It
// stores and forwards records like any DHT node but serves no gRPC.
#pragma once

#include <memory>

#include "core/identity.h"
#include "core/result.h"
#include "discovery/dht_node.h"
#include "node/node_config.h"

namespace infernet::node {

class BootstrapNode {
 public:
  static Result<std::unique_ptr<BootstrapNode>> Start(const NodeConfig& config);
  const NodeId& id() const { return identity_.id(); }
  uint16_t dht_port() const { return dht_.port(); }
  void Shutdown() { dht_.Stop(); }

 private:
  explicit BootstrapNode(NodeIdentity identity) : identity_(std::move(identity)) {}
  NodeIdentity identity_;
  discovery::DhtNode dht_;
};

}  // namespace infernet::node
