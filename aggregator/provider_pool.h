// The providers an aggregator may dispatch to, with what it has measured of them: speed, shards
// finished and failed, work in flight. Eligibility is per job (model held, price within the
// offer, listed by the latest discovery); selection prefers reliable, fast, idle, cheap providers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aggregator/cost_model.h"
#include "core/identity.h"
#include "discovery/record_validation.h"
#include "infernet/v1/aggregator.pb.h"

namespace infernet::aggregator {

struct PoolProvider {
  NodeId id{};
  std::string address;                                   // gRPC "host:port"
  std::map<std::string, uint64_t> price_by_model;        // listed models → price per Mtok
  std::map<std::string, uint64_t> model_bytes_by_model;  // listed models → file size
  uint64_t max_gpu_vram_bytes = 0;                       // its largest GPU's memory (0: none)
  SpeedEstimate speed{1.0};
  uint32_t in_flight = 0;
  uint64_t completed = 0;
  uint64_t failed = 0;
  uint32_t consecutive_failures = 0;
  int64_t cooldown_until_ms = 0;  // after a failure: no new work before this
};

// What a job asks of the providers that may run it.
struct JobNeeds {
  std::string model_hash;
  uint64_t max_price = 0;           // per Mtok
  uint64_t min_gpu_vram_bytes = 0;  // 0: any hardware
  static JobNeeds Of(const v1::JobRequest& request);
  auto operator<=>(const JobNeeds&) const = default;
};

struct PoolSettings {
  uint32_t max_in_flight_per_provider = 2;
  int64_t failure_cooldown_ms = 2000;  // doubled per consecutive failure, up to 64×
  uint64_t cpu_bandwidth_guess_bytes_per_s = 10'000'000'000;
};

class ProviderPool {
 public:
  explicit ProviderPool(PoolSettings settings) : settings_(settings) {}

  // The providers discovery lists for `model_hash` now (valid records). Providers not in the list
  // stop being eligible for that model (they left, or their record expired); their measurements
  // are kept in case they come back.
  void UpdateListing(const std::string& model_hash,
                     const std::vector<discovery::ProviderRecord>& records);
  // Adds or replaces one provider directly (tests, benchmarks, static configuration).
  void Upsert(const PoolProvider& provider);

  // The best eligible provider (listing the model, within the price, with the hardware asked
  // for) not in `exclude`, with a free slot and not cooling down; nullopt when none is.
  std::optional<NodeId> Pick(const JobNeeds& needs, int64_t now_ms,
                             const std::set<NodeId>& exclude) const;
  // Every eligible provider with a free slot, not cooling down, best first (one scan; the
  // coordinator hands out a pass's slots from it instead of scanning per dispatch).
  std::vector<NodeId> Ranked(const JobNeeds& needs, int64_t now_ms) const;
  // Whether any listed provider could ever take the job (ignoring slots and cooldowns).
  bool AnyEligible(const JobNeeds& needs, const std::set<NodeId>& exclude) const;

  PoolProvider* Find(const NodeId& id);
  const PoolProvider* Find(const NodeId& id) const;
  void OnDispatched(const NodeId& id);
  // A verified shard of `units`, dispatched at `started_ms`, verified at `finished_ms`.
  void OnFinished(const NodeId& id, double units, int64_t started_ms, int64_t finished_ms);
  void OnFailed(const NodeId& id, int64_t now_ms);
  // A cancelled attempt (speculative loser, job over): frees the slot, counts nothing.
  void OnCancelled(const NodeId& id);
  const PoolSettings& settings() const { return settings_; }
  size_t size() const { return providers_.size(); }

 private:
  bool Eligible(const PoolProvider& p, const JobNeeds& needs) const;
  double Score(const PoolProvider& p, const JobNeeds& needs) const;

  PoolSettings settings_;
  std::map<NodeId, PoolProvider> providers_;
};

}  // namespace infernet::aggregator
