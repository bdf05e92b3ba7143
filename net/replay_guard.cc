#include "net/replay_guard.h"

#include <algorithm>
#include <limits>

namespace infernet::net {

ReplayGuard::ReplayGuard(int64_t window_ms, size_t capacity)
    : window_ms_(window_ms),
      capacity_(capacity == 0 ? 1 : capacity),
      forgotten_up_to_ms_(std::numeric_limits<int64_t>::min()) {}

void ReplayGuard::DropExpired(int64_t now_ms) {
  const int64_t oldest_kept = now_ms - window_ms_;
  while (!keys_by_timestamp_.empty() && keys_by_timestamp_.begin()->first < oldest_kept) {
    timestamp_by_key_.erase(keys_by_timestamp_.begin()->second);
    keys_by_timestamp_.erase(keys_by_timestamp_.begin());
  }
}

Status ReplayGuard::CheckAndRecord(const NodeId& author, const std::string& nonce,
                                   int64_t timestamp_ms, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  DropExpired(now_ms);
  // A claim older than the window may have been seen and already forgotten.
  if (timestamp_ms < now_ms - window_ms_) {
    return Status::OutOfRange("stale claim: older than the " + std::to_string(window_ms_) +
                              " ms replay window");
  }
  std::string key(reinterpret_cast<const char*>(author.bytes.data()), author.bytes.size());
  key += nonce;
  if (timestamp_by_key_.contains(key)) {
    return Status(StatusCode::kAlreadyExists,
                  "replayed claim: nonce already seen from " + author.ShortHex());
  }
  if (timestamp_ms <= forgotten_up_to_ms_) {
    return Status::OutOfRange(
        "stale claim: not newer than claims the replay guard dropped when full");
  }
  while (timestamp_by_key_.size() >= capacity_) {
    auto oldest = keys_by_timestamp_.begin();
    forgotten_up_to_ms_ = std::max(forgotten_up_to_ms_, oldest->first);
    timestamp_by_key_.erase(oldest->second);
    keys_by_timestamp_.erase(oldest);
  }
  timestamp_by_key_.emplace(key, timestamp_ms);
  keys_by_timestamp_.emplace(timestamp_ms, std::move(key));
  return Status::Ok();
}

size_t ReplayGuard::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return timestamp_by_key_.size();
}

}  // namespace infernet::net
