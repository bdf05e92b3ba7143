// Remembers (author, nonce) pairs for as long as a claim could still be fresh, so a replayed
// claim is refused while an expired one is refused as stale. Bounded: when full, the oldest
// entries are dropped and, to stay safe, claims older than the oldest kept entry are refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/identity.h"
#include "core/status.h"

namespace infernet::net {

class ReplayGuard {
 public:
  // `window_ms`: how long a nonce is remembered (≥ max age + max future skew of the freshness
  // policy). `capacity`: most entries kept.
  ReplayGuard(int64_t window_ms, size_t capacity);

  // OK and records the pair when it is new; kAlreadyExists ("replayed ...") when seen before.
  // kOutOfRange ("stale ...") when `timestamp_ms` is older than the guard can vouch for: outside
  // the window, or not newer than an entry dropped for capacity. Thread-safe.
  Status CheckAndRecord(const NodeId& author, const std::string& nonce, int64_t timestamp_ms,
                        int64_t now_ms);

  size_t size() const;

 private:
  void DropExpired(int64_t now_ms);  // REQUIRES: mu_ held

  const int64_t window_ms_;
  const size_t capacity_;
  mutable std::mutex mu_;
  // Key: author ID bytes || nonce. Indexed both ways: by key to detect replays, by claim
  // timestamp to expire and evict the oldest first.
  std::unordered_map<std::string, int64_t> timestamp_by_key_;
  std::set<std::pair<int64_t, std::string>> keys_by_timestamp_;
  // Claims with timestamps at or below this were possibly seen and forgotten (capacity eviction).
  int64_t forgotten_up_to_ms_;
};

}  // namespace infernet::net
