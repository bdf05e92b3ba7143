// A DHT of N in-process nodes on 127.0.0.1, each bootstrapped off the first: the network that
// discovery tests and benchmarks run against. Not for production use.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "discovery/dht_node.h"

namespace infernet::discovery {

// Calls `done` until it returns true or `timeout` elapses, pausing `interval` between calls.
// For conditions that only become true eventually and offer nothing to wait on (DHT propagation,
// routing tables filling up). Returns whether `done` returned true. Bounded in time.
bool PollUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval = std::chrono::milliseconds(20));

class LoopbackDhtNetwork {
 public:
  // Starts `node_count` (≥ 1) nodes on 127.0.0.1 with system-chosen ports; nodes 1.. bootstrap
  // off node 0. `options.bind_address` and `options.port` are overridden; per-peer rate limits
  // are lifted (all nodes share one IP). Does not wait for routing tables: see WaitConnected.
  static Result<std::unique_ptr<LoopbackDhtNetwork>> Create(size_t node_count,
                                                            DhtNodeOptions options = {});

  size_t size() const { return nodes_.size(); }
  DhtNode& node(size_t index) { return *nodes_.at(index); }
  // "127.0.0.1:<port>" of node 0, to bootstrap further nodes from.
  std::string bootstrap_address() const;

  // A further node, started like the others and bootstrapped off node 0, owned by the caller.
  Result<std::unique_ptr<DhtNode>> StartExtraNode() const;

  // Waits until every node knows at least `min_good_nodes` good nodes (capped at size() - 1).
  // kDeadlineExceeded names how many nodes were still short when `timeout` elapsed.
  Status WaitConnected(unsigned min_good_nodes, std::chrono::milliseconds timeout);

 private:
  explicit LoopbackDhtNetwork(DhtNodeOptions options) : options_(std::move(options)) {}

  DhtNodeOptions options_;
  std::vector<std::unique_ptr<DhtNode>> nodes_;
};

}  // namespace infernet::discovery
