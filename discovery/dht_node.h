// One node of the Kademlia DHT (OpenDHT's DhtRunner) behind a small, exception-free interface:
// start on a UDP port, bootstrap off known peers, put and get opaque byte strings under string
// keys. Values are unsigned at the DHT level: every record we store carries its own Ed25519
// signature inside the bytes (docs/protocol.md §3), so OpenDHT's RSA identities are not used.
//
// Threading: OpenDHT runs its own network thread, and the node one more that re-checks its far id
// ranges (see DhtNodeOptions::join_refresh_levels). Put/Get/Bootstrap/Connectivity are
// thread-safe and may be called from any thread except OpenDHT's own (i.e. never from a
// ReplacePolicy); Put and Get block the caller for at most their timeout. Start and Stop must not
// race with other calls: Start before any, Stop (or the destructor) after all of them returned.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/result.h"
#include "discovery/record_store.h"

namespace dht {
class DhtRunner;
}

namespace infernet::discovery {

// Network id of the Infernet DHT: nodes only talk to nodes with the same id, which keeps us off
// the public OpenDHT network (id 0) even if someone bootstraps from one of its nodes.
inline constexpr uint32_t kInfernetDhtNetworkId = 0x1f4e7e70;

// Decides, on a node that stores a value, whether a new value may replace the stored one with the
// same value id. Runs on OpenDHT's thread; must be quick and must not call into the DhtNode.
using ReplacePolicy = std::function<bool(std::string_view stored, std::string_view incoming)>;

inline constexpr unsigned kDefaultJoinRefreshLevels = 3;

struct DhtNodeOptions {
  std::string bind_address = "127.0.0.1";  // IPv4 literal: "127.0.0.1" or "0.0.0.0"
  uint16_t port = 0;                       // 0: the system picks one; read it back with port()
  uint32_t network_id = kInfernetDhtNetworkId;
  // How long storing nodes keep a value after its last (re-)publication. Must exceed the
  // publishers' re-publication interval.
  std::chrono::milliseconds value_lifetime = std::chrono::minutes(10);
  // nullptr: any re-publication under the same value id replaces the stored value.
  ReplacePolicy replace_policy;
  // OpenDHT limits requests per source IP. Every node of a loopback test network shares one IP,
  // so tests and benchmarks lift the limit (-1); 0 keeps OpenDHT's default.
  int64_t max_requests_per_peer_per_s = 0;
  // Kademlia's join step: on first connecting, look up a random id in each of this many id ranges
  // farthest from the node's own (far_ranges.h), and later look up again those still empty, at
  // growing intervals (see LookUpFarRanges in dht_node.cc). 0 turns both off (only to measure what
  // they do).
  unsigned join_refresh_levels = kDefaultJoinRefreshLevels;
};

// What one node holds and routes for a key, for diagnostics (benchmarks, debugging): which nodes
// store a record, and how close they are to the key, decides whether lookups can find it.
struct DhtLocalView {
  std::string node_id_hex;   // this node's 160-bit DHT id
  std::string key_hash_hex;  // the DHT id the key maps to
  size_t stored_values = 0;  // values this node stores under the key
  std::string search_log;    // OpenDHT's dump of this node's search for the key, if any
};

struct DhtConnectivity {
  unsigned good_nodes = 0;     // answered recently
  unsigned dubious_nodes = 0;  // known but not confirmed lately
  bool connected = false;      // at least one good node
};

class DhtNode final : public RecordStore {
 public:
  DhtNode();
  ~DhtNode() override;  // Stop()
  DhtNode(const DhtNode&) = delete;
  DhtNode& operator=(const DhtNode&) = delete;

  // Binds the UDP socket and starts OpenDHT's thread. kInvalidArgument for a bad address,
  // kIo when the socket cannot be bound, kInternal for other OpenDHT failures. Once only.
  Status Start(const DhtNodeOptions& options);
  // The bound UDP port (0 before Start).
  uint16_t port() const { return port_; }

  // Adds "host:port" peers (IPv4 literals or resolvable names) and pings them; returns without
  // waiting for answers (watch Connectivity()). kInvalidArgument if an entry is malformed or
  // resolves to nothing; the entries before it were added.
  Status Bootstrap(const std::vector<std::string>& peers);

  // RecordStore. Put returns OK once at least one node acknowledged the value, kUnavailable if
  // none did, kDeadlineExceeded if OpenDHT did not finish in time (the value may still spread).
  Status Put(std::string_view key, std::string bytes, uint64_t value_id,
             std::chrono::milliseconds timeout) override;
  Result<RecordStoreGet> Get(std::string_view key, std::chrono::milliseconds timeout) override;

  DhtConnectivity Connectivity() const;
  // Diagnostics only: OpenDHT exposes a node's storage and routing table as text, which these
  // parse. LocalView: what this node stores and searched for under `key`. RoutingTableIds: the
  // DHT ids (hex) of the nodes in this node's routing table.
  DhtLocalView LocalView(std::string_view key) const;
  std::vector<std::string> RoutingTableIds() const;

  // Leaves the network and joins the far-range thread and OpenDHT's threads; no callback runs after
  // it returns. Idempotent.
  void Stop();

 private:
  // Runs on range_keeper_ until Stop: looks up again the far ranges that are still empty.
  void KeepFarRanges(unsigned levels);

  std::unique_ptr<dht::DhtRunner> runner_;
  uint16_t port_ = 0;
  bool started_ = false;
  std::thread range_keeper_;
  std::mutex keeper_mu_;
  std::condition_variable keeper_cv_;
  bool stopping_ = false;  // guarded by keeper_mu_
};

}  // namespace infernet::discovery
