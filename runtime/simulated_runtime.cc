#include "runtime/simulated_runtime.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>

#include "core/hash.h"

namespace infernet::runtime {
namespace {

using Steady = std::chrono::steady_clock;
constexpr auto kPollInterval = std::chrono::milliseconds(10);

// Waits until `until` (the simulated cost), polling for cancellation. Returns false if cancelled.
bool PayUntil(Steady::time_point until, const ExecutionHooks& hooks) {
  while (true) {
    if (hooks.is_cancelled && hooks.is_cancelled()) return false;
    const auto now = Steady::now();
    if (now >= until) return true;
    std::this_thread::sleep_until(std::min(until, now + kPollInterval));  // the simulated cost
  }
}

}  // namespace

uint32_t SimulatedPromptTokens(const v1::TaskInput& input) {
  const size_t bytes = input.text().size() + input.continuation().size();
  return static_cast<uint32_t>(std::max<size_t>(1, (bytes + 3) / 4));
}

v1::TaskOutput SimulatedOutput(const v1::TaskRequest& request, const v1::TaskInput& input) {
  std::string seed_text = request.model_hash();
  seed_text += static_cast<char>(request.kind());
  seed_text += request.generation().SerializeAsString();
  seed_text += static_cast<char>(request.pooling());
  seed_text += input.text();
  seed_text += '\0';
  seed_text += input.continuation();
  const Digest32 seed = Blake2b256(seed_text);
  v1::TaskOutput output;
  output.set_index(input.index());
  output.set_prompt_tokens(SimulatedPromptTokens(input));
  switch (request.kind()) {
    case v1::GENERATE: {
      std::string text;
      for (uint32_t t = 0; t < request.generation().max_tokens(); ++t) {
        const uint32_t token = (seed[t % 32] * 131u + t * 7919u) % 32000u;
        output.add_tokens(token);
        output.add_logprobs(-0.25f - static_cast<float>(seed[(t + 7) % 32]) / 128.0f);
        text += " sim" + std::to_string(token % 1000);
      }
      output.set_text(text);
      output.set_finish_reason("length");
      break;
    }
    case v1::EMBED: {
      double norm = 0;
      std::vector<float> v(16);
      for (size_t d = 0; d < v.size(); ++d) {
        v[d] = static_cast<float>(seed[d]) / 255.0f - 0.5f + 1e-3f;
        norm += double{v[d]} * v[d];
      }
      for (float x : v) output.add_embedding(static_cast<float>(x / std::sqrt(norm)));
      break;
    }
    default:
      output.set_score_logprob(-1.0 - seed[0] / 32.0);
      break;
  }
  return output;
}

Result<ExecutionSummary> RunSimulated(const v1::TaskRequest& request,
                                      const SimulatedRuntimeConfig& config,
                                      const ExecutionHooks& hooks) {
  const auto per_token = std::chrono::microseconds(config.us_per_token);
  double total_tokens = 0;
  for (const v1::TaskInput& input : request.inputs()) {
    total_tokens += 0.1 * SimulatedPromptTokens(input);
    if (request.kind() == v1::GENERATE) total_tokens += request.generation().max_tokens();
  }
  const auto start = Steady::now();
  const auto fail_at =
      start + std::chrono::duration_cast<Steady::duration>(per_token * (total_tokens / 2));
  double paid = 0;  // tokens whose time has been paid
  auto pay = [&](double tokens) -> Status {
    paid += tokens;
    const auto until = start + std::chrono::duration_cast<Steady::duration>(per_token * paid);
    if (config.fail_tasks && until >= fail_at) {
      if (!PayUntil(fail_at, hooks)) return Status::Cancelled("task cancelled");
      return Status::Internal("simulated runtime: injected task failure");
    }
    if (!PayUntil(until, hooks)) return Status::Cancelled("task cancelled");
    return Status::Ok();
  };
  ExecutionSummary summary;
  for (const v1::TaskInput& input : request.inputs()) {
    v1::TaskOutput output = SimulatedOutput(request, input);
    INFERNET_RETURN_IF_ERROR(pay(0.1 * output.prompt_tokens()));
    for (int t = 0; t < output.tokens_size(); ++t) {
      INFERNET_RETURN_IF_ERROR(pay(1));
      if (hooks.on_token) {
        v1::TaskEvent::Token token;
        token.set_index(input.index());
        token.set_token(output.tokens(t));
        token.set_text(" sim" + std::to_string(output.tokens(t) % 1000));
        token.set_logprob(output.logprobs(t));
        hooks.on_token(token);
      }
    }
    summary.prompt_tokens += output.prompt_tokens();
    summary.generated_tokens += static_cast<uint64_t>(output.tokens_size());
    if (hooks.on_output) hooks.on_output(output);
    summary.outputs.push_back(std::move(output));
  }
  return summary;
}

}  // namespace infernet::runtime
