#include "aggregator/job_store.h"

#include <algorithm>
#include <cstring>

namespace infernet::aggregator {
namespace {

constexpr int kSchemaVersion = 1;
constexpr int kBusyTimeoutMs = 5000;

const char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS jobs(
  job_id BLOB PRIMARY KEY,
  request BLOB NOT NULL,
  state INTEGER NOT NULL,
  failure TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS shards(
  job_id BLOB NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
  first_index INTEGER NOT NULL,
  count INTEGER NOT NULL,
  provider BLOB NOT NULL,
  attempts INTEGER NOT NULL,
  failed_attempts TEXT NOT NULL,
  task_request BLOB NOT NULL,
  task_result BLOB NOT NULL,
  outputs BLOB NOT NULL,
  started_ms INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL,
  PRIMARY KEY(job_id, first_index));
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, created_ms);
)sql";

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Status status(const std::string& what) const {
    if (rc_ == SQLITE_OK) return Status::Ok();
    return Status::Io(what + ": " + sqlite3_errmsg(db_));
  }
  void Blob(int i, const std::string& bytes) {
    sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  }
  void Text(int i, const std::string& text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void Int(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  int Step() { return sqlite3_step(stmt_); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string ColumnBlob(int i) const {
    const void* data = sqlite3_column_blob(stmt_, i);
    const int n = sqlite3_column_bytes(stmt_, i);
    return data ? std::string(static_cast<const char*>(data), static_cast<size_t>(n)) : "";
  }
  int64_t ColumnInt(int i) const { return sqlite3_column_int64(stmt_, i); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

std::string Serialize(const google::protobuf::Message& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

// Outputs as (4-byte little-endian length, serialized TaskOutput)*.
std::string EncodeOutputs(const std::vector<v1::TaskOutput>& outputs) {
  std::string out;
  for (const v1::TaskOutput& o : outputs) {
    const std::string bytes = Serialize(o);
    const uint32_t n = static_cast<uint32_t>(bytes.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    out += bytes;
  }
  return out;
}

bool DecodeOutputs(const std::string& blob, std::vector<v1::TaskOutput>* outputs) {
  size_t pos = 0;
  while (pos < blob.size()) {
    if (blob.size() - pos < 4) return false;
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n |= uint32_t{static_cast<uint8_t>(blob[pos + i])} << (8 * i);
    pos += 4;
    if (n > blob.size() - pos) return false;
    if (!outputs->emplace_back().ParseFromArray(blob.data() + pos, static_cast<int>(n))) {
      return false;
    }
    pos += n;
  }
  return true;
}

std::string JoinNotes(const std::vector<std::string>& notes) {
  std::string out;
  for (const std::string& note : notes) {
    std::string line = note;
    std::replace(line.begin(), line.end(), '\n', ' ');
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

std::vector<std::string> SplitNotes(const std::string& text) {
  std::vector<std::string> notes;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    notes.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return notes;
}

Status Corrupt(const std::string& job_id_hex_context, const char* column) {
  return Status::Corrupt("job store: " + job_id_hex_context + " has a corrupt " + column);
}

}  // namespace

Result<std::unique_ptr<JobStore>> JobStore::Open(const std::filesystem::path& path) {
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::Io("cannot open job store " + path.string() + ": " + message);
  }
  std::unique_ptr<JobStore> store(new JobStore(db));
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  int version = 0;
  {
    Statement get(db, "PRAGMA user_version");
    INFERNET_RETURN_IF_ERROR(get.status("reading the schema version of " + path.string()));
    if (get.Step() != SQLITE_ROW) {
      return Status::Io("cannot read the schema version of " + path.string() + ": " +
                        sqlite3_errmsg(db));
    }
    version = static_cast<int>(get.ColumnInt(0));
  }
  if (version > kSchemaVersion) {
    return Status::InvalidArgument("job store " + path.string() + " has schema version " +
                                   std::to_string(version) + ", newer than this software's " +
                                   std::to_string(kSchemaVersion));
  }
  INFERNET_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  INFERNET_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=NORMAL"));
  INFERNET_RETURN_IF_ERROR(store->Exec("PRAGMA foreign_keys=ON"));
  INFERNET_RETURN_IF_ERROR(store->Exec("PRAGMA cache_size=-32768"));  // 32 MiB of pages
  INFERNET_RETURN_IF_ERROR(store->Exec(kSchema));
  INFERNET_RETURN_IF_ERROR(
      store->Exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str()));
  return store;
}

JobStore::~JobStore() { sqlite3_close(db_); }

Status JobStore::Exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    return Status::Io(std::string("job store: ") + message);
  }
  return Status::Ok();
}

Status JobStore::CreateJob(const std::string& job_id, const v1::SignedEnvelope& request,
                           int64_t now_ms) {
  std::lock_guard lock(mutex_);
  Statement insert(db_, "INSERT INTO jobs(job_id, request, state, created_ms) VALUES(?, ?, 0, ?)");
  INFERNET_RETURN_IF_ERROR(insert.status("job store: preparing a job insert"));
  insert.Blob(1, job_id);
  insert.Blob(2, Serialize(request));
  insert.Int(3, now_ms);
  const int rc = insert.Step();
  if (rc == SQLITE_CONSTRAINT) return Status(StatusCode::kAlreadyExists, "job already stored");
  if (rc != SQLITE_DONE) return Status::Io(std::string("job store: ") + sqlite3_errmsg(db_));
  return Status::Ok();
}

Status JobStore::RecordShards(const std::vector<std::pair<std::string, StoredShard>>& shards) {
  std::lock_guard lock(mutex_);
  INFERNET_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Status s = RecordShardsLocked(shards);
  if (!s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  return Exec("COMMIT");
}

Status JobStore::RecordShardsLocked(
    const std::vector<std::pair<std::string, StoredShard>>& shards) {
  Statement job_exists(db_, "SELECT 1 FROM jobs WHERE job_id = ?");
  // Stored shards never overlap, so only the last one starting before this one's end can: one
  // descending step on the primary key, not a scan.
  Statement overlap(db_,
                    "SELECT first_index + count FROM shards WHERE job_id = ? AND first_index < ? "
                    "ORDER BY first_index DESC LIMIT 1");
  Statement insert(db_,
                   "INSERT INTO shards(job_id, first_index, count, provider, attempts, "
                   "failed_attempts, task_request, task_result, outputs, started_ms, finished_ms) "
                   "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  INFERNET_RETURN_IF_ERROR(insert.status("job store: preparing a shard insert"));
  INFERNET_RETURN_IF_ERROR(overlap.status("job store: preparing a shard check"));
  INFERNET_RETURN_IF_ERROR(job_exists.status("job store: preparing a job check"));
  for (const auto& [job_id, shard] : shards) {
    job_exists.Reset();
    job_exists.Blob(1, job_id);
    if (job_exists.Step() != SQLITE_ROW) return Status::NotFound("job store: unknown job");
    overlap.Reset();
    overlap.Blob(1, job_id);
    overlap.Int(2, int64_t{shard.first_index} + shard.count);
    if (overlap.Step() == SQLITE_ROW && overlap.ColumnInt(0) > shard.first_index) {
      return Status(StatusCode::kAlreadyExists,
                    "job store: inputs [" + std::to_string(shard.first_index) + ", " +
                        std::to_string(shard.first_index + shard.count) +
                        ") overlap a stored shard");
    }
    insert.Reset();
    insert.Blob(1, job_id);
    insert.Int(2, shard.first_index);
    insert.Int(3, shard.count);
    insert.Blob(4, std::string(shard.provider.bytes.begin(), shard.provider.bytes.end()));
    insert.Int(5, shard.attempts);
    insert.Text(6, JoinNotes(shard.failed_attempts));
    insert.Blob(7, Serialize(shard.task_request));
    insert.Blob(8, Serialize(shard.task_result));
    insert.Blob(9, EncodeOutputs(shard.outputs));
    insert.Int(10, shard.started_ms);
    insert.Int(11, shard.finished_ms);
    if (insert.Step() != SQLITE_DONE) {
      return Status::Io(std::string("job store: storing a shard: ") + sqlite3_errmsg(db_));
    }
  }
  return Status::Ok();
}

Status JobStore::FinishJob(const std::string& job_id, JobState state, const std::string& failure,
                           int64_t now_ms) {
  std::lock_guard lock(mutex_);
  Statement update(db_, "UPDATE jobs SET state = ?, failure = ?, finished_ms = ? WHERE job_id = ?");
  INFERNET_RETURN_IF_ERROR(update.status("job store: preparing a job update"));
  update.Int(1, static_cast<int64_t>(state));
  update.Text(2, failure);
  update.Int(3, now_ms);
  update.Blob(4, job_id);
  if (update.Step() != SQLITE_DONE)
    return Status::Io(std::string("job store: ") + sqlite3_errmsg(db_));
  if (sqlite3_changes(db_) == 0) return Status::NotFound("job store: unknown job");
  return Status::Ok();
}

namespace {

Result<StoredJob> ReadJobRow(const Statement& row) {
  StoredJob job;
  job.job_id = row.ColumnBlob(0);
  if (!job.request.ParseFromString(row.ColumnBlob(1))) return Corrupt("a job", "request");
  const int64_t state = row.ColumnInt(2);
  if (state < 0 || state > 2) return Corrupt("a job", "state");
  job.state = static_cast<JobState>(state);
  job.failure = row.ColumnBlob(3);
  job.created_ms = row.ColumnInt(4);
  job.finished_ms = row.ColumnInt(5);
  return job;
}

}  // namespace

Result<StoredJob> JobStore::Job(const std::string& job_id) const {
  std::lock_guard lock(mutex_);
  Statement select(db_,
                   "SELECT job_id, request, state, failure, created_ms, finished_ms FROM jobs "
                   "WHERE job_id = ?");
  INFERNET_RETURN_IF_ERROR(select.status("job store: preparing a job query"));
  select.Blob(1, job_id);
  const int rc = select.Step();
  if (rc == SQLITE_DONE) return Status::NotFound("job store: unknown job");
  if (rc != SQLITE_ROW) return Status::Io(std::string("job store: ") + sqlite3_errmsg(db_));
  return ReadJobRow(select);
}

Result<std::vector<StoredJob>> JobStore::UnfinishedJobs() const {
  std::lock_guard lock(mutex_);
  Statement select(db_,
                   "SELECT job_id, request, state, failure, created_ms, finished_ms FROM jobs "
                   "WHERE state = 0 ORDER BY created_ms");
  INFERNET_RETURN_IF_ERROR(select.status("job store: preparing a job query"));
  std::vector<StoredJob> jobs;
  int rc;
  while ((rc = select.Step()) == SQLITE_ROW) {
    INFERNET_ASSIGN_OR_RETURN(StoredJob job, ReadJobRow(select));
    jobs.push_back(std::move(job));
  }
  if (rc != SQLITE_DONE) return Status::Io(std::string("job store: ") + sqlite3_errmsg(db_));
  return jobs;
}

Result<std::vector<StoredShard>> JobStore::Shards(const std::string& job_id) const {
  std::lock_guard lock(mutex_);
  Statement select(db_,
                   "SELECT first_index, count, provider, attempts, failed_attempts, task_request, "
                   "task_result, outputs, started_ms, finished_ms FROM shards WHERE job_id = ? "
                   "ORDER BY first_index");
  INFERNET_RETURN_IF_ERROR(select.status("job store: preparing a shard query"));
  select.Blob(1, job_id);
  std::vector<StoredShard> shards;
  int rc;
  while ((rc = select.Step()) == SQLITE_ROW) {
    StoredShard& shard = shards.emplace_back();
    shard.first_index = static_cast<uint32_t>(select.ColumnInt(0));
    shard.count = static_cast<uint32_t>(select.ColumnInt(1));
    const std::string provider = select.ColumnBlob(2);
    if (provider.size() != shard.provider.bytes.size()) return Corrupt("a shard", "provider");
    std::memcpy(shard.provider.bytes.data(), provider.data(), provider.size());
    shard.attempts = static_cast<uint32_t>(select.ColumnInt(3));
    shard.failed_attempts = SplitNotes(select.ColumnBlob(4));
    if (!shard.task_request.ParseFromString(select.ColumnBlob(5))) {
      return Corrupt("a shard", "task_request");
    }
    if (!shard.task_result.ParseFromString(select.ColumnBlob(6))) {
      return Corrupt("a shard", "task_result");
    }
    if (!DecodeOutputs(select.ColumnBlob(7), &shard.outputs) ||
        shard.outputs.size() != shard.count) {
      return Corrupt("a shard", "outputs");
    }
    shard.started_ms = select.ColumnInt(8);
    shard.finished_ms = select.ColumnInt(9);
  }
  if (rc != SQLITE_DONE) return Status::Io(std::string("job store: ") + sqlite3_errmsg(db_));
  return shards;
}

Result<size_t> JobStore::PruneFinished(int64_t before_ms) {
  std::lock_guard lock(mutex_);
  Statement remove(db_, "DELETE FROM jobs WHERE state != 0 AND finished_ms < ?");
  INFERNET_RETURN_IF_ERROR(remove.status("job store: preparing a prune"));
  remove.Int(1, before_ms);
  if (remove.Step() != SQLITE_DONE)
    return Status::Io(std::string("job store: ") + sqlite3_errmsg(db_));
  return static_cast<size_t>(sqlite3_changes(db_));
}

}  // namespace infernet::aggregator
