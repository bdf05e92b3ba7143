// Job overhead: the same generation job run (A) on the engine alone — the provider's own
// executor, in process, no network — (B) through client -> provider: a TaskService behind
// gRPC over TLS 1.3 on 127.0.0.1 in this process, the client signing the request, streaming,
// verifying the signed result against every output and signing a receipt; and (C) through
// client -> aggregator -> that provider: an aggregator (coordinator, SQLite job store, gRPC over
// TLS both ways) sharding the job, the client verifying every shard end to end. A, B and C
// alternate; each reports seconds, and B / A - 1, C / A - 1 are the overheads. B's and C's tokens
// must equal A's.
//
//   infernet_direct_job_bench --model FILE [--prompts 8] [--max-tokens 64] [--threads 2]
//                             [--repetitions 3] [--target-shard-ms 2000]
// One JSON line on stdout, a summary on stderr. The TLS channel is set up once before the timed
// runs (as a client keeps its channel); the first run of each kind is an untimed warm-up.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "aggregator/aggregator_service.h"
#include "aggregator/coordinator.h"
#include "aggregator/grpc_shard_runner.h"
#include "aggregator/job_store.h"
#include "client/aggregated_job.h"
#include "client/direct_job.h"
#include "core/hash.h"
#include "core/log.h"
#include "net/channel_options.h"
#include "net/tls_credentials.h"
#include "provider/held_models.h"
#include "provider/provider_server.h"
#include "provider/task_executor.h"
#include "provider/task_service.h"

namespace infernet {
namespace {

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::vector<std::vector<uint32_t>> Tokens(const std::vector<v1::TaskOutput>& outputs) {
  std::vector<std::vector<uint32_t>> out;
  for (const auto& o : outputs) out.emplace_back(o.tokens().begin(), o.tokens().end());
  return out;
}

int Run(const std::string& model_path, int prompts, int max_tokens, int threads, int repetitions,
        int64_t target_shard_ms) {
  auto hash = Blake2b256File(model_path);
  if (!hash.ok()) {
    std::cerr << hash.status().ToString() << "\n";
    return 1;
  }
  const SystemClock& clock = SystemClock::Instance();
  std::array<uint8_t, 32> seed_p{}, seed_c{}, seed_a{};
  seed_p.fill(1);
  seed_c.fill(2);
  seed_a.fill(3);
  const NodeIdentity provider_id = NodeIdentity::FromSeed(seed_p);
  const NodeIdentity client_id = NodeIdentity::FromSeed(seed_c);
  const NodeIdentity aggregator_id = NodeIdentity::FromSeed(seed_a);
  provider::ModelLocator locator = [&](const Digest32& h) -> std::optional<std::filesystem::path> {
    if (h == *hash) return std::filesystem::path(model_path);
    return std::nullopt;
  };

  client::JobSpec job;
  job.model = *hash;
  job.kind = v1::GENERATE;
  for (int i = 0; i < prompts; ++i) {
    job.inputs.push_back({"Prompt number " + std::to_string(i) + ": tell me about the sea", ""});
  }
  job.generation.set_max_tokens(static_cast<uint32_t>(max_tokens));
  job.generation.set_seed(1);  // temperature 0: greedy
  job.max_price_per_mtok_micros = 0;
  job.deadline_seconds = 3600;

  // A: the provider's executor on a model loaded the same way the service loads it.
  provider::HeldModels held(locator, threads);
  auto loaded = held.Get(*hash);
  if (!loaded.ok()) {
    std::cerr << loaded.status().ToString() << "\n";
    return 1;
  }
  provider::ExecutionLimits limits;
  limits.threads = threads;
  const v1::TaskRequest request = client::BuildTaskRequest(job, provider_id.id(), clock.NowMs());
  auto run_engine = [&]() -> Result<std::vector<v1::TaskOutput>> {
    INFERNET_ASSIGN_OR_RETURN(provider::ExecutionSummary summary,
                              provider::ExecuteTask(*(*loaded)->model, request, limits, {}));
    return summary.outputs;
  };

  // B: a provider on loopback behind TLS, and a client channel to it.
  provider::ProviderConfig config;
  config.execution = limits;
  config.admission.max_concurrent = 1;
  provider::TaskService service(provider_id, clock, locator, config);
  auto credentials = net::ServerCredentialsFor(provider_id);
  if (!credentials.ok()) return 1;
  auto server = provider::ProviderServer::Start("127.0.0.1:0", *credentials, &service);
  if (!server.ok()) {
    std::cerr << server.status().ToString() << "\n";
    return 1;
  }
  auto channel =
      net::DialNode(client_id, provider_id.id(), "127.0.0.1:" + std::to_string((*server)->port()));
  if (!channel.ok()) return 1;
  auto run_remote = [&]() -> Result<std::vector<v1::TaskOutput>> {
    INFERNET_ASSIGN_OR_RETURN(
        client::VerifiedJob verified,
        client::RunDirectJob(*channel, provider_id.id(), job, client_id, clock));
    return verified.outputs;
  };

  // C: an aggregator on loopback behind TLS, dispatching to the provider above over TLS.
  const std::filesystem::path state =
      std::filesystem::temp_directory_path() / ("job_overhead_bench_" + std::to_string(getpid()));
  auto store = aggregator::JobStore::Open(state / "jobs.db");
  if (!store.ok()) {
    std::cerr << store.status().ToString() << "\n";
    return 1;
  }
  aggregator::GrpcShardRunner runner(aggregator_id, clock);
  aggregator::CoordinatorSettings settings;
  settings.target_shard_ms = target_shard_ms;
  aggregator::Coordinator coordinator(aggregator_id, clock, **store, runner,
                                      aggregator::ProviderSource{}, settings);
  if (!coordinator.Start().ok()) return 1;
  coordinator.WithPool([&](aggregator::ProviderPool& pool) {
    aggregator::PoolProvider p;
    p.id = provider_id.id();
    p.address = "127.0.0.1:" + std::to_string((*server)->port());
    const std::string model_key(hash->begin(), hash->end());
    p.price_by_model[model_key] = 0;
    p.model_bytes_by_model[model_key] = std::filesystem::file_size(model_path);
    pool.Upsert(p);
  });
  aggregator::AggregatorService aggregator_service(aggregator_id, clock, coordinator, {});
  auto aggregator_credentials = net::ServerCredentialsFor(aggregator_id);
  if (!aggregator_credentials.ok()) return 1;
  auto aggregator_server =
      provider::ProviderServer::Start("127.0.0.1:0", *aggregator_credentials, &aggregator_service);
  if (!aggregator_server.ok()) return 1;
  const std::string aggregator_address = "127.0.0.1:" + std::to_string((*aggregator_server)->port());
  auto aggregator_channel = net::DialNode(client_id, aggregator_id.id(), aggregator_address);
  if (!aggregator_channel.ok()) return 1;
  uint32_t last_shards = 0, last_dispatches = 0, last_retries = 0;
  // Where C's time goes: the provider computing (its signed timing, started → finished) vs. the
  // rest (dispatch, queueing, transport, verification, merge).
  std::vector<double> provider_busy_s;
  auto run_aggregated = [&]() -> Result<std::vector<v1::TaskOutput>> {
    INFERNET_ASSIGN_OR_RETURN(
        client::AggregatedJob done,
        client::RunAggregatedJob(*aggregator_channel, {aggregator_id.id(), aggregator_address},
                                 job, client_id, clock));
    if (!done.summary.complete()) return Status::Internal(done.summary.failure());
    last_shards = done.summary.shards();
    last_dispatches = done.summary.dispatches();
    last_retries = done.summary.retries();
    int64_t busy_ms = 0;
    for (const client::VerifiedShard& shard : done.shards) {
      busy_ms += shard.result.timing().finished_ms() - shard.result.timing().started_ms();
    }
    provider_busy_s.push_back(static_cast<double>(busy_ms) / 1000);
    std::vector<v1::TaskOutput> outputs;
    for (auto& o : done.outputs) outputs.push_back(*o);
    return outputs;
  };

  std::vector<double> engine_s, remote_s, aggregated_s;
  std::vector<std::vector<uint32_t>> engine_tokens;
  uint64_t generated = 0;
  for (int r = -1; r < repetitions; ++r) {  // r = -1: warm-up (model load, TLS handshake)
    const auto t0 = std::chrono::steady_clock::now();
    auto a = run_engine();
    const auto t1 = std::chrono::steady_clock::now();
    auto b = run_remote();
    const auto t2 = std::chrono::steady_clock::now();
    auto c = run_aggregated();
    const auto t3 = std::chrono::steady_clock::now();
    if (!a.ok() || !b.ok() || !c.ok()) {
      std::cerr << "run failed: "
                << (!a.ok() ? a.status() : !b.ok() ? b.status() : c.status()).ToString() << "\n";
      return 1;
    }
    if (Tokens(*a) != Tokens(*b) || Tokens(*a) != Tokens(*c)) {
      std::cerr << "provider or aggregated tokens differ from the engine's\n";
      return 1;
    }
    if (r < 0) {
      engine_tokens = Tokens(*a);
      for (const auto& t : engine_tokens) generated += t.size();
      provider_busy_s.clear();
      continue;
    }
    engine_s.push_back(Seconds(t1 - t0));
    remote_s.push_back(Seconds(t2 - t1));
    aggregated_s.push_back(Seconds(t3 - t2));
    std::fprintf(stderr,
                 "  repetition %d: engine %.3f s, client->provider %.3f s (%+.2f %%), "
                 "client->aggregator->provider %.3f s (%+.2f %%, %u shards, %u dispatches, "
                 "%u retries, provider computing %.3f s)\n",
                 r + 1, engine_s.back(), remote_s.back(),
                 100 * (remote_s.back() / engine_s.back() - 1), aggregated_s.back(),
                 100 * (aggregated_s.back() / engine_s.back() - 1), last_shards, last_dispatches,
                 last_retries, provider_busy_s.back());
  }
  coordinator.Stop();
  std::filesystem::remove_all(state);
  const double a = Median(engine_s), b = Median(remote_s), c = Median(aggregated_s);
  std::fprintf(stderr,
               "%d prompts x %d tokens (%llu generated), %d threads: engine %.3f s (%.1f tok/s), "
               "client->provider %.3f s (%.1f tok/s), overhead %+.2f %%; "
               "client->aggregator->provider %.3f s, overhead %+.2f %% (medians of %d)\n",
               prompts, max_tokens, static_cast<unsigned long long>(generated), threads, a,
               generated / a, b, generated / b, 100 * (b / a - 1), c, 100 * (c / a - 1),
               repetitions);
  nlohmann::json line = {
      {"model", model_path},           {"prompts", prompts},      {"max_tokens", max_tokens},
      {"generated_tokens", generated}, {"threads", threads},      {"engine_s", engine_s},
      {"remote_s", remote_s},          {"engine_median_s", a},    {"remote_median_s", b},
      {"overhead", b / a - 1},         {"tokens_identical", true},
      {"aggregated_s", aggregated_s},  {"aggregated_median_s", c},
      {"aggregated_overhead", c / a - 1}, {"aggregated_shards", last_shards},
      {"aggregated_provider_busy_s", provider_busy_s},
      {"target_shard_ms", target_shard_ms}};
  std::cout << line.dump() << std::endl;
  return 0;
}

}  // namespace
}  // namespace infernet

int main(int argc, char** argv) {
  CLI::App app{"Direct job overhead: client -> provider over TLS vs. the engine alone"};
  std::string model;
  int prompts = 8, max_tokens = 64, threads = 2, repetitions = 3;
  int64_t target_shard_ms = 2000;
  app.add_option("--model", model, "GGUF model")->required();
  app.add_option("--prompts", prompts, "prompts in the job")->check(CLI::Range(1, 1024));
  app.add_option("--max-tokens", max_tokens, "tokens generated per prompt")
      ->check(CLI::Range(1, 4096));
  app.add_option("--threads", threads, "engine threads")->check(CLI::Range(1, 256));
  app.add_option("--repetitions", repetitions, "timed repetitions")->check(CLI::Range(1, 100));
  app.add_option("--target-shard-ms", target_shard_ms, "aggregator shard size (time of work)");
  CLI11_PARSE(app, argc, argv);
  (void)infernet::InitLogging("warn");
  return infernet::Run(model, prompts, max_tokens, threads, repetitions, target_shard_ms);
}
