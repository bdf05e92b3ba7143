#include "node/provider_node.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "client/grpc_chunk_source.h"
#include "client/model_puller.h"
#include "core/hex.h"
#include "core/log.h"
#include "discovery/hardware_probe.h"
#include "discovery/provider_lookup.h"
#include "discovery/record_validation.h"
#include "engine/quant/dispatch.h"
#include "net/channel_options.h"
#include "net/tls_credentials.h"
#include "node/client_network.h"
#include "node/software_version.h"
#include "node/tls_server.h"

namespace infernet::node {
namespace {

std::string DigestBytes(const Digest32& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

}  // namespace

Result<std::unique_ptr<ProviderNode>> ProviderNode::Start(const NodeConfig& config,
                                                          const Clock& clock) {
  INFERNET_ASSIGN_OR_RETURN(NodeIdentity identity, LoadOrCreateIdentity(config.key_file));
  std::unique_ptr<ProviderNode> node(new ProviderNode(config, std::move(identity), clock));
  ProviderNode& n = *node;

  auto store = provider::ModelStore::Open(config.model_dir);
  if (!store.ok()) return store.status().WithContext("opening the model directory");
  n.store_ = std::move(store).value();
  n.chunks_ = std::make_unique<provider::ModelChunkServer>(*n.store_, n.identity_, clock);

  provider::ProviderConfig provider_config;
  provider_config.price_per_mtok_micros = config.price_per_mtok_micros;
  provider_config.admission.max_concurrent = config.max_concurrent;
  provider_config.admission.max_queued = config.max_queue;
  provider_config.execution.threads = static_cast<int32_t>(config.threads);
  provider_config.engine.set_backend("cpu");
  provider_config.engine.set_kernel_level(
      quant::internal::KernelLevelName(quant::internal::ActiveKernelLevel()));
  provider_config.engine.set_version(kSoftwareVersion);
  provider_config.software_version = kSoftwareVersion;
  provider_config.runtime = config.runtime;
  provider_config.simulated.us_per_token = config.simulated_us_per_token;
  provider_config.simulated.fail_tasks = config.simulated_fail_tasks;
  provider::ModelLocator locator =
      [&n](const Digest32& hash) -> std::optional<std::filesystem::path> {
    auto model = n.store_->Find(hash);
    if (model) return model->path;
    if (n.config_.pull_missing_models) n.RequestPull(hash);
    return std::nullopt;
  };
  n.service_ = std::make_unique<provider::TaskService>(n.identity_, clock, locator, provider_config,
                                                       n.chunks_.get());

  INFERNET_ASSIGN_OR_RETURN(TlsServer tls, ServeTls(config, n.identity_, n.service_.get()));
  n.server_ = std::move(tls.server);
  n.grpc_address_ = tls.address;

  INFERNET_ASSIGN_OR_RETURN(auto dht_listen, SplitHostPort(config.dht_listen));
  discovery::DhtNodeOptions dht_options;
  dht_options.bind_address = dht_listen.first;
  dht_options.port = dht_listen.second;
  dht_options.value_lifetime = std::chrono::seconds(config.record_ttl_seconds) * 2;
  dht_options.replace_policy = discovery::SameSignerReplaces;
  if (Status s = n.dht_.Start(dht_options); !s.ok()) return s.WithContext("starting the DHT node");
  if (!config.bootstrap.empty()) {
    if (Status s = n.dht_.Bootstrap(config.bootstrap); !s.ok()) {
      return s.WithContext("bootstrapping the DHT");
    }
  }

  discovery::PublisherOptions publisher_options;
  publisher_options.ttl_ms = int64_t{config.record_ttl_seconds} * 1000;
  publisher_options.retry_ms = 2000;  // early publications fail until the DHT has peers
  publisher_options.put_timeout = std::chrono::seconds(5);
  n.publisher_ =
      std::make_unique<discovery::RecordPublisher>(n.dht_, n.identity_, clock, publisher_options);
  n.publisher_->SetDescription(n.Describe());
  n.publish_thread_ = std::thread([&n] { n.PublishLoop(); });
  if (config.pull_missing_models) n.pull_thread_ = std::thread([&n] { n.PullLoop(); });
  spdlog::info("node {} serving on {} (DHT port {}), {} model(s)", n.id().ToHex(), n.grpc_address_,
               n.dht_.port(), n.store_->List().size());
  return node;
}

discovery::ProviderDescription ProviderNode::Describe() const {
  discovery::ProviderDescription d;
  if (config_.advertise.size() == 1 && config_.advertise[0] == config_.listen) {
    d.addresses = {grpc_address_};  // the port actually bound, if listen asked for port 0
  } else {
    d.addresses = config_.advertise;
  }
  d.hardware = discovery::ProbeHardware();
  d.hardware.set_engine_backend(config_.runtime == "simulated" ? "simulated" : "cpu");
  d.hardware.set_kernel_level(
      quant::internal::KernelLevelName(quant::internal::ActiveKernelLevel()));
  for (const provider::StoredModel& m : store_->List()) {
    v1::ModelOffer offer;
    offer.set_model_hash(DigestBytes(m.hash));
    offer.set_name(m.name);
    offer.set_size_bytes(m.size_bytes);
    offer.set_price_per_mtok_micros(config_.price_per_mtok_micros);
    offer.set_serves_download(config_.serve_downloads);
    d.models.push_back(std::move(offer));
  }
  d.capacity.set_max_concurrent(config_.max_concurrent);
  d.capacity.set_max_queue(config_.max_queue);
  if (service_) {  // load and history at publication time
    d.capacity.set_running(service_->admission().running());
    d.capacity.set_queued(service_->admission().waiting());
    const provider::TaskCounters counters = service_->counters();
    d.reputation.set_tasks_completed(counters.completed);
    d.reputation.set_tasks_failed(counters.failed);
  }
  d.software_version = kSoftwareVersion;
  return d;
}

void ProviderNode::PublishLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const bool changed = std::exchange(description_changed_, false);
    lock.unlock();
    // Refresh what the record says whenever it is about to be published (load, history) or the
    // models held changed (SetDescription makes a publication due at once).
    if (changed || clock_.NowMs() >= publisher_->next_publish_ms()) {
      publisher_->SetDescription(Describe());
    }
    Status s = publisher_->Tick();
    if (!s.ok()) spdlog::debug("publishing the node record: {}", s.ToString());
    const bool ok_now = publisher_->publications() > 0;
    const int64_t wait_ms = std::max<int64_t>(50, publisher_->next_publish_ms() - clock_.NowMs());
    lock.lock();
    if (ok_now && !published_) {
      published_ = true;
      wake_.notify_all();
    }
    // A timer, not synchronisation: the next publication is due at a clock time.
    wake_.wait_for(lock, std::chrono::milliseconds(std::min<int64_t>(wait_ms, 1000)),
                   [this] { return stopping_; });
  }
}

bool ProviderNode::WaitPublished(int64_t timeout_ms) {
  std::unique_lock lock(mutex_);
  return wake_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] {
    return published_ || stopping_;
  }) && published_;
}

bool ProviderNode::WaitHolds(const Digest32& hash, int64_t timeout_ms) {
  std::unique_lock lock(mutex_);
  // PullLoop notifies wake_ after every pull, successful or not.
  return wake_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    return stopping_ || store_->Find(hash).has_value();
  }) && store_->Find(hash).has_value();
}

void ProviderNode::Shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !publish_thread_.joinable()) return;
    stopping_ = true;
    wake_.notify_all();
  }
  if (publish_thread_.joinable()) publish_thread_.join();
  if (pull_thread_.joinable()) pull_thread_.join();
  if (server_) server_->Shutdown();
  dht_.Stop();
}

void ProviderNode::RequestPull(const Digest32& hash) {
  std::lock_guard lock(mutex_);
  if (stopping_ || !pulls_requested_.insert(hash).second) return;
  pull_queue_.push_back(hash);
  wake_.notify_all();
}

void ProviderNode::PullLoop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !pull_queue_.empty(); });
    if (stopping_) return;
    const Digest32 hash = pull_queue_.front();
    pull_queue_.pop_front();
    lock.unlock();
    Status s = PullOne(hash);
    if (s.ok()) {
      spdlog::info("pulled model {} from peers", HexEncode(hash));
    } else {
      spdlog::warn("pulling model {}: {}", HexEncode(hash), s.ToString());
    }
    lock.lock();
    if (s.ok()) {
      description_changed_ = true;
    } else {
      pulls_requested_.erase(hash);  // a later task may ask again
    }
    wake_.notify_all();
  }
}

Status ProviderNode::PullOne(const Digest32& hash) {
  discovery::ProviderLookup lookup(dht_, clock_);
  discovery::ProviderQuery query;
  query.model_hash.assign(hash.begin(), hash.end());
  query.timeout = std::chrono::seconds(10);
  INFERNET_ASSIGN_OR_RETURN(discovery::ProviderLookupResult found, lookup.Find(query));
  std::vector<std::unique_ptr<client::GrpcChunkSource>> sources;
  for (const auto& p : found.providers) {
    if (p.node_id == id() || p.record.addresses_size() == 0) continue;
    bool serves = false;
    for (const auto& offer : p.record.models()) {
      serves |= offer.model_hash() == query.model_hash && offer.serves_download();
    }
    if (!serves) continue;
    INFERNET_ASSIGN_OR_RETURN(auto channel,
                              net::DialNode(identity_, p.node_id, p.record.addresses(0)));
    sources.push_back(std::make_unique<client::GrpcChunkSource>(p.node_id, p.record.addresses(0),
                                                                channel, std::chrono::seconds(10)));
  }
  std::vector<client::ChunkSource*> raw;
  for (auto& source : sources) raw.push_back(source.get());
  INFERNET_ASSIGN_OR_RETURN(std::filesystem::path path,
                            client::PullModel(hash, raw, config_.model_dir, clock_));
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  store_->Add(provider::StoredModel{hash, path, size, path.stem().string()});
  return Status::Ok();
}

ProviderNode::~ProviderNode() { Shutdown(); }

}  // namespace infernet::node
