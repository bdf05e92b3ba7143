// `infernet model pull HASH`: fetch a model from peers that announce it.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/cli_status.h"
#include "cli/network_commands.h"
#include "cli/node_flags.h"
#include "client/grpc_chunk_source.h"
#include "client/model_puller.h"
#include "core/hex.h"
#include "net/channel_options.h"
#include "net/protobuf_logging.h"
#include "node/client_network.h"

namespace infernet::cli {
namespace {

struct PullFlags {
  NodeFlags node;
  std::string hash;
  std::string dir;  // default: config model_dir
  double timeout_s = 10;
};

int RunPull(const PullFlags& flags) {
  auto hash_bytes = HexDecode(flags.hash);
  if (!hash_bytes.ok() || hash_bytes->size() != 32) {
    return ReportFailure(
        Status::InvalidArgument("HASH must be 64 hex digits (a model's content hash)"));
  }
  Digest32 hash;
  std::copy(hash_bytes->begin(), hash_bytes->end(), hash.begin());
  auto config = ResolveNodeConfig(flags.node);
  if (!config.ok()) return ReportFailure(config.status());
  const std::filesystem::path dir =
      flags.dir.empty() ? config->model_dir : std::filesystem::path(flags.dir);
  net::RouteProtobufLogsToDebug();
  const Clock& clock = SystemClock::Instance();
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_s * 1000));
  auto network = node::ClientNetwork::Join(*config, clock, timeout);
  if (!network.ok()) return ReportFailure(network.status());
  discovery::ProviderQuery query;
  query.model_hash.assign(hash.begin(), hash.end());
  query.timeout = timeout;
  auto found = (*network)->FindProviders(query);
  if (!found.ok()) return ReportFailure(found.status());

  std::vector<std::unique_ptr<client::GrpcChunkSource>> sources;
  for (const auto& p : found->providers) {
    bool serves = false;
    for (const auto& offer : p.record.models()) {
      serves |= offer.model_hash() == query.model_hash && offer.serves_download();
    }
    if (!serves || p.record.addresses_size() == 0) continue;
    auto channel = net::DialNode((*network)->identity(), p.node_id, p.record.addresses(0));
    if (!channel.ok()) return ReportFailure(channel.status());
    sources.push_back(
        std::make_unique<client::GrpcChunkSource>(p.node_id, p.record.addresses(0), *channel));
  }
  std::vector<client::ChunkSource*> raw;
  for (auto& s : sources) raw.push_back(s.get());
  std::cerr << "infernet: " << raw.size() << " peer(s) serve model " << flags.hash.substr(0, 16)
            << "\n";

  const bool tty = ::isatty(STDERR_FILENO) != 0;
  client::PullOptions options;
  uint64_t last_percent = 101;
  options.on_progress = [&](const client::PullProgress& p) {
    const uint64_t percent = p.bytes_total ? p.bytes_done * 100 / p.bytes_total : 100;
    if (percent == last_percent) return;
    last_percent = percent;
    if (tty) {
      std::cerr << "\r  " << percent << "% (" << p.chunks_done << "/" << p.chunks_total
                << " chunks, " << p.chunks_resumed << " resumed)" << std::flush;
    } else if (percent % 25 == 0) {
      std::cerr << "  " << percent << "% (" << p.chunks_done << "/" << p.chunks_total << " chunks, "
                << p.chunks_resumed << " resumed)\n";
    }
  };
  auto path = client::PullModel(hash, raw, dir, clock, options);
  if (tty) std::cerr << "\n";
  if (!path.ok()) return ReportFailure(path.status());
  std::cout << path->string() << "\n";
  return kExitOk;
}

}  // namespace

void RegisterModelPullCommand(CLI::App& model_command, int& exit_code) {
  auto flags = std::make_shared<PullFlags>();
  CLI::App* command = model_command.add_subcommand(
      "pull", "Fetch a model by content hash from peers, verifying every chunk and the whole file");
  command->add_option("hash", flags->hash, "model content hash (64 hex digits)")->required();
  AddClientNodeFlags(*command, flags->node);
  command->add_option("--dir", flags->dir,
                      "where to store it (default: the node's model directory)");
  command->add_option("--timeout", flags->timeout_s, "seconds to find peers")
      ->capture_default_str();
  command->footer(
      "Interrupted downloads resume: chunks already on disk are re-verified, not refetched.");
  command->callback([flags, &exit_code] { exit_code = RunPull(*flags); });
}

}  // namespace infernet::cli
