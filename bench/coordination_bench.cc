// Coordination capacity: one aggregator (coordinator, job store, verification of every result)
// driving 1,000 simulated in-process providers. Reports shard dispatches per second and the
// aggregator's CPU time per shard (process CPU minus the simulated providers' own CPU: building
// and signing their results), next to the rate at which this machine signs and verifies Ed25519
// claims on one core, measured in the same run (every shard costs the aggregator one signature
// and one verification).
//
//   infernet_coordination_bench [--providers 1000] [--jobs 20] [--inputs-per-job 5000]
//                               [--task-ms 50] [--in-flight 2] [--workers 2]
// Prints one JSON line.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "aggregator/coordinator.h"
#include "aggregator/in_process_providers.h"
#include "client/aggregated_job.h"
#include "core/log.h"
#include "net/signed_envelope.h"

namespace infernet::aggregator {
namespace {

double ProcessCpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// Sign + verify of a task-request-sized claim on one thread, per second.
double SignVerifyPerSecond(const Clock& clock) {
  NodeIdentity identity = NodeIdentity::Generate();
  v1::TaskRequest request;
  request.set_task_id(std::string(16, 'x'));
  request.add_inputs()->set_text("prompt number 1234");
  const auto start = std::chrono::steady_clock::now();
  int n = 0;
  for (; n < 20000; ++n) {
    v1::SignedEnvelope envelope = net::SignClaim(request, identity, clock);
    auto ok = net::VerifyClaim(envelope, clock, net::FreshnessPolicy{}, nullptr, &request);
    if (!ok.ok()) return 0;
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(2)) break;
  }
  return n / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int Run(int argc, char** argv) {
  CLI::App app{"Aggregator coordination capacity with simulated providers"};
  int providers = 1000, jobs = 20, inputs_per_job = 5000, workers = 2;
  double task_ms = 50;
  uint32_t in_flight = 2;
  app.add_option("--providers", providers);
  app.add_option("--jobs", jobs);
  app.add_option("--inputs-per-job", inputs_per_job);
  app.add_option("--task-ms", task_ms, "simulated time of one shard (one input)");
  app.add_option("--in-flight", in_flight, "shards per provider at once");
  app.add_option("--workers", workers, "threads completing simulated tasks");
  CLI11_PARSE(app, argc, argv);
  (void)InitLogging("warn");
  const Clock& clock = SystemClock::Instance();

  const double sign_verify_per_s = SignVerifyPerSecond(clock);

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("coordination_bench_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto store = JobStore::Open(dir / "jobs.db");
  if (!store.ok()) {
    std::cerr << store.status().ToString() << "\n";
    return 1;
  }
  const std::string model(32, '\x33');
  const uint64_t model_bytes = 1'000'000'000;
  InProcessProviders sim(clock, static_cast<size_t>(workers));
  NodeIdentity aggregator = NodeIdentity::Generate();
  NodeIdentity client = NodeIdentity::Generate();
  CoordinatorSettings settings;
  settings.target_shard_ms = 1;  // one input per shard: every input is a dispatch
  settings.min_timeout_ms = 60000;
  settings.pool.max_in_flight_per_provider = in_flight;
  Coordinator coordinator(aggregator, clock, **store, sim, ProviderSource{}, settings);
  // max_tokens 1 at task_ms per token: each one-input shard takes task_ms (prompt ~0.1 token).
  SimulatedProviderSpec spec;
  spec.us_per_token = task_ms * 1000 / 1.1;
  std::vector<PoolProvider> entries;
  for (int i = 0; i < providers; ++i) entries.push_back(sim.Add(model, model_bytes, spec));
  coordinator.WithPool([&](ProviderPool& pool) {
    for (const PoolProvider& p : entries) pool.Upsert(p);
  });
  if (Status s = coordinator.Start(); !s.ok()) return 1;

  std::vector<std::pair<v1::JobRequest, v1::SignedEnvelope>> requests;
  for (int j = 0; j < jobs; ++j) {
    client::JobSpec job;
    std::copy(model.begin(), model.end(), job.model.begin());
    job.kind = v1::GENERATE;
    for (int i = 0; i < inputs_per_job; ++i) job.inputs.push_back({"p" + std::to_string(i), ""});
    job.generation.set_max_tokens(1);
    job.max_price_per_mtok_micros = 1000;
    job.deadline_seconds = 3600;
    v1::JobRequest request = client::BuildJobRequest(job, aggregator.id(), clock.NowMs());
    v1::SignedEnvelope envelope = net::SignClaim(request, client, clock);
    request.ParseFromString(envelope.body());
    requests.emplace_back(std::move(request), std::move(envelope));
  }
  const double cpu_start = ProcessCpuSeconds();
  const double provider_cpu_start = sim.provider_cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  for (auto& [request, envelope] : requests) {
    if (!coordinator.Submit(request, envelope).ok()) return 1;
  }
  const bool idle = coordinator.WaitIdle(600000);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = ProcessCpuSeconds() - cpu_start;
  const double provider_cpu = sim.provider_cpu_seconds() - provider_cpu_start;
  const CoordinatorCounters counters = coordinator.counters();
  coordinator.Stop();
  std::filesystem::remove_all(dir);

  const double dispatches_per_s = counters.dispatches / wall;
  const double aggregator_cpu_us =
      1e6 * (cpu - provider_cpu) / std::max<uint64_t>(1, counters.shards_done);
  // The ceiling if signing and verifying were all an aggregator did, on the cores it has.
  nlohmann::json out = {
      {"benchmark", "coordination"},
      {"providers", providers},
      {"jobs", jobs},
      {"inputs", jobs * inputs_per_job},
      {"task_ms", task_ms},
      {"in_flight_per_provider", in_flight},
      {"completed", idle},
      {"dispatches", counters.dispatches},
      {"shards_done", counters.shards_done},
      {"failures", counters.failures},
      {"wall_s", wall},
      {"dispatches_per_s", dispatches_per_s},
      {"simulated_capacity_per_s", providers * in_flight * 1000.0 / task_ms},
      {"process_cpu_s", cpu},
      {"provider_cpu_s", provider_cpu},
      {"aggregator_cpu_us_per_shard", aggregator_cpu_us},
      {"sign_verify_per_s_one_core", sign_verify_per_s},
      {"aggregator_cpu_per_shard_vs_sign_verify", aggregator_cpu_us * sign_verify_per_s / 1e6},
  };
  std::cout << out.dump() << std::endl;
  return idle ? 0 : 1;
}

}  // namespace
}  // namespace infernet::aggregator

int main(int argc, char** argv) { return infernet::aggregator::Run(argc, argv); }
