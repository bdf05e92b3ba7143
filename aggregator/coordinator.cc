#include "aggregator/coordinator.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "aggregator/shard_request.h"
#include "core/hash.h"
#include "core/log.h"
#include "net/signed_envelope.h"

namespace infernet::aggregator {
namespace {

constexpr int64_t kIdleWaitMs = 1000;

std::string IdBytes(const NodeId& id) { return std::string(id.bytes.begin(), id.bytes.end()); }

}  // namespace

Coordinator::Coordinator(const NodeIdentity& identity, const Clock& clock, JobStore& store,
                         ShardRunner& runner, ProviderSource source, CoordinatorSettings settings)
    : identity_(identity),
      clock_(clock),
      store_(store),
      runner_(runner),
      source_(std::move(source)),
      settings_(settings),
      pool_(settings.pool) {}

Coordinator::~Coordinator() { Stop(); }

Status Coordinator::Start() {
  INFERNET_ASSIGN_OR_RETURN(std::vector<StoredJob> unfinished, store_.UnfinishedJobs());
  const int64_t now = clock_.NowMs();
  std::lock_guard lock(mutex_);
  for (StoredJob& stored : unfinished) {
    v1::JobRequest request;
    if (!request.ParseFromString(stored.request.body())) {
      INFERNET_RETURN_IF_ERROR(
          store_.FinishJob(stored.job_id, JobState::kFailed, "stored request does not parse", now));
      continue;
    }
    INFERNET_ASSIGN_OR_RETURN(std::vector<StoredShard> shards, store_.Shards(stored.job_id));
    auto job = std::make_unique<JobRun>(stored.job_id, std::move(request),
                                        std::move(stored.request), 0, stored.created_ms);
    job->Restore(std::move(shards));
    job->TakeStreamableEvents(/*build=*/false);  // nobody is attached yet; attach replays them
    spdlog::info("aggregator: resuming job {} ({} of {} inputs already done)",
                 JobIdHex(job->job_id()), job->inputs_done(), job->inputs_total());
    const std::string id = job->job_id();
    jobs_.emplace(id, std::move(job));
  }
  stopping_ = false;
  started_ = true;
  {
    std::lock_guard inbox_lock(inbox_->mutex);
    inbox_->owner = this;
  }
  schedule_thread_ = std::thread([this] { ScheduleLoop(); });
  if (source_) refresh_thread_ = std::thread([this] { RefreshLoop(); });
  return Status::Ok();
}

void Coordinator::Stop() {
  std::vector<uint64_t> live;
  {
    std::lock_guard lock(mutex_);
    if (!started_) return;
    stopping_ = true;
    for (const auto& [id, attempt] : attempts_) live.push_back(id);
  }
  wake_.notify_all();
  for (uint64_t id : live) runner_.Cancel(id);
  if (schedule_thread_.joinable()) schedule_thread_.join();
  if (refresh_thread_.joinable()) refresh_thread_.join();
  {
    // Waits out a report in progress; later ones find no owner.
    std::lock_guard inbox_lock(inbox_->mutex);
    inbox_->owner = nullptr;
    inbox_->outcomes.clear();
  }
  std::lock_guard lock(mutex_);
  for (auto& [id, job] : jobs_) {
    for (auto& queue : job->subscribers()) queue->Close();
  }
  started_ = false;
}

Result<bool> Coordinator::Submit(const v1::JobRequest& request,
                                 const v1::SignedEnvelope& envelope) {
  const int64_t now = clock_.NowMs();
  {
    std::lock_guard lock(mutex_);
    if (jobs_.count(request.job_id())) return true;
  }
  auto existing = store_.Job(request.job_id());
  if (existing.ok()) return true;
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  if (request.deadline_ms() <= now) {
    return Status::InvalidArgument("the job's deadline has already passed");
  }
  INFERNET_RETURN_IF_ERROR(store_.CreateJob(request.job_id(), envelope, now));
  {
    std::lock_guard lock(mutex_);
    jobs_.emplace(request.job_id(),
                  std::make_unique<JobRun>(request.job_id(), request, envelope, 0, now));
    refresh_now_ = true;
    kick_ = true;
  }
  wake_.notify_all();
  return false;
}

Result<std::shared_ptr<JobEventQueue>> Coordinator::Subscribe(const std::string& job_id,
                                                              const NodeId& client) {
  auto queue = std::make_shared<JobEventQueue>();
  {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(job_id);
    if (it != jobs_.end()) {
      JobRun& job = *it->second;
      if (job.request().header().author_id() != IdBytes(client)) {
        return Status(StatusCode::kUnauthenticated, "the job belongs to another client");
      }
      for (v1::JobEvent& event : job.ReplayEvents()) queue->Push(std::move(event));
      job.subscribers().push_back(queue);
      return queue;
    }
  }
  // Finished (or unknown): replay from the store, then the summary.
  INFERNET_ASSIGN_OR_RETURN(StoredJob stored, store_.Job(job_id));
  v1::JobRequest request;
  if (!request.ParseFromString(stored.request.body())) {
    return Status::Corrupt("stored job request does not parse");
  }
  if (request.header().author_id() != IdBytes(client)) {
    return Status(StatusCode::kUnauthenticated, "the job belongs to another client");
  }
  if (stored.state == JobState::kRunning) {
    return Status(StatusCode::kUnavailable, "the job is being resumed; attach again shortly");
  }
  INFERNET_ASSIGN_OR_RETURN(std::vector<StoredShard> shards, store_.Shards(job_id));
  std::map<uint32_t, StoredShard> done;
  uint32_t dispatches = 0, retries = 0;
  for (StoredShard& shard : shards) {
    dispatches += shard.attempts;
    retries += static_cast<uint32_t>(shard.failed_attempts.size());
    done.emplace(shard.first_index, std::move(shard));
  }
  std::vector<v1::JobEvent> events;
  for (const auto& [first, shard] : done) JobRun::AppendShardEvents(shard, &events);
  for (v1::JobEvent& event : events) queue->Push(std::move(event));
  queue->Push(SummaryEvent(request, stored.request, done, dispatches, retries, 0, stored.created_ms,
                           stored.finished_ms, stored.failure));
  queue->Close();
  return queue;
}

void Coordinator::WithPool(const std::function<void(ProviderPool&)>& f) {
  {
    std::lock_guard lock(mutex_);
    f(pool_);
    kick_ = true;
  }
  wake_.notify_all();
}

CoordinatorCounters Coordinator::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

bool Coordinator::WaitIdle(int64_t timeout_ms) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return jobs_.empty(); });
}

void Coordinator::OnOutcome(const std::shared_ptr<OutcomeInbox>& inbox, ShardOutcome outcome) {
  std::lock_guard lock(inbox->mutex);
  if (inbox->owner == nullptr) return;  // stopped: the attempt was cancelled
  inbox->outcomes.push_back(std::move(outcome));
  inbox->owner->WakeForOutcomes();
}

void Coordinator::WakeForOutcomes() {
  if (!outcomes_pending_.exchange(true)) {
    // Runners may report from inside Start or Cancel, i.e. on the schedule thread with mutex_
    // held: never block on it. Taking it when free closes the window between the waiter's
    // predicate check and its sleep; when it is held, its holder is either the schedule thread
    // (which checks the flag before sleeping) or another thread while the schedule thread sleeps
    // or queues for it, and the notification reaches it either way.
    if (mutex_.try_lock()) mutex_.unlock();
    wake_.notify_all();
  }
}

void Coordinator::RefreshLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    std::set<std::string> models;
    for (const auto& [id, job] : jobs_) models.insert(job->request().model_hash());
    lock.unlock();
    std::map<std::string, std::vector<discovery::ProviderRecord>> listings;
    for (const std::string& model : models) {
      auto found = source_(model);
      if (found.ok()) {
        listings[model] = std::move(*found);
      } else {
        spdlog::warn("aggregator: provider lookup failed: {}", found.status().ToString());
      }
    }
    lock.lock();
    for (const auto& [model, records] : listings) pool_.UpdateListing(model, records);
    if (!listings.empty()) {
      kick_ = true;
      wake_.notify_all();
    }
    wake_.wait_for(lock, std::chrono::milliseconds(settings_.listing_refresh_ms),
                   [&] { return stopping_ || refresh_now_; });
    refresh_now_ = false;
  }
}

int64_t Coordinator::NextTimerMs() const {
  int64_t next = clock_.NowMs() + kIdleWaitMs;
  if (!timeouts_.empty()) next = std::min(next, timeouts_.begin()->first);
  for (const auto& [id, job] : jobs_) next = std::min(next, job->request().deadline_ms());
  return next;
}

void Coordinator::ScheduleLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const int64_t now = clock_.NowMs();
    std::deque<ShardOutcome> outcomes;
    if (outcomes_pending_.exchange(false)) {
      std::lock_guard inbox_lock(inbox_->mutex);
      outcomes.swap(inbox_->outcomes);
    }
    if (!outcomes.empty()) ProcessOutcomes(std::move(outcomes), now);
    CheckTimers(now);
    DispatchReady(now);
    if (jobs_.empty()) idle_.notify_all();
    const int64_t wait_ms = std::clamp<int64_t>(NextTimerMs() - clock_.NowMs(), 1, kIdleWaitMs);
    wake_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                   [&] { return stopping_ || kick_ || outcomes_pending_.load(); });
    kick_ = false;
  }
}

bool Coordinator::Dispatch(JobRun& job, InputRange range, const NodeId& provider_id,
                           bool speculative, int64_t now) {
  PoolProvider* provider = pool_.Find(provider_id);
  if (!provider) return false;
  const uint64_t attempt_id = next_attempt_id_++;
  Attempt attempt;
  attempt.job_id = job.job_id();
  attempt.range = range;
  attempt.provider = provider_id;
  attempt.started_ms = now;
  attempt.units = job.RangeCost(range);
  attempt.expected_ms = static_cast<int64_t>(
      std::ceil(1000.0 * attempt.units / std::max(1e-9, provider->speed.units_per_s())));
  attempt.timeout_at_ms =
      std::min(job.request().deadline_ms(),
               now + std::max<int64_t>(
                         settings_.min_timeout_ms,
                         static_cast<int64_t>(settings_.timeout_factor * attempt.expected_ms)));
  attempt.speculative = speculative;
  ShardDispatch dispatch;
  dispatch.attempt_id = attempt_id;
  dispatch.provider = provider_id;
  dispatch.address = provider->address;
  dispatch.request = BuildShardRequest(job.request(), range.first, range.count, provider_id);
  dispatch.signer = &identity_;
  dispatch.clock = &clock_;
  dispatch.deadline_ms = attempt.timeout_at_ms;
  timeouts_.emplace(attempt.timeout_at_ms, attempt_id);
  job.attempt_ids().insert(attempt_id);
  attempts_.emplace(attempt_id, std::move(attempt));
  pool_.OnDispatched(provider_id);
  ++job.live_attempts(range.first);
  ++job.dispatches_of(range.first);
  job.tried(range.first).insert(provider_id);
  ++job.dispatches;
  ++counters_.dispatches;
  if (speculative) {
    ++job.speculative;
    v1::JobEvent event;
    v1::JobEvent::Retry* retry = event.mutable_retry();
    retry->set_first_index(range.first);
    retry->set_count(range.count);
    retry->set_provider_id(IdBytes(provider_id));
    retry->set_reason("straggler: copy started");
    retry->set_speculative(true);
    Publish(job, {event});
  }
  runner_.Start(std::move(dispatch),
                [inbox = inbox_](ShardOutcome outcome) { OnOutcome(inbox, std::move(outcome)); });
  return true;
}

void Coordinator::DispatchReady(int64_t now) {
  // Free slots, best provider first, ranked once per kind of job (model, price cap, hardware)
  // for the whole pass: a scan of the pool per dispatch would cost O(providers) each at high
  // dispatch rates.
  struct Slots {
    std::vector<NodeId> ranked;
    size_t next = 0;
  };
  std::map<JobNeeds, Slots> slots;
  const uint32_t max_in_flight = pool_.settings().max_in_flight_per_provider;
  auto next_free = [&](const v1::JobRequest& request) -> std::optional<NodeId> {
    auto [it, fresh] = slots.try_emplace(JobNeeds::Of(request));
    if (fresh) it->second.ranked = pool_.Ranked(it->first, now);
    Slots& s = it->second;
    for (; s.next < s.ranked.size(); ++s.next) {
      if (pool_.Find(s.ranked[s.next])->in_flight < max_in_flight) return s.ranked[s.next];
    }
    return std::nullopt;
  };
  // Round-robin over jobs, one shard each per pass, so that one big job does not starve others.
  bool progress = true;
  while (progress && !stopping_) {
    progress = false;
    for (auto& [id, job_ptr] : jobs_) {
      JobRun& job = *job_ptr;
      if (!job.HasPending()) continue;
      const v1::JobRequest& request = job.request();
      auto picked = next_free(request);
      if (!picked) continue;
      PoolProvider* provider = pool_.Find(*picked);
      if (job.model_bytes() == 0) {
        auto size = provider->model_bytes_by_model.find(request.model_hash());
        if (size != provider->model_bytes_by_model.end()) job.set_model_bytes(size->second);
      }
      // A provider not measured yet gets a one-input probe: a guess from its hardware can be far
      // off, and a whole job cut to a wrong guess would land on one provider.
      const double budget = provider->speed.measured()
                                ? provider->speed.units_per_s() * settings_.target_shard_ms / 1000.0
                                : 0;
      const InputRange range = job.TakeShard(budget);
      // A range given back after failures must not return to a provider that failed it.
      std::set<NodeId>& tried = job.tried(range.first);
      if (tried.count(*picked) && job.failures(range.first) > 0) {
        const JobNeeds needs = JobNeeds::Of(request);
        auto other = pool_.Pick(needs, now, tried);
        if (other) {
          picked = other;
        } else if (pool_.AnyEligible(needs, tried)) {
          job.ReturnRange(range);  // an untried provider exists but is busy: wait for it
          continue;
        }  // every eligible provider failed it once already: try again where one is free
      }
      if (Dispatch(job, range, *picked, /*speculative=*/false, now)) progress = true;
    }
  }
  // Stragglers: once a job has nothing pending, copy shards running far past their expected
  // time (or whose expected finish is past the deadline) onto another idle provider.
  for (auto& [id, job_ptr] : jobs_) {
    JobRun& job = *job_ptr;
    if (job.HasPending()) continue;
    std::vector<std::pair<InputRange, NodeId>> slow;
    for (uint64_t attempt_id : job.attempt_ids()) {
      const Attempt& a = attempts_.at(attempt_id);
      if (a.speculative || job.live_attempts(a.range.first) > 1) continue;
      const int64_t elapsed = now - a.started_ms;
      const bool straggling = elapsed > settings_.straggler_factor * a.expected_ms + 200;
      const bool late = a.started_ms + a.expected_ms > job.request().deadline_ms();
      if (straggling || late) slow.emplace_back(a.range, a.provider);
    }
    for (const auto& [range, running] : slow) {
      auto other = pool_.Pick(JobNeeds::Of(job.request()), now, {running});
      if (other) Dispatch(job, range, *other, /*speculative=*/true, now);
    }
  }
}

Coordinator::Attempt Coordinator::TakeAttempt(uint64_t attempt_id) {
  auto it = attempts_.find(attempt_id);
  Attempt attempt = std::move(it->second);
  attempts_.erase(it);
  timeouts_.erase({attempt.timeout_at_ms, attempt_id});
  auto job = jobs_.find(attempt.job_id);
  if (job != jobs_.end()) job->second->attempt_ids().erase(attempt_id);
  return attempt;
}

void Coordinator::CancelSiblings(const std::string& job_id, uint32_t first, uint64_t except) {
  JobRun& job = *jobs_.at(job_id);
  std::vector<uint64_t> siblings;
  for (uint64_t id : job.attempt_ids()) {
    if (id != except && attempts_.at(id).range.first == first) siblings.push_back(id);
  }
  for (uint64_t id : siblings) {
    runner_.Cancel(id);
    pool_.OnCancelled(TakeAttempt(id).provider);
  }
}

void Coordinator::ProcessOutcomes(std::deque<ShardOutcome> outcomes, int64_t now) {
  std::vector<std::pair<std::string, StoredShard>> verified;
  std::set<std::string> touched;
  for (ShardOutcome& outcome : outcomes) {
    if (!attempts_.count(outcome.attempt_id)) continue;  // cancelled or timed out already
    if (!outcome.status.ok()) {
      FailAttempt(outcome.attempt_id, outcome.status.ToString(), now);
      continue;
    }
    Attempt attempt = TakeAttempt(outcome.attempt_id);
    auto job_it = jobs_.find(attempt.job_id);
    pool_.OnFinished(attempt.provider, attempt.units, attempt.started_ms, now);
    ++counters_.shards_done;
    if (job_it == jobs_.end()) continue;
    JobRun& job = *job_it->second;
    const bool copies_running = job.live_attempts(attempt.range.first) > 1;
    job.live_attempts(attempt.range.first) = 0;
    if (copies_running) CancelSiblings(attempt.job_id, attempt.range.first, outcome.attempt_id);
    if (job.IsDone(attempt.range.first)) continue;
    StoredShard shard;
    shard.first_index = attempt.range.first;
    shard.count = attempt.range.count;
    shard.provider = attempt.provider;
    shard.attempts = job.dispatches_of(attempt.range.first);
    shard.failed_attempts = job.failure_notes(attempt.range.first);
    shard.task_request = std::move(outcome.task_request);
    shard.task_result = std::move(outcome.task_result);
    shard.outputs = std::move(outcome.outputs);
    shard.started_ms = attempt.started_ms;
    shard.finished_ms = now;
    verified.emplace_back(attempt.job_id, shard);
    job.MarkDone(std::move(shard));
    touched.insert(attempt.job_id);
  }
  if (verified.empty()) return;
  // Persist before streaming: a shard a client has seen is never redone after a restart.
  Status stored = store_.RecordShards(verified);
  if (!stored.ok()) {
    spdlog::error("aggregator: cannot persist shards: {}", stored.ToString());
  }
  for (const std::string& job_id : touched) {
    JobRun& job = *jobs_.at(job_id);
    Publish(job, job.TakeStreamableEvents(/*build=*/!job.subscribers().empty()));
    PublishProgress(job);
    if (job.complete()) FinishJob(job, true, "", now);
  }
}

void Coordinator::FailAttempt(uint64_t attempt_id, const std::string& reason, int64_t now) {
  if (!attempts_.count(attempt_id)) return;
  Attempt attempt = TakeAttempt(attempt_id);
  pool_.OnFailed(attempt.provider, now);
  ++counters_.failures;
  auto job_it = jobs_.find(attempt.job_id);
  if (job_it == jobs_.end()) return;
  JobRun& job = *job_it->second;
  const uint32_t first = attempt.range.first;
  if (job.IsDone(first)) return;
  ++job.retries;
  ++job.failures(first);
  job.failure_notes(first).push_back(attempt.provider.ShortHex() + ": " + reason);
  spdlog::info("aggregator: job {} inputs [{}, {}) failed on {}: {}", JobIdHex(job.job_id()), first,
               attempt.range.end(), attempt.provider.ShortHex(), reason);
  v1::JobEvent event;
  v1::JobEvent::Retry* retry = event.mutable_retry();
  retry->set_first_index(first);
  retry->set_count(attempt.range.count);
  retry->set_provider_id(IdBytes(attempt.provider));
  retry->set_reason(reason);
  Publish(job, {event});
  if (--job.live_attempts(first) > 0) return;  // a copy is still running
  if (job.failures(first) >= settings_.max_attempts) {
    FinishJob(job, false,
              "inputs [" + std::to_string(first) + ", " + std::to_string(attempt.range.end()) +
                  ") failed " + std::to_string(job.failures(first)) + " times; last: " + reason,
              now);
    return;
  }
  job.ReturnRange(attempt.range);
}

void Coordinator::CheckTimers(int64_t now) {
  std::vector<uint64_t> timed_out;
  for (auto it = timeouts_.begin(); it != timeouts_.end() && it->first <= now; ++it) {
    timed_out.push_back(it->second);
  }
  for (uint64_t id : timed_out) {
    if (!attempts_.count(id)) continue;  // its job ended with an earlier timeout
    runner_.Cancel(id);
    FailAttempt(id, "timed out after " + std::to_string(now - attempts_.at(id).started_ms) + " ms",
                now);
  }
  std::vector<JobRun*> expired, stuck;
  for (auto& [id, job] : jobs_) {
    if (job->request().deadline_ms() <= now) {
      expired.push_back(job.get());
      continue;
    }
    const v1::JobRequest& r = job->request();
    const bool running = !job->attempt_ids().empty();
    if (!running && !pool_.AnyEligible(JobNeeds::Of(r), {})) {
      if (job->no_capacity_since_ms == 0) job->no_capacity_since_ms = now;
      if (now - job->no_capacity_since_ms >= settings_.no_capacity_grace_ms)
        stuck.push_back(job.get());
    } else {
      job->no_capacity_since_ms = 0;
    }
  }
  for (JobRun* job : expired) {
    FinishJob(*job, false,
              "deadline passed with " + std::to_string(job->inputs_done()) + " of " +
                  std::to_string(job->inputs_total()) + " inputs done",
              now);
  }
  for (JobRun* job : stuck) {
    const uint64_t vram = job->request().min_gpu_vram_bytes();
    const std::string hardware =
        vram ? " with a GPU of " + std::to_string(vram >> 20) + " MiB or more" : "";
    FinishJob(*job, false,
              "no provider offers the model within the price" + hardware + " for " +
                  std::to_string(settings_.no_capacity_grace_ms / 1000) + " s (" +
                  std::to_string(job->inputs_done()) + " of " +
                  std::to_string(job->inputs_total()) + " inputs done)",
              now);
  }
}

void Coordinator::Publish(JobRun& job, const std::vector<v1::JobEvent>& events) {
  if (events.empty()) return;
  for (auto& queue : job.subscribers()) {
    for (const v1::JobEvent& event : events) queue->Push(event);
  }
}

void Coordinator::PublishProgress(JobRun& job) {
  v1::JobEvent event;
  v1::JobEvent::Progress* p = event.mutable_progress();
  p->set_inputs_done(job.inputs_done());
  p->set_shards_done(static_cast<uint32_t>(job.done().size()));
  uint32_t in_flight = 0;
  in_flight = static_cast<uint32_t>(job.attempt_ids().size());
  p->set_shards_in_flight(in_flight);
  p->set_retries(job.retries);
  Publish(job, {event});
}

v1::JobEvent Coordinator::SummaryEvent(const v1::JobRequest& request,
                                       const v1::SignedEnvelope& envelope,
                                       const std::map<uint32_t, StoredShard>& done,
                                       uint32_t dispatches, uint32_t retries, uint32_t speculative,
                                       int64_t started_ms, int64_t finished_ms,
                                       const std::string& failure) {
  v1::JobSummary summary;
  summary.set_job_id(request.job_id());
  const Digest32 request_hash = Blake2b256(envelope.body());
  summary.set_request_hash(std::string(request_hash.begin(), request_hash.end()));
  uint32_t inputs_done = 0;
  uint64_t price = 0;
  for (const auto& [first, shard] : done) {
    inputs_done += shard.count;
    v1::TaskResult result;
    if (result.ParseFromString(shard.task_result.body())) price += result.price_micros();
  }
  summary.set_inputs_total(static_cast<uint32_t>(request.inputs_size()));
  summary.set_inputs_done(inputs_done);
  summary.set_complete(inputs_done == static_cast<uint32_t>(request.inputs_size()));
  summary.set_failure(failure);
  summary.set_shards(static_cast<uint32_t>(done.size()));
  summary.set_dispatches(dispatches);
  summary.set_retries(retries);
  summary.set_speculative(speculative);
  summary.set_price_micros(price);
  summary.set_fee_micros((price * settings_.fee_basis_points + 9999) / 10000);
  summary.set_started_ms(started_ms);
  summary.set_finished_ms(finished_ms);
  v1::JobEvent event;
  *event.mutable_summary() = net::SignClaim(std::move(summary), identity_, clock_);
  return event;
}

void Coordinator::FinishJob(JobRun& job, bool complete, const std::string& failure, int64_t now) {
  const std::string job_id = job.job_id();
  const std::set<uint64_t> live = job.attempt_ids();
  for (uint64_t id : live) {
    runner_.Cancel(id);
    pool_.OnCancelled(TakeAttempt(id).provider);
  }
  Status stored =
      store_.FinishJob(job_id, complete ? JobState::kSucceeded : JobState::kFailed, failure, now);
  if (!stored.ok()) spdlog::error("aggregator: cannot record job end: {}", stored.ToString());
  if (complete) {
    spdlog::info("aggregator: job {} complete: {} inputs, {} shards, {} dispatches, {} retries",
                 JobIdHex(job_id), job.inputs_total(), job.done().size(), job.dispatches,
                 job.retries);
  } else {
    spdlog::warn("aggregator: job {} failed: {}", JobIdHex(job_id), failure);
  }
  // Shards verified but not yet streamable (a gap before them) are streamed now, in order.
  std::vector<v1::JobEvent> rest;
  for (const auto& [first, shard] : job.done()) JobRun::AppendShardEvents(shard, &rest);
  std::vector<v1::JobEvent> streamed = job.ReplayEvents();
  rest.erase(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(streamed.size()));
  Publish(job, rest);
  Publish(job, {SummaryEvent(job.request(), job.envelope(), job.done(), job.dispatches, job.retries,
                             job.speculative, job.started_ms, now, failure)});
  for (auto& queue : job.subscribers()) queue->Close();
  ++counters_.jobs_finished;
  jobs_.erase(job_id);
}

}  // namespace infernet::aggregator
