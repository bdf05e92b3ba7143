// The daemon's configuration: one schema, defaults in one place (NodeConfig's initialisers),
// read from a TOML file and overridden by flags of the same names (docs/node.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"

namespace infernet::node {

struct NodeConfig {
  // [node]
  // "provider", "aggregator", "bootstrap" (a DHT node only, for others to join through)
  std::vector<std::string> roles = {"provider"};
  std::filesystem::path home;      // default: $INFERNET_HOME or ~/.infernet
  std::filesystem::path key_file;  // default: <home>/node.key
  std::string log_level = "info";
  // [network]
  std::string listen = "127.0.0.1:7700";      // gRPC over TLS
  std::vector<std::string> advertise;         // addresses published in the record; default: listen
  std::string dht_listen = "127.0.0.1:4222";  // UDP; port 0 picks one
  std::vector<std::string> bootstrap;         // "host:port" of DHT peers
  // [provider]
  std::filesystem::path model_dir;  // default: <home>/models
  uint64_t price_per_mtok_micros = 1000;
  uint32_t max_concurrent = 1;
  uint32_t max_queue = 8;
  uint32_t threads = 0;  // engine threads; 0 = all cores
  bool serve_downloads = true;
  bool pull_missing_models = false;
  uint32_t record_ttl_seconds = 600;
  std::string runtime = "native";          // "native" (the engine) or "simulated" (docs/node.md)
  uint32_t simulated_us_per_token = 1000;  // simulated runtime: time per (prompt + generated) token
  bool simulated_fail_tasks = false;       // simulated runtime: every task fails (fault tests)
  // [aggregator]
  std::filesystem::path state_db;           // job state (SQLite); default: <home>/aggregator.db
  uint32_t target_shard_ms = 2000;          // shard size: this much work at the provider's speed
  uint32_t max_in_flight_per_provider = 2;  // shards dispatched to one provider at once
  uint32_t max_attempts = 4;                // dispatches of one shard before the job fails
  uint32_t fee_basis_points = 100;          // aggregator fee, 1/100 % (50..200 = 0.5..2 %)

  bool HasRole(const std::string& role) const;
};

// Parses TOML text. Unknown sections or keys, and values of the wrong type or range, are errors
// naming the key (a typo must not silently fall back to a default).
Result<NodeConfig> ParseNodeConfig(const std::string& toml_text, const std::string& source_name);
Result<NodeConfig> LoadNodeConfig(const std::filesystem::path& path);

// Fills defaults that depend on the environment (home, key file, model dir, advertise) and checks
// the whole configuration (roles known, addresses host:port with a valid port).
Status FinalizeNodeConfig(NodeConfig& config);

// "host:port" → (host, port); clear error otherwise.
Result<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& address);

}  // namespace infernet::node
