// The Aggregator gRPC service on loopback (insecure transport: these tests are about the
// service's checks, TLS is tested in net/): refusals of malformed, misaddressed, replayed and late
// jobs, a full job through client::RunAggregatedJob, and attaching to another client's job.
#include "aggregator/aggregator_service.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "aggregator/in_process_providers.h"
#include "client/aggregated_job.h"
#include "provider/provider_server.h"

namespace infernet::aggregator {
namespace {

const std::string kModel(32, '\x21');

class AggregatorServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("aggregator_service_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto store = JobStore::Open(dir_ / "jobs.db");
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    providers_ = std::make_unique<InProcessProviders>(clock_, 2);
    CoordinatorSettings settings;
    settings.target_shard_ms = 5;
    coordinator_ = std::make_unique<Coordinator>(aggregator_, clock_, *store_, *providers_,
                                                 ProviderSource{}, settings);
    ASSERT_TRUE(coordinator_->Start().ok());
    for (int i = 0; i < 3; ++i) {
      PoolProvider p = providers_->Add(kModel, 1'000'000'000, {.us_per_token = 20});
      coordinator_->WithPool([&](ProviderPool& pool) { pool.Upsert(p); });
    }
    service_ = std::make_unique<AggregatorService>(aggregator_, clock_, *coordinator_,
                                                   AggregatorLimits{});
    auto server = provider::ProviderServer::Start("127.0.0.1:0", grpc::InsecureServerCredentials(),
                                                  service_.get());
    ASSERT_TRUE(server.ok());
    server_ = std::move(server).value();
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Aggregator::NewStub(channel_);
  }
  void TearDown() override {
    coordinator_->Stop();
    server_.reset();
    coordinator_.reset();
    providers_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  client::JobSpec Spec(int inputs = 12) const {
    client::JobSpec spec;
    std::copy(kModel.begin(), kModel.end(), spec.model.begin());
    spec.kind = v1::GENERATE;
    for (int i = 0; i < inputs; ++i) spec.inputs.push_back({"p" + std::to_string(i), ""});
    spec.generation.set_max_tokens(4);
    spec.max_price_per_mtok_micros = 1000;
    spec.deadline_seconds = 60;
    return spec;
  }

  // The first event of SubmitJob for `envelope`, and the call's status.
  std::pair<v1::JobEvent, grpc::Status> Submit(const v1::SignedEnvelope& envelope) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto reader = stub_->SubmitJob(&context, envelope);
    v1::JobEvent first;
    reader->Read(&first);
    for (v1::JobEvent rest; reader->Read(&rest);) {
    }
    return {first, reader->Finish()};
  }

  const Clock& clock_ = SystemClock::Instance();
  NodeIdentity aggregator_ = NodeIdentity::Generate();
  NodeIdentity client_ = NodeIdentity::Generate();
  std::filesystem::path dir_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<InProcessProviders> providers_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<AggregatorService> service_;
  std::unique_ptr<provider::ProviderServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Aggregator::Stub> stub_;
};

TEST_F(AggregatorServiceTest, RunsAJobEndToEndThroughTheClient) {
  client::ProviderEndpoint endpoint{aggregator_.id(), ""};
  auto job = client::RunAggregatedJob(channel_, endpoint, Spec(), client_, clock_);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_TRUE(job->summary.complete());
  for (size_t i = 0; i < 12; ++i) {
    ASSERT_TRUE(job->outputs[i].has_value());
    EXPECT_EQ(job->outputs[i]->index(), i);
  }
}

TEST_F(AggregatorServiceTest, RefusesMisaddressedMalformedReplayedAndLateJobs) {
  v1::JobRequest request = client::BuildJobRequest(Spec(), aggregator_.id(), clock_.NowMs());

  v1::JobRequest other = request;
  NodeIdentity someone = NodeIdentity::Generate();
  other.set_aggregator_id(std::string(someone.id().bytes.begin(), someone.id().bytes.end()));
  auto [misaddressed, status1] = Submit(net::SignClaim(other, client_, clock_));
  EXPECT_EQ(misaddressed.error().code(), v1::Error::UNAUTHENTICATED);
  EXPECT_EQ(status1.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  v1::JobRequest bad_index = request;
  bad_index.mutable_inputs(3)->set_index(7);
  EXPECT_EQ(Submit(net::SignClaim(bad_index, client_, clock_)).first.error().code(),
            v1::Error::INVALID_ARGUMENT);

  v1::JobRequest late = request;
  late.set_deadline_ms(clock_.NowMs() - 1);
  EXPECT_EQ(Submit(net::SignClaim(late, client_, clock_)).first.error().code(),
            v1::Error::DEADLINE_UNMEETABLE);

  v1::JobRequest no_tokens = request;
  no_tokens.mutable_generation()->set_max_tokens(0);
  EXPECT_EQ(Submit(net::SignClaim(no_tokens, client_, clock_)).first.error().code(),
            v1::Error::TOO_LARGE);

  v1::SignedEnvelope envelope = net::SignClaim(request, client_, clock_);
  v1::SignedEnvelope tampered = envelope;
  tampered.mutable_body()->back() ^= 1;
  EXPECT_EQ(Submit(tampered).first.error().code(), v1::Error::UNAUTHENTICATED);

  EXPECT_TRUE(Submit(envelope).first.has_accepted());
  EXPECT_EQ(Submit(envelope).first.error().code(), v1::Error::REPLAYED);
}

TEST_F(AggregatorServiceTest, OnlyTheJobsClientCanAttach) {
  v1::JobRequest request = client::BuildJobRequest(Spec(), aggregator_.id(), clock_.NowMs());
  ASSERT_TRUE(Submit(net::SignClaim(request, client_, clock_)).first.has_accepted());
  v1::JobAttach attach;
  attach.set_job_id(request.job_id());
  attach.set_aggregator_id(request.aggregator_id());
  NodeIdentity stranger = NodeIdentity::Generate();
  for (const NodeIdentity* who : {&stranger, &client_}) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto reader = stub_->AttachJob(&context, net::SignClaim(attach, *who, clock_));
    v1::JobEvent first;
    ASSERT_TRUE(reader->Read(&first));
    bool summary = false;
    for (v1::JobEvent rest; reader->Read(&rest);) summary |= rest.has_summary();
    reader->Finish();
    if (who == &stranger) {
      EXPECT_EQ(first.error().code(), v1::Error::UNAUTHENTICATED);
    } else {
      EXPECT_TRUE(first.has_accepted());
      EXPECT_TRUE(summary);  // the job ran to its end; attaching replays it with the summary
    }
  }
}

}  // namespace
}  // namespace infernet::aggregator
