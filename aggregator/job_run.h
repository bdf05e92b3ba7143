// The state of one job inside the coordinator: which input ranges are pending, running and done,
// how shards are cut (by cost, to the picked provider's speed), and which done shards can be
// streamed next in input order. No threads, no I/O: the coordinator drives it under its lock.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aggregator/job_events.h"
#include "aggregator/job_store.h"
#include "infernet/v1/aggregator.pb.h"

namespace infernet::aggregator {

// A job id for logs.
std::string JobIdHex(const std::string& job_id);

struct InputRange {
  uint32_t first = 0;
  uint32_t count = 0;
  uint32_t end() const { return first + count; }
  bool operator<(const InputRange& o) const { return first < o.first; }
};

class JobRun {
 public:
  JobRun(std::string job_id, v1::JobRequest request, v1::SignedEnvelope envelope,
         uint64_t model_bytes, int64_t started_ms);

  const std::string& job_id() const { return job_id_; }
  const v1::JobRequest& request() const { return request_; }
  const v1::SignedEnvelope& envelope() const { return envelope_; }
  uint32_t inputs_total() const { return static_cast<uint32_t>(request_.inputs_size()); }
  uint64_t model_bytes() const { return model_bytes_; }
  void set_model_bytes(uint64_t bytes) { model_bytes_ = bytes; }

  // Marks stored shards (a restarted aggregator) done; they are streamed again on attach.
  void Restore(std::vector<StoredShard> shards);

  bool HasPending() const { return !pending_.empty(); }
  // Cuts the next shard from the lowest pending inputs: as many as fit in `budget_units`, at
  // least one.
  InputRange TakeShard(double budget_units);
  // Gives a range back after its last live attempt failed.
  void ReturnRange(const InputRange& range);
  double RangeCost(const InputRange& range) const;

  // Attempts alive for a range (a dispatched shard and its speculative copies).
  uint32_t& live_attempts(uint32_t first) { return live_[first]; }
  uint32_t& failures(uint32_t first) { return failures_[first]; }
  std::vector<std::string>& failure_notes(uint32_t first) { return notes_[first]; }
  std::set<NodeId>& tried(uint32_t first) { return tried_[first]; }
  uint32_t& dispatches_of(uint32_t first) { return dispatches_by_range_[first]; }

  bool IsDone(uint32_t first) const { return done_.count(first) > 0; }
  void MarkDone(StoredShard shard);
  uint32_t inputs_done() const { return inputs_done_; }
  bool complete() const { return inputs_done_ == inputs_total(); }
  const std::map<uint32_t, StoredShard>& done() const { return done_; }

  // Events for shards that became streamable (contiguous from the start), in order; advances the
  // stream position. With `build` false only the position advances (nobody to send them to).
  std::vector<v1::JobEvent> TakeStreamableEvents(bool build);
  // Events replaying every shard streamed so far (for a client that attaches).
  std::vector<v1::JobEvent> ReplayEvents() const;
  // The streamed-shard events of `shard`: ShardDone then its outputs.
  static void AppendShardEvents(const StoredShard& shard, std::vector<v1::JobEvent>* events);

  std::vector<std::shared_ptr<JobEventQueue>>& subscribers() { return subscribers_; }
  // Ids of this job's live attempts (the coordinator keeps the attempts themselves).
  std::set<uint64_t>& attempt_ids() { return attempt_ids_; }

  // Counters for the summary.
  uint32_t dispatches = 0, retries = 0, speculative = 0;
  int64_t started_ms = 0;
  int64_t no_capacity_since_ms = 0;  // 0: capacity available

 private:
  std::string job_id_;
  v1::JobRequest request_;
  v1::SignedEnvelope envelope_;
  uint64_t model_bytes_;
  std::vector<double> input_cost_;
  std::set<InputRange> pending_;
  std::map<uint32_t, StoredShard> done_;
  uint32_t inputs_done_ = 0;
  uint32_t stream_next_ = 0;  // first input not yet streamed
  std::map<uint32_t, uint32_t> live_, failures_, dispatches_by_range_;
  std::map<uint32_t, std::vector<std::string>> notes_;
  std::map<uint32_t, std::set<NodeId>> tried_;
  std::vector<std::shared_ptr<JobEventQueue>> subscribers_;
  std::set<uint64_t> attempt_ids_;
};

}  // namespace infernet::aggregator
