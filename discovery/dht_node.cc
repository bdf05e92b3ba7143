#include "discovery/dht_node.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <opendht.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <future>
#include <mutex>
#include <set>
#include <string_view>
#include <utility>

#include "discovery/far_ranges.h"

namespace infernet::discovery {
namespace {

// OpenDHT value type of our records. Registered on every node so that storing nodes apply our
// lifetime and replacement rules; the id only has to avoid OpenDHT's built-in types (0-8).
constexpr dht::ValueType::Id kRecordValueType = 0x1e0f;

// A search for a popular key could in principle return an unbounded stream; the provider list
// is far smaller than this, so anything beyond is dropped rather than buffered.
constexpr size_t kMaxValuesPerGet = 4096;

Result<std::pair<std::string, std::string>> SplitHostPort(const std::string& peer) {
  const size_t colon = peer.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == peer.size()) {
    return Status::InvalidArgument("bootstrap peer '" + peer + "' is not host:port");
  }
  const std::string port = peer.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) == 0 || std::stoul(port) > 65535) {
    return Status::InvalidArgument("bootstrap peer '" + peer + "' has an invalid port");
  }
  return std::make_pair(peer.substr(0, colon), port);
}

Status KeyAndSizeChecks(std::string_view key, size_t size) {
  if (key.empty()) return Status::InvalidArgument("DHT key is empty");
  if (size > kMaxRecordValueBytes) {
    return Status(StatusCode::kOutOfRange, "DHT value of " + std::to_string(size) +
                                               " bytes exceeds the limit of " +
                                               std::to_string(kMaxRecordValueBytes));
  }
  return Status::Ok();
}

std::string_view AsView(const dht::Blob& blob) {
  return std::string_view(reinterpret_cast<const char*>(blob.data()), blob.size());
}

// Kademlia's join step, which OpenDHT 2.4 leaves out: look up one random id in each of the given
// far ranges of our own id (far_ranges.h). A node that joins through a bootstrap peer otherwise
// learns only its own neighbourhood; in a young network its far ranges stay empty for minutes
// (OpenDHT refills them by single random queries to nodes that know no more), and a put or get
// for a key out there then stops at the nodes of its own half, far from where other nodes' lookups
// converge (docs/benchmarks.md, "Discovery"). Looked up right after connecting, while the bootstrap
// peer is most of what the node knows, each search goes through that peer.
void LookUpFarRanges(dht::DhtRunner& runner, const std::vector<unsigned>& levels) {
  const dht::InfoHash own = runner.getNodeId();
  for (unsigned level : levels) {
    // Only the search matters: the nodes it meets enter the routing table.
    runner.get(
        RandomIdInFarRange(own, level),
        [](const std::vector<std::shared_ptr<dht::Value>>&) { return false; }, [](bool) {},
        dht::Value::TypeFilter(kRecordValueType));
  }
}

std::vector<unsigned> AllLevels(unsigned levels) {
  std::vector<unsigned> all(levels);
  for (unsigned level = 0; level < levels; ++level) all[level] = level;
  return all;
}

// The lookups on joining can come back empty-handed: a node that joins while the bootstrap peer
// knows only nodes of the joining node's own half learns no one beyond it. So the ranges are
// checked again at growing intervals, and the empty ones looked up again (Kademlia's bucket
// refresh, which also refills a range whose nodes all left).
constexpr std::chrono::milliseconds kFirstRangeCheck(1000);
constexpr std::chrono::milliseconds kMaxRangeCheckInterval(60000);

// Shared between a Get call and OpenDHT's callbacks, which may outlive the call after a timeout.
struct GetState {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> values;
  std::set<std::string> seen;
  bool done = false;
  bool abandoned = false;
};

}  // namespace

DhtNode::DhtNode() = default;

DhtNode::~DhtNode() { Stop(); }

Status DhtNode::Start(const DhtNodeOptions& options) {
  if (started_) return Status(StatusCode::kAlreadyExists, "DHT node already started");
  sockaddr_in bind4{};
  bind4.sin_family = AF_INET;
  bind4.sin_port = htons(options.port);
  if (inet_pton(AF_INET, options.bind_address.c_str(), &bind4.sin_addr) != 1) {
    return Status::InvalidArgument("DHT bind address '" + options.bind_address +
                                   "' is not an IPv4 literal");
  }
  try {
    dht::DhtRunner::Config config;
    config.threaded = true;
    config.dht_config.node_config.network = options.network_id;
    config.dht_config.node_config.max_peer_req_per_sec =
        static_cast<ssize_t>(options.max_requests_per_peer_per_s);
    config.bind4 = dht::SockAddr(reinterpret_cast<const sockaddr*>(&bind4), sizeof(bind4));
    auto runner = std::make_unique<dht::DhtRunner>();
    dht::DhtRunner::Context context;
    // Runs on OpenDHT's thread, which does not hold the runner's operation lock here: queuing
    // gets is safe. The runner outlives its thread (Stop joins it first).
    dht::DhtRunner* raw_runner = runner.get();
    auto refreshed = std::make_shared<std::atomic<bool>>(false);
    const unsigned levels = options.join_refresh_levels;
    context.statusChangedCallback = [raw_runner, refreshed, levels](dht::NodeStatus v4,
                                                                    dht::NodeStatus) {
      // Once, on joining: later, KeepFarRanges looks up again the ranges still empty.
      if (v4 == dht::NodeStatus::Connected && !refreshed->exchange(true)) {
        LookUpFarRanges(*raw_runner, AllLevels(levels));
      }
    };
    runner->run(config, std::move(context));

    ReplacePolicy policy = options.replace_policy;
    dht::ValueType type(
        kRecordValueType, "infernet.record",
        std::chrono::duration_cast<dht::duration>(options.value_lifetime),
        [](dht::InfoHash, std::shared_ptr<dht::Value>& value, const dht::InfoHash&,
           const dht::SockAddr&) { return value && value->data.size() <= kMaxRecordValueBytes; },
        [policy](dht::InfoHash, const std::shared_ptr<dht::Value>& stored,
                 std::shared_ptr<dht::Value>& incoming, const dht::InfoHash&,
                 const dht::SockAddr&) {
          if (!stored || !incoming || incoming->data.size() > kMaxRecordValueBytes) return false;
          if (!policy) return true;
          try {
            return policy(AsView(stored->data), AsView(incoming->data));
          } catch (...) {
            return false;  // a throwing policy must not take OpenDHT's thread down
          }
        });
    runner->registerType(type);
    port_ = runner->getBoundPort(AF_INET);
    if (port_ == 0) {
      runner->join();
      return Status::Io("DHT socket could not be bound to " + options.bind_address + ":" +
                        std::to_string(options.port));
    }
    runner_ = std::move(runner);
  } catch (const std::exception& e) {
    return Status::Io(std::string("starting the DHT node failed: ") + e.what());
  }
  started_ = true;
  if (options.join_refresh_levels > 0) {
    range_keeper_ =
        std::thread([this, levels = options.join_refresh_levels] { KeepFarRanges(levels); });
  }
  return Status::Ok();
}

void DhtNode::KeepFarRanges(unsigned levels) {
  std::chrono::milliseconds interval = kFirstRangeCheck;
  std::unique_lock<std::mutex> lock(keeper_mu_);
  while (!keeper_cv_.wait_for(lock, interval, [&] { return stopping_; })) {
    interval = std::min(interval * 2, kMaxRangeCheckInterval);
    try {
      std::vector<dht::InfoHash> known;
      for (const dht::NodeExport& node : runner_->exportNodes()) known.push_back(node.id);
      // Before the node connects there is no one to ask; the join step covers that moment.
      if (known.empty()) continue;
      const std::vector<unsigned> empty = EmptyFarRanges(runner_->getNodeId(), known, levels);
      if (!empty.empty()) LookUpFarRanges(*runner_, empty);
    } catch (const std::exception& e) {
      spdlog::warn("DHT far-range check failed: {}", e.what());
    }
  }
}

Status DhtNode::Bootstrap(const std::vector<std::string>& peers) {
  if (!runner_) return Status(StatusCode::kUnavailable, "DHT node is not started");
  for (const std::string& peer : peers) {
    INFERNET_ASSIGN_OR_RETURN(auto host_port, SplitHostPort(peer));
    try {
      std::vector<dht::SockAddr> addresses =
          dht::SockAddr::resolve(host_port.first, host_port.second);
      if (addresses.empty()) {
        return Status::InvalidArgument("bootstrap peer '" + peer + "' does not resolve");
      }
      // Ping now, and remember the peer so OpenDHT retries it whenever it loses all contacts.
      runner_->bootstrap(std::move(addresses));
      runner_->bootstrap(host_port.first, host_port.second);
    } catch (const std::exception& e) {
      return Status::InvalidArgument("bootstrap peer '" + peer + "': " + e.what());
    }
  }
  return Status::Ok();
}

Status DhtNode::Put(std::string_view key, std::string bytes, uint64_t value_id,
                    std::chrono::milliseconds timeout) {
  if (!runner_) return Status(StatusCode::kUnavailable, "DHT node is not started");
  INFERNET_RETURN_IF_ERROR(KeyAndSizeChecks(key, bytes.size()));
  if (value_id == dht::Value::INVALID_ID) return Status::InvalidArgument("DHT value id is 0");
  auto done = std::make_shared<std::promise<bool>>();
  auto once = std::make_shared<std::once_flag>();
  std::future<bool> acknowledged = done->get_future();
  try {
    auto value = std::make_shared<dht::Value>(
        kRecordValueType, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), value_id);
    runner_->put(
        dht::InfoHash::get(std::string(key)), value,
        [done, once](bool ok) { std::call_once(*once, [&] { done->set_value(ok); }); },
        dht::time_point::max(), /*permanent=*/false);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("DHT put failed: ") + e.what());
  }
  if (acknowledged.wait_for(timeout) != std::future_status::ready) {
    return Status(StatusCode::kDeadlineExceeded, "DHT put under '" + std::string(key) +
                                                     "' not acknowledged within " +
                                                     std::to_string(timeout.count()) + " ms");
  }
  if (!acknowledged.get()) {
    return Status(StatusCode::kUnavailable,
                  "DHT put under '" + std::string(key) + "' was acknowledged by no node");
  }
  return Status::Ok();
}

Result<RecordStoreGet> DhtNode::Get(std::string_view key, std::chrono::milliseconds timeout) {
  if (!runner_) return Status(StatusCode::kUnavailable, "DHT node is not started");
  INFERNET_RETURN_IF_ERROR(KeyAndSizeChecks(key, 0));
  auto state = std::make_shared<GetState>();
  try {
    runner_->get(
        dht::InfoHash::get(std::string(key)),
        [state](const std::vector<std::shared_ptr<dht::Value>>& values) {
          std::lock_guard<std::mutex> lock(state->mu);
          if (state->abandoned) return false;  // stops the search
          for (const auto& value : values) {
            if (!value || value->type != kRecordValueType) continue;
            if (value->data.size() > kMaxRecordValueBytes) continue;
            if (state->values.size() >= kMaxValuesPerGet) return false;
            std::string bytes(AsView(value->data));
            if (state->seen.insert(bytes).second) state->values.push_back(std::move(bytes));
          }
          return true;
        },
        [state](bool) {
          std::lock_guard<std::mutex> lock(state->mu);
          state->done = true;
          state->cv.notify_all();
        },
        dht::Value::TypeFilter(kRecordValueType));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("DHT get failed: ") + e.what());
  }
  std::unique_lock<std::mutex> lock(state->mu);
  state->cv.wait_for(lock, timeout, [&] { return state->done; });
  state->abandoned = true;
  RecordStoreGet result;
  result.complete = state->done;
  result.values = std::move(state->values);
  state->values.clear();
  return result;
}

DhtConnectivity DhtNode::Connectivity() const {
  DhtConnectivity connectivity;
  if (!runner_) return connectivity;
  try {
    const dht::NodeStats stats = runner_->getNodesStats(AF_INET);
    connectivity.good_nodes = stats.good_nodes;
    connectivity.dubious_nodes = stats.dubious_nodes;
    connectivity.connected = stats.good_nodes > 0;
  } catch (const std::exception& e) {
    spdlog::warn("DHT node statistics unavailable: {}", e.what());
  }
  return connectivity;
}

DhtLocalView DhtNode::LocalView(std::string_view key) const {
  DhtLocalView view;
  const dht::InfoHash hash = dht::InfoHash::get(std::string(key));
  view.key_hash_hex = hash.toString();
  if (!runner_) return view;
  try {
    view.node_id_hex = runner_->getNodeId().toString();
    // printStorageLog starts with "Storage <hash> <n> list., <n> values (<n> bytes)", or
    // "Storage <hash> empty".
    const std::string log = runner_->getStorageLog(hash);
    const size_t values_at = log.find(" values (");
    if (values_at != std::string::npos) {
      const size_t digits = log.find_last_not_of("0123456789", values_at - 1) + 1;
      if (digits < values_at)
        view.stored_values = std::stoull(log.substr(digits, values_at - digits));
    }
    view.search_log = runner_->getSearchLog(hash, AF_INET);
  } catch (const std::exception& e) {
    spdlog::warn("DHT node view unavailable: {}", e.what());
  }
  return view;
}

std::vector<std::string> DhtNode::RoutingTableIds() const {
  std::vector<std::string> ids;
  if (!runner_) return ids;
  try {
    // dumpBucket writes each node as "    Node <40 hex digits> <address> ...".
    constexpr std::string_view kMarker = "Node ";
    constexpr size_t kIdDigits = 40;
    const std::string log = runner_->getRoutingTablesLog(AF_INET);
    for (size_t at = log.find(kMarker); at != std::string::npos; at = log.find(kMarker, at + 1)) {
      const std::string id = log.substr(at + kMarker.size(), kIdDigits);
      if (id.size() == kIdDigits && id.find_first_not_of("0123456789abcdef") == std::string::npos) {
        ids.push_back(id);
      }
    }
  } catch (const std::exception& e) {
    spdlog::warn("DHT routing table unavailable: {}", e.what());
  }
  return ids;
}

void DhtNode::Stop() {
  if (!runner_) return;
  if (range_keeper_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(keeper_mu_);
      stopping_ = true;
    }
    keeper_cv_.notify_all();
    range_keeper_.join();
  }
  try {
    runner_->join();
  } catch (const std::exception& e) {
    spdlog::warn("DHT node did not stop cleanly: {}", e.what());
  }
  runner_.reset();
  port_ = 0;
}

}  // namespace infernet::discovery
