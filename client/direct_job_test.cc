#include "client/direct_job.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/hex.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/model/context.h"
#include "engine/model/inference.h"
#include "engine/model/model.h"
#include "net/signed_envelope.h"
#include "provider/task_executor.h"
#include "provider/task_test_support.h"

namespace infernet::client {
namespace {

using provider::testing::LoopbackProvider;
using provider::testing::SmallProviderConfig;
using provider::testing::TempModelFile;

// The engine run directly, as a reference for what the provider must return.
struct DirectEngine {
  explicit DirectEngine(const std::filesystem::path& path) : backend(CreateCpuBackend(1)) {
    model = std::move(Model::Load(path, *backend).value());
    ContextParams params;
    params.n_ctx = 256;
    params.n_threads = 1;
    context = std::move(Context::Create(*model, params).value());
  }
  std::vector<TokenId> Tokens(const std::string& text, bool add_special = true) const {
    return model->tokenizer().Encode(text, add_special, /*parse_special=*/false);
  }
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Model> model;
  std::unique_ptr<Context> context;
};

class DirectJobTest : public ::testing::Test {
 protected:
  JobSpec Job(v1::TaskKind kind, std::vector<JobInput> inputs) const {
    JobSpec job;
    job.model = model_.hash();
    job.kind = kind;
    job.inputs = std::move(inputs);
    job.max_price_per_mtok_micros = 1000;
    job.generation.set_max_tokens(6);
    job.generation.set_temperature(0.7f);
    job.generation.set_top_p(1.0f);
    job.generation.set_repetition_penalty(1.0f);
    job.generation.set_seed(3);
    return job;
  }
  Result<VerifiedJob> Run(const JobSpec& job) {
    return RunDirectJob(provider_.Channel(), provider_.identity.id(), job, client_,
                        SystemClock::Instance());
  }

  TempModelFile model_;
  LoopbackProvider provider_{model_, SmallProviderConfig()};
  NodeIdentity client_ = provider::testing::IdentityFromByte(0x07);
};

TEST_F(DirectJobTest, GenerateReturnsExactlyWhatTheEngineComputes) {
  JobSpec job = Job(v1::GENERATE, {{"Once upon a time", ""}, {"The capital of", ""}});
  auto result = Run(job);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->outputs.size(), 2u);

  DirectEngine engine(model_.path());
  for (size_t i = 0; i < 2; ++i) {
    GenerateRequest request;
    request.prompt = engine.Tokens(job.inputs[i].text);
    request.max_tokens = 6;
    request.sampling = provider::ToSamplingParams(job.generation).value();
    auto expected = Generate(*engine.context, request);
    ASSERT_TRUE(expected.ok());
    const v1::TaskOutput& output = result->outputs[i];
    EXPECT_EQ(output.index(), i);
    ASSERT_FALSE(expected->tokens.empty());
    ASSERT_EQ(static_cast<size_t>(output.tokens_size()), expected->tokens.size());
    for (size_t t = 0; t < expected->tokens.size(); ++t) {
      EXPECT_EQ(output.tokens(static_cast<int>(t)),
                static_cast<uint32_t>(expected->tokens[t].token));
      EXPECT_EQ(std::bit_cast<uint32_t>(output.logprobs(static_cast<int>(t))),
                std::bit_cast<uint32_t>(expected->tokens[t].logprob));
    }
    EXPECT_EQ(output.prompt_tokens(), static_cast<uint32_t>(expected->prompt_tokens));
  }
  EXPECT_TRUE(result->receipt_recorded);
  EXPECT_EQ(provider_.service.receipts().size(), 1u);
}

TEST_F(DirectJobTest, EmbedReturnsExactlyWhatTheEngineComputes) {
  JobSpec job = Job(v1::EMBED, {{"first text", ""}, {"second, longer text", ""}});
  job.pooling = v1::LAST;
  auto result = Run(job);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  DirectEngine engine(model_.path());
  for (size_t i = 0; i < 2; ++i) {
    auto expected = Embed(*engine.context, {engine.Tokens(job.inputs[i].text)}, Pooling::kLast);
    ASSERT_TRUE(expected.ok());
    const auto& embedding = result->outputs[i].embedding();
    ASSERT_EQ(static_cast<size_t>(embedding.size()), (*expected)[0].size());
    for (int j = 0; j < embedding.size(); ++j) {
      EXPECT_EQ(std::bit_cast<uint32_t>(embedding[j]),
                std::bit_cast<uint32_t>((*expected)[0][static_cast<size_t>(j)]));
    }
  }
}

TEST_F(DirectJobTest, ScoreReturnsExactlyWhatTheEngineComputes) {
  JobSpec job = Job(v1::SCORE, {{"The sky is", " blue"}, {"Two plus two is", " four"}});
  auto result = Run(job);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  DirectEngine engine(model_.path());
  for (size_t i = 0; i < 2; ++i) {
    auto expected = Score(*engine.context, engine.Tokens(job.inputs[i].text),
                          engine.Tokens(job.inputs[i].continuation, /*add_special=*/false));
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(std::bit_cast<uint64_t>(result->outputs[i].score_logprob()),
              std::bit_cast<uint64_t>(expected->total_logprob));
  }
}

class TamperTest : public DirectJobTest {
 protected:
  void SetUp() override {
    JobSpec job = Job(v1::GENERATE, {{"Once upon a time", ""}, {"Hello", ""}});
    request_ = net::SignClaim(
        BuildTaskRequest(job, provider_.identity.id(), SystemClock::Instance().NowMs()), client_,
        SystemClock::Instance());
    auto stub = v1::Provider::NewStub(provider_.Channel());
    auto collected =
        CollectTask(*stub, request_, SystemClock::Instance().NowMs() + 60'000, nullptr);
    ASSERT_TRUE(collected.ok()) << collected.status().ToString();
    collected_ = std::move(collected).value();
    ASSERT_TRUE(Verify(collected_).ok());  // the untouched result verifies
  }
  Result<VerifiedJob> Verify(const CollectedTask& collected) {
    return VerifyCollectedTask(collected, provider_.identity.id(), request_,
                               SystemClock::Instance());
  }

  v1::SignedEnvelope request_;
  CollectedTask collected_;
};

TEST_F(TamperTest, AChangedOutputIsDetected) {
  CollectedTask tampered = collected_;
  tampered.outputs[1].set_text(tampered.outputs[1].text() + "!");
  auto verified = Verify(tampered);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(verified.status().message().find("output 1"), std::string::npos);
}

TEST_F(TamperTest, AChangedTokenLogprobIsDetected) {
  CollectedTask tampered = collected_;
  tampered.outputs[0].set_logprobs(0, std::nextafter(tampered.outputs[0].logprobs(0), 0.0f));
  EXPECT_EQ(Verify(tampered).status().code(), StatusCode::kCorrupt);
}

TEST_F(TamperTest, DroppedOrReorderedOutputsAreDetected) {
  CollectedTask dropped = collected_;
  dropped.outputs.pop_back();
  EXPECT_EQ(Verify(dropped).status().code(), StatusCode::kCorrupt);
  CollectedTask swapped = collected_;
  std::swap(swapped.outputs[0], swapped.outputs[1]);
  EXPECT_EQ(Verify(swapped).status().code(), StatusCode::kCorrupt);
}

TEST_F(TamperTest, AnAlteredResultEnvelopeIsDetected) {
  CollectedTask tampered = collected_;
  tampered.result.mutable_body()->back() ^= 1;
  EXPECT_EQ(Verify(tampered).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(TamperTest, AResultSignedBySomeoneElseIsRefused) {
  v1::TaskResult result;
  ASSERT_TRUE(result.ParseFromString(collected_.result.body()));
  NodeIdentity impostor = provider::testing::IdentityFromByte(0x66);
  CollectedTask forged = collected_;
  forged.result = net::SignClaim(result, impostor, SystemClock::Instance());
  auto verified = Verify(forged);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(TamperTest, AResultForAnotherRequestIsRefused) {
  JobSpec job = Job(v1::GENERATE, {{"Once upon a time", ""}, {"Hello", ""}});
  v1::SignedEnvelope other = net::SignClaim(
      BuildTaskRequest(job, provider_.identity.id(), SystemClock::Instance().NowMs()), client_,
      SystemClock::Instance());
  auto verified =
      VerifyCollectedTask(collected_, provider_.identity.id(), other, SystemClock::Instance());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().code(), StatusCode::kCorrupt);
}

TEST_F(DirectJobTest, ProviderRefusalsComeBackAsStatuses) {
  JobSpec cheap = Job(v1::GENERATE, {{"hi", ""}});
  cheap.max_price_per_mtok_micros = 1;
  auto refused = Run(cheap);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("PRICE_TOO_LOW"), std::string::npos);

  JobSpec unknown = Job(v1::GENERATE, {{"hi", ""}});
  unknown.model[5] ^= 1;
  auto missing = Run(unknown);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  auto elsewhere = RunDirectJob(provider_.Channel(), provider::testing::IdentityFromByte(1).id(),
                                Job(v1::GENERATE, {{"hi", ""}}), client_, SystemClock::Instance());
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(DirectJobTest, WritesOneJsonLinePerInputInInputOrder) {
  JobSpec job = Job(v1::GENERATE, {{"a", ""}, {"b", ""}, {"c", ""}});
  std::vector<JobProgress> progress;
  auto result =
      RunDirectJob(provider_.Channel(), provider_.identity.id(), job, client_,
                   SystemClock::Instance(), [&](const JobProgress& p) { progress.push_back(p); });
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().outputs_done, 3u);
  EXPECT_EQ(progress.back().outputs_total, 3u);

  std::stringstream out;
  ASSERT_TRUE(WriteResultsJsonl(*result, v1::GENERATE, out).ok());
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(out, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[i]["index"], i);
    EXPECT_EQ(lines[i]["tokens"].size(), static_cast<size_t>(result->outputs[i].tokens_size()));
    EXPECT_EQ(lines[i]["logprobs"][0].get<float>(), result->outputs[i].logprobs(0));
    EXPECT_EQ(lines[i]["provider"], provider_.identity.id().ToHex());
    EXPECT_EQ(lines[i]["result_hash"], HexEncode(result->result_hash));
  }
}

}  // namespace
}  // namespace infernet::client
