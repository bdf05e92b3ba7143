// `infernet submit JOB`: runs a job file directly on one provider found through discovery, or
// through an aggregator (named, or found in the DHT when the job is larger than a direct job).
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/aggregated_submit.h"
#include "cli/cli_status.h"
#include "cli/network_commands.h"
#include "cli/node_flags.h"
#include "client/direct_job.h"
#include "client/job_file.h"
#include "core/hex.h"
#include "net/channel_options.h"
#include "net/protobuf_logging.h"
#include "node/client_network.h"

namespace infernet::cli {
namespace {

struct SubmitFlags {
  NodeFlags node;
  std::string job_file;
  std::string out;
  double discovery_timeout_s = 10;
  std::string aggregator;  // NODEID@HOST:PORT
  size_t direct_max_inputs = 64;
};

// Providers of the job's model within its price, cheapest first, then least queued.
std::vector<client::ProviderEndpoint> Candidates(const discovery::ProviderLookupResult& found,
                                                 const client::JobSpec& job,
                                                 size_t* too_expensive) {
  struct Ranked {
    client::ProviderEndpoint endpoint;
    uint64_t price;
    uint32_t queued;
  };
  std::vector<Ranked> ranked;
  const std::string model(reinterpret_cast<const char*>(job.model.data()), job.model.size());
  for (const auto& p : found.providers) {
    if (p.record.addresses_size() == 0) continue;
    for (const auto& offer : p.record.models()) {
      if (offer.model_hash() != model) continue;
      if (offer.price_per_mtok_micros() > job.max_price_per_mtok_micros) {
        ++*too_expensive;
        continue;
      }
      ranked.push_back({{p.node_id, p.record.addresses(0)},
                        offer.price_per_mtok_micros(),
                        p.record.capacity().queued()});
    }
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    return a.price != b.price ? a.price < b.price : a.queued < b.queued;
  });
  std::vector<client::ProviderEndpoint> out;
  for (auto& r : ranked) out.push_back(std::move(r.endpoint));
  return out;
}

bool Retryable(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kResourceExhausted ||
         s.code() == StatusCode::kDeadlineExceeded;
}

int RunSubmit(const SubmitFlags& flags) {
  auto job = client::ParseJobFile(flags.job_file);
  if (!job.ok()) return ReportFailure(job.status());
  auto config = ResolveNodeConfig(flags.node);
  if (!config.ok()) return ReportFailure(config.status());
  net::RouteProtobufLogsToDebug();
  const Clock& clock = SystemClock::Instance();

  if (!flags.aggregator.empty()) {
    auto endpoint = ParseNodeEndpoint(flags.aggregator);
    if (!endpoint.ok()) return ReportFailure(endpoint.status().WithContext("--aggregator"));
    job->aggregator = *endpoint;
    job->provider.reset();
  }
  const auto timeout =
      std::chrono::milliseconds(static_cast<int64_t>(flags.discovery_timeout_s * 1000));
  std::vector<client::ProviderEndpoint> candidates;
  std::unique_ptr<node::ClientNetwork> network;
  if (!job->aggregator && !job->provider && job->inputs.size() > flags.direct_max_inputs) {
    auto joined = node::ClientNetwork::Join(*config, clock, timeout);
    if (!joined.ok()) return ReportFailure(joined.status());
    network = std::move(joined).value();
    auto found = FindAggregator(*network, timeout);
    if (found.ok()) {
      job->aggregator = *found;
    } else {
      std::cerr << "infernet: " << job->inputs.size() << " inputs but " << found.status().message()
                << "; running the job directly on one provider\n";
    }
  }
  if (job->aggregator) {
    if (network) return RunAggregatedSubmit(*job, *job->aggregator, network->identity(), flags.out);
    auto identity = node::LoadOrCreateIdentity(config->key_file);
    if (!identity.ok()) return ReportFailure(identity.status());
    return RunAggregatedSubmit(*job, *job->aggregator, *identity, flags.out);
  }
  if (job->provider) {
    candidates.push_back(*job->provider);
  } else {
    if (!network) {
      auto joined = node::ClientNetwork::Join(*config, clock, timeout);
      if (!joined.ok()) return ReportFailure(joined.status());
      network = std::move(joined).value();
    }
    discovery::ProviderQuery query;
    query.model_hash.assign(reinterpret_cast<const char*>(job->model.data()), job->model.size());
    query.min_gpu_vram_bytes = job->min_gpu_vram_bytes;
    query.timeout =
        std::chrono::milliseconds(static_cast<int64_t>(flags.discovery_timeout_s * 1000));
    auto found = network->FindProviders(query);
    if (!found.ok()) return ReportFailure(found.status());
    size_t too_expensive = 0;
    candidates = Candidates(*found, *job, &too_expensive);
    if (candidates.empty()) {
      return ReportFailure(Status::NotFound(
          "no provider offers model " + HexEncode(job->model) + " within max_price_per_mtok " +
          std::to_string(job->max_price_per_mtok_micros) +
          (job->min_gpu_vram_bytes ? " with a GPU of at least min_gpu_vram_gb" : "") +
          (too_expensive > 0 ? " (" + std::to_string(too_expensive) + " ask more)" : "")));
    }
  }
  const NodeIdentity* identity = network ? &network->identity() : nullptr;
  std::optional<NodeIdentity> own_identity;
  if (!identity) {
    auto loaded = node::LoadOrCreateIdentity(config->key_file);
    if (!loaded.ok()) return ReportFailure(loaded.status());
    own_identity = std::move(loaded).value();
    identity = &*own_identity;
  }

  const bool tty = ::isatty(STDERR_FILENO) != 0;
  Status last_error;
  for (const client::ProviderEndpoint& provider : candidates) {
    std::cerr << "infernet: running " << job->inputs.size() << " input(s) on provider "
              << provider.id.ShortHex() << " at " << provider.address << "\n";
    auto channel = net::DialNode(*identity, provider.id, provider.address);
    if (!channel.ok()) return ReportFailure(channel.status());
    size_t last_done = 0;
    auto progress = [&](const client::JobProgress& p) {
      if (tty) {
        std::cerr << "\r  " << p.outputs_done << "/" << p.outputs_total << " outputs, "
                  << p.tokens_streamed << " tokens" << std::flush;
      } else if (p.outputs_done != last_done) {
        std::cerr << "  " << p.outputs_done << "/" << p.outputs_total << " outputs\n";
      }
      last_done = p.outputs_done;
    };
    auto result = client::RunDirectJob(*channel, provider.id, *job, *identity, clock, progress);
    if (tty) std::cerr << "\n";
    if (!result.ok()) {
      last_error = result.status();
      if (Retryable(last_error)) {
        std::cerr << "infernet: provider " << provider.id.ShortHex() << ": " << last_error.message()
                  << "; trying the next one\n";
        continue;
      }
      return ReportFailure(last_error);
    }
    std::ofstream file;
    std::ostream* out = &std::cout;
    if (!flags.out.empty()) {
      file.open(flags.out, std::ios::trunc);
      if (!file) return ReportFailure(Status::Io("cannot write " + flags.out));
      out = &file;
    }
    Status written = client::WriteResultsJsonl(*result, job->kind, *out);
    if (!written.ok()) return ReportFailure(written);
    std::cerr << "infernet: verified result " << HexEncode(result->result_hash).substr(0, 16)
              << " signed by " << provider.id.ShortHex() << ", price "
              << result->result.price_micros() << " micro-units, receipt "
              << (result->receipt_recorded ? "recorded" : "not recorded") << "\n";
    return kExitOk;
  }
  return ReportFailure(last_error.ok() ? Status(StatusCode::kUnavailable, "no provider ran the job")
                                       : last_error);
}

}  // namespace

void RegisterSubmitCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<SubmitFlags>();
  CLI::App* command = app.add_subcommand(
      "submit",
      "Run a job file: directly on one provider found through discovery, or through an "
      "aggregator that shards it over many");
  command->add_option("job", flags->job_file, "job file (JSON; see docs/node.md)")->required();
  AddClientNodeFlags(*command, flags->node);
  command->add_option("--out", flags->out, "write results (JSONL) here instead of stdout");
  command
      ->add_option("--discovery-timeout", flags->discovery_timeout_s, "seconds to find providers")
      ->capture_default_str();
  command->add_option("--aggregator", flags->aggregator,
                      "run through this aggregator, NODEID@HOST:PORT (also \"aggregator\" in the "
                      "job file)");
  command
      ->add_option("--direct-max-inputs", flags->direct_max_inputs,
                   "larger jobs go through an aggregator found in the DHT, when one is")
      ->capture_default_str();
  command->callback([flags, &exit_code] { exit_code = RunSubmit(*flags); });
}

}  // namespace infernet::cli
