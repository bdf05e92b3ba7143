// `infernet submit` through an aggregator: finding one (named, or through the DHT), running the
// job with progress on stderr, and the readable summary also printed by `infernet devnet demo`.
#pragma once

#include <ostream>
#include <string>

#include "client/aggregated_job.h"
#include "client/job_file.h"
#include "core/identity.h"
#include "core/result.h"
#include "node/client_network.h"

namespace infernet::cli {

// "NODEID@HOST:PORT" → endpoint.
Result<client::ProviderEndpoint> ParseNodeEndpoint(const std::string& text);

// An aggregator announced in the DHT (role "aggregator"); kNotFound when none is.
Result<client::ProviderEndpoint> FindAggregator(node::ClientNetwork& network,
                                                std::chrono::milliseconds timeout);

// Runs `job` through `aggregator`, writing results JSONL to `out_path` (stdout when empty) and the
// summary to stderr. Returns the exit code.
int RunAggregatedSubmit(const client::JobSpec& job, const client::ProviderEndpoint& aggregator,
                        const NodeIdentity& identity, const std::string& out_path);

// Shards, which provider ran what, retries, time and throughput.
void PrintJobSummary(const client::AggregatedJob& job, double wall_seconds, std::ostream& out);

}  // namespace infernet::cli
