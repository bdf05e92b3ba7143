// `infernet devnet` (a local network until Ctrl-C) and `infernet devnet demo` (the same network
// running one real batch job end to end through the aggregator, then torn down).
#include "cli/devnet_command.h"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/aggregated_submit.h"
#include "cli/cli_status.h"
#include "cli/devnet.h"
#include "client/aggregated_job.h"
#include "core/hex.h"
#include "net/channel_options.h"
#include "net/protobuf_logging.h"
#include "node/client_network.h"

namespace infernet::cli {
namespace {

struct DemoFlags {
  DemoFlags() { devnet.target_shard_ms = 100; }  // short shards: the demo job spreads out
  DevnetOptions devnet;
  int inputs = 48;
  uint32_t max_tokens = 32;
  std::string out;
};

void PrintNetwork(const Devnet& net) {
  std::cout << "devnet in " << net.dir().string() << "\n  model " << HexEncode(net.model_hash())
            << "\n";
  for (const DevnetProcess& p : net.processes()) {
    std::cout << "  " << p.role << "  pid " << p.pid << "  node " << p.node_id.substr(0, 16)
              << (p.grpc.empty() ? "" : "  grpc " + p.grpc) << "  dht 127.0.0.1:" << p.dht_port
              << "\n";
  }
  std::cout << std::flush;
}

sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int RunDevnet(const DevnetOptions& options) {
  sigset_t signals = BlockShutdownSignals();
  std::cerr << "infernet: starting a bootstrap node, an aggregator and " << options.providers
            << " provider(s)...\n";
  auto net = Devnet::Start(options);
  if (!net.ok()) return ReportFailure(net.status());
  PrintNetwork(**net);
  const DevnetProcess& aggregator = (*net)->aggregator();
  std::cout << "submit jobs with: infernet submit JOB --aggregator " << aggregator.node_id << "@"
            << aggregator.grpc << " --bootstrap " << (*net)->bootstrap_address()
            << "\nCtrl-C stops the network.\n"
            << std::flush;
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::cerr << "infernet: stopping the devnet\n";
  (*net)->Stop();
  return kExitOk;
}

int RunDemo(const DemoFlags& flags) {
  BlockShutdownSignals();  // Ctrl-C still ends the process; children get SIGTERM from Stop()
  net::RouteProtobufLogsToDebug();
  std::cout << "=== 1. a local network: bootstrap node, aggregator, " << flags.devnet.providers
            << " providers (separate processes)\n"
            << std::flush;
  auto net = Devnet::Start(flags.devnet);
  if (!net.ok()) return ReportFailure(net.status());
  PrintNetwork(**net);

  std::cout << "=== 2. waiting until the providers are discoverable\n" << std::flush;
  node::NodeConfig config;
  config.home = (*net)->dir() / "client";
  config.key_file = config.home / "node.key";
  config.bootstrap = {(*net)->bootstrap_address()};
  auto network =
      node::ClientNetwork::Join(config, SystemClock::Instance(), std::chrono::seconds(30));
  if (!network.ok()) return ReportFailure(network.status());
  discovery::ProviderQuery query;
  query.model_hash.assign((*net)->model_hash().begin(), (*net)->model_hash().end());
  query.timeout = std::chrono::seconds(60);
  auto found = (*network)->FindProviders(query, static_cast<size_t>(flags.devnet.providers));
  if (!found.ok()) return ReportFailure(found.status());
  std::cout << "  " << found->providers.size() << " provider(s) announce the model\n";

  std::cout << "=== 3. a batch job of " << flags.inputs << " prompts through the aggregator\n"
            << std::flush;
  client::JobSpec job;
  job.model = (*net)->model_hash();
  job.kind = v1::GENERATE;
  for (int i = 0; i < flags.inputs; ++i) {
    job.inputs.push_back({"Prompt number " + std::to_string(i) + ": the network says", ""});
  }
  job.generation.set_max_tokens(flags.max_tokens);
  job.generation.set_temperature(0.8f);
  job.generation.set_top_p(0.95f);
  job.generation.set_seed(42);
  job.max_price_per_mtok_micros = 1000;
  job.deadline_seconds = 300;
  const DevnetProcess& aggregator = (*net)->aggregator();
  auto aggregator_id = NodeId::FromHex(aggregator.node_id);
  if (!aggregator_id.ok()) return ReportFailure(aggregator_id.status());
  client::ProviderEndpoint endpoint{*aggregator_id, aggregator.grpc};
  const std::string out =
      flags.out.empty() ? ((*net)->dir() / "results.jsonl").string() : flags.out;
  const int code = RunAggregatedSubmit(job, endpoint, (*network)->identity(), out);
  if (code == kExitOk) {
    std::cout << "=== 4. results (every shard verified: aggregator-signed requests, "
                 "provider-signed results)\n";
    std::ifstream results(out);
    std::string line;
    for (int i = 0; i < 3 && std::getline(results, line); ++i) {
      std::cout << "  " << line.substr(0, 160) << (line.size() > 160 ? "..." : "") << "\n";
    }
    std::cout << "  (" << flags.inputs << " lines in " << out << ")\n";
  }
  std::cout << "=== done: stopping the network\n" << std::flush;
  network->reset();
  (*net)->Stop();
  return code;
}

void AddDevnetOptions(CLI::App& command, DevnetOptions& options) {
  command.add_option("--providers", options.providers, "provider processes")->capture_default_str();
  command.add_option("--dir", options.dir, "network directory (default: a fresh one in /tmp)");
  command.add_option("--runtime", options.runtime, "providers' runtime: native or simulated")
      ->capture_default_str();
  command.add_option("--simulated-us-per-token", options.simulated_us_per_token,
                     "simulated runtime: microseconds per token");
  command.add_option("--provider-threads", options.provider_threads, "engine threads per provider")
      ->capture_default_str();
  command.add_option("--model-preset", options.model_preset, "test model size: tiny, 100m or 1b")
      ->capture_default_str();
  command.add_option("--model-type", options.model_type, "test model tensor type")
      ->capture_default_str();
  command
      .add_option("--target-shard-ms", options.target_shard_ms,
                  "aggregator: work per shard at a provider's speed")
      ->capture_default_str();
}

}  // namespace

void RegisterDevnetCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DevnetOptions>();
  CLI::App* command = app.add_subcommand(
      "devnet",
      "Run a local network on loopback (bootstrap node, aggregator, N providers with a generated "
      "test model) as separate processes until Ctrl-C");
  AddDevnetOptions(*command, *options);
  auto demo = std::make_shared<DemoFlags>();
  CLI::App* demo_command = command->add_subcommand(
      "demo",
      "Start the devnet, run a batch job end to end through the aggregator, print a "
      "summary and stop");
  AddDevnetOptions(*demo_command, demo->devnet);
  demo_command->add_option("--inputs", demo->inputs, "prompts in the job")->capture_default_str();
  demo_command->add_option("--max-tokens", demo->max_tokens, "tokens per prompt")
      ->capture_default_str();
  demo_command->add_option("--out", demo->out, "results file (default: in the devnet directory)");
  demo_command->callback([demo, &exit_code] { exit_code = RunDemo(*demo); });
  command->callback([command, options, &exit_code] {
    if (command->got_subcommand("demo")) return;
    exit_code = RunDevnet(*options);
  });
}

}  // namespace infernet::cli
