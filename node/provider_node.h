// A running provider node: its identity, the models it holds, a DHT node, the Provider gRPC
// service over TLS bound to its identity, and the record publisher that keeps it discoverable.
// `infernet node` is this object plus signal handling; tests start several in one process.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/identity.h"
#include "core/result.h"
#include "discovery/dht_node.h"
#include "discovery/record_publisher.h"
#include "node/node_config.h"
#include "provider/model_chunk_server.h"
#include "provider/model_store.h"
#include "provider/provider_server.h"
#include "provider/task_service.h"

namespace infernet::node {

class ProviderNode {
 public:
  // Loads (or, when missing, creates) the key file, opens the model directory, starts the DHT
  // node and bootstraps, serves gRPC on config.listen and publishes the node record. `clock`
  // must outlive the node. Fails with the first error, naming the step.
  static Result<std::unique_ptr<ProviderNode>> Start(const NodeConfig& config, const Clock& clock);
  ~ProviderNode();  // Shutdown()

  const NodeId& id() const { return identity_.id(); }
  uint16_t grpc_port() const { return static_cast<uint16_t>(server_->port()); }
  uint16_t dht_port() const { return dht_.port(); }
  const std::string& grpc_address() const { return grpc_address_; }
  provider::TaskService& service() { return *service_; }
  const provider::ModelStore& models() const { return *store_; }

  // Blocks until the first publication succeeded or `timeout_ms` passed; returns whether it did.
  bool WaitPublished(int64_t timeout_ms);
  // Blocks until the node holds `hash` (e.g. after a pull) or `timeout_ms` passed.
  bool WaitHolds(const Digest32& hash, int64_t timeout_ms);

  // Stops publishing, cancels running tasks, closes the gRPC server and leaves the DHT.
  // Idempotent; safe from any thread but the node's own.
  void Shutdown();

 private:
  ProviderNode(NodeConfig config, NodeIdentity identity, const Clock& clock)
      : config_(std::move(config)), identity_(std::move(identity)), clock_(clock) {}
  discovery::ProviderDescription Describe() const;
  void PublishLoop();
  // pull_missing_models: a task for a model this node lacks queues a background pull from peers
  // that announce it (the task itself is refused with MODEL_NOT_FOUND); once verified, the model
  // is held, served and published.
  void RequestPull(const Digest32& hash);
  void PullLoop();
  Status PullOne(const Digest32& hash);

  NodeConfig config_;
  NodeIdentity identity_;
  const Clock& clock_;
  std::unique_ptr<provider::ModelStore> store_;
  std::unique_ptr<provider::ModelChunkServer> chunks_;
  std::unique_ptr<provider::TaskService> service_;
  std::unique_ptr<provider::ProviderServer> server_;
  discovery::DhtNode dht_;
  std::unique_ptr<discovery::RecordPublisher> publisher_;
  std::string grpc_address_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool published_ = false;
  bool description_changed_ = false;
  std::set<Digest32> pulls_requested_;
  std::deque<Digest32> pull_queue_;
  std::thread publish_thread_;
  std::thread pull_thread_;
};

}  // namespace infernet::node
