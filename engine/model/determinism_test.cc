// The determinism contract of context.h, held bit for bit (memcmp): a token's logits depend only
// on the model and the tokens of its own sequence — not on the run, the thread count, how the
// prompt is split into batches, or which other sequences share a batch.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/model/context.h"
#include "engine/model/inference.h"
#include "engine/model/model.h"
#include "engine/testing/temp_test_model.h"

namespace infernet {
namespace {

struct Case {
  TensorType type;
  Architecture arch;
};

TestModelSpec SpecFor(const Case& c) {
  TestModelSpec spec;
  spec.arch = c.arch;
  spec.chat = DefaultChatFormat(c.arch, spec.tokenizer);
  spec.weight_type = c.type;
  const bool k_quant = c.type == TensorType::kQ4_K || c.type == TensorType::kQ6_K;
  spec.n_embd = k_quant ? 256 : 128;
  spec.n_ff = k_quant ? 512 : 256;
  spec.n_layer = 2;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_vocab = 512;
  spec.n_ctx = 64;
  spec.seed = 5;
  return spec;
}

std::vector<TokenId> Tokens(uint64_t seed, int n, int64_t n_vocab) {
  std::vector<TokenId> tokens;
  for (int i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    tokens.push_back(static_cast<TokenId>((seed >> 33) % static_cast<uint64_t>(n_vocab)));
  }
  return tokens;
}

bool BitIdentical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class DeterminismTest : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    spec_ = SpecFor(GetParam());
    auto loaded = LoadTestModel(spec_);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    loaded_ = std::move(*loaded);
    prompt_ = Tokens(1, 13, spec_.n_vocab);
    other_ = Tokens(2, 9, spec_.n_vocab);
  }

  std::unique_ptr<Context> NewContext(int n_threads, int n_seq = 1) {
    ContextParams params;
    params.n_ctx = 64;
    params.n_seq = n_seq;
    params.n_threads = n_threads;
    auto ctx = Context::Create(*loaded_.model, params);
    EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
    return ctx.ok() ? std::move(*ctx) : nullptr;
  }

  // Logits of every token of `tokens` on sequence `seq`, fed in batches of `chunk` tokens.
  std::vector<float> RunChunked(Context& ctx, const std::vector<TokenId>& tokens, size_t chunk,
                                int32_t seq = 0) {
    std::vector<float> logits;
    for (size_t begin = 0; begin < tokens.size(); begin += chunk) {
      std::vector<BatchEntry> batch;
      for (size_t i = begin; i < std::min(tokens.size(), begin + chunk); ++i) {
        batch.push_back({tokens[i], seq, static_cast<int32_t>(i), true});
      }
      Status s = ctx.Decode(batch, &logits);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    return logits;
  }

  std::vector<float> RunWhole(int n_threads) {
    auto ctx = NewContext(n_threads);
    return ctx ? RunChunked(*ctx, prompt_, prompt_.size()) : std::vector<float>();
  }

  TestModelSpec spec_;
  LoadedTestModel loaded_;
  std::vector<TokenId> prompt_, other_;
};

TEST_P(DeterminismTest, RepeatedRunsAndThreadCountsGiveIdenticalLogits) {
  const std::vector<float> expected = RunWhole(1);
  ASSERT_EQ(expected.size(), prompt_.size() * spec_.n_vocab);
  EXPECT_TRUE(BitIdentical(RunWhole(1), expected)) << "second run";
  EXPECT_TRUE(BitIdentical(RunWhole(2), expected)) << "2 threads";
  EXPECT_TRUE(BitIdentical(RunWhole(8), expected)) << "8 threads";
}

TEST_P(DeterminismTest, BatchCompositionDoesNotChangeLogits) {
  const std::vector<float> expected = RunWhole(2);
  auto ctx = NewContext(2);
  ASSERT_NE(ctx, nullptr);
  EXPECT_TRUE(BitIdentical(RunChunked(*ctx, prompt_, 1), expected)) << "token by token";
  ctx->ClearSequence(0);
  EXPECT_TRUE(BitIdentical(RunChunked(*ctx, prompt_, 3), expected)) << "chunks of 3";
}

TEST_P(DeterminismTest, InterleavedSequencesMatchEachRunAlone) {
  const std::vector<float> alone_first = RunWhole(2);
  std::vector<float> alone_second;
  {
    auto ctx = NewContext(2);
    ASSERT_NE(ctx, nullptr);
    alone_second = RunChunked(*ctx, other_, other_.size());
  }

  // One batch alternating the two sequences (the longer one's tail at the end), on seq 1 and 0
  // so that neither sequence sits in its "own" slot.
  auto ctx = NewContext(2, /*n_seq=*/2);
  ASSERT_NE(ctx, nullptr);
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < prompt_.size(); ++i) {
    batch.push_back({prompt_[i], 1, static_cast<int32_t>(i), true});
    if (i < other_.size()) batch.push_back({other_[i], 0, static_cast<int32_t>(i), true});
  }
  std::vector<float> logits;
  ASSERT_TRUE(ctx->Decode(batch, &logits).ok());
  const size_t n_vocab = static_cast<size_t>(spec_.n_vocab);
  ASSERT_EQ(logits.size(), batch.size() * n_vocab);
  std::vector<float> first, second;
  for (size_t e = 0; e < batch.size(); ++e) {
    std::vector<float>& dst = batch[e].seq == 1 ? first : second;
    dst.insert(dst.end(), logits.begin() + e * n_vocab, logits.begin() + (e + 1) * n_vocab);
  }
  EXPECT_TRUE(BitIdentical(first, alone_first));
  EXPECT_TRUE(BitIdentical(second, alone_second));
}

TEST_P(DeterminismTest, SampledGenerationIsIdenticalAcrossThreadCounts) {
  GenerateRequest request;
  request.prompt = prompt_;
  request.max_tokens = 12;
  request.stop_at_end_of_generation = false;
  request.sampling.temperature = 0.8f;
  request.sampling.top_p = 0.9f;
  request.sampling.seed = 42;
  std::vector<std::vector<GeneratedToken>> runs;
  for (int threads : {1, 2, 8}) {
    auto ctx = NewContext(threads);
    ASSERT_NE(ctx, nullptr);
    auto result = Generate(*ctx, request);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    ASSERT_EQ(result->tokens.size(), 12u);
    runs.push_back(result->tokens);
  }
  for (size_t r = 1; r < runs.size(); ++r) {
    for (size_t i = 0; i < runs[0].size(); ++i) {
      EXPECT_EQ(runs[r][i].token, runs[0][i].token) << "run " << r << " token " << i;
      EXPECT_EQ(std::memcmp(&runs[r][i].logprob, &runs[0][i].logprob, sizeof(float)), 0);
    }
  }
}

std::string CaseName(const testing::TestParamInfo<Case>& info) {
  return std::string(TypeName(info.param.type)) +
         (info.param.arch == Architecture::kQwen2 ? "_qwen2" : "_llama");
}

INSTANTIATE_TEST_SUITE_P(AllTypes, DeterminismTest,
                         testing::Values(Case{TensorType::kF32, Architecture::kLlama},
                                         Case{TensorType::kF16, Architecture::kQwen2},
                                         Case{TensorType::kBF16, Architecture::kLlama},
                                         Case{TensorType::kQ8_0, Architecture::kQwen2},
                                         Case{TensorType::kQ4_0, Architecture::kLlama},
                                         Case{TensorType::kQ4_K, Architecture::kQwen2},
                                         Case{TensorType::kQ6_K, Architecture::kLlama}),
                         CaseName);

}  // namespace
}  // namespace infernet
