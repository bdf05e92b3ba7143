// The aggregator's durable job state, in SQLite (WAL journal): each job's signed request and
// state, and every verified shard with the aggregator's signed task request, the provider's signed
// result and the outputs. A restarted aggregator reads its unfinished jobs back and resumes them
// without redoing stored shards; a client re-attaching to a finished job gets it replayed.
//
// Shards are written in batches (one transaction each): the coordinator persists every shard
// verified in one pass of its loop together, a group commit that keeps up with high dispatch
// rates. Thread-safe (one internal mutex).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/identity.h"
#include "core/result.h"
#include "infernet/v1/envelope.pb.h"
#include "infernet/v1/task.pb.h"

namespace infernet::aggregator {

enum class JobState { kRunning = 0, kSucceeded = 1, kFailed = 2 };

struct StoredJob {
  std::string job_id;          // 16 bytes, opaque
  v1::SignedEnvelope request;  // the client's signed job request exactly as received
  JobState state = JobState::kRunning;
  std::string failure;  // why it failed (kFailed)
  int64_t created_ms = 0, finished_ms = 0;
};

struct StoredShard {         // one completed, verified shard
  uint32_t first_index = 0;  // job input indices [first_index, first_index + count)
  uint32_t count = 0;
  NodeId provider{};
  uint32_t attempts = 1;                     // dispatches it took (copies included)
  std::vector<std::string> failed_attempts;  // "<provider prefix>: <why>"
  v1::SignedEnvelope task_request;           // the aggregator's signed TaskRequest
  v1::SignedEnvelope task_result;            // the provider's signed TaskResult
  std::vector<v1::TaskOutput> outputs;       // count outputs, in index order
  int64_t started_ms = 0, finished_ms = 0;
};

class JobStore {
 public:
  // Opens or creates the database, creating the schema or checking its version (a database
  // written by a newer schema is refused).
  static Result<std::unique_ptr<JobStore>> Open(const std::filesystem::path& path);
  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  // kAlreadyExists when the job id is stored already.
  Status CreateJob(const std::string& job_id, const v1::SignedEnvelope& request, int64_t now_ms);
  // Records a batch of shards atomically. A shard overlapping indices already stored for its job
  // is refused (kAlreadyExists) and nothing of the batch is written; unknown job → kNotFound.
  Status RecordShards(const std::vector<std::pair<std::string, StoredShard>>& shards);
  Status FinishJob(const std::string& job_id, JobState state, const std::string& failure,
                   int64_t now_ms);
  Result<StoredJob> Job(const std::string& job_id) const;  // kNotFound
  Result<std::vector<StoredJob>> UnfinishedJobs() const;   // state kRunning, oldest first
  Result<std::vector<StoredShard>> Shards(const std::string& job_id) const;  // by first_index
  // Removes finished jobs that ended before `before_ms`, with their shards; returns how many.
  Result<size_t> PruneFinished(int64_t before_ms);

 private:
  explicit JobStore(sqlite3* db) : db_(db) {}
  Status Exec(const char* sql);
  Status RecordShardsLocked(const std::vector<std::pair<std::string, StoredShard>>& shards);

  sqlite3* db_;
  mutable std::mutex mutex_;
};

}  // namespace infernet::aggregator
