// Clocks as values, so protocol logic (freshness windows, TTLs, deadlines) is testable without
// sleeping: production code takes a Clock&, tests pass a ManualClock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace infernet {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, Unix milliseconds. Thread-safe.
  virtual int64_t NowMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static const SystemClock& Instance() {
    static const SystemClock clock;
    return clock;
  }
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ms) : now_ms_(now_ms) {}
  int64_t NowMs() const override { return now_ms_.load(); }
  void AdvanceMs(int64_t ms) { now_ms_ += ms; }
  void SetMs(int64_t ms) { now_ms_ = ms; }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace infernet
