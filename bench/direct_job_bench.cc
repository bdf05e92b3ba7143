// Direct job overhead: the same generation job run (A) on the engine alone — the provider's own
// executor, in process, no network — and (B) through client -> provider: a TaskService behind
// gRPC over TLS 1.3 on 127.0.0.1 in this process, the client signing the request, streaming,
// verifying the signed result against every output and signing a receipt. A and B alternate;
// each reports seconds, and B / A - 1 is the overhead. B's tokens must equal A's.
//
//   infernet_direct_job_bench --model FILE [--prompts 8] [--max-tokens 64] [--threads 2]
//                             [--repetitions 3]
// One JSON line on stdout, a summary on stderr. The TLS channel is set up once before the timed
// runs (as a client keeps its channel); the first run of each kind is an untimed warm-up.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "client/direct_job.h"
#include "core/hash.h"
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

int Run(const std::string& model_path, int prompts, int max_tokens, int threads, int repetitions) {
  auto hash = Blake2b256File(model_path);
  if (!hash.ok()) {
    std::cerr << hash.status().ToString() << "\n";
    return 1;
  }
  const SystemClock& clock = SystemClock::Instance();
  std::array<uint8_t, 32> seed_p{}, seed_c{};
  seed_p.fill(1);
  seed_c.fill(2);
  const NodeIdentity provider_id = NodeIdentity::FromSeed(seed_p);
  const NodeIdentity client_id = NodeIdentity::FromSeed(seed_c);
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

  std::vector<double> engine_s, remote_s;
  std::vector<std::vector<uint32_t>> engine_tokens;
  uint64_t generated = 0;
  for (int r = -1; r < repetitions; ++r) {  // r = -1: warm-up (model load, TLS handshake)
    const auto t0 = std::chrono::steady_clock::now();
    auto a = run_engine();
    const auto t1 = std::chrono::steady_clock::now();
    auto b = run_remote();
    const auto t2 = std::chrono::steady_clock::now();
    if (!a.ok() || !b.ok()) {
      std::cerr << "run failed: " << (a.ok() ? b.status() : a.status()).ToString() << "\n";
      return 1;
    }
    if (Tokens(*a) != Tokens(*b)) {
      std::cerr << "provider tokens differ from the engine's\n";
      return 1;
    }
    if (r < 0) {
      engine_tokens = Tokens(*a);
      for (const auto& t : engine_tokens) generated += t.size();
      continue;
    }
    engine_s.push_back(Seconds(t1 - t0));
    remote_s.push_back(Seconds(t2 - t1));
    std::fprintf(stderr, "  repetition %d: engine %.3f s, client->provider %.3f s (%+.2f %%)\n",
                 r + 1, engine_s.back(), remote_s.back(),
                 100 * (remote_s.back() / engine_s.back() - 1));
  }
  const double a = Median(engine_s), b = Median(remote_s);
  std::fprintf(stderr,
               "%d prompts x %d tokens (%llu generated), %d threads: engine %.3f s (%.1f tok/s), "
               "client->provider %.3f s (%.1f tok/s), overhead %+.2f %% (medians of %d)\n",
               prompts, max_tokens, static_cast<unsigned long long>(generated), threads, a,
               generated / a, b, generated / b, 100 * (b / a - 1), repetitions);
  nlohmann::json line = {
      {"model", model_path},           {"prompts", prompts},      {"max_tokens", max_tokens},
      {"generated_tokens", generated}, {"threads", threads},      {"engine_s", engine_s},
      {"remote_s", remote_s},          {"engine_median_s", a},    {"remote_median_s", b},
      {"overhead", b / a - 1},         {"tokens_identical", true}};
  std::cout << line.dump() << std::endl;
  return 0;
}

}  // namespace
}  // namespace infernet

int main(int argc, char** argv) {
  CLI::App app{"Direct job overhead: client -> provider over TLS vs. the engine alone"};
  std::string model;
  int prompts = 8, max_tokens = 64, threads = 2, repetitions = 3;
  app.add_option("--model", model, "GGUF model")->required();
  app.add_option("--prompts", prompts, "prompts in the job")->check(CLI::Range(1, 1024));
  app.add_option("--max-tokens", max_tokens, "tokens generated per prompt")
      ->check(CLI::Range(1, 4096));
  app.add_option("--threads", threads, "engine threads")->check(CLI::Range(1, 256));
  app.add_option("--repetitions", repetitions, "timed repetitions")->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  return infernet::Run(model, prompts, max_tokens, threads, repetitions);
}
