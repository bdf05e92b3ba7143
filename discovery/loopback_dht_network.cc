#include "discovery/loopback_dht_network.h"

#include <algorithm>
#include <thread>
#include <utility>

namespace infernet::discovery {

bool PollUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    // Polling is the only option here: OpenDHT offers no event for "value reached node X".
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(interval, deadline - now));
  }
}

Result<std::unique_ptr<LoopbackDhtNetwork>> LoopbackDhtNetwork::Create(size_t node_count,
                                                                       DhtNodeOptions options) {
  if (node_count == 0) return Status::InvalidArgument("a DHT network needs at least one node");
  options.bind_address = "127.0.0.1";
  options.port = 0;
  options.max_requests_per_peer_per_s = -1;
  std::unique_ptr<LoopbackDhtNetwork> network(new LoopbackDhtNetwork(options));
  auto first = std::make_unique<DhtNode>();
  INFERNET_RETURN_IF_ERROR(first->Start(options));
  network->nodes_.push_back(std::move(first));
  for (size_t i = 1; i < node_count; ++i) {
    INFERNET_ASSIGN_OR_RETURN(std::unique_ptr<DhtNode> node, network->StartExtraNode());
    network->nodes_.push_back(std::move(node));
  }
  return network;
}

std::string LoopbackDhtNetwork::bootstrap_address() const {
  return "127.0.0.1:" + std::to_string(nodes_.front()->port());
}

Result<std::unique_ptr<DhtNode>> LoopbackDhtNetwork::StartExtraNode() const {
  auto node = std::make_unique<DhtNode>();
  INFERNET_RETURN_IF_ERROR(node->Start(options_));
  INFERNET_RETURN_IF_ERROR(node->Bootstrap({bootstrap_address()}));
  return node;
}

Status LoopbackDhtNetwork::WaitConnected(unsigned min_good_nodes,
                                         std::chrono::milliseconds timeout) {
  const unsigned wanted =
      std::min<unsigned>(min_good_nodes, static_cast<unsigned>(nodes_.size() - 1));
  size_t short_nodes = 0;
  const bool connected = PollUntil(
      [&] {
        short_nodes = 0;
        for (const auto& node : nodes_) {
          if (node->Connectivity().good_nodes < wanted) ++short_nodes;
        }
        return short_nodes == 0;
      },
      timeout);
  if (connected) return Status::Ok();
  return Status(StatusCode::kDeadlineExceeded,
                std::to_string(short_nodes) + " of " + std::to_string(nodes_.size()) +
                    " DHT nodes know fewer than " + std::to_string(wanted) + " good nodes after " +
                    std::to_string(timeout.count()) + " ms");
}

}  // namespace infernet::discovery
