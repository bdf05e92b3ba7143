// The storage the discovery layer needs from a DHT: put a small value under a key (replacing the
// caller's previous value with the same id) and fetch every value stored under a key. DhtNode is
// the real implementation; tests substitute an in-memory one to drive publishers and lookups
// deterministically.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace infernet::discovery {

// Largest value accepted by Put and returned by Get. OpenDHT refuses values above 64 KiB
// (including its own packing overhead), so we stay clearly below.
inline constexpr size_t kMaxRecordValueBytes = 60 * 1024;

struct RecordStoreGet {
  std::vector<std::string> values;  // distinct values, in arrival order
  bool complete = false;            // false: the timeout cut the search short
};

class RecordStore {
 public:
  virtual ~RecordStore() = default;

  // Stores `bytes` under `key` with `value_id` (non-zero). A later Put with the same key and
  // value id replaces the value instead of adding one. kInvalidArgument for an empty key, id 0
  // or a value above kMaxRecordValueBytes. Blocks for at most `timeout`.
  virtual Status Put(std::string_view key, std::string bytes, uint64_t value_id,
                     std::chrono::milliseconds timeout) = 0;

  // Every value found under `key` within `timeout`: when the timeout elapses first, what arrived
  // so far with complete = false (not an error). Values above kMaxRecordValueBytes are dropped.
  virtual Result<RecordStoreGet> Get(std::string_view key, std::chrono::milliseconds timeout) = 0;
};

}  // namespace infernet::discovery
