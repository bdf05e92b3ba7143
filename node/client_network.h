// What a client command needs from the network: its identity, a short-lived DHT node
// bootstrapped off the configured peers, provider lookups, and authenticated channels to the
// providers it picks. Used by `infernet providers`, `infernet submit` and `infernet model pull`.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/identity.h"
#include "core/result.h"
#include "discovery/dht_node.h"
#include "discovery/provider_lookup.h"
#include "node/node_config.h"

namespace infernet::node {

class ClientNetwork {
 public:
  // Loads (or creates) config.key_file, starts a DHT node on an ephemeral port of the
  // bootstrap peers' interface and waits up to `connect_timeout` for a first good peer.
  // kInvalidArgument when config.bootstrap is empty; kUnavailable when no peer answers.
  static Result<std::unique_ptr<ClientNetwork>> Join(const NodeConfig& config, const Clock& clock,
                                                     std::chrono::milliseconds connect_timeout);

  const NodeIdentity& identity() const { return identity_; }
  // Providers matching `query`, valid records only (docs/protocol.md §3). Polls the DHT until at
  // least `min_results` match or query.timeout passes (records spread over a few hundred ms).
  Result<discovery::ProviderLookupResult> FindProviders(const discovery::ProviderQuery& query,
                                                        size_t min_results = 1);

 private:
  ClientNetwork(NodeIdentity identity, const Clock& clock)
      : identity_(std::move(identity)), clock_(clock) {}

  NodeIdentity identity_;
  const Clock& clock_;
  discovery::DhtNode dht_;
};

// The identity in `key_file`, created (mode 0600, directory 0700) when the file does not exist.
Result<NodeIdentity> LoadOrCreateIdentity(const std::filesystem::path& key_file);

}  // namespace infernet::node
