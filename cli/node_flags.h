// The node configuration as command-line flags: `--config FILE` plus one flag per key of
// node/node_config.h (flags override the file). Shared by `node`, `providers`, `submit` and
// `model pull`.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "node/node_config.h"

namespace infernet::cli {

struct NodeFlags {
  std::string config_file;
  std::vector<std::string> roles;
  std::string home, key_file, listen, dht_listen, model_dir;
  std::vector<std::string> advertise, bootstrap;
  std::optional<uint64_t> price_per_mtok_micros;
  std::optional<uint32_t> max_concurrent, max_queue, threads, record_ttl_seconds;
  std::optional<bool> serve_downloads, pull_missing_models, simulated_fail_tasks;
  std::string runtime, state_db;
  std::optional<uint32_t> simulated_us_per_token, target_shard_ms, max_in_flight_per_provider,
      max_attempts, fee_basis_points;
};

// Flags every networked command has: --config, --home, --key-file, --bootstrap.
void AddClientNodeFlags(CLI::App& command, NodeFlags& flags);
// All the daemon's flags (the client ones plus listen addresses and provider settings).
void AddDaemonNodeFlags(CLI::App& command, NodeFlags& flags);

// The file's configuration (or the defaults), overridden by the flags given, then finalized.
Result<node::NodeConfig> ResolveNodeConfig(const NodeFlags& flags);

}  // namespace infernet::cli
