#include "cli/aggregated_submit.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>

#include "cli/cli_status.h"
#include "net/channel_options.h"

namespace infernet::cli {

Result<client::ProviderEndpoint> ParseNodeEndpoint(const std::string& text) {
  const size_t at = text.find('@');
  if (at == std::string::npos) {
    return Status::InvalidArgument("aggregator \"" + text + "\" is not NODEID@HOST:PORT");
  }
  client::ProviderEndpoint endpoint;
  INFERNET_ASSIGN_OR_RETURN(endpoint.id, NodeId::FromHex(text.substr(0, at)));
  endpoint.address = text.substr(at + 1);
  INFERNET_RETURN_IF_ERROR(node::SplitHostPort(endpoint.address).status());
  return endpoint;
}

Result<client::ProviderEndpoint> FindAggregator(node::ClientNetwork& network,
                                                std::chrono::milliseconds timeout) {
  discovery::ProviderQuery query;  // every node record
  query.timeout = timeout;
  INFERNET_ASSIGN_OR_RETURN(discovery::ProviderLookupResult found, network.FindProviders(query));
  for (const discovery::ProviderRecord& r : found.providers) {
    for (const std::string& role : r.record.roles()) {
      if (role == "aggregator" && r.record.addresses_size() > 0) {
        return client::ProviderEndpoint{r.node_id, r.record.addresses(0)};
      }
    }
  }
  return Status::NotFound("no aggregator is announced in the DHT");
}

void PrintJobSummary(const client::AggregatedJob& job, double wall_seconds, std::ostream& out) {
  const v1::JobSummary& s = job.summary;
  out << (s.complete() ? "job complete" : "job INCOMPLETE") << ": " << s.inputs_done() << "/"
      << s.inputs_total() << " inputs in " << s.shards() << " shards, " << s.dispatches()
      << " dispatches, " << s.retries() << " retries, " << s.speculative()
      << " speculative copies\n";
  if (!s.complete()) out << "  why: " << s.failure() << "\n";
  struct PerProvider {
    uint32_t shards = 0, inputs = 0;
    uint64_t tokens = 0;
  };
  std::map<std::string, PerProvider> by_provider;
  uint64_t tokens = 0;
  for (const client::VerifiedShard& shard : job.shards) {
    PerProvider& p = by_provider[shard.provider.ShortHex()];
    ++p.shards;
    p.inputs += shard.count;
    const uint64_t t = shard.result.timing().generated_tokens();
    p.tokens += t;
    tokens += t;
  }
  out << "  provider          shards  inputs  tokens\n";
  for (const auto& [id, p] : by_provider) {
    out << "  " << std::left << std::setw(16) << id << std::right << std::setw(8) << p.shards
        << std::setw(8) << p.inputs << std::setw(8) << p.tokens << "\n";
  }
  for (const client::VerifiedShard& shard : job.shards) {
    for (const std::string& note : shard.failed_attempts) {
      out << "  retried inputs " << shard.first_index << "-" << shard.first_index + shard.count - 1
          << " after: " << note << "\n";
    }
  }
  out << std::fixed << std::setprecision(2) << "  time " << wall_seconds << " s, "
      << (wall_seconds > 0 ? tokens / wall_seconds : 0) << " generated tokens/s, "
      << (wall_seconds > 0 ? s.inputs_done() / wall_seconds : 0) << " inputs/s; price "
      << s.price_micros() << " + fee " << s.fee_micros() << " micro-units\n";
  if (job.reattachments > 0) out << "  re-attached " << job.reattachments << " time(s)\n";
}

int RunAggregatedSubmit(const client::JobSpec& job, const client::ProviderEndpoint& aggregator,
                        const NodeIdentity& identity, const std::string& out_path) {
  std::cerr << "infernet: running " << job.inputs.size() << " input(s) through aggregator "
            << aggregator.id.ShortHex() << " at " << aggregator.address << "\n";
  auto channel = net::DialNode(identity, aggregator.id, aggregator.address);
  if (!channel.ok()) return ReportFailure(channel.status());
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  uint32_t last_verified = UINT32_MAX;
  auto progress = [&](const client::AggregatedProgress& p) {
    if (p.inputs_verified == last_verified) return;
    last_verified = p.inputs_verified;
    std::cerr << (tty ? "\r  " : "  ") << p.inputs_verified << "/" << p.inputs_total
              << " inputs verified, " << p.shards_in_flight << " shards running, " << p.retries
              << " retries" << (tty ? "" : "\n") << std::flush;
  };
  const auto start = std::chrono::steady_clock::now();
  auto result = client::RunAggregatedJob(*channel, aggregator, job, identity,
                                         SystemClock::Instance(), progress);
  if (tty) std::cerr << "\n";
  if (!result.ok()) return ReportFailure(result.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!out_path.empty()) {
    file.open(out_path, std::ios::trunc);
    if (!file) return ReportFailure(Status::Io("cannot write " + out_path));
    out = &file;
  }
  Status written = client::WriteAggregatedResultsJsonl(*result, job.kind, *out);
  if (!written.ok()) return ReportFailure(written);
  PrintJobSummary(*result, seconds, std::cerr);
  if (!result->summary.complete()) {
    return ReportFailure(Status(StatusCode::kDeadlineExceeded,
                                "the job did not complete: " + result->summary.failure()));
  }
  return kExitOk;
}

}  // namespace infernet::cli
