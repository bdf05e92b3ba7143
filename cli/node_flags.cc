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
  command.add_option("--roles", flags.roles, "roles to run (provider)");
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
  INFERNET_RETURN_IF_ERROR(node::FinalizeNodeConfig(config));
  return config;
}

}  // namespace infernet::cli
