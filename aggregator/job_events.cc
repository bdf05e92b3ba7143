#include "aggregator/job_events.h"

namespace infernet::aggregator {

void JobEventQueue::Push(v1::JobEvent event) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    events_.push_back(std::move(event));
  }
  ready_.notify_all();
}

void JobEventQueue::Close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
}

bool JobEventQueue::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::optional<v1::JobEvent> JobEventQueue::Pop(std::chrono::milliseconds timeout, bool* timed_out) {
  std::unique_lock lock(mutex_);
  *timed_out = !ready_.wait_for(lock, timeout, [&] { return !events_.empty() || closed_; });
  if (events_.empty()) return std::nullopt;
  v1::JobEvent event = std::move(events_.front());
  events_.pop_front();
  return event;
}

}  // namespace infernet::aggregator
