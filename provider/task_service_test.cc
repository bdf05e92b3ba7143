#include "provider/task_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "net/signed_envelope.h"
#include "provider/output_hash.h"
#include "provider/task_errors.h"
#include "provider/task_test_support.h"

namespace infernet::provider {
namespace {

using testing::LoopbackProvider;
using testing::SmallProviderConfig;
using testing::TempModelFile;

std::string Bytes(const Digest32& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), 32);
}

v1::TaskRequest GenerateRequest(const NodeId& provider, const Digest32& model, int inputs = 2) {
  v1::TaskRequest request;
  request.set_task_id(std::string(16, '\x11'));
  request.set_provider_id(Bytes(provider.bytes));
  request.set_model_hash(Bytes(model));
  request.set_kind(v1::GENERATE);
  for (int i = 0; i < inputs; ++i) {
    v1::TaskInput* input = request.add_inputs();
    input->set_index(static_cast<uint32_t>(i));
    input->set_text("The quick brown fox " + std::to_string(i));
  }
  request.mutable_generation()->set_max_tokens(8);
  request.mutable_generation()->set_temperature(0.8f);
  request.mutable_generation()->set_seed(5);
  request.set_max_price_per_mtok_micros(1000);
  return request;
}

struct Stream {
  std::vector<v1::TaskEvent> events;
  grpc::Status status;
};

Stream RunTask(v1::Provider::Stub& stub, const v1::SignedEnvelope& envelope) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  Stream stream;
  auto reader = stub.RunTask(&context, envelope);
  for (v1::TaskEvent event; reader->Read(&event);) stream.events.push_back(event);
  stream.status = reader->Finish();
  return stream;
}

class TaskServiceTest : public ::testing::Test {
 protected:
  v1::SignedEnvelope Sign(const v1::TaskRequest& request) {
    return net::SignClaim(request, client_, SystemClock::Instance());
  }
  // Expects a refusal: one Error event with `code` and the matching gRPC status.
  void ExpectRefused(const Stream& stream, v1::Error::Code code) {
    ASSERT_EQ(stream.events.size(), 1u);
    ASSERT_TRUE(stream.events[0].has_error());
    EXPECT_EQ(stream.events[0].error().code(), code) << stream.events[0].error().message();
    EXPECT_EQ(stream.status.error_code(), GrpcCodeFor(code));
  }

  TempModelFile model_;
  NodeIdentity client_ = testing::IdentityFromByte(0x07);
};

TEST_F(TaskServiceTest, GenerateStreamsTokensOutputsAndASignedResult) {
  LoopbackProvider provider(model_, SmallProviderConfig());
  auto stub = v1::Provider::NewStub(provider.Channel());
  v1::SignedEnvelope request = Sign(GenerateRequest(provider.identity.id(), model_.hash()));
  Stream stream = RunTask(*stub, request);
  ASSERT_TRUE(stream.status.ok()) << stream.status.error_message();

  ASSERT_GE(stream.events.size(), 4u);
  EXPECT_TRUE(stream.events.front().has_accepted());
  ASSERT_TRUE(stream.events.back().has_result());
  std::vector<v1::TaskOutput> outputs;
  std::vector<std::vector<uint32_t>> streamed(2);
  for (const v1::TaskEvent& event : stream.events) {
    if (event.has_token()) streamed.at(event.token().index()).push_back(event.token().token());
    if (event.has_output()) outputs.push_back(event.output());
  }
  ASSERT_EQ(outputs.size(), 2u);
  for (uint32_t i = 0; i < 2; ++i) {
    EXPECT_EQ(outputs[i].index(), i);
    EXPECT_FALSE(outputs[i].tokens().empty());
    EXPECT_EQ(outputs[i].tokens_size(), outputs[i].logprobs_size());
    EXPECT_EQ(streamed[i],
              std::vector<uint32_t>(outputs[i].tokens().begin(), outputs[i].tokens().end()));
  }

  v1::TaskResult result;
  auto author = net::VerifyClaim(stream.events.back().result(), SystemClock::Instance(),
                                 net::FreshnessPolicy{}, nullptr, &result);
  ASSERT_TRUE(author.ok()) << author.status().ToString();
  EXPECT_EQ(author->id, provider.identity.id());
  EXPECT_EQ(result.task_id(), std::string(16, '\x11'));
  EXPECT_EQ(result.request_hash(), Bytes(Blake2b256(request.body())));
  EXPECT_EQ(result.client_id(), Bytes(client_.id().bytes));
  ASSERT_EQ(result.output_hashes_size(), 2);
  std::vector<Digest32> hashes;
  for (int i = 0; i < 2; ++i) {
    hashes.push_back(OutputHash(outputs[i]));
    EXPECT_EQ(result.output_hashes(i), Bytes(hashes.back()));
  }
  EXPECT_EQ(result.outputs_hash(), Bytes(OutputsHash(hashes)));
  EXPECT_EQ(result.timing().generated_tokens(),
            static_cast<uint64_t>(outputs[0].tokens_size() + outputs[1].tokens_size()));
  EXPECT_GT(result.price_micros(), 0u);
  EXPECT_EQ(provider.service.counters().completed, 1u);
}

TEST_F(TaskServiceTest, RefusesARequestAddressedToAnotherProvider) {
  LoopbackProvider provider(model_, SmallProviderConfig());
  auto stub = v1::Provider::NewStub(provider.Channel());
  const NodeId other = testing::IdentityFromByte(0x99).id();
  ExpectRefused(RunTask(*stub, Sign(GenerateRequest(other, model_.hash()))),
                v1::Error::UNAUTHENTICATED);
}

TEST_F(TaskServiceTest, RefusesAModelItDoesNotHold) {
  LoopbackProvider provider(model_, SmallProviderConfig());
  auto stub = v1::Provider::NewStub(provider.Channel());
  Digest32 unknown = model_.hash();
  unknown[0] ^= 1;
  ExpectRefused(RunTask(*stub, Sign(GenerateRequest(provider.identity.id(), unknown))),
                v1::Error::MODEL_NOT_FOUND);
}

TEST_F(TaskServiceTest, RefusesAMaximumPriceBelowItsOwn) {
  LoopbackProvider provider(model_, SmallProviderConfig());  // 100 micros per Mtok
  auto stub = v1::Provider::NewStub(provider.Channel());
  v1::TaskRequest request = GenerateRequest(provider.identity.id(), model_.hash());
  request.set_max_price_per_mtok_micros(99);
  ExpectRefused(RunTask(*stub, Sign(request)), v1::Error::PRICE_TOO_LOW);
}

TEST_F(TaskServiceTest, RefusesAReplayedRequest) {
  LoopbackProvider provider(model_, SmallProviderConfig());
  auto stub = v1::Provider::NewStub(provider.Channel());
  v1::SignedEnvelope request = Sign(GenerateRequest(provider.identity.id(), model_.hash(), 1));
  ASSERT_TRUE(RunTask(*stub, request).status.ok());
  ExpectRefused(RunTask(*stub, request), v1::Error::REPLAYED);
}

TEST_F(TaskServiceTest, RefusesATamperedRequest) {
  LoopbackProvider provider(model_, SmallProviderConfig());
  auto stub = v1::Provider::NewStub(provider.Channel());
  v1::SignedEnvelope request = Sign(GenerateRequest(provider.identity.id(), model_.hash(), 1));
  request.mutable_body()->back() ^= 1;
  ExpectRefused(RunTask(*stub, request), v1::Error::UNAUTHENTICATED);
}

TEST_F(TaskServiceTest, RefusesInputsAboveTheLimits) {
  ProviderConfig config = SmallProviderConfig();
  config.max_inputs = 2;
  LoopbackProvider provider(model_, config);
  auto stub = v1::Provider::NewStub(provider.Channel());
  ExpectRefused(RunTask(*stub, Sign(GenerateRequest(provider.identity.id(), model_.hash(), 3))),
                v1::Error::TOO_LARGE);
  v1::TaskRequest no_tokens = GenerateRequest(provider.identity.id(), model_.hash(), 1);
  no_tokens.mutable_generation()->set_max_tokens(0);
  ExpectRefused(RunTask(*stub, Sign(no_tokens)), v1::Error::TOO_LARGE);
  v1::TaskRequest bad_sampling = GenerateRequest(provider.identity.id(), model_.hash(), 1);
  bad_sampling.mutable_generation()->set_temperature(-1);
  ExpectRefused(RunTask(*stub, Sign(bad_sampling)), v1::Error::INVALID_ARGUMENT);
}

TEST_F(TaskServiceTest, RefusesADeadlineItCannotMeet) {
  ProviderConfig config = SmallProviderConfig();
  config.admission.assumed_tokens_per_second = 1;  // 8 tokens per input take 8 s and more
  LoopbackProvider provider(model_, config);
  auto stub = v1::Provider::NewStub(provider.Channel());
  v1::TaskRequest request = GenerateRequest(provider.identity.id(), model_.hash(), 1);
  request.set_deadline_ms(SystemClock::Instance().NowMs() + 2'000);
  ExpectRefused(RunTask(*stub, Sign(request)), v1::Error::DEADLINE_UNMEETABLE);
  request.set_deadline_ms(SystemClock::Instance().NowMs() - 1);
  ExpectRefused(RunTask(*stub, Sign(request)), v1::Error::DEADLINE_UNMEETABLE);
}

TEST_F(TaskServiceTest, ChatGenerationUsesTheModelsTemplate) {
  LoopbackProvider provider(model_, SmallProviderConfig());
  auto stub = v1::Provider::NewStub(provider.Channel());
  v1::TaskRequest plain = GenerateRequest(provider.identity.id(), model_.hash(), 1);
  v1::TaskRequest chat = plain;
  chat.mutable_generation()->set_chat(true);
  Stream plain_stream = RunTask(*stub, Sign(plain));
  Stream chat_stream = RunTask(*stub, Sign(chat));
  ASSERT_TRUE(plain_stream.status.ok());
  ASSERT_TRUE(chat_stream.status.ok()) << chat_stream.status.error_message();
  auto output = [](const Stream& s) {
    for (const auto& e : s.events) {
      if (e.has_output()) return e.output();
    }
    return v1::TaskOutput();
  };
  // The template wraps the prompt in header tokens, so the prompt is longer.
  EXPECT_GT(output(chat_stream).prompt_tokens(), output(plain_stream).prompt_tokens());
}

// The first task is held inside its first token until the test lets it go.
TEST_F(TaskServiceTest, RefusesWhenOverloaded) {
  std::promise<void> first_token_seen;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> held{false};
  ProviderConfig config = SmallProviderConfig();
  config.admission.max_concurrent = 1;
  config.admission.max_queued = 0;
  config.after_token_for_testing = [&](const std::function<bool()>&) {
    if (!held.exchange(true)) {
      first_token_seen.set_value();
      released.wait_for(std::chrono::seconds(30));
    }
  };
  LoopbackProvider provider(model_, config);
  auto stub = v1::Provider::NewStub(provider.Channel());
  auto first = std::async(std::launch::async, [&] {
    return RunTask(*stub, Sign(GenerateRequest(provider.identity.id(), model_.hash(), 1)));
  });
  ASSERT_EQ(first_token_seen.get_future().wait_for(std::chrono::seconds(30)),
            std::future_status::ready);
  ExpectRefused(RunTask(*stub, Sign(GenerateRequest(provider.identity.id(), model_.hash(), 1))),
                v1::Error::OVERLOADED);
  release.set_value();
  EXPECT_TRUE(first.get().status.ok());
}

// The provider is held after its first token until it sees the cancellation, so the test does not
// depend on how fast the model generates.
TEST_F(TaskServiceTest, ClientCancellationStopsTheTask) {
  std::promise<void> first_token_seen;
  std::atomic<bool> held{false};
  ProviderConfig config = SmallProviderConfig();
  config.after_token_for_testing = [&](const std::function<bool()>& is_cancelled) {
    if (held.exchange(true)) return;
    first_token_seen.set_value();
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!is_cancelled() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
  };
  LoopbackProvider provider(model_, config);
  auto stub = v1::Provider::NewStub(provider.Channel());
  v1::TaskRequest request = GenerateRequest(provider.identity.id(), model_.hash(), 2);
  request.mutable_generation()->set_max_tokens(100);
  grpc::ClientContext context;
  auto reader = stub->RunTask(&context, Sign(request));
  ASSERT_EQ(first_token_seen.get_future().wait_for(std::chrono::seconds(30)),
            std::future_status::ready);
  context.TryCancel();
  for (v1::TaskEvent event; reader->Read(&event);) {
    EXPECT_FALSE(event.has_result());
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(provider.service.WaitForCounters(
      [](const TaskCounters& c) { return c.cancelled == 1; }, 30'000));
  EXPECT_EQ(provider.service.counters().completed, 0u);
}

TEST_F(TaskServiceTest, RecordsAReceiptFromTheTasksClientOnly) {
  LoopbackProvider provider(model_, SmallProviderConfig());
  auto stub = v1::Provider::NewStub(provider.Channel());
  Stream stream = RunTask(*stub, Sign(GenerateRequest(provider.identity.id(), model_.hash(), 1)));
  ASSERT_TRUE(stream.status.ok());
  v1::TaskReceipt receipt;
  receipt.set_task_id(std::string(16, '\x11'));
  receipt.set_result_hash(Bytes(Blake2b256(stream.events.back().result().body())));
  receipt.set_accepted(true);

  NodeIdentity stranger = testing::IdentityFromByte(0x55);
  v1::ReceiptAck ack;
  {
    grpc::ClientContext context;
    auto status = stub->SubmitReceipt(
        &context, net::SignClaim(receipt, stranger, SystemClock::Instance()), &ack);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    auto status = stub->SubmitReceipt(
        &context, net::SignClaim(receipt, client_, SystemClock::Instance()), &ack);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(ack.recorded());
  }
  EXPECT_EQ(provider.service.receipts().count(std::string(16, '\x11')), 1u);
}

TEST_F(TaskServiceTest, PingEchoesTheNonce) {
  LoopbackProvider provider(model_, SmallProviderConfig());
  auto stub = v1::Provider::NewStub(provider.Channel());
  grpc::ClientContext context;
  v1::PingRequest request;
  request.set_nonce("abc");
  v1::PingResponse response;
  ASSERT_TRUE(stub->Ping(&context, request, &response).ok());
  EXPECT_EQ(response.nonce(), "abc");
  EXPECT_EQ(response.protocol_version(), net::kProtocolVersion);
}

}  // namespace
}  // namespace infernet::provider
