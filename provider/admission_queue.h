// Admission control for tasks: at most `max_concurrent` run at once and at most `max_queued` wait
// behind them; a task that does not fit is refused at once (OVERLOADED) rather than left to time
// out, so the client can go to another provider. A task whose deadline the provider estimates it
// cannot meet (all work ahead of it plus its own, at the measured or configured token rate) is
// refused too (DEADLINE_UNMEETABLE).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

#include "core/clock.h"
#include "core/result.h"

namespace infernet::provider {

struct AdmissionLimits {
  uint32_t max_concurrent = 1;  // >= 1
  uint32_t max_queued = 8;      // tasks waiting behind the running ones
  // Throughput assumed until one is measured (tokens per second); 0 = no estimate, so deadlines
  // are only checked against "already passed" until the first task finishes.
  double assumed_tokens_per_second = 0;
};

class AdmissionQueue {
 public:
  // A place in the queue. Move-only; destroying it (run or not) frees the place.
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

    // Tasks that had to finish before this one could start, when admitted (0 = a slot was free).
    uint32_t queue_position() const { return queue_position_; }
    // Unix ms by which the task is estimated to finish; 0 when no rate is known.
    int64_t estimated_finish_ms() const { return estimated_finish_ms_; }

    // Blocks until this task holds a run slot (true), or until `abandon()` returns true (false).
    // `abandon` is polled every `poll_ms` while waiting (e.g. a cancelled RPC).
    bool WaitForTurn(const std::function<bool()>& abandon, int64_t poll_ms = 20);

   private:
    friend class AdmissionQueue;
    Ticket(AdmissionQueue* queue, uint64_t id, uint64_t tokens, uint32_t position,
           int64_t finish_ms)
        : queue_(queue),
          id_(id),
          tokens_(tokens),
          queue_position_(position),
          estimated_finish_ms_(finish_ms) {}
    AdmissionQueue* queue_ = nullptr;  // null once moved from
    uint64_t id_ = 0;
    uint64_t tokens_ = 0;
    uint32_t queue_position_ = 0;
    int64_t estimated_finish_ms_ = 0;
    bool running_ = false;
  };

  // `clock` must outlive this object, and this object every Ticket it issued.
  AdmissionQueue(AdmissionLimits limits, const Clock& clock);

  // Admits a task of about `estimated_tokens` tokens of work that must finish by `deadline_ms`
  // (Unix ms; <= 0 means none). Errors: kResourceExhausted (→ OVERLOADED) when running and queued
  // places are all taken; kDeadlineExceeded (→ DEADLINE_UNMEETABLE) when the deadline has passed
  // or the estimate misses it. Thread-safe.
  Result<Ticket> Admit(uint64_t estimated_tokens, int64_t deadline_ms);

  // Feeds a finished task's throughput into the rate estimate (exponential moving average).
  void RecordThroughput(uint64_t tokens, double seconds);

  double tokens_per_second() const;
  uint32_t running() const;
  uint32_t waiting() const;

 private:
  void Release(uint64_t id, uint64_t tokens, bool running);
  bool TryStart(uint64_t id);

  const AdmissionLimits limits_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t next_id_ = 1;
  uint32_t running_ = 0;
  std::deque<uint64_t> waiting_;  // ids in arrival order
  uint64_t admitted_tokens_ = 0;  // work of all running and waiting tasks
  double measured_rate_ = 0;      // tokens/s, 0 until measured
};

}  // namespace infernet::provider
