// The aggregator's scheduler: accepts verified jobs, cuts them into shards sized to each picked
// provider's measured speed, dispatches them in parallel (bounded per provider), reassigns failed
// and timed-out shards, starts speculative copies of stragglers, enforces each job's deadline,
// persists every verified shard before streaming it, and streams shards to subscribers in input
// order. A restarted coordinator resumes the unfinished jobs of its store without redoing the
// shards it had stored.
//
// One thread runs the schedule; runners report from theirs into a queue; a second thread
// refreshes provider listings from discovery so that slow DHT lookups never stall dispatching.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "aggregator/job_events.h"
#include "aggregator/job_run.h"
#include "aggregator/job_store.h"
#include "aggregator/provider_pool.h"
#include "aggregator/shard_runner.h"
#include "core/clock.h"
#include "core/identity.h"
#include "discovery/record_validation.h"

namespace infernet::aggregator {

struct CoordinatorSettings {
  int64_t target_shard_ms = 2000;  // work per shard at the provider's speed
  uint32_t max_attempts = 4;       // failed dispatches of one range before the job fails
  uint32_t fee_basis_points = 100;
  double straggler_factor = 2.0;  // copy a shard running this many times its expected time
  double timeout_factor = 6.0;    // give up on a shard after this many times its expected time
  int64_t min_timeout_ms = 5000;  // ...but never sooner than this
  int64_t listing_refresh_ms = 2000;
  int64_t no_capacity_grace_ms = 15000;  // no eligible provider for this long: the job fails
  PoolSettings pool;
};

// Where provider listings come from (the DHT in a node; a fixed list in tests).
using ProviderSource =
    std::function<Result<std::vector<discovery::ProviderRecord>>(const std::string& model_hash)>;

struct CoordinatorCounters {
  uint64_t dispatches = 0;
  uint64_t shards_done = 0;
  uint64_t failures = 0;
  uint64_t jobs_finished = 0;
};

class Coordinator {
 public:
  // All references must outlive the coordinator. `source` may be empty (providers added with
  // pool() only).
  Coordinator(const NodeIdentity& identity, const Clock& clock, JobStore& store,
              ShardRunner& runner, ProviderSource source, CoordinatorSettings settings);
  ~Coordinator();  // Stop()

  // Loads the store's unfinished jobs and starts the threads.
  Status Start();
  // Cancels running attempts and stops; jobs stay in the store, unfinished, for the next Start.
  void Stop();

  // Accepts a verified job (signature, addressee, sizes checked by the caller). Returns whether
  // the job already existed (then nothing changes: the caller attaches). kInvalidArgument for a
  // job whose deadline has passed.
  Result<bool> Submit(const v1::JobRequest& request, const v1::SignedEnvelope& envelope);
  // A queue that first receives every shard streamed so far, then the live events, and is closed
  // after the summary. kNotFound for an unknown job; kUnauthenticated when `client` is not the
  // job's author.
  Result<std::shared_ptr<JobEventQueue>> Subscribe(const std::string& job_id, const NodeId& client);

  // Runs `f` on the provider pool under the coordinator's lock (tests, static set-ups).
  void WithPool(const std::function<void(ProviderPool&)>& f);
  CoordinatorCounters counters() const;
  // Blocks until no job is running or `timeout_ms` passes; returns whether none is.
  bool WaitIdle(int64_t timeout_ms);

 private:
  struct Attempt {
    std::string job_id;
    InputRange range;
    NodeId provider;
    int64_t started_ms = 0;
    int64_t expected_ms = 0;
    int64_t timeout_at_ms = 0;
    double units = 0;
    bool speculative = false;
  };

  void ScheduleLoop();
  void RefreshLoop();
  // Outcomes reach the coordinator through this, not through `this`: a runner may report a
  // cancelled call after the coordinator stopped or was destroyed (it ends on its own thread).
  struct OutcomeInbox {
    std::mutex mutex;
    std::deque<ShardOutcome> outcomes;
    Coordinator* owner = nullptr;  // set while running; null: outcomes are dropped
  };
  static void OnOutcome(const std::shared_ptr<OutcomeInbox>& inbox, ShardOutcome outcome);
  void WakeForOutcomes();  // never blocks: runners may report from inside Start or Cancel
  // All below run on the schedule thread with mutex_ held.
  void ProcessOutcomes(std::deque<ShardOutcome> outcomes, int64_t now);
  void CheckTimers(int64_t now);
  void DispatchReady(int64_t now);
  bool Dispatch(JobRun& job, InputRange range, const NodeId& provider, bool speculative,
                int64_t now);
  void FailAttempt(uint64_t attempt_id, const std::string& reason, int64_t now);
  // Removes a live attempt from every index; returns it.
  Attempt TakeAttempt(uint64_t attempt_id);
  void CancelSiblings(const std::string& job_id, uint32_t first, uint64_t except);
  void Publish(JobRun& job, const std::vector<v1::JobEvent>& events);
  void PublishProgress(JobRun& job);
  void FinishJob(JobRun& job, bool complete, const std::string& failure, int64_t now);
  v1::JobEvent SummaryEvent(const v1::JobRequest& request, const v1::SignedEnvelope& envelope,
                            const std::map<uint32_t, StoredShard>& done, uint32_t dispatches,
                            uint32_t retries, uint32_t speculative, int64_t started_ms,
                            int64_t finished_ms, const std::string& failure);
  int64_t NextTimerMs() const;

  const NodeIdentity& identity_;
  const Clock& clock_;
  JobStore& store_;
  ShardRunner& runner_;
  ProviderSource source_;
  const CoordinatorSettings settings_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  bool stopping_ = false;
  bool started_ = false;
  bool refresh_now_ = false;  // a job for a model not listed yet arrived
  bool kick_ = false;         // new work or providers: run the schedule now
  ProviderPool pool_;
  std::map<std::string, std::unique_ptr<JobRun>> jobs_;  // running jobs by id
  std::map<uint64_t, Attempt> attempts_;                 // live attempts by id
  std::set<std::pair<int64_t, uint64_t>> timeouts_;      // (timeout_at_ms, attempt id)
  uint64_t next_attempt_id_ = 1;
  CoordinatorCounters counters_;

  const std::shared_ptr<OutcomeInbox> inbox_ = std::make_shared<OutcomeInbox>();
  std::atomic<bool> outcomes_pending_{false};

  std::thread schedule_thread_;
  std::thread refresh_thread_;
};

}  // namespace infernet::aggregator
