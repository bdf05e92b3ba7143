#include "cli/node_command.h"

#include <signal.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/cli_status.h"
#include "cli/node_flags.h"
#include "core/log.h"
#include "net/protobuf_logging.h"
#include "node/aggregator_node.h"
#include "node/bootstrap_node.h"
#include "node/provider_node.h"

namespace infernet::cli {
namespace {

int RunNode(const NodeFlags& flags, bool log_level_given) {
  auto config = ResolveNodeConfig(flags);
  if (!config.ok()) return ReportFailure(config.status());
  // node.log_level applies unless --log-level was given on the command line.
  if (!log_level_given) {
    Status s = InitLogging(config->log_level);
    if (!s.ok()) return ReportFailure(s.WithContext("node.log_level"));
  }
  if (config->roles.size() != 1) {
    return ReportFailure(Status::InvalidArgument(
        "node.roles must name exactly one role per node process (provider, aggregator or "
        "bootstrap); run one process per role"));
  }
  net::RouteProtobufLogsToDebug();
  // Block the shutdown signals in every thread (threads inherit the mask), then wait for them
  // here: no handler runs on an arbitrary thread, and shutdown happens in a normal context.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // One line on stdout for scripts and tests: where the node listens.
  nlohmann::json ready = {{"event", "ready"}, {"role", config->roles.front()}};
  std::function<void()> shutdown;
  std::unique_ptr<node::ProviderNode> provider_node;
  std::unique_ptr<node::AggregatorNode> aggregator_node;
  std::unique_ptr<node::BootstrapNode> bootstrap_node;
  if (config->HasRole("provider")) {
    auto started = node::ProviderNode::Start(*config, SystemClock::Instance());
    if (!started.ok()) return ReportFailure(started.status());
    provider_node = std::move(started).value();
    ready["node_id"] = provider_node->id().ToHex();
    ready["grpc"] = provider_node->grpc_address();
    ready["dht_port"] = provider_node->dht_port();
    ready["models"] = provider_node->models().List().size();
  } else if (config->HasRole("aggregator")) {
    auto started = node::AggregatorNode::Start(*config, SystemClock::Instance());
    if (!started.ok()) return ReportFailure(started.status());
    aggregator_node = std::move(started).value();
    ready["node_id"] = aggregator_node->id().ToHex();
    ready["grpc"] = aggregator_node->grpc_address();
    ready["dht_port"] = aggregator_node->dht_port();
  } else {
    auto started = node::BootstrapNode::Start(*config);
    if (!started.ok()) return ReportFailure(started.status());
    bootstrap_node = std::move(started).value();
    ready["node_id"] = bootstrap_node->id().ToHex();
    ready["dht_port"] = bootstrap_node->dht_port();
  }
  std::cout << ready.dump() << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::cerr << "infernet: " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
            << " received, shutting down\n";
  if (provider_node) provider_node->Shutdown();
  if (aggregator_node) aggregator_node->Shutdown();
  if (bootstrap_node) bootstrap_node->Shutdown();
  return kExitOk;
}

}  // namespace

void RegisterNodeCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<NodeFlags>();
  CLI::App* command = app.add_subcommand(
      "node",
      "Run a node: a provider (serves tasks and models, publishes its record), an aggregator "
      "(runs multi-provider jobs) or a bootstrap node (a DHT entry point)");
  AddDaemonNodeFlags(*command, *flags);
  command->footer(
      "Every configuration key is also a flag; flags override the --config file. Prints one JSON "
      "line {\"event\":\"ready\",...} on stdout once serving; SIGINT/SIGTERM shut it down.");
  CLI::Option* global_log_level = app.get_option("--log-level");
  command->callback([flags, global_log_level, &exit_code] {
    exit_code = RunNode(*flags, global_log_level->count() > 0);
  });
}

}  // namespace infernet::cli
