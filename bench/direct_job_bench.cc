// Job overhead: the same generation job run (A) on the engine alone — the provider's own
// executor, in process, no network — (B) through client -> provider: a TaskService behind
// gRPC over TLS 1.3 on 127.0.0.1 in this process, the client signing the request, streaming,
// verifying the signed result against every output and signing a receipt; and (C) through
// client -> aggregator -> that provider: an aggregator (coordinator, SQLite job store, gRPC over
// TLS both ways) sharding the job, the client verifying every shard end to end. A, B and C
// alternate; each reports seconds, and B / A - 1, C / A - 1 are the overheads. B's and C's tokens
// must equal A's. To tell coordination from sharding and from this machine's run-to-run noise,
// (D) runs the engine alone again on exactly C's shards (one task per shard, in order), and C's
// wall time is split into the provider's computing (its signed started → finished times) and the
// rest (dispatch, queueing gaps, transport, verification, merge).
//
//   infernet_direct_job_bench --model FILE [--prompts 8] [--max-tokens 64] [--threads 2]
//                             [--repetitions 3] [--target-shard-ms 2000]
// One JSON line on stdout, a summary on stderr. The TLS channel is set up once before the timed
// runs (as a client keeps its channel); the first run of each kind is an untimed warm-up.
#include <CLI/CLI.hpp>
#include <sys/resource.h>

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

// CPU seconds (user + system) of this whole process so far: every thread of the client, the
// aggregator and the provider. Unlike wall time it does not count time the hypervisor gave to
// other guests, which on these shared machines varies run to run by ±10 %.
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(usage.ru_utime) + s(usage.ru_stime);
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
  std::vector<std::pair<uint32_t, uint32_t>> last_plan;  // C's shards: (first input, count)
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
    last_plan.clear();
    for (const client::VerifiedShard& shard : done.shards) {
      busy_ms += shard.result.timing().finished_ms() - shard.result.timing().started_ms();
      last_plan.emplace_back(shard.first_index, shard.count);
    }
    provider_busy_s.push_back(static_cast<double>(busy_ms) / 1000);
    std::vector<v1::TaskOutput> outputs;
    for (auto& o : done.outputs) outputs.push_back(*o);
    return outputs;
  };

  // D: the engine alone, one task per shard of C's plan.
  auto run_engine_sharded = [&]() -> Result<std::vector<v1::TaskOutput>> {
    std::vector<v1::TaskOutput> outputs;
    for (const auto& [first, count] : last_plan) {
      v1::TaskRequest shard = request;
      shard.clear_inputs();
      for (uint32_t i = first; i < first + count; ++i) *shard.add_inputs() = request.inputs(i);
      INFERNET_ASSIGN_OR_RETURN(provider::ExecutionSummary summary,
                                provider::ExecuteTask(*(*loaded)->model, shard, limits, {}));
      for (auto& o : summary.outputs) outputs.push_back(std::move(o));
    }
    return outputs;
  };

  std::vector<double> engine_s, remote_s, aggregated_s, sharded_s, ratio_b, ratio_c, ratio_d;
  std::vector<double> cpu_ratio_b, cpu_ratio_c;  // process CPU of B and C over A's, minus 1
  std::vector<std::vector<uint32_t>> engine_tokens;
  uint64_t generated = 0;
  for (int r = -1; r < repetitions; ++r) {  // r = -1: warm-up (model load, TLS handshake)
    const double cpu0 = ProcessCpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    auto a = run_engine();
    const auto t1 = std::chrono::steady_clock::now();
    const double cpu1 = ProcessCpuSeconds();
    auto b = run_remote();
    const auto t2 = std::chrono::steady_clock::now();
    const double cpu2 = ProcessCpuSeconds();
    auto c = run_aggregated();
    const auto t3 = std::chrono::steady_clock::now();
    const double cpu3 = ProcessCpuSeconds();
    auto d = c.ok() ? run_engine_sharded() : Result<std::vector<v1::TaskOutput>>(c.status());
    const auto t4 = std::chrono::steady_clock::now();
    if (!a.ok() || !b.ok() || !c.ok() || !d.ok()) {
      std::cerr << "run failed: "
                << (!a.ok()   ? a.status()
                    : !b.ok() ? b.status()
                    : !c.ok() ? c.status()
                              : d.status())
                       .ToString()
                << "\n";
      return 1;
    }
    if (Tokens(*a) != Tokens(*b) || Tokens(*a) != Tokens(*c) || Tokens(*a) != Tokens(*d)) {
      std::cerr << "provider, aggregated or sharded tokens differ from the engine's\n";
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
    sharded_s.push_back(Seconds(t4 - t3));
    cpu_ratio_b.push_back((cpu2 - cpu1) / (cpu1 - cpu0) - 1);
    cpu_ratio_c.push_back((cpu3 - cpu2) / (cpu1 - cpu0) - 1);
    ratio_b.push_back(remote_s.back() / engine_s.back() - 1);
    ratio_c.push_back(aggregated_s.back() / engine_s.back() - 1);
    ratio_d.push_back(sharded_s.back() / engine_s.back() - 1);
    std::fprintf(stderr,
                 "  repetition %d: engine %.3f s, client->provider %.3f s (%+.2f %%), "
                 "client->aggregator->provider %.3f s (%+.2f %%, %u shards, %u dispatches, "
                 "%u retries, provider computing %.3f s, rest %.3f s), engine on C's shards "
                 "%.3f s (%+.2f %%); CPU time vs the engine's: B %+.2f %%, C %+.2f %%\n",
                 r + 1, engine_s.back(), remote_s.back(), 100 * ratio_b.back(),
                 aggregated_s.back(), 100 * ratio_c.back(), last_shards, last_dispatches,
                 last_retries, provider_busy_s.back(), aggregated_s.back() - provider_busy_s.back(),
                 sharded_s.back(), 100 * ratio_d.back(), 100 * cpu_ratio_b.back(),
                 100 * cpu_ratio_c.back());
  }
  coordinator.Stop();
  std::filesystem::remove_all(state);
  const double a = Median(engine_s), b = Median(remote_s), c = Median(aggregated_s),
               d = Median(sharded_s);
  std::vector<double> rest_share;  // C's time not spent computing at the provider, per run
  for (size_t i = 0; i < aggregated_s.size(); ++i) {
    rest_share.push_back(1 - provider_busy_s[i] / aggregated_s[i]);
  }
  std::fprintf(stderr,
               "%d prompts x %d tokens (%llu generated), %d threads: engine %.3f s (%.1f tok/s), "
               "client->provider %.3f s (%.1f tok/s), overhead %+.2f %%; "
               "client->aggregator->provider %.3f s, overhead %+.2f %%; engine on C's shards "
               "%.3f s, %+.2f %% (medians of %d)\n"
               "median of paired ratios to the engine: B %+.2f %%, C %+.2f %%, D %+.2f %%; "
               "C's time outside the provider's computing: median %.3f %%; "
               "process CPU time vs the engine's (median): B %+.2f %%, C %+.2f %%\n",
               prompts, max_tokens, static_cast<unsigned long long>(generated), threads, a,
               generated / a, b, generated / b, 100 * (b / a - 1), c, 100 * (c / a - 1), d,
               100 * (d / a - 1), repetitions, 100 * Median(ratio_b), 100 * Median(ratio_c),
               100 * Median(ratio_d), 100 * Median(rest_share), 100 * Median(cpu_ratio_b),
               100 * Median(cpu_ratio_c));
  nlohmann::json line = {
      {"model", model_path},           {"prompts", prompts},      {"max_tokens", max_tokens},
      {"generated_tokens", generated}, {"threads", threads},      {"engine_s", engine_s},
      {"remote_s", remote_s},          {"engine_median_s", a},    {"remote_median_s", b},
      {"overhead", b / a - 1},         {"tokens_identical", true},
      {"aggregated_s", aggregated_s},  {"aggregated_median_s", c},
      {"aggregated_overhead", c / a - 1}, {"aggregated_shards", last_shards},
      {"aggregated_provider_busy_s", provider_busy_s},
      {"sharded_engine_s", sharded_s},   {"sharded_engine_median_s", d},
      {"paired_overhead_median", Median(ratio_b)},
      {"paired_aggregated_overhead_median", Median(ratio_c)},
      {"paired_sharded_engine_overhead_median", Median(ratio_d)},
      {"aggregated_rest_share_median", Median(rest_share)},
      {"cpu_overhead", cpu_ratio_b},   {"aggregated_cpu_overhead", cpu_ratio_c},
      {"cpu_overhead_median", Median(cpu_ratio_b)},
      {"aggregated_cpu_overhead_median", Median(cpu_ratio_c)},
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
