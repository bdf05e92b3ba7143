// Keeps a provider's signed record published under the all-providers key and one key per model it
// offers, re-publishing before the record expires. Time is driven from outside: a runner thread
// (or a test with a ManualClock) calls Tick(), which publishes when due and never sleeps.
//
// Threading: not thread-safe; one thread calls SetDescription and Tick. Tick blocks for at most
// one put timeout per key.
#pragma once

#include <chrono>
#include <cstdint>

#include "core/clock.h"
#include "core/identity.h"
#include "discovery/record_builder.h"
#include "discovery/record_store.h"

namespace infernet::discovery {

struct PublisherOptions {
  int64_t ttl_ms = kDefaultRecordTtlMs;
  // Re-publish when this fraction of the TTL has passed (docs/protocol.md §3: half).
  double republish_fraction = 0.5;
  // After a failed publication, try again this much later (capped by the re-publish interval).
  int64_t retry_ms = 15 * 1000;
  std::chrono::milliseconds put_timeout{10000};
};

class RecordPublisher {
 public:
  // `store`, `identity` and `clock` must outlive the publisher.
  RecordPublisher(RecordStore& store, const NodeIdentity& identity, const Clock& clock,
                  PublisherOptions options = {});

  // Replaces what the record says; the next Tick publishes it.
  void SetDescription(ProviderDescription description);

  // Publishes a fresh record under every key when one is due (first Tick after SetDescription,
  // re-publication interval reached, or retry after a failure); otherwise does nothing. Returns
  // the first put error (the record may still have reached some keys); OK when nothing was due.
  Status Tick();

  // Clock time at which the next Tick will publish (INT64_MAX before SetDescription).
  int64_t next_publish_ms() const { return next_publish_ms_; }
  // Number of successful publications (all keys OK).
  uint64_t publications() const { return publications_; }

 private:
  RecordStore& store_;
  const NodeIdentity& identity_;
  const Clock& clock_;
  PublisherOptions options_;
  ProviderDescription description_;
  bool has_description_ = false;
  int64_t next_publish_ms_;
  uint64_t publications_ = 0;
};

}  // namespace infernet::discovery
