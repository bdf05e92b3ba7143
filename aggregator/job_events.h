// One client's view of a job: the events the coordinator pushes, read by the gRPC handler that
// streams them. Closed after the summary (or when the aggregator stops).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "infernet/v1/aggregator.pb.h"

namespace infernet::aggregator {

class JobEventQueue {
 public:
  void Push(v1::JobEvent event);
  void Close();
  // The next event; nullopt when closed and drained, or after `timeout` with nothing new (then
  // `*timed_out` is set).
  std::optional<v1::JobEvent> Pop(std::chrono::milliseconds timeout, bool* timed_out);
  bool closed() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<v1::JobEvent> events_;
  bool closed_ = false;
};

}  // namespace infernet::aggregator
