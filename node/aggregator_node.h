// A running aggregator node: its identity, a DHT node to find providers, the job store, the
// coordinator and the Aggregator gRPC service over TLS bound to its identity. Unfinished jobs in
// the store are resumed on start.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "aggregator/aggregator_service.h"
#include "aggregator/coordinator.h"
#include "aggregator/grpc_shard_runner.h"
#include "aggregator/job_store.h"
#include "core/clock.h"
#include "core/identity.h"
#include "core/result.h"
#include "discovery/dht_node.h"
#include "discovery/record_publisher.h"
#include "node/node_config.h"
#include "provider/provider_server.h"

namespace infernet::node {

class AggregatorNode {
 public:
  // Fails with the first error, naming the step. `clock` must outlive the node.
  static Result<std::unique_ptr<AggregatorNode>> Start(const NodeConfig& config,
                                                       const Clock& clock);
  ~AggregatorNode();  // Shutdown()

  const NodeId& id() const { return identity_.id(); }
  const std::string& grpc_address() const { return grpc_address_; }
  uint16_t dht_port() const { return dht_.port(); }
  aggregator::Coordinator& coordinator() { return *coordinator_; }

  // Stops serving, stops the coordinator (jobs stay in the store for the next start), leaves the
  // DHT. Idempotent.
  void Shutdown();

 private:
  AggregatorNode(NodeConfig config, NodeIdentity identity, const Clock& clock)
      : config_(std::move(config)), identity_(std::move(identity)), clock_(clock) {}
  // Keeps the aggregator's record (role "aggregator", its address, no models) published under the
  // all-nodes key, so that clients can find an aggregator through the DHT.
  void PublishLoop();

  NodeConfig config_;
  NodeIdentity identity_;
  const Clock& clock_;
  discovery::DhtNode dht_;
  std::unique_ptr<aggregator::JobStore> store_;
  std::unique_ptr<aggregator::GrpcShardRunner> runner_;
  std::unique_ptr<aggregator::Coordinator> coordinator_;
  std::unique_ptr<aggregator::AggregatorService> service_;
  std::unique_ptr<provider::ProviderServer> server_;
  std::unique_ptr<discovery::RecordPublisher> publisher_;
  std::string grpc_address_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread publish_thread_;
  bool shut_down_ = false;
};

}  // namespace infernet::node
