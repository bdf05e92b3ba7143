// Smoke tests of Model::Load and Context on a tiny random model written with GgufWriter.
// (Full determinism and float64-reference tests live in determinism_test.cc / reference tests.)
#include "engine/model/context.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/model/model.h"
#include "engine/quant/quant.h"

namespace infernet {
namespace {

constexpr int kVocab = 512, kEmbd = 64, kHead = 4, kHeadKv = 2, kFf = 96, kLayers = 2;

struct TinyModelOptions {
  std::string arch = "llama";
  bool tied = false;
  bool biases = false;
  std::string skip_tensor;       // leave this tensor out
  std::string misshapen_tensor;  // give this tensor an extra column
};

std::vector<uint8_t> RandomTensorData(TensorType type, const std::vector<int64_t>& shape,
                                      std::mt19937& rng, float scale, float offset) {
  std::normal_distribution<float> dist(offset, scale);
  int64_t rows = 1;
  for (size_t d = 1; d < shape.size(); ++d) rows *= shape[d];
  std::vector<float> values(static_cast<size_t>(shape[0]));
  const size_t row_bytes = RowBytes(type, shape[0]);
  std::vector<uint8_t> data(row_bytes * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    for (float& v : values) v = dist(rng);
    quant::QuantizeRow(type, values.data(), data.data() + size_t(r) * row_bytes, shape[0]);
  }
  return data;
}

std::filesystem::path WriteTinyModel(const TinyModelOptions& o, const std::string& file_name) {
  gguf::GgufWriter w;
  const std::string a = o.arch;
  w.SetValue("general.architecture", gguf::Value::String(a));
  w.SetValue(a + ".context_length", gguf::Value::Uint32(512));
  w.SetValue(a + ".embedding_length", gguf::Value::Uint32(kEmbd));
  w.SetValue(a + ".block_count", gguf::Value::Uint32(kLayers));
  w.SetValue(a + ".feed_forward_length", gguf::Value::Uint32(kFf));
  w.SetValue(a + ".attention.head_count", gguf::Value::Uint32(kHead));
  w.SetValue(a + ".attention.head_count_kv", gguf::Value::Uint32(kHeadKv));
  w.SetValue(a + ".attention.layer_norm_rms_epsilon", gguf::Value::Float32(1e-5f));
  WriteTestVocabulary(w, TokenizerKind::kByteLevelBpe, kVocab, false);

  std::mt19937 rng(42);
  auto add = [&](const std::string& name, std::vector<int64_t> shape, TensorType type, float scale,
                 float offset) {
    if (name == o.skip_tensor) return;
    if (name == o.misshapen_tensor) shape[0] += 32;
    auto data = RandomTensorData(type, shape, rng, scale, offset);
    Status s = w.AddTensor(name, shape, type, std::move(data));
    ASSERT_TRUE(s.ok()) << s.ToString();
  };
  const int64_t head_dim = kEmbd / kHead, kv_dim = kHeadKv * head_dim;
  add("token_embd.weight", {kEmbd, kVocab}, TensorType::kQ8_0, 1.0f, 0.0f);
  add("output_norm.weight", {kEmbd}, TensorType::kF32, 0.1f, 1.0f);
  if (!o.tied) add("output.weight", {kEmbd, kVocab}, TensorType::kQ4_0, 0.2f, 0.0f);
  for (int i = 0; i < kLayers; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    add(p + "attn_norm.weight", {kEmbd}, TensorType::kF32, 0.1f, 1.0f);
    add(p + "attn_q.weight", {kEmbd, kEmbd}, TensorType::kQ8_0, 0.3f, 0.0f);
    add(p + "attn_k.weight", {kEmbd, kv_dim}, TensorType::kQ8_0, 0.3f, 0.0f);
    add(p + "attn_v.weight", {kEmbd, kv_dim}, TensorType::kF16, 0.3f, 0.0f);
    add(p + "attn_output.weight", {kEmbd, kEmbd}, TensorType::kQ4_0, 0.2f, 0.0f);
    if (o.biases) {
      add(p + "attn_q.bias", {kEmbd}, TensorType::kF32, 0.1f, 0.0f);
      add(p + "attn_k.bias", {kv_dim}, TensorType::kF32, 0.1f, 0.0f);
      add(p + "attn_v.bias", {kv_dim}, TensorType::kF32, 0.1f, 0.0f);
    }
    add(p + "ffn_norm.weight", {kEmbd}, TensorType::kF32, 0.1f, 1.0f);
    add(p + "ffn_gate.weight", {kEmbd, kFf}, TensorType::kQ8_0, 0.2f, 0.0f);
    add(p + "ffn_up.weight", {kEmbd, kFf}, TensorType::kF32, 0.2f, 0.0f);
    add(p + "ffn_down.weight", {kFf, kEmbd}, TensorType::kQ8_0, 0.2f, 0.0f);
  }
  auto path = std::filesystem::path(::testing::TempDir()) / file_name;
  Status s = w.WriteFile(path);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return path;
}

std::vector<BatchEntry> Prompt(const std::vector<TokenId>& tokens, int32_t seq, int32_t first_pos,
                               bool all_outputs) {
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < tokens.size(); ++i) {
    batch.push_back(
        {tokens[i], seq, first_pos + int32_t(i), all_outputs || i + 1 == tokens.size()});
  }
  return batch;
}

bool BitEqual(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class ContextTest : public ::testing::TestWithParam<TinyModelOptions> {
 protected:
  void SetUp() override {
    const TinyModelOptions& o = GetParam();
    path_ = WriteTinyModel(o, "tiny_" + o.arch + (o.tied ? "_tied" : "") + ".gguf");
    backend_ = CreateCpuBackend(3);
    auto model = Model::Load(path_, *backend_);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = std::move(model).value();
  }

  std::unique_ptr<Context> NewContext(int n_threads, int n_seq = 2) {
    ContextParams params;
    params.n_ctx = 32;
    params.n_seq = n_seq;
    params.n_threads = n_threads;
    params.max_batch = 16;
    auto ctx = Context::Create(*model_, params);
    EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
    return std::move(ctx).value();
  }

  // Logits of every token of `tokens` on sequence 0 from position 0, one Decode call per token.
  static std::vector<float> DecodeTokenByToken(Context& ctx, const std::vector<TokenId>& tokens) {
    std::vector<float> logits;
    for (size_t i = 0; i < tokens.size(); ++i) {
      const BatchEntry e{tokens[i], 0, int32_t(i), true};
      const Status s = ctx.Decode({&e, 1}, &logits);
      EXPECT_TRUE(s.ok()) << "token " << i << ": " << s.ToString();
    }
    return logits;
  }

  std::filesystem::path path_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Model> model_;
  const std::vector<TokenId> prompt_ = {1, 300, 17, 511, 42, 42, 7, 260, 99};
};

TEST_P(ContextTest, LoadsTheConfigAndWeights) {
  EXPECT_EQ(model_->config().n_vocab, kVocab);
  EXPECT_EQ(model_->config().tied_embeddings, GetParam().tied);
  EXPECT_GT(model_->weight_bytes(), 0u);
}

TEST_P(ContextTest, ReturnsLogitsAndHiddenStateForOutputEntriesOnly) {
  auto ctx = NewContext(2);
  std::vector<float> logits, hidden;
  ASSERT_TRUE(ctx->Decode(Prompt(prompt_, 0, 0, false), &logits, &hidden).ok());
  ASSERT_EQ(logits.size(), size_t(kVocab));
  ASSERT_EQ(hidden.size(), size_t(kEmbd));
  for (float v : logits) ASSERT_TRUE(std::isfinite(v));
  // The hidden state is RMS-normalised (times a norm weight near 1).
  double ss = 0;
  for (float v : hidden) ss += double(v) * v;
  EXPECT_NEAR(std::sqrt(ss / kEmbd), 1.0, 0.3);
  EXPECT_EQ(ctx->SequenceLength(0), int32_t(prompt_.size()));
  EXPECT_EQ(ctx->SequenceLength(1), 0);
}

TEST_P(ContextTest, OneBatchEqualsTokenByTokenBitForBit) {
  auto batched = NewContext(3);
  std::vector<float> all;
  ASSERT_TRUE(batched->Decode(Prompt(prompt_, 0, 0, true), &all).ok());
  ASSERT_EQ(all.size(), prompt_.size() * kVocab);

  auto single = NewContext(1);
  EXPECT_TRUE(BitEqual(all, DecodeTokenByToken(*single, prompt_)));
}

TEST_P(ContextTest, BatchesLongerThanAForwardChunkEqualTokenByToken) {
  // Long batches run through the layers in internal chunks; two sequences interleaved across
  // the chunk boundaries must still match decoding each token alone, bit for bit.
  ContextParams params;
  params.n_ctx = 200;
  params.n_seq = 2;
  params.n_threads = 2;
  params.max_batch = 400;
  auto batched = Context::Create(*model_, params);
  ASSERT_TRUE(batched.ok()) << batched.status().ToString();
  std::vector<BatchEntry> batch;
  for (int32_t i = 0; i < 2 * 150; ++i) {
    const int32_t seq = i % 2;
    batch.push_back({TokenId((i * 37 + 11) % kVocab), seq, i / 2, i % 7 == 0 || i >= 298});
  }
  std::vector<float> together;
  ASSERT_TRUE((*batched)->Decode(batch, &together).ok());

  params.max_batch = 1;
  auto single = Context::Create(*model_, params);
  ASSERT_TRUE(single.ok());
  std::vector<float> alone;
  for (const BatchEntry& e : batch) ASSERT_TRUE((*single)->Decode({&e, 1}, &alone).ok());
  EXPECT_TRUE(BitEqual(together, alone));
  EXPECT_EQ((*batched)->SequenceLength(0), 150);
  EXPECT_EQ((*batched)->SequenceLength(1), 150);
}

TEST_P(ContextTest, ScratchFollowsBatchSizesWithoutChangingResults) {
  // Scratch grows to a call's batch and shrinks once a call needs a quarter of it or less; the
  // reallocations must not change a bit of the results.
  auto ctx = NewContext(2);
  EXPECT_EQ(ctx->scratch_rows(), 0);
  const std::vector<size_t> batch_sizes = {9, 1, 3, 2, 1, 1};
  const std::vector<int64_t> rows_after = {9, 1, 3, 3, 3, 3};
  std::vector<TokenId> tokens;
  std::vector<float> varied;
  for (size_t call = 0; call < batch_sizes.size(); ++call) {
    std::vector<TokenId> part;
    for (size_t i = 0; i < batch_sizes[call]; ++i) {
      part.push_back(TokenId((tokens.size() * 53 + 5) % kVocab));
      tokens.push_back(part.back());
    }
    ASSERT_TRUE(
        ctx->Decode(Prompt(part, 0, int32_t(tokens.size() - part.size()), true), &varied).ok());
    EXPECT_EQ(ctx->scratch_rows(), rows_after[call]) << "after call " << call;
  }
  ASSERT_EQ(varied.size(), tokens.size() * kVocab);

  auto single = NewContext(1);
  const std::vector<float> one_by_one = DecodeTokenByToken(*single, tokens);
  EXPECT_EQ(single->scratch_rows(), 1);
  EXPECT_TRUE(BitEqual(varied, one_by_one));
}

TEST_P(ContextTest, SequencesInOneBatchDoNotInfluenceEachOther) {
  // Sequence 1 decodes another prompt interleaved with sequence 0's.
  const std::vector<TokenId> other = {5, 6, 400, 8};
  auto mixed = NewContext(2);
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < prompt_.size(); ++i) {
    batch.push_back({prompt_[i], 0, int32_t(i), true});
    if (i < other.size()) batch.push_back({other[i], 1, int32_t(i), false});
  }
  std::vector<float> mixed_logits;
  ASSERT_TRUE(mixed->Decode(batch, &mixed_logits).ok());

  auto alone = NewContext(2);
  std::vector<float> alone_logits;
  ASSERT_TRUE(alone->Decode(Prompt(prompt_, 0, 0, true), &alone_logits).ok());
  EXPECT_TRUE(BitEqual(mixed_logits, alone_logits));
}

TEST_P(ContextTest, InvalidBatchesFailAndLeaveTheCacheUnchanged) {
  auto ctx = NewContext(2);
  std::vector<float> logits;
  ASSERT_TRUE(ctx->Decode(Prompt({1, 2, 3}, 0, 0, false), &logits).ok());
  logits.clear();

  const std::vector<std::pair<std::vector<BatchEntry>, StatusCode>> bad = {
      {{{4, 0, 4, true}}, StatusCode::kInvalidArgument},  // skips position 3
      {{{4, 0, 2, true}}, StatusCode::kInvalidArgument},  // rewrites position 2
      {{{4, 0, 3, false}, {kVocab, 0, 4, true}}, StatusCode::kInvalidArgument},  // bad token
      {{{-1, 0, 3, true}}, StatusCode::kInvalidArgument},
      {{{4, 2, 0, true}}, StatusCode::kInvalidArgument},  // no sequence 2
      {{}, StatusCode::kInvalidArgument},
      {std::vector<BatchEntry>(17, BatchEntry{4, 1, 0, false}), StatusCode::kOutOfRange},
  };
  for (const auto& [batch, code] : bad) {
    Status s = ctx->Decode(batch, &logits);
    EXPECT_EQ(s.code(), code) << s.ToString();
    EXPECT_TRUE(logits.empty());
    EXPECT_EQ(ctx->SequenceLength(0), 3);
    EXPECT_EQ(ctx->SequenceLength(1), 0);
  }
  // The cache still continues the three-token prefix exactly.
  ASSERT_TRUE(ctx->Decode(Prompt({4}, 0, 3, true), &logits).ok());
  auto fresh = NewContext(2);
  std::vector<float> expect;
  ASSERT_TRUE(fresh->Decode(Prompt({1, 2, 3, 4}, 0, 0, false), &expect).ok());
  EXPECT_TRUE(BitEqual(logits, expect));
}

TEST_P(ContextTest, TruncateAndClearRewindSequences) {
  auto ctx = NewContext(1);
  std::vector<float> first;
  ASSERT_TRUE(ctx->Decode(Prompt({10, 11, 12, 13}, 0, 0, false), &first).ok());
  ctx->TruncateSequence(0, 2);
  EXPECT_EQ(ctx->SequenceLength(0), 2);
  std::vector<float> again;
  ASSERT_TRUE(ctx->Decode(Prompt({12, 13}, 0, 2, false), &again).ok());
  EXPECT_TRUE(BitEqual(first, again));

  ctx->ClearSequence(0);
  EXPECT_EQ(ctx->SequenceLength(0), 0);
  std::vector<float> cleared;
  ASSERT_TRUE(ctx->Decode(Prompt({10, 11, 12, 13}, 0, 0, false), &cleared).ok());
  EXPECT_TRUE(BitEqual(first, cleared));
}

TEST_P(ContextTest, PositionsBeyondTheContextAreOutOfRange) {
  auto ctx = NewContext(1, 1);
  std::vector<float> logits;
  for (int32_t start = 0; start < 32; start += 16) {
    std::vector<TokenId> tokens(16, 7);
    ASSERT_TRUE(ctx->Decode(Prompt(tokens, 0, start, false), &logits).ok());
  }
  const BatchEntry e{7, 0, 32, true};
  EXPECT_EQ(ctx->Decode({&e, 1}, &logits).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ctx->SequenceLength(0), 32);
}

// The KV cache holds F16 (default) or F32; other types are refused by name, and the F32 cache
// takes twice the F16 one's bytes.
TEST_P(ContextTest, KvCacheTypeIsF16OrF32) {
  ContextParams params;
  params.n_ctx = 32;
  params.n_threads = 1;
  params.kv_type = TensorType::kQ8_0;
  auto refused = Context::Create(*model_, params);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("Q8_0"), std::string::npos)
      << refused.status().message();

  params.kv_type = TensorType::kF32;
  auto f32 = Context::Create(*model_, params);
  params.kv_type = TensorType::kF16;
  auto f16 = Context::Create(*model_, params);
  ASSERT_TRUE(f32.ok() && f16.ok());
  EXPECT_EQ((*f32)->kv_cache_bytes(), 2 * (*f16)->kv_cache_bytes());
}

INSTANTIATE_TEST_SUITE_P(Architectures, ContextTest,
                         ::testing::Values(TinyModelOptions{"llama", false, false, "", ""},
                                           TinyModelOptions{"qwen2", true, true, "", ""}),
                         [](const auto& info) { return info.param.arch; });

TEST(ModelLoadTest, NamesAMissingTensor) {
  auto path = WriteTinyModel({"llama", false, false, "blk.1.ffn_up.weight", ""}, "missing.gguf");
  auto backend = CreateCpuBackend(1);
  auto model = Model::Load(path, *backend);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
  EXPECT_NE(model.status().message().find("blk.1.ffn_up.weight"), std::string::npos);
}

TEST(ModelLoadTest, NamesAMisshapenTensorWithExpectedAndActualShapes) {
  auto path = WriteTinyModel({"llama", false, false, "", "blk.0.attn_k.weight"}, "shape.gguf");
  auto backend = CreateCpuBackend(1);
  auto model = Model::Load(path, *backend);
  ASSERT_FALSE(model.ok());
  const std::string m = model.status().message();
  EXPECT_NE(m.find("blk.0.attn_k.weight"), std::string::npos) << m;
  EXPECT_NE(m.find("[96, 32]"), std::string::npos) << m;
  EXPECT_NE(m.find("[64, 32]"), std::string::npos) << m;
}

}  // namespace
}  // namespace infernet
