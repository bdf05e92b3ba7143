#include "cli/node_flags.h"

namespace infernet::cli {

void AddClientNodeFlags(CLI::App& command, NodeFlags& flags) {
  command.add_option("--config", flags.config_file,
                     "node configuration file (TOML, see docs/node.md)");
  command.add_option("--home", flags.home,
                     "node directory (default $INFERNET_HOME or ~/.infernet)");
  command.add_option("--key-file", flags.key_file, "identity key file (default <home>/node.key)");
  command.add_option("--bootstrap", flags.bootstrap, "DHT peer HOST:PORT (repeatable)");
}

void AddDaemonNodeFlags(CLI::App& command, NodeFlags& flags) {
  AddClientNodeFlags(command, flags);
  command.add_option("--roles", flags.roles,
                     "roles to run: provider, aggregator, bootstrap (repeatable)");
  command.add_option("--listen", flags.listen, "gRPC address HOST:PORT (port 0 picks one)");
  command.add_option("--advertise", flags.advertise,
                     "address published in the record (repeatable)");
  command.add_option("--dht-listen", flags.dht_listen, "DHT UDP address HOST:PORT");
  command.add_option("--model-dir", flags.model_dir, "directory of held models (*.gguf)");
  command.add_option("--price-per-mtok-micros", flags.price_per_mtok_micros,
                     "price per million tokens, micro-units");
  command.add_option("--max-concurrent", flags.max_concurrent, "tasks run at once");
  command.add_option("--max-queue", flags.max_queue, "tasks waiting at most");
  command.add_option("--threads", flags.threads, "engine threads (0 = all cores)");
  command.add_option("--serve-downloads", flags.serve_downloads, "serve model chunks to peers");
  command.add_option("--pull-missing-models", flags.pull_missing_models,
                     "fetch a model a task asks for but this node lacks, from peers (the task is "
                     "refused meanwhile)");
  command.add_option("--record-ttl-seconds", flags.record_ttl_seconds, "node record lifetime");
  command.add_option("--runtime", flags.runtime,
                     "where tasks run: native (the engine) or simulated (time per token, no "
                     "computing; coordination tests and benchmarks)");
  command.add_option("--simulated-us-per-token", flags.simulated_us_per_token,
                     "simulated runtime: microseconds per prompt or generated token");
  command.add_option("--simulated-fail-tasks", flags.simulated_fail_tasks,
                     "simulated runtime: fail every task (fault tests)");
  command.add_option("--state-db", flags.state_db,
                     "aggregator: job state database (default <home>/aggregator.db)");
  command.add_option("--target-shard-ms", flags.target_shard_ms,
                     "aggregator: work per shard at the provider's measured speed");
  command.add_option("--max-in-flight-per-provider", flags.max_in_flight_per_provider,
                     "aggregator: shards dispatched to one provider at once");
  command.add_option("--max-attempts", flags.max_attempts,
                     "aggregator: dispatches of one shard before the job fails");
  command.add_option("--fee-basis-points", flags.fee_basis_points,
                     "aggregator: fee in 1/100 % (50..200)");
}

Result<node::NodeConfig> ResolveNodeConfig(const NodeFlags& flags) {
  node::NodeConfig config;
  if (!flags.config_file.empty()) {
    INFERNET_ASSIGN_OR_RETURN(config, node::LoadNodeConfig(flags.config_file));
  }
  if (!flags.roles.empty()) config.roles = flags.roles;
  if (!flags.home.empty()) config.home = flags.home;
  if (!flags.key_file.empty()) config.key_file = flags.key_file;
  if (!flags.listen.empty()) config.listen = flags.listen;
  if (!flags.advertise.empty()) config.advertise = flags.advertise;
  if (!flags.dht_listen.empty()) config.dht_listen = flags.dht_listen;
  if (!flags.bootstrap.empty()) config.bootstrap = flags.bootstrap;
  if (!flags.model_dir.empty()) config.model_dir = flags.model_dir;
  if (flags.price_per_mtok_micros) config.price_per_mtok_micros = *flags.price_per_mtok_micros;
  if (flags.max_concurrent) config.max_concurrent = *flags.max_concurrent;
  if (flags.max_queue) config.max_queue = *flags.max_queue;
  if (flags.threads) config.threads = *flags.threads;
  if (flags.record_ttl_seconds) config.record_ttl_seconds = *flags.record_ttl_seconds;
  if (flags.serve_downloads) config.serve_downloads = *flags.serve_downloads;
  if (flags.pull_missing_models) config.pull_missing_models = *flags.pull_missing_models;
  if (!flags.runtime.empty()) config.runtime = flags.runtime;
  if (flags.simulated_us_per_token) config.simulated_us_per_token = *flags.simulated_us_per_token;
  if (flags.simulated_fail_tasks) config.simulated_fail_tasks = *flags.simulated_fail_tasks;
  if (!flags.state_db.empty()) config.state_db = flags.state_db;
  if (flags.target_shard_ms) config.target_shard_ms = *flags.target_shard_ms;
  if (flags.max_in_flight_per_provider)
    config.max_in_flight_per_provider = *flags.max_in_flight_per_provider;
  if (flags.max_attempts) config.max_attempts = *flags.max_attempts;
  if (flags.fee_basis_points) config.fee_basis_points = *flags.fee_basis_points;
  INFERNET_RETURN_IF_ERROR(node::FinalizeNodeConfig(config));
  return config;
}

}  // namespace infernet::cli
