// The coordinator against simulated in-process providers and a real job store: shards merged in
// input order, failed / stalled / lying providers routed around, deadlines and lack of capacity
// reported exactly, and a restarted coordinator resuming without redoing stored shards.
#include "aggregator/coordinator.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "aggregator/in_process_providers.h"
#include "client/aggregated_job.h"
#include "net/signed_envelope.h"

namespace infernet::aggregator {
namespace {

constexpr uint64_t kModelBytes = 1'000'000'000;
const std::string kModel(32, '\x11');

struct Collected {
  std::vector<v1::JobEvent> events;
  std::vector<v1::TaskOutput> outputs;
  std::vector<v1::ShardDone> shards;
  v1::JobSummary summary;
  bool have_summary = false;
};

Collected Drain(JobEventQueue& queue, int64_t timeout_ms = 30000) {
  Collected c;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < until) {
    bool timed_out = false;
    auto event = queue.Pop(std::chrono::milliseconds(100), &timed_out);
    if (!event) {
      if (timed_out) continue;
      break;
    }
    if (event->has_output()) c.outputs.push_back(event->output());
    if (event->has_shard()) c.shards.push_back(event->shard());
    if (event->has_summary()) {
      c.have_summary = c.summary.ParseFromString(event->summary().body());
    }
    c.events.push_back(std::move(*event));
  }
  return c;
}

std::string IdString(const NodeId& id) { return std::string(id.bytes.begin(), id.bytes.end()); }

// Inputs of `c` whose verified shard `provider` ran.
uint32_t InputsRunBy(const Collected& c, const NodeId& provider) {
  uint32_t inputs = 0;
  for (const v1::ShardDone& shard : c.shards) {
    if (shard.provider_id() == IdString(provider)) inputs += shard.count();
  }
  return inputs;
}

// Discovery as the coordinator sees it: the records of the providers listed now.
class FakeListing {
 public:
  void List(const PoolProvider& p) {
    std::lock_guard lock(mutex_);
    discovery::ProviderRecord r;
    r.node_id = p.id;
    r.record.add_addresses(p.address);
    v1::ModelOffer* offer = r.record.add_models();
    offer->set_model_hash(kModel);
    offer->set_price_per_mtok_micros(p.price_by_model.at(kModel));
    offer->set_size_bytes(kModelBytes);
    records_[p.id] = r;
  }
  void Drop(const NodeId& id) {
    std::lock_guard lock(mutex_);
    records_.erase(id);
  }
  ProviderSource Source() {
    return [this](const std::string& model) -> Result<std::vector<discovery::ProviderRecord>> {
      std::lock_guard lock(mutex_);
      std::vector<discovery::ProviderRecord> out;
      if (model != kModel) return out;
      for (const auto& [id, r] : records_) out.push_back(r);
      return out;
    };
  }

 private:
  std::mutex mutex_;
  std::map<NodeId, discovery::ProviderRecord> records_;
};

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("coordinator_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = JobStore::Open(dir_ / "jobs.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    coordinator_.reset();
    providers_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartCoordinator(CoordinatorSettings settings, ProviderSource source = {}) {
    if (!providers_) providers_ = std::make_unique<InProcessProviders>(clock_, 2);
    coordinator_ = std::make_unique<Coordinator>(aggregator_, clock_, *store_, *providers_,
                                                 std::move(source), settings);
    ASSERT_TRUE(coordinator_->Start().ok());
  }

  NodeId AddProvider(SimulatedProviderSpec spec, uint64_t gpu_vram_bytes = 0) {
    if (!providers_) providers_ = std::make_unique<InProcessProviders>(clock_, 2);
    PoolProvider entry = providers_->Add(kModel, kModelBytes, spec);
    entry.max_gpu_vram_bytes = gpu_vram_bytes;
    entries_[entry.id] = entry;
    if (coordinator_) {
      coordinator_->WithPool([&](ProviderPool& pool) { pool.Upsert(entry); });
    } else {
      pending_.push_back(entry);
    }
    return entry.id;
  }
  void FlushPending() {
    coordinator_->WithPool([&](ProviderPool& pool) {
      for (const PoolProvider& p : pending_) pool.Upsert(p);
    });
    pending_.clear();
  }

  // A signed job of `n` generate inputs, `max_tokens` each.
  std::pair<v1::JobRequest, v1::SignedEnvelope> MakeJob(int n, uint32_t max_tokens,
                                                        int64_t deadline_ms_from_now,
                                                        uint64_t min_gpu_vram_bytes = 0) {
    client::JobSpec spec;
    std::copy(kModel.begin(), kModel.end(), spec.model.begin());
    spec.kind = v1::GENERATE;
    for (int i = 0; i < n; ++i) spec.inputs.push_back({"prompt number " + std::to_string(i), ""});
    spec.generation.set_max_tokens(max_tokens);
    spec.max_price_per_mtok_micros = 1000;
    spec.min_gpu_vram_bytes = min_gpu_vram_bytes;
    v1::JobRequest request = client::BuildJobRequest(spec, aggregator_.id(), clock_.NowMs());
    request.set_deadline_ms(clock_.NowMs() + deadline_ms_from_now);
    v1::SignedEnvelope envelope = net::SignClaim(request, client_, clock_);
    v1::JobRequest signed_request;
    signed_request.ParseFromString(envelope.body());
    return {signed_request, envelope};
  }

  Collected RunJob(const v1::JobRequest& request, const v1::SignedEnvelope& envelope) {
    auto existed = coordinator_->Submit(request, envelope);
    EXPECT_TRUE(existed.ok() && !*existed);
    auto queue = coordinator_->Subscribe(request.job_id(), client_.id());
    EXPECT_TRUE(queue.ok());
    return Drain(**queue);
  }

  // Every shard verifies from the client's side and outputs arrive in input order.
  void ExpectVerifiedInOrder(const v1::JobRequest& request, const Collected& c) {
    uint32_t next = 0;
    size_t output = 0;
    for (const v1::ShardDone& shard : c.shards) {
      EXPECT_EQ(shard.first_index(), next);
      std::vector<v1::TaskOutput> outputs(c.outputs.begin() + output,
                                          c.outputs.begin() + output + shard.count());
      auto verified = client::VerifyShardDone(request, aggregator_.id(), shard, outputs, clock_);
      EXPECT_TRUE(verified.ok()) << verified.status().ToString();
      output += shard.count();
      next = shard.first_index() + shard.count();
    }
    for (size_t i = 0; i < c.outputs.size(); ++i) EXPECT_EQ(c.outputs[i].index(), i);
  }

  const SystemClock& clock_ = SystemClock::Instance();
  std::map<NodeId, PoolProvider> entries_;
  NodeIdentity aggregator_ = NodeIdentity::Generate();
  NodeIdentity client_ = NodeIdentity::Generate();
  std::filesystem::path dir_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<InProcessProviders> providers_;
  std::unique_ptr<Coordinator> coordinator_;
  std::vector<PoolProvider> pending_;
  FakeListing listing_;  // a coordinator's source may read it until TearDown stops it
};

CoordinatorSettings FastSettings() {
  CoordinatorSettings s;
  s.target_shard_ms = 20;
  s.min_timeout_ms = 300;
  s.pool.failure_cooldown_ms = 50;
  s.no_capacity_grace_ms = 500;
  return s;
}

TEST_F(CoordinatorTest, ShardsAcrossProvidersAndMergesInInputOrder) {
  const NodeId a = AddProvider({});
  const NodeId b = AddProvider({});
  const NodeId c = AddProvider({});
  CoordinatorSettings settings = FastSettings();
  settings.target_shard_ms = 5;  // about 6 inputs per shard at these providers' speed
  StartCoordinator(settings);
  FlushPending();
  auto [request, envelope] = MakeJob(60, 8, 30000);
  Collected got = RunJob(request, envelope);
  ASSERT_TRUE(got.have_summary);
  EXPECT_TRUE(got.summary.complete()) << got.summary.failure();
  EXPECT_EQ(got.summary.inputs_done(), 60u);
  EXPECT_EQ(got.outputs.size(), 60u);
  EXPECT_GT(got.shards.size(), 3u);
  ExpectVerifiedInOrder(request, got);
  EXPECT_GT(providers_->started(a), 0u);
  EXPECT_GT(providers_->started(b), 0u);
  EXPECT_GT(providers_->started(c), 0u);
  EXPECT_EQ(got.summary.fee_micros(), (got.summary.price_micros() * 100 + 9999) / 10000);
}

TEST_F(CoordinatorTest, FailingProviderIsRoutedAround) {
  AddProvider({});
  const NodeId bad = AddProvider({.behaviour = SimulatedBehaviour::kFails});
  StartCoordinator(FastSettings());
  FlushPending();
  auto [request, envelope] = MakeJob(30, 8, 30000);
  Collected got = RunJob(request, envelope);
  ASSERT_TRUE(got.have_summary);
  EXPECT_TRUE(got.summary.complete()) << got.summary.failure();
  EXPECT_GT(providers_->started(bad), 0u);
  EXPECT_GT(got.summary.retries(), 0u);
  EXPECT_EQ(InputsRunBy(got, bad), 0u);
  ExpectVerifiedInOrder(request, got);
}

TEST_F(CoordinatorTest, WrongOutputsAreCaughtAndRedone) {
  AddProvider({});
  const NodeId liar = AddProvider({.behaviour = SimulatedBehaviour::kWrongOutput});
  CoordinatorSettings settings = FastSettings();
  settings.target_shard_ms = 2;  // one input per shard: both providers get work at once
  StartCoordinator(settings);
  FlushPending();
  auto [request, envelope] = MakeJob(20, 4, 30000);
  Collected got = RunJob(request, envelope);
  ASSERT_TRUE(got.have_summary);
  EXPECT_TRUE(got.summary.complete()) << got.summary.failure();
  EXPECT_GT(providers_->started(liar), 0u);
  EXPECT_EQ(InputsRunBy(got, liar), 0u);
  ExpectVerifiedInOrder(request, got);
}

TEST_F(CoordinatorTest, StalledProviderTimesOutOrIsOvertaken) {
  AddProvider({});
  const NodeId stalls = AddProvider({.behaviour = SimulatedBehaviour::kStalls});
  CoordinatorSettings settings = FastSettings();
  settings.target_shard_ms = 2;  // one input per shard: both providers get work at once
  StartCoordinator(settings);
  FlushPending();
  auto [request, envelope] = MakeJob(20, 8, 30000);
  Collected got = RunJob(request, envelope);
  ASSERT_TRUE(got.have_summary);
  EXPECT_TRUE(got.summary.complete()) << got.summary.failure();
  EXPECT_GT(providers_->started(stalls), 0u);
  EXPECT_GT(got.summary.retries() + got.summary.speculative(), 0u);
  ExpectVerifiedInOrder(request, got);
}

TEST_F(CoordinatorTest, FailsWithAClearReportWhenEveryProviderFails) {
  AddProvider({.behaviour = SimulatedBehaviour::kFails});
  AddProvider({.behaviour = SimulatedBehaviour::kFails});
  CoordinatorSettings settings = FastSettings();
  settings.max_attempts = 3;
  StartCoordinator(settings);
  FlushPending();
  auto [request, envelope] = MakeJob(10, 4, 30000);
  Collected got = RunJob(request, envelope);
  ASSERT_TRUE(got.have_summary);
  EXPECT_FALSE(got.summary.complete());
  EXPECT_EQ(got.summary.inputs_done(), 0u);
  EXPECT_NE(got.summary.failure().find("failed 3 times"), std::string::npos)
      << got.summary.failure();
  auto stored = store_->Job(request.job_id());
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->state, JobState::kFailed);
}

TEST_F(CoordinatorTest, DeadlineReportsExactlyWhatFinished) {
  // One slow provider (2 ms per token, 50 tokens per input = 100 ms each) and a 700 ms deadline.
  AddProvider({.us_per_token = 2000});
  StartCoordinator(FastSettings());
  FlushPending();
  auto [request, envelope] = MakeJob(40, 50, 700);
  Collected got = RunJob(request, envelope);
  ASSERT_TRUE(got.have_summary);
  EXPECT_FALSE(got.summary.complete());
  EXPECT_NE(got.summary.failure().find("deadline"), std::string::npos) << got.summary.failure();
  EXPECT_GT(got.summary.inputs_done(), 0u);
  EXPECT_LT(got.summary.inputs_done(), 40u);
  EXPECT_EQ(got.outputs.size(), got.summary.inputs_done());
  ExpectVerifiedInOrder(request, got);
}

TEST_F(CoordinatorTest, NoProviderForTheModelFailsAfterTheGracePeriod) {
  StartCoordinator(FastSettings());
  auto [request, envelope] = MakeJob(5, 4, 30000);
  Collected got = RunJob(request, envelope);
  ASSERT_TRUE(got.have_summary);
  EXPECT_FALSE(got.summary.complete());
  EXPECT_NE(got.summary.failure().find("no provider"), std::string::npos) << got.summary.failure();
}

TEST_F(CoordinatorTest, AHardwareRequirementKeepsTheJobOnProvidersThatMeetIt) {
  AddProvider({});                         // CPU only
  AddProvider({}, uint64_t{8} << 30);      // a GPU too small
  const NodeId big_gpu = AddProvider({}, uint64_t{24} << 30);
  StartCoordinator(FastSettings());
  FlushPending();
  auto [request, envelope] = MakeJob(20, 4, 30000, uint64_t{16} << 30);
  Collected got = RunJob(request, envelope);
  ASSERT_TRUE(got.have_summary);
  EXPECT_TRUE(got.summary.complete()) << got.summary.failure();
  EXPECT_EQ(InputsRunBy(got, big_gpu), 20u);
  ExpectVerifiedInOrder(request, got);
}

TEST_F(CoordinatorTest, NoProviderWithTheHardwareFailsNamingIt) {
  AddProvider({}, uint64_t{8} << 30);
  StartCoordinator(FastSettings());
  FlushPending();
  auto [request, envelope] = MakeJob(5, 4, 30000, uint64_t{16} << 30);
  Collected got = RunJob(request, envelope);
  ASSERT_TRUE(got.have_summary);
  EXPECT_FALSE(got.summary.complete());
  EXPECT_NE(got.summary.failure().find("with a GPU of 16384 MiB or more"), std::string::npos)
      << got.summary.failure();
  EXPECT_EQ(got.summary.inputs_done(), 0u);
}

TEST_F(CoordinatorTest, AProviderGoneFromTheDhtGetsNoMoreShards) {
  const NodeId leaves = AddProvider({.us_per_token = 5000});
  const NodeId stays = AddProvider({.us_per_token = 5000});
  CoordinatorSettings settings = FastSettings();
  settings.target_shard_ms = 2;  // one input (40 ms) per shard: both providers get work at once
  settings.listing_refresh_ms = 20;
  listing_.List(entries_.at(leaves));
  listing_.List(entries_.at(stays));
  StartCoordinator(settings, listing_.Source());
  FlushPending();

  auto [first, first_envelope] = MakeJob(20, 8, 30000);
  Collected got = RunJob(first, first_envelope);
  ASSERT_TRUE(got.have_summary && got.summary.complete()) << got.summary.failure();
  ASSERT_GT(providers_->started(leaves), 0u);  // both providers were used while listed

  // Its record expires. A job submitted now refreshes the listing at once; until that lands
  // (asynchronously) the first pass may still hand the leaver its in-flight slots, but no more.
  listing_.Drop(leaves);
  const uint64_t before = providers_->started(leaves);
  auto [second, second_envelope] = MakeJob(40, 8, 30000);
  got = RunJob(second, second_envelope);
  ASSERT_TRUE(got.have_summary);
  EXPECT_TRUE(got.summary.complete()) << got.summary.failure();
  EXPECT_EQ(got.outputs.size(), 40u);
  ExpectVerifiedInOrder(second, got);
  EXPECT_LE(providers_->started(leaves) - before,
            uint64_t{FastSettings().pool.max_in_flight_per_provider});
  EXPECT_GE(InputsRunBy(got, stays), 40u - FastSettings().pool.max_in_flight_per_provider);
}

TEST_F(CoordinatorTest, RestartedCoordinatorResumesWithoutRedoingStoredShards) {
  // A slow provider so that the job is still running when the coordinator stops.
  const NodeId p = AddProvider({.us_per_token = 1000});
  CoordinatorSettings settings = FastSettings();
  settings.target_shard_ms = 30;
  settings.min_timeout_ms = 5000;
  StartCoordinator(settings);
  FlushPending();
  auto [request, envelope] = MakeJob(40, 10, 60000);  // ~10 ms per input
  ASSERT_TRUE(coordinator_->Submit(request, envelope).ok());
  // Wait until some shards are stored, then "kill" the coordinator.
  std::vector<StoredShard> stored;
  for (int i = 0; i < 500 && stored.size() < 2; ++i) {
    auto shards = store_->Shards(request.job_id());
    ASSERT_TRUE(shards.ok());
    stored = *shards;
    if (stored.size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling
  }
  coordinator_->Stop();
  coordinator_.reset();
  auto before = store_->Shards(request.job_id());
  ASSERT_TRUE(before.ok());
  ASSERT_GE(before->size(), 2u);
  ASSERT_LT(before->size(), 40u);
  const uint64_t started_before = providers_->started(p);

  // A new coordinator on the same store; the pool is rebuilt from discovery (here: by hand).
  StartCoordinator(settings);
  coordinator_->WithPool([&](ProviderPool& pool) { pool.Upsert(entries_.at(p)); });
  auto queue = coordinator_->Subscribe(request.job_id(), client_.id());
  ASSERT_TRUE(queue.ok());
  Collected got = Drain(**queue);
  ASSERT_TRUE(got.have_summary);
  EXPECT_TRUE(got.summary.complete()) << got.summary.failure();
  EXPECT_EQ(got.outputs.size(), 40u);
  ExpectVerifiedInOrder(request, got);
  // The stored shards came back unchanged (same provider results), and none was dispatched again.
  for (const StoredShard& shard : *before) {
    bool found = false;
    for (const v1::ShardDone& done : got.shards) {
      if (done.first_index() == shard.first_index) {
        found = true;
        EXPECT_EQ(done.task_result().body(), shard.task_result.body());
      }
    }
    EXPECT_TRUE(found) << "stored shard at " << shard.first_index << " not replayed";
  }
  uint32_t redone_inputs = 0;
  for (const v1::ShardDone& done : got.shards) {
    bool was_stored = false;
    for (const StoredShard& shard : *before) was_stored |= shard.first_index == done.first_index();
    if (!was_stored) redone_inputs += done.count();
  }
  uint32_t stored_inputs = 0;
  for (const StoredShard& shard : *before) stored_inputs += shard.count;
  EXPECT_EQ(redone_inputs, 40u - stored_inputs);
  EXPECT_GT(providers_->started(p), started_before);
}

TEST_F(CoordinatorTest, SubscribeRefusesAnotherClientAndUnknownJobs) {
  AddProvider({});
  StartCoordinator(FastSettings());
  FlushPending();
  auto [request, envelope] = MakeJob(3, 2, 30000);
  ASSERT_TRUE(coordinator_->Submit(request, envelope).ok());
  NodeIdentity stranger = NodeIdentity::Generate();
  EXPECT_EQ(coordinator_->Subscribe(request.job_id(), stranger.id()).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(coordinator_->Subscribe(std::string(16, 'x'), client_.id()).status().code(),
            StatusCode::kNotFound);
  auto again = coordinator_->Submit(request, envelope);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again);  // a second submission attaches
}

}  // namespace
}  // namespace infernet::aggregator
