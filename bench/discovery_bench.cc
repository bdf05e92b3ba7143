// Discovery latency on a loopback DHT: N OpenDHT nodes on 127.0.0.1, k providers publishing their
// signed records, and fresh client nodes that join and look up the providers of one model.
// Reports, per network size, p50/p95 of the time a fresh client needs to connect (first good
// node) and then to find all k providers (lookups repeated until all are found, bounded).
//
//   infernet_discovery_bench [--nodes 20,100,500] [--providers 5] [--repetitions 20]
//                            [--nodes-per-process 200] [--client-exit end-of-size|after-lookup]
//                            [--addresses shared|distinct] [--time-limit-s 3600]
//                            [--join-refresh-levels 3] [--client-join-refresh-levels 3]
// Prints one JSON line per network size on stdout, and progress (each phase's steps and each
// client's outcome) on stderr. --time-limit-s bounds the whole run: waits are cut to what is left,
// and a phase that runs out reports the clients measured so far with an "error". With --addresses
// distinct every node binds an address of its own in 127.0.0.0/8 (127.B.x.y: B = 1 + the process's
// slice, 250 for clients) instead of all sharing 127.0.0.1. That network does not form with
// OpenDHT 2.4: it rewrites every loopback address in a received node list to the sender's IP
// (network_engine.cpp, deserializeNodes), so nodes learn wrong addresses; the mode is kept to
// reproduce that finding (docs/benchmarks.md, "Discovery"). Distinct hosts need network namespaces.
//
// Why several processes: OpenDHT 2.4 waits on its sockets with select(), whose fd_set only holds
// descriptors below FD_SETSIZE (1024); each node uses about three, so one process aborts ("bit
// out of range") past roughly 330 nodes. The benchmark therefore re-executes itself
// (/proc/self/exe --child-slice N) to host all nodes beyond the first slice, in slices of at
// most --nodes-per-process. Every node bootstraps off the parent's first node. Parent and
// children talk over pipes, one request line and one reply line at a time, each reply awaited
// with a deadline; a child exits when its command pipe closes (or, via PR_SET_PDEATHSIG, when
// the parent dies), and the parent kills and reaps children it cannot shut down in time.
//
// Each network size is measured twice (docs/benchmarks.md, "Discovery"):
//   cold: right after every node knows one good node and the providers have published;
//   warm: after every node knows at least min(8, N - 1) good nodes (8 = OpenDHT's bucket size,
//         TARGET_NODES), i.e. once routing tables have filled.
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/identity.h"
#include "discovery/dht_node.h"
#include "discovery/loopback_dht_network.h"
#include "discovery/provider_keys.h"
#include "discovery/provider_lookup.h"
#include "discovery/record_publisher.h"
#include "discovery/record_validation.h"

extern char** environ;

namespace infernet::discovery {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Bucket size of OpenDHT's routing table (routing_table.h TARGET_NODES): the warm criterion.
constexpr unsigned kRoutingBucketSize = 8;
constexpr milliseconds kConnectTimeout{120000};
constexpr milliseconds kChildReplyMargin{30000};
const std::string kModelHash(32, '\x42');

std::string ModelKeyOfBench() {
  return ModelKey(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kModelHash.data()),
                                           kModelHash.size()));
}

double Ms(SteadyClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return -1;
  std::sort(values.begin(), values.end());
  const size_t index =
      std::min(values.size() - 1, static_cast<size_t>(p * (values.size() - 1) + 0.5));
  return values[index];
}

// Overall bound on the run (--time-limit-s): every wait below is cut to what is left of it, and a
// phase that runs out stops measuring and says so, rather than the run stalling unseen.
SteadyClock::time_point g_run_deadline = SteadyClock::time_point::max();

milliseconds Left() {
  const auto now = SteadyClock::now();
  if (now >= g_run_deadline) return milliseconds(0);
  return std::chrono::duration_cast<milliseconds>(g_run_deadline - now);
}
milliseconds Bounded(milliseconds timeout) { return std::min(timeout, Left()); }

// Progress on stderr (stdout carries the JSON lines): one line per step, prefixed by the size and
// the phase, with the seconds since the run began.
SteadyClock::time_point g_run_start = SteadyClock::now();
template <typename... Args>
void Progress(const std::string& where, fmt::format_string<Args...> format, Args&&... args) {
  fmt::print(stderr, "[{:7.1f} s] {}: {}\n", Ms(SteadyClock::now() - g_run_start) / 1000, where,
             fmt::format(format, std::forward<Args>(args)...));
}

// Where this process's nodes bind: all on 127.0.0.1, or each on its own loopback address in
// block `g_address_block` (--addresses distinct).
bool g_distinct_addresses = false;
unsigned g_address_block = 1;
constexpr unsigned kClientAddressBlock = 250;

std::string NodeAddress(unsigned block, size_t k) {
  if (!g_distinct_addresses) return "127.0.0.1";
  return "127." + std::to_string(block) + "." + std::to_string(k / 250) + "." +
         std::to_string(k % 250 + 1);
}

// --join-refresh-levels for the network's nodes, --client-join-refresh-levels for the clients.
unsigned g_join_refresh_levels = kDefaultJoinRefreshLevels;
unsigned g_client_join_refresh_levels = kDefaultJoinRefreshLevels;

DhtNodeOptions LoopbackOptions(const std::string& address,
                               unsigned join_refresh_levels = g_join_refresh_levels) {
  DhtNodeOptions options;
  options.join_refresh_levels = join_refresh_levels;
  options.bind_address = address;
  options.port = 0;
  options.max_requests_per_peer_per_s = -1;  // every node shares 127.0.0.1
  options.replace_policy = SameSignerReplaces;
  return options;
}

NodeIdentity ProviderIdentity(size_t provider) {
  std::array<uint8_t, 32> seed{};
  seed.fill(static_cast<uint8_t>(provider + 1));
  return NodeIdentity::FromSeed(seed);
}

// The DHT nodes one process hosts, and the providers publishing from them.
class NodeSlice {
 public:
  // Starts `count` nodes; bootstraps them off `bootstrap` ("host:port"), or off the slice's first
  // node when it is empty.
  Status Start(size_t count, const std::string& bootstrap) {
    std::string peer = bootstrap;
    for (size_t i = 0; i < count; ++i) {
      auto node = std::make_unique<DhtNode>();
      const std::string address = NodeAddress(g_address_block, i);
      INFERNET_RETURN_IF_ERROR(node->Start(LoopbackOptions(address)));
      if (peer.empty()) {
        peer = address + ":" + std::to_string(node->port());
      } else {
        INFERNET_RETURN_IF_ERROR(node->Bootstrap({peer}));
      }
      nodes_.push_back(std::move(node));
      addresses_.push_back(address);
    }
    return Status::Ok();
  }

  // Waits until every node knows `min_good` good nodes; returns the smallest count seen.
  unsigned WaitConnected(unsigned min_good, milliseconds timeout) {
    unsigned least = 0;
    PollUntil(
        [&] {
          least = ~0u;
          for (const auto& node : nodes_) least = std::min(least, node->Connectivity().good_nodes);
          return least >= min_good;
        },
        timeout, milliseconds(50));
    return least;
  }

  // Publishes providers `providers` from nodes spread over the slice; first error or OK.
  Status Publish(const std::vector<size_t>& providers) {
    Status first_error;
    for (size_t provider : providers) {
      identities_.push_back(std::make_unique<NodeIdentity>(ProviderIdentity(provider)));
      ProviderDescription description;
      description.addresses = {"127.0.0.1:" + std::to_string(7000 + provider)};
      v1::ModelOffer offer;
      offer.set_model_hash(kModelHash);
      description.models = {offer};
      DhtNode& node = *nodes_.at((provider * 7 + 1) % nodes_.size());
      publishers_.push_back(
          std::make_unique<RecordPublisher>(node, *identities_.back(), SystemClock::Instance()));
      publishers_.back()->SetDescription(description);
      Status published = publishers_.back()->Tick();
      if (!published.ok() && first_error.ok()) first_error = published;
    }
    return first_error;
  }

  // Every node's view of `key`, as JSON objects {"id", "values", "search_log"} (DhtLocalView).
  nlohmann::json Views(const std::string& key) const {
    nlohmann::json views = nlohmann::json::array();
    for (const auto& node : nodes_) {
      DhtLocalView view = node->LocalView(key);
      views.push_back({{"id", view.node_id_hex},
                       {"values", view.stored_values},
                       {"search_log", view.search_log}});
    }
    return views;
  }

  DhtNode& node(size_t index) { return *nodes_.at(index); }
  // "address:port" of node `index`, to bootstrap off.
  std::string endpoint(size_t index) const {
    return addresses_.at(index) + ":" + std::to_string(nodes_.at(index)->port());
  }
  size_t size() const { return nodes_.size(); }

 private:
  std::vector<std::unique_ptr<DhtNode>> nodes_;
  std::vector<std::string> addresses_;
  std::vector<std::unique_ptr<NodeIdentity>> identities_;
  std::vector<std::unique_ptr<RecordPublisher>> publishers_;
};

// Child mode: hosts a slice and answers the parent's commands, one line each:
//   "connected <min_good> <timeout_ms>" -> "ok <least good nodes>"
//   "publish <provider>..."             -> "ok" | "error <message>"
//   "views"                             -> "ok <JSON array of node views of the model key>"
// The slice starts before the first reply ("ready" | "error <message>"). Exits on EOF.
int RunChild(size_t count, const std::string& bootstrap) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the parent, even if it is killed
  if (getppid() == 1) return 1;      // the parent died before prctl
  // OpenDHT opens its sockets without O_CLOEXEC: drop the parent's, which would otherwise count
  // against this process's select() limit (and keep the parent's ports open).
  close_range(3, ~0u, 0);
  NodeSlice slice;
  Status started = slice.Start(count, bootstrap);
  std::cout << (started.ok() ? "ready" : "error " + started.ToString()) << std::endl;
  if (!started.ok()) return 1;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string command;
    in >> command;
    if (command == "connected") {
      unsigned min_good = 0;
      long timeout_ms = 0;
      in >> min_good >> timeout_ms;
      std::cout << "ok " << slice.WaitConnected(min_good, milliseconds(timeout_ms)) << std::endl;
    } else if (command == "publish") {
      std::vector<size_t> providers;
      for (size_t p; in >> p;) providers.push_back(p);
      Status published = slice.Publish(providers);
      std::cout << (published.ok() ? "ok" : "error " + published.ToString()) << std::endl;
    } else if (command == "views") {
      std::cout << "ok " << slice.Views(ModelKeyOfBench()).dump() << std::endl;
    } else {
      std::cout << "error unknown command" << std::endl;
    }
  }
  return 0;
}

// A child process hosting one slice; killed and reaped by the destructor if still running.
class ChildProcess {
 public:
  static Result<std::unique_ptr<ChildProcess>> Spawn(size_t count, const std::string& bootstrap,
                                                     unsigned address_block) {
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0) return Status::Io("pipe2 failed");
    if (pipe2(from_child, O_CLOEXEC) != 0) {
      close(to_child[0]);
      close(to_child[1]);
      return Status::Io("pipe2 failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);
    std::string count_arg = std::to_string(count);
    std::string block_arg = std::to_string(address_block);
    std::string levels_arg = std::to_string(g_join_refresh_levels);
    std::vector<char*> argv = {const_cast<char*>("infernet_discovery_bench"),
                               const_cast<char*>("--child-slice"),
                               count_arg.data(),
                               const_cast<char*>("--bootstrap"),
                               const_cast<char*>(bootstrap.c_str()),
                               const_cast<char*>("--address-block"),
                               block_arg.data(),
                               const_cast<char*>("--addresses"),
                               const_cast<char*>(g_distinct_addresses ? "distinct" : "shared"),
                               const_cast<char*>("--join-refresh-levels"),
                               levels_arg.data(),
                               nullptr};
    pid_t pid = 0;
    const int spawned =
        posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(to_child[0]);
    close(from_child[1]);
    std::unique_ptr<ChildProcess> child(new ChildProcess(to_child[1], from_child[0]));
    if (spawned != 0) return Status::Io("posix_spawn failed: " + std::to_string(spawned));
    child->pid_ = pid;
    return child;
  }

  ~ChildProcess() {
    if (to_child_ >= 0) close(to_child_);  // EOF: the child stops its nodes and exits
    if (pid_ > 0) {
      int status = 0;
      const bool exited = PollUntil([&] { return waitpid(pid_, &status, WNOHANG) == pid_; },
                                    milliseconds(15000), milliseconds(10));
      if (!exited) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);  // SIGKILL cannot be ignored: returns promptly
      }
    }
    if (from_child_ >= 0) close(from_child_);
  }

  Status Send(const std::string& command) {
    const std::string line = command + "\n";
    if (write(to_child_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      return Status::Io("writing to a child slice failed");
    }
    return Status::Ok();
  }

  Result<std::string> Request(const std::string& command, milliseconds timeout) {
    INFERNET_RETURN_IF_ERROR(Send(command));
    return Reply(timeout);
  }

  // The next reply line, or kDeadlineExceeded after `timeout`.
  Result<std::string> Reply(milliseconds timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    while (true) {
      const size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string reply = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return reply;
      }
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
      if (left.count() <= 0) {
        return Status(StatusCode::kDeadlineExceeded,
                      "child slice did not answer in " + std::to_string(timeout.count()) + " ms");
      }
      pollfd readable{from_child_, POLLIN, 0};
      if (poll(&readable, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      const ssize_t got = read(from_child_, chunk, sizeof(chunk));
      if (got <= 0) return Status::Io("child slice exited");
      buffer_.append(chunk, static_cast<size_t>(got));
    }
  }

 private:
  ChildProcess(int to_child, int from_child) : to_child_(to_child), from_child_(from_child) {}
  int to_child_;
  int from_child_;
  pid_t pid_ = -1;
  std::string buffer_;
};

struct BenchOptions {
  size_t providers = 5;
  size_t repetitions = 20;
  size_t nodes_per_process = 200;
  bool client_exits_after_lookup = false;
};

// The whole network of one size: the parent's slice (with the bootstrap node) and the children.
class Network {
 public:
  Status Start(size_t node_count, size_t per_process) {
    INFERNET_RETURN_IF_ERROR(local_.Start(std::min(node_count, per_process), ""));
    for (size_t hosted = std::min(node_count, per_process); hosted < node_count;) {
      const size_t count = std::min(per_process, node_count - hosted);
      INFERNET_ASSIGN_OR_RETURN(auto child,
                                ChildProcess::Spawn(count, bootstrap_address(),
                                                    static_cast<unsigned>(children_.size()) + 2));
      children_.push_back(std::move(child));
      hosted += count;
    }
    for (auto& child : children_) {
      INFERNET_ASSIGN_OR_RETURN(std::string reply, child->Reply(Bounded(kConnectTimeout)));
      if (reply != "ready") return Status::Internal("child slice: " + reply);
    }
    return Status::Ok();
  }

  // Waits until every node of every slice knows `min_good` good nodes; kDeadlineExceeded else.
  Status WaitConnected(unsigned min_good, milliseconds timeout) {
    const std::string command =
        "connected " + std::to_string(min_good) + " " + std::to_string(timeout.count());
    // All requests go out before any reply is awaited, so that the slices wait in parallel.
    for (auto& child : children_) INFERNET_RETURN_IF_ERROR(child->Send(command));
    unsigned least = local_.WaitConnected(min_good, timeout);
    for (auto& child : children_) {
      INFERNET_ASSIGN_OR_RETURN(std::string reply, child->Reply(timeout + kChildReplyMargin));
      unsigned child_least = 0;
      if (std::sscanf(reply.c_str(), "ok %u", &child_least) != 1) {
        return Status::Internal("child slice: " + reply);
      }
      least = std::min(least, child_least);
    }
    if (least >= min_good) return Status::Ok();
    return Status(StatusCode::kDeadlineExceeded, "some node knows only " + std::to_string(least) +
                                                     " good nodes, wanted " +
                                                     std::to_string(min_good));
  }

  // Provider p publishes from slice p % slices.
  Status Publish(size_t providers) {
    const size_t slices = children_.size() + 1;
    std::vector<std::vector<size_t>> by_slice(slices);
    for (size_t p = 0; p < providers; ++p) by_slice[p % slices].push_back(p);
    INFERNET_RETURN_IF_ERROR(local_.Publish(by_slice[0]));
    for (size_t s = 1; s < slices; ++s) {
      if (by_slice[s].empty()) continue;
      std::string command = "publish";
      for (size_t p : by_slice[s]) command += " " + std::to_string(p);
      INFERNET_ASSIGN_OR_RETURN(std::string reply,
                                children_[s - 1]->Request(command, Bounded(kConnectTimeout)));
      if (reply != "ok") return Status::Internal("child slice: " + reply);
    }
    return Status::Ok();
  }

  // Where the model key's records are: how many each node stores, by the node's rank (0 = closest
  // to the key by XOR distance, among every node of the network). Lookups ask the closest nodes
  // they find, so a record held only far from rank 0 is one they miss.
  Result<nlohmann::json> Holders() {
    const std::string key = ModelKeyOfBench();
    nlohmann::json views = local_.Views(key);
    for (auto& child : children_) {
      INFERNET_ASSIGN_OR_RETURN(std::string reply,
                                child->Request("views", Bounded(kConnectTimeout)));
      if (reply.rfind("ok ", 0) != 0) return Status::Internal("child slice: " + reply);
      for (auto& view : nlohmann::json::parse(reply.substr(3))) views.push_back(view);
    }
    const std::string key_hex = local_.node(0).LocalView(key).key_hash_hex;
    auto distance = [&](const std::string& id_hex) {
      std::string d(key_hex.size(), '0');
      for (size_t i = 0; i < key_hex.size() && i < id_hex.size(); ++i) {
        const int x = std::stoi(key_hex.substr(i, 1), nullptr, 16) ^
                      std::stoi(id_hex.substr(i, 1), nullptr, 16);
        d[i] = "0123456789abcdef"[x];
      }
      return d;
    };
    std::vector<std::pair<std::string, const nlohmann::json*>> ranked;
    for (const auto& view : views) ranked.emplace_back(distance(view["id"]), &view);
    std::sort(ranked.begin(), ranked.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    // The nodes' own searches for the key (the publishers'), with each listed node's rank.
    std::map<std::string, size_t> rank_by_id;
    for (size_t rank = 0; rank < ranked.size(); ++rank)
      rank_by_id[(*ranked[rank].second)["id"]] = rank;
    for (size_t rank = 0; rank < ranked.size(); ++rank) {
      std::string log = (*ranked[rank].second)["search_log"];
      if (log.find("Search") == std::string::npos) continue;
      for (const auto& [id, r] : rank_by_id) {
        for (size_t at = log.find(id); at != std::string::npos; at = log.find(id, at + 1)) {
          log.insert(at + id.size(), " (rank " + std::to_string(r) + ")");
        }
      }
      fmt::print(stderr, "search of the node at rank {}:\n{}\n", rank, log);
    }
    // Values held by the 16 nodes closest to the key, then the ranks of all other holders.
    std::vector<size_t> closest_counts;
    std::vector<std::pair<size_t, size_t>> farther_holders;  // (rank, values)
    for (size_t rank = 0; rank < ranked.size(); ++rank) {
      const size_t values = (*ranked[rank].second)["values"];
      if (rank < 16) {
        closest_counts.push_back(values);
      } else if (values > 0) {
        farther_holders.emplace_back(rank, values);
      }
    }
    return nlohmann::json{{"nodes", ranked.size()},
                          {"values_at_closest_16", closest_counts},
                          {"farther_holders_rank_values", farther_holders}};
  }

  std::string bootstrap_address() { return local_.endpoint(0); }
  // A different node of the parent's slice for each client: a real client bootstraps off any
  // peer it knows, and 20 clients through one node would measure that node, not the network.
  std::string client_bootstrap_address(size_t client) {
    return local_.endpoint((client * 13 + 1) % local_.size());
  }
  size_t processes() const { return children_.size() + 1; }

 private:
  NodeSlice local_;
  std::vector<std::unique_ptr<ChildProcess>> children_;
};

// One fresh client: join through `bootstrap`, then look the model up until all providers show.
struct ClientRun {
  std::unique_ptr<DhtNode> node;
  bool connected = false;
  bool found_all = false;
  size_t most_found = 0;  // the most valid records any of its lookups returned
  double connect_ms = 0;
  double find_ms = 0;
};

ClientRun RunClient(const std::string& address, const std::string& bootstrap,
                    const BenchOptions& options) {
  ClientRun run;
  const auto t0 = SteadyClock::now();
  run.node = std::make_unique<DhtNode>();
  run.connected = run.node->Start(LoopbackOptions(address, g_client_join_refresh_levels)).ok() &&
                  run.node->Bootstrap({bootstrap}).ok() &&
                  PollUntil([&] { return run.node->Connectivity().connected; },
                            Bounded(milliseconds(30000)), milliseconds(2));
  const auto t1 = SteadyClock::now();
  run.connect_ms = Ms(t1 - t0);
  if (!run.connected) return run;
  ProviderLookup lookup(*run.node, SystemClock::Instance());
  ProviderQuery query;
  query.model_hash = kModelHash;
  query.timeout = milliseconds(5000);
  run.found_all = PollUntil(
      [&] {
        auto result = lookup.Find(query);
        if (result.ok()) run.most_found = std::max(run.most_found, result->providers.size());
        return run.most_found == options.providers;
      },
      Bounded(milliseconds(30000)), milliseconds(5));
  run.find_ms = Ms(SteadyClock::now() - t1);
  return run;
}

// After a failed lookup: whether another fresh client, bootstrapping off the same node, finds all
// providers (then the records are stored and the first client's searches missed them) or not.
std::string SecondOpinion(const std::string& bootstrap, const BenchOptions& options) {
  ClientRun second = RunClient(NodeAddress(kClientAddressBlock, 249), bootstrap, options);
  if (!second.connected) return "could not connect";
  return "found " + std::to_string(second.most_found) + "/" + std::to_string(options.providers);
}

// Fresh clients, one per repetition: connect, then look up the model until all providers show.
nlohmann::json MeasureClients(Network& network, const BenchOptions& options,
                              const std::string& where) {
  std::vector<double> connect_ms, find_ms, samples;
  size_t failures = 0, slow_finds = 0, measured = 0;
  // Why clients failed: "connect" (no good peer in 30 s) or "found N/M" (the most valid records
  // any lookup of that client returned), with the client's good nodes at the end.
  std::vector<std::string> failure_notes;
  std::vector<std::unique_ptr<DhtNode>> staying;  // --client-exit end-of-size
  nlohmann::json holders;  // where the records are, taken at the first failed lookup
  for (size_t r = 0; r < options.repetitions && Left().count() > 0; ++r, ++measured) {
    const std::string bootstrap = network.client_bootstrap_address(r);
    ClientRun client = RunClient(NodeAddress(kClientAddressBlock, r), bootstrap, options);
    if (!client.connected) {
      ++failures;
      failure_notes.push_back("connect");
      Progress(where, "client {}/{}: no good peer after {:.0f} ms", r + 1, options.repetitions,
               client.connect_ms);
      continue;
    }
    const unsigned good_nodes = client.node->Connectivity().good_nodes;
    if (!options.client_exits_after_lookup) staying.push_back(std::move(client.node));
    if (!client.found_all) {
      ++failures;
      failure_notes.push_back("found " + std::to_string(client.most_found) + "/" +
                              std::to_string(options.providers) + ", good nodes " +
                              std::to_string(good_nodes) + "; a second fresh client then " +
                              SecondOpinion(bootstrap, options));
      Progress(where, "client {}/{}: {}", r + 1, options.repetitions, failure_notes.back());
      if (holders.is_null()) {
        auto found = network.Holders();
        holders = found.ok() ? *found : nlohmann::json(found.status().ToString());
        Progress(where, "where the records are: {}", holders.dump());
      }
      continue;
    }
    Progress(where, "client {}/{}: connected in {:.1f} ms, found all in {:.1f} ms", r + 1,
             options.repetitions, client.connect_ms, client.find_ms);
    connect_ms.push_back(client.connect_ms);
    find_ms.push_back(client.find_ms);
    if (find_ms.back() >= 900) ++slow_finds;
    samples.push_back(std::round(find_ms.back() * 10) / 10);
  }
  nlohmann::json out = {
      {"clients", measured},
      {"failures", failures},
      {"failure_notes", failure_notes},
      {"connect_ms", {{"p50", Percentile(connect_ms, 0.5)}, {"p95", Percentile(connect_ms, 0.95)}}},
      {"find_ms",
       {{"p50", Percentile(find_ms, 0.5)},
        {"p95", Percentile(find_ms, 0.95)},
        {"max", find_ms.empty() ? -1 : *std::max_element(find_ms.begin(), find_ms.end())}}},
      {"finds_over_900ms", slow_finds},
      {"find_ms_samples", samples}};
  if (!holders.is_null()) out["record_holders_at_first_failure"] = holders;
  if (measured < options.repetitions) {
    out["error"] = "run time limit reached after " + std::to_string(measured) + " of " +
                   std::to_string(options.repetitions) + " clients";
  }
  return out;
}

// One phase on a network of its own, so that no phase inherits another's departed clients
// (their stale routing entries cost OpenDHT request timeouts): start `node_count` nodes, wait
// until every node knows `min_good` good nodes, publish, measure.
nlohmann::json RunPhase(size_t node_count, unsigned min_good, const BenchOptions& options,
                        const std::string& where) {
  nlohmann::json out = {{"criterion_good_nodes", min_good}};
  const auto start = SteadyClock::now();
  Progress(where, "starting {} nodes", node_count);
  Network network;
  Status status = network.Start(node_count, options.nodes_per_process);
  out["processes"] = network.processes();
  if (status.ok()) {
    Progress(where, "{} nodes up in {} processes; waiting until each knows {} good nodes",
             node_count, network.processes(), min_good);
    status = network.WaitConnected(min_good, Bounded(kConnectTimeout));
  }
  out["network_start_ms"] = Ms(SteadyClock::now() - start);
  if (status.ok()) {
    Progress(where, "connected after {:.0f} ms; publishing {} providers",
             Ms(SteadyClock::now() - start), options.providers);
    status = network.Publish(options.providers);
  }
  if (!status.ok()) {
    Progress(where, "stopped: {}", status.ToString());
    out["error"] = status.ToString();
    return out;
  }
  out.update(MeasureClients(network, options, where));
  Progress(where, "done; stopping the network");
  return out;
}

nlohmann::json RunOne(size_t node_count, const BenchOptions& options) {
  const unsigned warm_good =
      std::min<unsigned>(kRoutingBucketSize, static_cast<unsigned>(node_count - 1));
  return {{"benchmark", "discovery"},
          {"nodes", node_count},
          {"providers", options.providers},
          {"repetitions", options.repetitions},
          {"client_exit", options.client_exits_after_lookup ? "after-lookup" : "end-of-size"},
          {"addresses", g_distinct_addresses ? "distinct" : "shared"},
          {"cold", RunPhase(node_count, 1, options, std::to_string(node_count) + " cold")},
          {"warm", RunPhase(node_count, warm_good, options, std::to_string(node_count) + " warm")}};
}

}  // namespace
}  // namespace infernet::discovery

int main(int argc, char** argv) {
  CLI::App app{"Provider discovery latency on a loopback DHT spread over several processes"};
  std::vector<size_t> nodes = {20, 100, 500};
  infernet::discovery::BenchOptions options;
  std::string client_exit = "end-of-size";
  size_t child_slice = 0;
  std::string bootstrap, addresses = "shared";
  unsigned address_block = 1;
  unsigned time_limit_s = 3600;
  app.add_option("--nodes", nodes, "network sizes")->delimiter(',');
  app.add_option("--addresses", addresses,
                 "shared: every node on 127.0.0.1; distinct: one 127.0.0.0/8 address per node "
                 "(does not form a network with OpenDHT 2.4; see the file comment)")
      ->check(CLI::IsMember({"shared", "distinct"}));
  app.add_option("--address-block", address_block, "internal: the child's 127.B.x.y block")
      ->check(CLI::Range(1, 249));
  app.add_option("--providers", options.providers, "providers publishing the model")
      ->check(CLI::Range(1, 200));
  app.add_option("--repetitions", options.repetitions, "fresh clients per phase and size")
      ->check(CLI::Range(1, 1000));
  app.add_option("--nodes-per-process", options.nodes_per_process,
                 "DHT nodes per process (select() limit: about 330)")
      ->check(CLI::Range(1, 250));
  app.add_option("--client-exit", client_exit,
                 "when a measured client leaves: end-of-size (all stay until the size is done) "
                 "or after-lookup (its entries go stale in other nodes' routing tables)")
      ->check(CLI::IsMember({"end-of-size", "after-lookup"}));
  app.add_option("--time-limit-s", time_limit_s,
                 "bound on the whole run: waits are cut to it, and a phase that reaches it stops "
                 "and reports the clients measured so far")
      ->check(CLI::Range(1, 86400));
  app.add_option("--join-refresh-levels", infernet::discovery::g_join_refresh_levels,
                 "the network's nodes: id ranges looked up on joining (DhtNodeOptions; 0 = off)")
      ->check(CLI::Range(0, 160));
  app.add_option("--client-join-refresh-levels", infernet::discovery::g_client_join_refresh_levels,
                 "the measured clients: id ranges looked up on joining (0 = off)")
      ->check(CLI::Range(0, 160));
  app.add_option("--child-slice", child_slice, "internal: host this many nodes for the parent");
  app.add_option("--bootstrap", bootstrap, "internal: the parent's bootstrap node");
  CLI11_PARSE(app, argc, argv);
  // stdout carries the JSON lines (and, in a child, the replies to the parent): logs go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("discovery_bench"));
  signal(SIGPIPE, SIG_IGN);  // a dead child shows up as a failed write, not as our death
  infernet::discovery::g_distinct_addresses = addresses == "distinct";
  infernet::discovery::g_address_block = address_block;
  if (child_slice > 0) return infernet::discovery::RunChild(child_slice, bootstrap);
  options.client_exits_after_lookup = client_exit == "after-lookup";
  infernet::discovery::g_run_start = std::chrono::steady_clock::now();
  infernet::discovery::g_run_deadline =
      infernet::discovery::g_run_start + std::chrono::seconds(time_limit_s);
  for (size_t n : nodes) {
    if (infernet::discovery::Left().count() == 0) {
      std::printf("%s\n",
                  nlohmann::json{{"nodes", n}, {"error", "run time limit reached before this size"}}
                      .dump()
                      .c_str());
      continue;
    }
    if (n < 2) {
      std::printf("%s\n", nlohmann::json{{"nodes", n}, {"error", "need 2+ nodes"}}.dump().c_str());
      continue;
    }
    std::printf("%s\n", infernet::discovery::RunOne(n, options).dump().c_str());
    std::fflush(stdout);
  }
  return 0;
}
