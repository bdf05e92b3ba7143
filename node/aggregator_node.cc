#include "node/aggregator_node.h"

#include <spdlog/spdlog.h>

#include "discovery/provider_lookup.h"
#include "net/tls_credentials.h"
#include "node/client_network.h"
#include "node/software_version.h"
#include "node/tls_server.h"

namespace infernet::node {

Result<std::unique_ptr<AggregatorNode>> AggregatorNode::Start(const NodeConfig& config,
                                                              const Clock& clock) {
  INFERNET_ASSIGN_OR_RETURN(NodeIdentity identity, LoadOrCreateIdentity(config.key_file));
  std::unique_ptr<AggregatorNode> node(new AggregatorNode(config, std::move(identity), clock));
  AggregatorNode& n = *node;

  INFERNET_ASSIGN_OR_RETURN(auto dht_listen, SplitHostPort(config.dht_listen));
  discovery::DhtNodeOptions dht_options;
  dht_options.bind_address = dht_listen.first;
  dht_options.port = dht_listen.second;
  dht_options.replace_policy = discovery::SameSignerReplaces;
  if (Status s = n.dht_.Start(dht_options); !s.ok()) return s.WithContext("starting the DHT node");
  if (!config.bootstrap.empty()) {
    if (Status s = n.dht_.Bootstrap(config.bootstrap); !s.ok()) {
      return s.WithContext("bootstrapping the DHT");
    }
  }

  auto store = aggregator::JobStore::Open(config.state_db);
  if (!store.ok()) return store.status().WithContext("opening the job store");
  n.store_ = std::move(store).value();
  n.runner_ = std::make_unique<aggregator::GrpcShardRunner>(n.identity_, clock);

  aggregator::CoordinatorSettings settings;
  settings.target_shard_ms = config.target_shard_ms;
  settings.max_attempts = config.max_attempts;
  settings.fee_basis_points = config.fee_basis_points;
  settings.pool.max_in_flight_per_provider = config.max_in_flight_per_provider;
  AggregatorNode* self = &n;
  aggregator::ProviderSource source =
      [self](const std::string& model_hash) -> Result<std::vector<discovery::ProviderRecord>> {
    discovery::ProviderLookup lookup(self->dht_, self->clock_);
    discovery::ProviderQuery query;
    query.model_hash = model_hash;
    query.timeout = std::chrono::milliseconds(3000);
    INFERNET_ASSIGN_OR_RETURN(discovery::ProviderLookupResult found, lookup.Find(query));
    return found.providers;
  };
  n.coordinator_ = std::make_unique<aggregator::Coordinator>(n.identity_, clock, *n.store_,
                                                             *n.runner_, source, settings);
  if (Status s = n.coordinator_->Start(); !s.ok()) return s.WithContext("resuming jobs");

  aggregator::AggregatorLimits limits;
  limits.software_version = kSoftwareVersion;
  n.service_ =
      std::make_unique<aggregator::AggregatorService>(n.identity_, clock, *n.coordinator_, limits);
  INFERNET_ASSIGN_OR_RETURN(TlsServer tls, ServeTls(config, n.identity_, n.service_.get()));
  n.server_ = std::move(tls.server);
  n.grpc_address_ = tls.address;
  discovery::PublisherOptions publisher_options;
  publisher_options.ttl_ms = int64_t{config.record_ttl_seconds} * 1000;
  publisher_options.retry_ms = 2000;
  publisher_options.put_timeout = std::chrono::seconds(5);
  n.publisher_ =
      std::make_unique<discovery::RecordPublisher>(n.dht_, n.identity_, clock, publisher_options);
  discovery::ProviderDescription description;
  description.roles = {"aggregator"};
  description.addresses = {n.grpc_address_};
  if (!(config.advertise.size() == 1 && config.advertise[0] == config.listen)) {
    description.addresses = config.advertise;
  }
  description.software_version = kSoftwareVersion;
  n.publisher_->SetDescription(description);
  n.publish_thread_ = std::thread([&n] { n.PublishLoop(); });
  spdlog::info("aggregator {} serving on {} (DHT port {}), job state in {}", n.id().ToHex(),
               n.grpc_address_, n.dht_.port(), config.state_db.string());
  return node;
}

AggregatorNode::~AggregatorNode() { Shutdown(); }

void AggregatorNode::PublishLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    Status s = publisher_->Tick();
    if (!s.ok()) spdlog::debug("publishing the aggregator record: {}", s.ToString());
    const int64_t wait_ms = std::max<int64_t>(50, publisher_->next_publish_ms() - clock_.NowMs());
    lock.lock();
    // A timer, not synchronisation: the next publication is due at a clock time.
    wake_.wait_for(lock, std::chrono::milliseconds(std::min<int64_t>(wait_ms, 1000)),
                   [this] { return stopping_; });
  }
}

void AggregatorNode::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (publish_thread_.joinable()) publish_thread_.join();
  // The coordinator first: it closes the job streams, so the server's handlers return at once.
  if (coordinator_) coordinator_->Stop();
  if (server_) server_->Shutdown();
  dht_.Stop();
}

}  // namespace infernet::node
