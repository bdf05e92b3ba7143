#include "aggregator/cost_model.h"

#include <algorithm>

namespace infernet::aggregator {
namespace {
constexpr double kPrefillTokenShare = 0.1;  // a prompt token's cost relative to a generated one
constexpr double kEwmaWeight = 0.3;         // weight of the newest observation
constexpr double kBytesPerUnit = 1e9;
}  // namespace

uint32_t EstimatePromptTokens(const v1::TaskInput& input) {
  const size_t bytes = input.text().size() + input.continuation().size();
  return static_cast<uint32_t>(std::max<size_t>(1, (bytes + 3) / 4));
}

double InputCost(const v1::TaskInput& input, v1::TaskKind kind,
                 const v1::GenerationParams& generation, uint64_t model_bytes) {
  double tokens = kPrefillTokenShare * EstimatePromptTokens(input);
  if (kind == v1::GENERATE) tokens += generation.max_tokens();
  const double model_units = std::max(1.0, static_cast<double>(model_bytes)) / kBytesPerUnit;
  return tokens * model_units;
}

void SpeedEstimate::Observe(double units, double elapsed_ms) {
  if (units <= 0) return;
  const double observed = units / (std::max(1.0, elapsed_ms) / 1000.0);
  units_per_s_ = measured_ ? (1 - kEwmaWeight) * units_per_s_ + kEwmaWeight * observed : observed;
  measured_ = true;
}

double GuessUnitsPerSecond(uint64_t gpu_bandwidth_bytes_per_s, uint64_t cpu_bandwidth_bytes_per_s) {
  const uint64_t bandwidth =
      gpu_bandwidth_bytes_per_s ? gpu_bandwidth_bytes_per_s : cpu_bandwidth_bytes_per_s;
  return 0.5 * static_cast<double>(bandwidth) / kBytesPerUnit;
}

}  // namespace infernet::aggregator
