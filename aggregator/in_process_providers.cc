#include "aggregator/in_process_providers.h"

#include <time.h>

#include <chrono>

#include "aggregator/shard_request.h"
#include "core/hash.h"
#include "net/signed_envelope.h"
#include "provider/output_hash.h"
#include "runtime/simulated_runtime.h"

namespace infernet::aggregator {
namespace {

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t ThreadCpuNanos() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

InProcessProviders::InProcessProviders(const Clock& clock, size_t workers) : clock_(clock) {
  for (size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
}

InProcessProviders::~InProcessProviders() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
  for (auto& [id, task] : tasks_) {
    ShardOutcome outcome;
    outcome.attempt_id = id;
    outcome.status = Status::Cancelled("simulated providers stopped");
    task.done(std::move(outcome));
  }
}

PoolProvider InProcessProviders::Add(const std::string& model_hash, uint64_t model_bytes,
                                     const SimulatedProviderSpec& spec) {
  std::lock_guard lock(mutex_);
  std::array<uint8_t, 32> seed{};
  const uint64_t n = next_seed_++;
  for (int i = 0; i < 8; ++i) seed[i] = static_cast<uint8_t>(n >> (8 * i));
  seed[31] = 0x5a;
  auto provider = std::make_unique<Provider>(
      Provider{NodeIdentity::FromSeed(std::span<const uint8_t, 32>(seed)), spec, 0});
  PoolProvider entry;
  entry.id = provider->identity.id();
  entry.address = "in-process:" + std::to_string(n);
  entry.price_by_model[model_hash] = spec.price_per_mtok_micros;
  entry.model_bytes_by_model[model_hash] = model_bytes;
  // Cost units per second at this simulated speed: one generated token per us_per_token.
  entry.speed = SpeedEstimate(static_cast<double>(model_bytes) / 1e9 * 1e6 / spec.us_per_token);
  providers_.emplace(entry.id, std::move(provider));
  return entry;
}

void InProcessProviders::SetBehaviour(const NodeId& provider, SimulatedBehaviour behaviour) {
  std::lock_guard lock(mutex_);
  providers_.at(provider)->spec.behaviour = behaviour;
}

uint64_t InProcessProviders::started(const NodeId& provider) const {
  std::lock_guard lock(mutex_);
  auto it = providers_.find(provider);
  return it == providers_.end() ? 0 : it->second->started;
}

double InProcessProviders::provider_cpu_seconds() const {
  return static_cast<double>(provider_cpu_ns_.load()) / 1e9;
}

void InProcessProviders::Start(ShardDispatch dispatch, Done done) {
  std::unique_lock lock(mutex_);
  auto it = providers_.find(dispatch.provider);
  if (it == providers_.end()) {
    lock.unlock();
    ShardOutcome outcome;
    outcome.attempt_id = dispatch.attempt_id;
    outcome.status = Status(StatusCode::kUnavailable, "no such simulated provider");
    done(std::move(outcome));
    return;
  }
  Provider* provider = it->second.get();
  ++provider->started;
  // The request's size decides the simulated time.
  const v1::TaskRequest& request = dispatch.request;
  double tokens = 0;
  for (const v1::TaskInput& input : request.inputs()) {
    tokens += 0.1 * std::max<size_t>(1, input.text().size() / 4);
    if (request.kind() == v1::GENERATE) tokens += request.generation().max_tokens();
  }
  const int64_t due = SteadyMicros() + static_cast<int64_t>(tokens * provider->spec.us_per_token);
  const uint64_t id = dispatch.attempt_id;
  if (provider->spec.behaviour != SimulatedBehaviour::kStalls) timers_.push({due, id});
  tasks_.emplace(id, Task{std::move(dispatch), std::move(done), provider});
  lock.unlock();
  wake_.notify_one();
}

void InProcessProviders::Cancel(uint64_t attempt_id) {
  std::unique_lock lock(mutex_);
  auto it = tasks_.find(attempt_id);
  if (it == tasks_.end()) return;
  Task task = std::move(it->second);
  tasks_.erase(it);
  lock.unlock();
  ShardOutcome outcome;
  outcome.attempt_id = attempt_id;
  outcome.status = Status::Cancelled("cancelled by the aggregator");
  task.done(std::move(outcome));
}

void InProcessProviders::Work() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (timers_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const int64_t now = SteadyMicros();
    if (timers_.top().due_us > now) {
      wake_.wait_for(lock, std::chrono::microseconds(timers_.top().due_us - now));
      continue;
    }
    const uint64_t id = timers_.top().attempt_id;
    timers_.pop();
    auto it = tasks_.find(id);
    if (it == tasks_.end()) continue;  // cancelled
    Task task = std::move(it->second);
    tasks_.erase(it);
    lock.unlock();
    Complete(std::move(task));
    lock.lock();
  }
}

void InProcessProviders::Complete(Task task) {
  ShardOutcome outcome;
  outcome.attempt_id = task.dispatch.attempt_id;
  const SimulatedBehaviour behaviour = task.provider->spec.behaviour;
  // The aggregator's side, on this worker thread as the gRPC runner does on its call thread.
  outcome.task_request = SealShardRequest(task.dispatch);
  const int64_t cpu_start = ThreadCpuNanos();  // from here on: the provider's work
  v1::TaskRequest request;
  request.ParseFromString(outcome.task_request.body());
  if (behaviour == SimulatedBehaviour::kFails) {
    outcome.status = Status::Internal("simulated provider failure");
    provider_cpu_ns_ += ThreadCpuNanos() - cpu_start;
    task.done(std::move(outcome));
    return;
  }
  v1::TaskResult result;
  result.set_task_id(request.task_id());
  const Digest32 request_hash = Blake2b256(outcome.task_request.body());
  result.set_request_hash(std::string(request_hash.begin(), request_hash.end()));
  result.set_client_id(request.header().author_id());
  result.set_model_hash(request.model_hash());
  std::vector<Digest32> hashes;
  uint64_t prompt = 0, generated = 0;
  for (const v1::TaskInput& input : request.inputs()) {
    outcome.outputs.push_back(runtime::SimulatedOutput(request, input));
    hashes.push_back(provider::OutputHash(outcome.outputs.back()));
    result.add_output_hashes(std::string(hashes.back().begin(), hashes.back().end()));
    prompt += outcome.outputs.back().prompt_tokens();
    generated += static_cast<uint64_t>(outcome.outputs.back().tokens_size());
  }
  const Digest32 all = provider::OutputsHash(hashes);
  result.set_outputs_hash(std::string(all.begin(), all.end()));
  result.mutable_timing()->set_prompt_tokens(prompt);
  result.mutable_timing()->set_generated_tokens(generated);
  result.mutable_engine()->set_backend("simulated");
  result.set_price_micros((prompt + generated) * task.provider->spec.price_per_mtok_micros /
                          1'000'000);
  if (behaviour == SimulatedBehaviour::kWrongOutput && !outcome.outputs.empty()) {
    outcome.outputs.front().set_text(outcome.outputs.front().text() + " (altered)");
    outcome.outputs.front().set_score_logprob(outcome.outputs.front().score_logprob() - 1);
    if (outcome.outputs.front().embedding_size() > 0) outcome.outputs.front().set_embedding(0, 9);
  }
  outcome.task_result = net::SignClaim(std::move(result), task.provider->identity, clock_);
  provider_cpu_ns_ += ThreadCpuNanos() - cpu_start;
  // The aggregator's side: verify before reporting, as the gRPC runner does.
  auto price = VerifyShard(outcome.task_request, task.dispatch.provider, outcome.outputs,
                           outcome.task_result, clock_);
  if (price.ok()) {
    outcome.price_micros = *price;
  } else {
    outcome.status = price.status();
  }
  task.done(std::move(outcome));
}

}  // namespace infernet::aggregator
