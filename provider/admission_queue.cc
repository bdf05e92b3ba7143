#include "provider/admission_queue.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

namespace infernet::provider {
namespace {

AdmissionLimits WithAtLeastOneSlot(AdmissionLimits limits) {
  limits.max_concurrent = std::max<uint32_t>(limits.max_concurrent, 1);
  return limits;
}

}  // namespace

AdmissionQueue::Ticket::Ticket(Ticket&& other) noexcept { *this = std::move(other); }

AdmissionQueue::Ticket& AdmissionQueue::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    if (queue_ != nullptr) queue_->Release(id_, tokens_, running_);
    queue_ = other.queue_;
    id_ = other.id_;
    tokens_ = other.tokens_;
    queue_position_ = other.queue_position_;
    estimated_finish_ms_ = other.estimated_finish_ms_;
    running_ = other.running_;
    other.queue_ = nullptr;
  }
  return *this;
}

AdmissionQueue::Ticket::~Ticket() {
  if (queue_ != nullptr) queue_->Release(id_, tokens_, running_);
}

bool AdmissionQueue::Ticket::WaitForTurn(const std::function<bool()>& abandon, int64_t poll_ms) {
  if (queue_ == nullptr) return false;
  if (running_) return true;
  std::unique_lock lock(queue_->mutex_);
  while (true) {
    if (queue_->TryStart(id_)) {
      running_ = true;
      return true;
    }
    if (abandon && abandon()) return false;
    queue_->changed_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(poll_ms, 1)));
  }
}

AdmissionQueue::AdmissionQueue(AdmissionLimits limits, const Clock& clock)
    : limits_(WithAtLeastOneSlot(limits)), clock_(clock) {}

Result<AdmissionQueue::Ticket> AdmissionQueue::Admit(uint64_t estimated_tokens,
                                                     int64_t deadline_ms) {
  const int64_t now = clock_.NowMs();
  std::lock_guard lock(mutex_);
  if (deadline_ms > 0 && deadline_ms <= now) {
    return Status(StatusCode::kDeadlineExceeded, "deadline has already passed");
  }
  const uint32_t ahead = running_ + static_cast<uint32_t>(waiting_.size());
  if (ahead >= limits_.max_concurrent + limits_.max_queued) {
    return Status::ResourceExhausted("provider is busy: " + std::to_string(running_) +
                                     " tasks running and " + std::to_string(waiting_.size()) +
                                     " queued");
  }
  const double rate = measured_rate_ > 0 ? measured_rate_ : limits_.assumed_tokens_per_second;
  int64_t finish_ms = 0;
  if (rate > 0) {
    // Everything admitted shares the same engine, so work ahead delays this task in full.
    const double seconds = static_cast<double>(admitted_tokens_ + estimated_tokens) / rate;
    finish_ms = now + static_cast<int64_t>(std::ceil(seconds * 1000.0));
    if (deadline_ms > 0 && finish_ms > deadline_ms) {
      return Status(StatusCode::kDeadlineExceeded,
                    "estimated finish in " + std::to_string(finish_ms - now) +
                        " ms misses the deadline in " + std::to_string(deadline_ms - now) + " ms");
    }
  }
  const uint64_t id = next_id_++;
  waiting_.push_back(id);
  admitted_tokens_ += estimated_tokens;
  // Tasks that must finish before this one gets a run slot.
  const uint32_t position =
      ahead >= limits_.max_concurrent ? ahead + 1 - limits_.max_concurrent : 0;
  return Ticket(this, id, estimated_tokens, position, finish_ms);
}

bool AdmissionQueue::TryStart(uint64_t id) {
  if (running_ >= limits_.max_concurrent || waiting_.empty() || waiting_.front() != id) {
    return false;
  }
  waiting_.pop_front();
  ++running_;
  changed_.notify_all();  // the next in line may also fit
  return true;
}

void AdmissionQueue::Release(uint64_t id, uint64_t tokens, bool running) {
  std::lock_guard lock(mutex_);
  if (running) {
    --running_;
  } else {
    auto it = std::find(waiting_.begin(), waiting_.end(), id);
    if (it != waiting_.end()) waiting_.erase(it);
  }
  admitted_tokens_ -= std::min(admitted_tokens_, tokens);
  changed_.notify_all();
}

void AdmissionQueue::RecordThroughput(uint64_t tokens, double seconds) {
  if (tokens == 0 || !(seconds > 0)) return;
  const double rate = static_cast<double>(tokens) / seconds;
  std::lock_guard lock(mutex_);
  measured_rate_ = measured_rate_ > 0 ? 0.8 * measured_rate_ + 0.2 * rate : rate;
}

double AdmissionQueue::tokens_per_second() const {
  std::lock_guard lock(mutex_);
  return measured_rate_ > 0 ? measured_rate_ : limits_.assumed_tokens_per_second;
}

uint32_t AdmissionQueue::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

uint32_t AdmissionQueue::waiting() const {
  std::lock_guard lock(mutex_);
  return static_cast<uint32_t>(waiting_.size());
}

}  // namespace infernet::provider
