// Finds providers: fetches the records under the all-providers key or a model's key, keeps the
// valid ones (record_validation.h) and filters them by model and GPU memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "discovery/record_store.h"
#include "discovery/record_validation.h"

namespace infernet::discovery {

struct ProviderQuery {
  // 32-byte content hash: look under that model's key and keep providers offering it. Empty: all
  // providers.
  std::string model_hash;
  // Keep providers with at least one GPU of this much memory (0: no constraint, CPU-only too).
  uint64_t min_gpu_vram_bytes = 0;
  std::chrono::milliseconds timeout{10000};
};

struct ProviderLookupResult {
  std::vector<ProviderRecord> providers;  // valid, newest per node, matching the query
  IgnoredRecords ignored;                 // invalid values, by reason
  size_t filtered_out = 0;                // valid records that did not match the query
  bool complete = false;                  // false: the DHT search was cut short by the timeout
};

class ProviderLookup {
 public:
  // `store` and `clock` must outlive the lookup. Thread-safe if `store` is.
  ProviderLookup(RecordStore& store, const Clock& clock, RecordValidationPolicy policy = {})
      : store_(store), clock_(clock), policy_(policy) {}

  // kInvalidArgument for a model hash that is not 32 bytes; store errors otherwise.
  Result<ProviderLookupResult> Find(const ProviderQuery& query) const;

 private:
  RecordStore& store_;
  const Clock& clock_;
  RecordValidationPolicy policy_;
};

// Whether `record` offers `model_hash` / has a GPU with at least `min_vram` bytes.
bool OffersModel(const v1::NodeRecord& record, const std::string& model_hash);
bool HasGpuWithVram(const v1::NodeRecord& record, uint64_t min_vram);

}  // namespace infernet::discovery
