#include "cli/node_command.h"

#include <signal.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/cli_status.h"
#include "cli/node_flags.h"
#include "core/log.h"
#include "net/protobuf_logging.h"
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
  if (!config->HasRole("provider")) {
    return ReportFailure(Status::InvalidArgument("node.roles must include \"provider\""));
  }
  net::RouteProtobufLogsToDebug();
  // Block the shutdown signals in every thread (threads inherit the mask), then wait for them
  // here: no handler runs on an arbitrary thread, and shutdown happens in a normal context.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto node = node::ProviderNode::Start(*config, SystemClock::Instance());
  if (!node.ok()) return ReportFailure(node.status());
  // One line on stdout for scripts and tests: where the node listens.
  nlohmann::json ready = {{"event", "ready"},
                          {"node_id", (*node)->id().ToHex()},
                          {"grpc", (*node)->grpc_address()},
                          {"dht_port", (*node)->dht_port()},
                          {"models", (*node)->models().List().size()}};
  std::cout << ready.dump() << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::cerr << "infernet: " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
            << " received, shutting down\n";
  (*node)->Shutdown();
  return kExitOk;
}

}  // namespace

void RegisterNodeCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<NodeFlags>();
  CLI::App* command = app.add_subcommand(
      "node", "Run a node (provider role): serve tasks and models, publish the node record");
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
