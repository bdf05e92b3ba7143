// `infernet providers`: what the network offers.
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/cli_status.h"
#include "cli/network_commands.h"
#include "cli/node_flags.h"
#include "core/hex.h"
#include "net/protobuf_logging.h"
#include "node/client_network.h"

namespace infernet::cli {
namespace {

struct ProvidersFlags {
  NodeFlags node;
  std::string model;
  double min_vram_gb = 0;
  double timeout_s = 10;
  size_t expect = 1;
  bool json = false;
};

nlohmann::json Describe(const discovery::ProviderRecord& p) {
  const v1::NodeRecord& r = p.record;
  nlohmann::json gpus = nlohmann::json::array();
  for (const auto& g : r.hardware().gpus()) {
    gpus.push_back({{"name", g.name()},
                    {"vram_bytes", g.vram_bytes()},
                    {"compute_capability", std::to_string(g.compute_capability_major()) + "." +
                                               std::to_string(g.compute_capability_minor())},
                    {"memory_bandwidth_bytes_per_s", g.memory_bandwidth_bytes_per_s()}});
  }
  nlohmann::json models = nlohmann::json::array();
  for (const auto& m : r.models()) {
    models.push_back({{"hash", HexEncode(std::span<const uint8_t>(
                                   reinterpret_cast<const uint8_t*>(m.model_hash().data()),
                                   m.model_hash().size()))},
                      {"name", m.name()},
                      {"size_bytes", m.size_bytes()},
                      {"price_per_mtok_micros", m.price_per_mtok_micros()},
                      {"serves_download", m.serves_download()}});
  }
  return {{"node_id", p.node_id.ToHex()},
          {"addresses", r.addresses()},
          {"cpu", r.hardware().cpu_model()},
          {"cpu_cores", r.hardware().cpu_cores()},
          {"ram_bytes", r.hardware().ram_bytes()},
          {"gpus", gpus},
          {"engine", r.hardware().engine_backend() + "/" + r.hardware().kernel_level()},
          {"models", models},
          {"max_concurrent", r.capacity().max_concurrent()},
          {"max_queue", r.capacity().max_queue()},
          {"software_version", r.software_version()},
          {"expires_ms", r.expires_ms()}};
}

int RunProviders(const ProvidersFlags& flags) {
  auto config = ResolveNodeConfig(flags.node);
  if (!config.ok()) return ReportFailure(config.status());
  discovery::ProviderQuery query;
  if (!flags.model.empty()) {
    auto hash = HexDecode(flags.model);
    if (!hash.ok() || hash->size() != 32) {
      return ReportFailure(
          Status::InvalidArgument("--model must be 64 hex digits (a model's content hash)"));
    }
    query.model_hash.assign(hash->begin(), hash->end());
  }
  if (flags.min_vram_gb < 0)
    return ReportFailure(Status::InvalidArgument("--min-vram must be >= 0"));
  query.min_gpu_vram_bytes = static_cast<uint64_t>(flags.min_vram_gb * (1ull << 30));
  query.timeout = std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_s * 1000));
  net::RouteProtobufLogsToDebug();
  auto network = node::ClientNetwork::Join(*config, SystemClock::Instance(), query.timeout);
  if (!network.ok()) return ReportFailure(network.status());
  auto found = (*network)->FindProviders(query, flags.expect);
  if (!found.ok()) return ReportFailure(found.status());
  if (flags.json) {
    for (const auto& p : found->providers) std::cout << Describe(p).dump() << "\n";
  } else {
    std::cout << std::left << std::setw(18) << "NODE" << std::setw(24) << "ADDRESS" << std::setw(8)
              << "MODELS" << std::setw(14) << "PRICE/MTOK"
              << "HARDWARE\n";
    for (const auto& p : found->providers) {
      const auto& r = p.record;
      std::string hardware = r.hardware().gpus_size() > 0
                                 ? r.hardware().gpus(0).name()
                                 : r.hardware().cpu_model() + " (" +
                                       std::to_string(r.hardware().cpu_cores()) + " cores)";
      uint64_t price = r.models_size() > 0 ? r.models(0).price_per_mtok_micros() : 0;
      std::cout << std::setw(18) << p.node_id.ShortHex() << std::setw(24)
                << (r.addresses_size() > 0 ? r.addresses(0) : "-") << std::setw(8)
                << r.models_size() << std::setw(14) << price << hardware << "\n";
    }
  }
  std::cerr << found->providers.size() << " provider(s)";
  if (found->ignored.total() > 0)
    std::cerr << ", " << found->ignored.total() << " invalid record(s) ignored";
  if (!found->complete) std::cerr << " (search cut short by the timeout)";
  std::cerr << "\n";
  return kExitOk;
}

}  // namespace

void RegisterProvidersCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ProvidersFlags>();
  CLI::App* command = app.add_subcommand("providers", "List the providers the network offers");
  AddClientNodeFlags(*command, flags->node);
  command->add_option("--model", flags->model, "only providers of this model (content hash, hex)");
  command
      ->add_option("--min-vram", flags->min_vram_gb,
                   "only providers with a GPU of at least this many GiB")
      ->capture_default_str();
  command->add_option("--timeout", flags->timeout_s, "seconds to search")->capture_default_str();
  command
      ->add_option("--expect", flags->expect,
                   "keep searching until this many are found (or the timeout)")
      ->capture_default_str();
  command->add_flag("--json", flags->json, "one JSON object per provider");
  command->callback([flags, &exit_code] { exit_code = RunProviders(*flags); });
}

}  // namespace infernet::cli
