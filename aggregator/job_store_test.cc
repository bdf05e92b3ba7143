// The job store: what an aggregator needs back after a restart, exactly as it was written, and
// refusals that keep the stored state consistent.
#include "aggregator/job_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

namespace infernet::aggregator {
namespace {

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("job_store_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    auto store = JobStore::Open(dir_ / "jobs.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  static v1::SignedEnvelope Envelope(const std::string& body) {
    v1::SignedEnvelope e;
    e.set_protocol_version(1);
    e.set_kind("infernet.v1.JobRequest");
    e.set_body(body);
    e.set_signature(std::string(64, 's'));
    return e;
  }
  static StoredShard Shard(uint32_t first, uint32_t count) {
    StoredShard shard;
    shard.first_index = first;
    shard.count = count;
    shard.provider.bytes.fill(static_cast<uint8_t>(first + 1));
    shard.attempts = 2;
    shard.failed_attempts = {"aaaa: timed out", "bbbb: INTERNAL: boom\nsecond line"};
    shard.task_request = Envelope("request " + std::to_string(first));
    shard.task_result = Envelope("result " + std::to_string(first));
    for (uint32_t i = first; i < first + count; ++i) {
      v1::TaskOutput& o = shard.outputs.emplace_back();
      o.set_index(i);
      o.set_text("text " + std::to_string(i));
      o.add_tokens(i);
    }
    shard.started_ms = 100 + first;
    shard.finished_ms = 200 + first;
    return shard;
  }

  std::filesystem::path dir_;
  std::unique_ptr<JobStore> store_;
  const std::string job_ = std::string(16, 'j');
};

TEST_F(JobStoreTest, JobsAndShardsSurviveAReopenByteForByte) {
  ASSERT_TRUE(store_->CreateJob(job_, Envelope("the job"), 42).ok());
  ASSERT_TRUE(store_->RecordShards({{job_, Shard(5, 3)}, {job_, Shard(0, 5)}}).ok());
  Reopen();  // the restart case
  auto job = store_->Job(job_);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->request.SerializeAsString(), Envelope("the job").SerializeAsString());
  EXPECT_EQ(job->state, JobState::kRunning);
  EXPECT_EQ(job->created_ms, 42);
  auto shards = store_->Shards(job_);
  ASSERT_TRUE(shards.ok());
  ASSERT_EQ(shards->size(), 2u);
  EXPECT_EQ((*shards)[0].first_index, 0u);  // by first index, whatever the write order
  const StoredShard expected = Shard(5, 3);
  const StoredShard& got = (*shards)[1];
  EXPECT_EQ(got.count, 3u);
  EXPECT_EQ(got.provider, expected.provider);
  EXPECT_EQ(got.attempts, 2u);
  EXPECT_EQ(got.failed_attempts,
            (std::vector<std::string>{"aaaa: timed out", "bbbb: INTERNAL: boom second line"}));
  EXPECT_EQ(got.task_request.SerializeAsString(), expected.task_request.SerializeAsString());
  EXPECT_EQ(got.task_result.SerializeAsString(), expected.task_result.SerializeAsString());
  ASSERT_EQ(got.outputs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got.outputs[i].SerializeAsString(), expected.outputs[i].SerializeAsString());
  }
  EXPECT_EQ(got.started_ms, 105);
  EXPECT_EQ(got.finished_ms, 205);
}

TEST_F(JobStoreTest, DuplicateJobsAndUnknownJobsAreRefused) {
  ASSERT_TRUE(store_->CreateJob(job_, Envelope("a"), 1).ok());
  EXPECT_EQ(store_->CreateJob(job_, Envelope("b"), 2).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Job(std::string(16, 'x')).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->RecordShards({{std::string(16, 'x'), Shard(0, 1)}}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->FinishJob(std::string(16, 'x'), JobState::kFailed, "", 3).code(),
            StatusCode::kNotFound);
}

TEST_F(JobStoreTest, AnOverlappingShardRefusesTheWholeBatch) {
  ASSERT_TRUE(store_->CreateJob(job_, Envelope("a"), 1).ok());
  ASSERT_TRUE(store_->RecordShards({{job_, Shard(10, 5)}}).ok());
  // [20, 22) is fine on its own, [12, 14) overlaps [10, 15): nothing of the batch is written.
  EXPECT_EQ(store_->RecordShards({{job_, Shard(20, 2)}, {job_, Shard(12, 2)}}).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->RecordShards({{job_, Shard(8, 3)}}).code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(store_->RecordShards({{job_, Shard(15, 5)}, {job_, Shard(5, 5)}}).ok());
  auto shards = store_->Shards(job_);
  ASSERT_TRUE(shards.ok());
  ASSERT_EQ(shards->size(), 3u);
  EXPECT_EQ((*shards)[0].first_index, 5u);
  EXPECT_EQ((*shards)[2].first_index, 15u);
}

TEST_F(JobStoreTest, FinishedJobsLeaveTheUnfinishedListAndCanBePruned) {
  const std::string a(16, 'a'), b(16, 'b'), c(16, 'c');
  ASSERT_TRUE(store_->CreateJob(a, Envelope("a"), 3).ok());
  ASSERT_TRUE(store_->CreateJob(b, Envelope("b"), 1).ok());
  ASSERT_TRUE(store_->CreateJob(c, Envelope("c"), 2).ok());
  ASSERT_TRUE(store_->RecordShards({{c, Shard(0, 2)}}).ok());
  ASSERT_TRUE(store_->FinishJob(c, JobState::kFailed, "deadline passed", 50).ok());
  auto unfinished = store_->UnfinishedJobs();
  ASSERT_TRUE(unfinished.ok());
  ASSERT_EQ(unfinished->size(), 2u);
  EXPECT_EQ((*unfinished)[0].job_id, b);  // oldest first
  EXPECT_EQ((*unfinished)[1].job_id, a);
  auto failed = store_->Job(c);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->state, JobState::kFailed);
  EXPECT_EQ(failed->failure, "deadline passed");
  EXPECT_EQ(failed->finished_ms, 50);
  auto pruned = store_->PruneFinished(40);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 0u);
  pruned = store_->PruneFinished(60);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 1u);
  EXPECT_EQ(store_->Job(c).status().code(), StatusCode::kNotFound);
  auto shards = store_->Shards(c);
  ASSERT_TRUE(shards.ok());
  EXPECT_TRUE(shards->empty());  // removed with their job
}

TEST_F(JobStoreTest, ANewerSchemaIsRefused) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "jobs.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = JobStore::Open(dir_ / "jobs.db");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("schema version 99"), std::string::npos)
      << store.status().message();
}

TEST_F(JobStoreTest, CorruptRowsAreErrorsNotCrashes) {
  ASSERT_TRUE(store_->CreateJob(job_, Envelope("a"), 1).ok());
  ASSERT_TRUE(store_->RecordShards({{job_, Shard(0, 2)}}).ok());
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "jobs.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE shards SET outputs = x'ffffff7f01'", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE jobs SET request = x'ff'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  Reopen();
  EXPECT_EQ(store_->Shards(job_).status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(store_->Job(job_).status().code(), StatusCode::kCorrupt);
}

TEST_F(JobStoreTest, AnUnwritablePathIsAClearError) {
  auto store = JobStore::Open("/proc/no-such-dir/jobs.db");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("/proc/no-such-dir/jobs.db"), std::string::npos);
}

}  // namespace
}  // namespace infernet::aggregator
