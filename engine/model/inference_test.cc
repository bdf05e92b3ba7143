#include "engine/model/inference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "engine/model/model.h"
#include "engine/testing/temp_test_model.h"

namespace infernet {
namespace {

constexpr int32_t kContextLength = 32;

class InferenceTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestModelSpec spec;
    spec.arch = Architecture::kQwen2;
    spec.chat = ChatFormat::kChatMl;
    spec.weight_type = TensorType::kF32;
    spec.n_vocab = 512;
    spec.n_embd = 64;
    spec.n_layer = 1;
    spec.n_head = 4;
    spec.n_head_kv = 2;
    spec.n_ff = 128;
    spec.n_ctx = 256;
    spec.seed = 3;
    auto loaded = LoadTestModel(spec);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    loaded_ = new LoadedTestModel(std::move(*loaded));
  }
  static void TearDownTestSuite() {
    delete loaded_;
    loaded_ = nullptr;
  }

  const Model& model() const { return *loaded_->model; }
  int64_t n_embd() const { return model().config().n_embd; }

  std::unique_ptr<Context> NewContext(int32_t max_batch = 512) const {
    ContextParams params;
    params.n_ctx = kContextLength;
    params.n_threads = 2;
    params.max_batch = max_batch;
    auto ctx = Context::Create(model(), params);
    EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
    return ctx.ok() ? std::move(*ctx) : nullptr;
  }

  static GenerateRequest Request(std::vector<TokenId> prompt, int32_t max_tokens) {
    GenerateRequest r;
    r.prompt = std::move(prompt);
    r.max_tokens = max_tokens;
    r.stop_at_end_of_generation = false;
    return r;
  }

  static LoadedTestModel* loaded_;
};
LoadedTestModel* InferenceTest::loaded_ = nullptr;

double Norm(const std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  return std::sqrt(sum);
}

TEST_F(InferenceTest, GenerateProducesExactlyMaxTokensWithPiecesAndLogprobs) {
  auto ctx = NewContext();
  std::vector<GeneratedToken> streamed;
  auto result = Generate(*ctx, Request({10, 20, 30}, 6), [&](const GeneratedToken& t) {
    streamed.push_back(t);
    return true;
  });
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->finish, FinishReason::kLength);
  EXPECT_EQ(result->prompt_tokens, 3);
  ASSERT_EQ(result->tokens.size(), 6u);
  ASSERT_EQ(streamed.size(), 6u);
  for (size_t i = 0; i < result->tokens.size(); ++i) {
    const GeneratedToken& t = result->tokens[i];
    EXPECT_EQ(streamed[i].token, t.token);
    EXPECT_EQ(t.piece, model().tokenizer().TokenToPiece(t.token, false));
    EXPECT_LE(t.logprob, 0.0f);
    EXPECT_TRUE(std::isfinite(t.logprob));
  }
  EXPECT_GE(result->prefill_seconds, 0.0);
  EXPECT_GE(result->decode_seconds, 0.0);
}

TEST_F(InferenceTest, GreedyGenerationIsReproducibleAndIndependentOfPromptChunking) {
  std::vector<TokenId> prompt(11);
  std::iota(prompt.begin(), prompt.end(), 100);
  auto whole = Generate(*NewContext(), Request(prompt, 5));
  auto chunked = Generate(*NewContext(/*max_batch=*/4), Request(prompt, 5));
  ASSERT_TRUE(whole.ok() && chunked.ok());
  ASSERT_EQ(whole->tokens.size(), chunked->tokens.size());
  for (size_t i = 0; i < whole->tokens.size(); ++i) {
    EXPECT_EQ(whole->tokens[i].token, chunked->tokens[i].token);
    EXPECT_EQ(whole->tokens[i].logprob, chunked->tokens[i].logprob);
  }
}

TEST_F(InferenceTest, GenerateStopsAtEndOfGenerationWithoutEmittingIt) {
  // Find a one-token prompt whose greedy continuation reaches an end-of-generation token after at
  // least one ordinary token; with 512 candidate prompts and 12 steps each, a random model has
  // many.
  const Tokenizer& tok = model().tokenizer();
  auto ctx = NewContext();
  for (TokenId first = 0; first < 512; ++first) {
    if (tok.IsEndOfGeneration(first)) continue;
    auto free_run = Generate(*ctx, Request({first}, 12));
    ASSERT_TRUE(free_run.ok());
    size_t end = 0;
    while (end < free_run->tokens.size() && !tok.IsEndOfGeneration(free_run->tokens[end].token)) {
      ++end;
    }
    if (end == 0 || end == free_run->tokens.size()) continue;

    GenerateRequest request = Request({first}, 12);
    request.stop_at_end_of_generation = true;
    auto stopped = Generate(*ctx, request);
    ASSERT_TRUE(stopped.ok());
    EXPECT_EQ(stopped->finish, FinishReason::kEndOfGeneration);
    ASSERT_EQ(stopped->tokens.size(), end);
    for (size_t i = 0; i < end; ++i) {
      EXPECT_EQ(stopped->tokens[i].token, free_run->tokens[i].token);
    }
    return;
  }
  FAIL() << "no prompt reached an end-of-generation token";
}

TEST_F(InferenceTest, CallbackCanStopGeneration) {
  int calls = 0;
  auto result = Generate(*NewContext(), Request({1, 2, 3}, 10),
                         [&](const GeneratedToken&) { return ++calls < 3; });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->finish, FinishReason::kStopped);
  EXPECT_EQ(result->tokens.size(), 3u);
  EXPECT_EQ(calls, 3);
}

TEST_F(InferenceTest, GenerateRejectsBadRequests) {
  auto ctx = NewContext();
  EXPECT_EQ(Generate(*ctx, Request({}, 4)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Generate(*ctx, Request({1}, -1)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Generate(*ctx, Request({1, 512}, 4)).status().code(), StatusCode::kInvalidArgument);
  GenerateRequest bad_sampling = Request({1}, 4);
  bad_sampling.sampling.temperature = -1;
  EXPECT_EQ(Generate(*ctx, bad_sampling).status().code(), StatusCode::kInvalidArgument);

  auto too_long = Generate(*ctx, Request(std::vector<TokenId>(30, 7), 3));
  EXPECT_EQ(too_long.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(too_long.status().message().find(std::to_string(kContextLength)), std::string::npos)
      << too_long.status().message();
  EXPECT_TRUE(Generate(*ctx, Request(std::vector<TokenId>(30, 7), 2)).ok());
}

TEST_F(InferenceTest, EmbedReturnsOneUnitVectorPerInput) {
  auto ctx = NewContext();
  const std::vector<std::vector<TokenId>> inputs = {{5, 6, 7, 8}, {9}, {40, 41}};
  for (Pooling pooling : {Pooling::kMean, Pooling::kLast}) {
    auto embeddings = Embed(*ctx, inputs, pooling);
    ASSERT_TRUE(embeddings.ok()) << embeddings.status().ToString();
    ASSERT_EQ(embeddings->size(), inputs.size());
    for (const auto& e : *embeddings) {
      ASSERT_EQ(e.size(), static_cast<size_t>(n_embd()));
      EXPECT_NEAR(Norm(e), 1.0, 1e-5);
    }
    EXPECT_NE((*embeddings)[0], (*embeddings)[2]);
  }
  auto raw = Embed(*ctx, inputs, Pooling::kLast, /*normalize=*/false);
  ASSERT_TRUE(raw.ok());
  EXPECT_GT(std::abs(Norm((*raw)[0]) - 1.0), 0.1);
}

TEST_F(InferenceTest, EmbedPoolingFollowsTheHiddenStates) {
  const std::vector<TokenId> input = {3, 14, 15, 92, 65};
  // Hidden states of every position, straight from the context.
  auto ctx = NewContext();
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < input.size(); ++i) {
    batch.push_back({input[i], 0, static_cast<int32_t>(i), true});
  }
  std::vector<float> logits, hidden;
  ASSERT_TRUE(ctx->Decode(batch, &logits, &hidden).ok());
  const size_t d = static_cast<size_t>(n_embd());
  std::vector<float> last(hidden.end() - d, hidden.end());
  std::vector<double> mean(d, 0.0);
  for (size_t t = 0; t < input.size(); ++t) {
    for (size_t j = 0; j < d; ++j) mean[j] += hidden[t * d + j] / static_cast<double>(input.size());
  }

  auto pooled_last = Embed(*NewContext(), {input}, Pooling::kLast, false);
  auto pooled_mean = Embed(*NewContext(/*max_batch=*/2), {input}, Pooling::kMean, false);
  ASSERT_TRUE(pooled_last.ok() && pooled_mean.ok());
  EXPECT_EQ((*pooled_last)[0], last);
  for (size_t j = 0; j < d; ++j) EXPECT_NEAR((*pooled_mean)[0][j], mean[j], 1e-5);
  EXPECT_NE((*pooled_last)[0], (*pooled_mean)[0]);

  // A single token has one hidden state: both poolings agree.
  auto single_mean = Embed(*ctx, {{42}}, Pooling::kMean);
  auto single_last = Embed(*ctx, {{42}}, Pooling::kLast);
  ASSERT_TRUE(single_mean.ok() && single_last.ok());
  EXPECT_EQ(*single_mean, *single_last);
}

TEST_F(InferenceTest, EmbedRejectsEmptyAndOversizedInputs) {
  auto ctx = NewContext();
  EXPECT_EQ(Embed(*ctx, {{1, 2}, {}}, Pooling::kMean).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Embed(*ctx, {std::vector<TokenId>(kContextLength + 1, 3)}, Pooling::kMean).status().code(),
      StatusCode::kOutOfRange);
  EXPECT_EQ(Embed(*ctx, {{-1}}, Pooling::kLast).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(InferenceTest, ScoreOfGreedyTokensEqualsTheirGenerationLogprobs) {
  const std::vector<TokenId> prompt = {7, 8, 9, 10};
  auto generated = Generate(*NewContext(), Request(prompt, 8));
  ASSERT_TRUE(generated.ok());
  std::vector<TokenId> continuation;
  double expected_total = 0;
  for (const GeneratedToken& t : generated->tokens) {
    continuation.push_back(t.token);
    expected_total += t.logprob;
  }
  auto scored = Score(*NewContext(/*max_batch=*/3), prompt, continuation);
  ASSERT_TRUE(scored.ok()) << scored.status().ToString();
  ASSERT_EQ(scored->token_logprobs.size(), continuation.size());
  for (size_t i = 0; i < continuation.size(); ++i) {
    EXPECT_NEAR(scored->token_logprobs[i], generated->tokens[i].logprob, 1e-5) << i;
  }
  EXPECT_NEAR(scored->total_logprob, expected_total, 1e-4);
  // A less likely continuation scores lower than the greedy one.
  std::vector<TokenId> other = continuation;
  other[0] = (other[0] + 1) % 512;
  auto other_score = Score(*NewContext(), prompt, other);
  ASSERT_TRUE(other_score.ok());
  EXPECT_LT(other_score->token_logprobs[0], scored->token_logprobs[0]);
}

TEST_F(InferenceTest, ScoreValidatesItsInputs) {
  auto ctx = NewContext();
  EXPECT_EQ(Score(*ctx, {}, {1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Score(*ctx, {1}, {600}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Score(*ctx, std::vector<TokenId>(20, 1), std::vector<TokenId>(14, 2)).status().code(),
            StatusCode::kOutOfRange);
  // The last continuation token is predicted but never fed: this fits exactly.
  EXPECT_TRUE(Score(*ctx, std::vector<TokenId>(20, 1), std::vector<TokenId>(13, 2)).ok());
  auto empty = Score(*ctx, {1, 2}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->token_logprobs.empty());
  EXPECT_EQ(empty->total_logprob, 0.0);
}

}  // namespace
}  // namespace infernet
