#include "aggregator/provider_pool.h"

#include <algorithm>

namespace infernet::aggregator {

void ProviderPool::UpdateListing(const std::string& model_hash,
                                 const std::vector<discovery::ProviderRecord>& records) {
  std::set<NodeId> listed;
  for (const discovery::ProviderRecord& r : records) {
    const v1::ModelOffer* offer = nullptr;
    for (const v1::ModelOffer& m : r.record.models()) {
      if (m.model_hash() == model_hash) offer = &m;
    }
    if (!offer || r.record.addresses().empty()) continue;
    listed.insert(r.node_id);
    uint64_t gpu_bandwidth = 0, gpu_vram = 0;
    for (const v1::GpuInfo& gpu : r.record.hardware().gpus()) {
      gpu_bandwidth = std::max(gpu_bandwidth, gpu.memory_bandwidth_bytes_per_s());
      gpu_vram = std::max(gpu_vram, gpu.vram_bytes());
    }
    auto [it, inserted] = providers_.try_emplace(r.node_id);
    PoolProvider& p = it->second;
    if (inserted) {
      p.id = r.node_id;
      p.speed = SpeedEstimate(
          GuessUnitsPerSecond(gpu_bandwidth, settings_.cpu_bandwidth_guess_bytes_per_s));
    }
    p.max_gpu_vram_bytes = gpu_vram;
    p.address = r.record.addresses(0);
    p.price_by_model[model_hash] = offer->price_per_mtok_micros();
    p.model_bytes_by_model[model_hash] = offer->size_bytes();
  }
  for (auto& [id, p] : providers_) {
    if (!listed.count(id)) {
      p.price_by_model.erase(model_hash);
      p.model_bytes_by_model.erase(model_hash);
    }
  }
}

void ProviderPool::Upsert(const PoolProvider& provider) { providers_[provider.id] = provider; }

JobNeeds JobNeeds::Of(const v1::JobRequest& request) {
  return {request.model_hash(), request.max_price_per_mtok_micros(), request.min_gpu_vram_bytes()};
}

bool ProviderPool::Eligible(const PoolProvider& p, const JobNeeds& needs) const {
  auto price = p.price_by_model.find(needs.model_hash);
  return price != p.price_by_model.end() && price->second <= needs.max_price &&
         p.max_gpu_vram_bytes >= needs.min_gpu_vram_bytes;
}

double ProviderPool::Score(const PoolProvider& p, const JobNeeds& needs) const {
  // Laplace-smoothed success rate, squared so that a failing provider sinks quickly; speed
  // shared among the shards it already runs; a cheaper price within the offer breaks ties.
  const double reliability = (p.completed + 1.0) / (p.completed + p.failed + 2.0);
  const double price_share =
      needs.max_price
          ? static_cast<double>(p.price_by_model.at(needs.model_hash)) / needs.max_price
          : 0;
  return reliability * reliability * p.speed.units_per_s() / (1.0 + p.in_flight) *
         (1.5 - 0.5 * price_share);
}

std::optional<NodeId> ProviderPool::Pick(const JobNeeds& needs, int64_t now_ms,
                                         const std::set<NodeId>& exclude) const {
  const PoolProvider* best = nullptr;
  double best_score = 0;
  for (const auto& [id, p] : providers_) {
    if (p.in_flight >= settings_.max_in_flight_per_provider || p.cooldown_until_ms > now_ms ||
        !Eligible(p, needs) || exclude.count(id)) {
      continue;
    }
    const double score = Score(p, needs);
    if (!best || score > best_score) {
      best = &p;
      best_score = score;
    }
  }
  if (!best) return std::nullopt;
  return best->id;
}

std::vector<NodeId> ProviderPool::Ranked(const JobNeeds& needs, int64_t now_ms) const {
  std::vector<std::pair<double, NodeId>> scored;
  for (const auto& [id, p] : providers_) {
    if (p.in_flight >= settings_.max_in_flight_per_provider || p.cooldown_until_ms > now_ms ||
        !Eligible(p, needs)) {
      continue;
    }
    scored.emplace_back(Score(p, needs), id);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<NodeId> ranked;
  ranked.reserve(scored.size());
  for (const auto& entry : scored) ranked.push_back(entry.second);
  return ranked;
}

bool ProviderPool::AnyEligible(const JobNeeds& needs, const std::set<NodeId>& exclude) const {
  return std::any_of(providers_.begin(), providers_.end(), [&](const auto& entry) {
    return !exclude.count(entry.first) && Eligible(entry.second, needs);
  });
}

PoolProvider* ProviderPool::Find(const NodeId& id) {
  auto it = providers_.find(id);
  return it == providers_.end() ? nullptr : &it->second;
}
const PoolProvider* ProviderPool::Find(const NodeId& id) const {
  auto it = providers_.find(id);
  return it == providers_.end() ? nullptr : &it->second;
}

void ProviderPool::OnDispatched(const NodeId& id) {
  if (PoolProvider* p = Find(id)) ++p->in_flight;
}

void ProviderPool::OnFinished(const NodeId& id, double units, int64_t started_ms,
                              int64_t finished_ms) {
  PoolProvider* p = Find(id);
  if (!p) return;
  // Latency as the aggregator sees it (queueing at the provider included): shards are then cut
  // to take about target_shard_ms each with the provider's current load.
  const double elapsed_ms = static_cast<double>(finished_ms - started_ms);
  if (p->in_flight) --p->in_flight;
  ++p->completed;
  p->consecutive_failures = 0;
  p->speed.Observe(units, elapsed_ms);
}

void ProviderPool::OnFailed(const NodeId& id, int64_t now_ms) {
  PoolProvider* p = Find(id);
  if (!p) return;
  if (p->in_flight) --p->in_flight;
  ++p->failed;
  const uint32_t doublings = std::min<uint32_t>(p->consecutive_failures, 6);
  ++p->consecutive_failures;
  p->cooldown_until_ms = now_ms + (settings_.failure_cooldown_ms << doublings);
}

void ProviderPool::OnCancelled(const NodeId& id) {
  PoolProvider* p = Find(id);
  if (p && p->in_flight) --p->in_flight;
}

}  // namespace infernet::aggregator
