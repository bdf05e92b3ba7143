// Simulated providers inside the aggregator's process, behind the ShardRunner interface: each has
// its own identity and signs real results over deterministic made-up outputs, after a simulated
// time per token (a timer queue, no thread per task). They drive the coordinator at scales real
// providers cannot reach on one machine (1,000 providers) and inject faults (errors, stalls, wrong
// outputs) in tests. They never stand in for the engine in correctness tests of outputs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <set>
#include <thread>
#include <vector>

#include "aggregator/provider_pool.h"
#include "aggregator/shard_runner.h"
#include "core/clock.h"
#include "core/identity.h"

namespace infernet::aggregator {

enum class SimulatedBehaviour {
  kHonest,
  kFails,        // every task ends with an INTERNAL error
  kStalls,       // never answers (until cancelled)
  kWrongOutput,  // signs a result over altered outputs (verification must catch it)
};

struct SimulatedProviderSpec {
  uint64_t price_per_mtok_micros = 100;
  double us_per_token = 100;  // simulated time per generated token (prompt tokens: a tenth)
  SimulatedBehaviour behaviour = SimulatedBehaviour::kHonest;
};

class InProcessProviders final : public ShardRunner {
 public:
  // `workers` threads complete tasks (sign results, verify them for the coordinator).
  InProcessProviders(const Clock& clock, size_t workers);
  ~InProcessProviders() override;

  // Adds a provider holding `model_hash` (of `model_bytes`); returns its pool entry.
  PoolProvider Add(const std::string& model_hash, uint64_t model_bytes,
                   const SimulatedProviderSpec& spec);
  void SetBehaviour(const NodeId& provider, SimulatedBehaviour behaviour);

  void Start(ShardDispatch dispatch, Done done) override;
  void Cancel(uint64_t attempt_id) override;

  // Tasks each provider started (speculative copies and retries included).
  uint64_t started(const NodeId& provider) const;
  // CPU seconds the worker threads spent being providers (building and signing results), so that
  // a benchmark can subtract it from the process's CPU time.
  double provider_cpu_seconds() const;

 private:
  struct Provider {
    NodeIdentity identity;
    SimulatedProviderSpec spec;
    uint64_t started = 0;
  };
  struct Pending {
    int64_t due_us;  // steady clock
    uint64_t attempt_id;
    bool operator>(const Pending& o) const { return due_us > o.due_us; }
  };
  struct Task {
    ShardDispatch dispatch;
    Done done;
    Provider* provider;
  };
  void Work();
  void Complete(Task task);

  const Clock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<NodeId, std::unique_ptr<Provider>> providers_;
  std::map<uint64_t, Task> tasks_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> timers_;
  std::atomic<int64_t> provider_cpu_ns_{0};
  uint64_t next_seed_ = 1;
  std::vector<std::thread> workers_;
};

}  // namespace infernet::aggregator
