// A heavier sweep of forward_reference_test.cc: wider and deeper models, more heads, a longer
// prompt fed in uneven batches on several threads. The bounds are those of the fast test scaled
// for depth (errors compound per layer: 4 layers instead of 2). Measured (AVX2): float types
// <= 4e-6, Q8_0/Q4_0 <= 0.13, Q4_K/Q6_K <= 0.19; bounds about 3x that.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/model/context.h"
#include "engine/model/model.h"
#include "engine/quant/quant.h"
#include "engine/testing/reference_forward.h"
#include "engine/testing/temp_test_model.h"

namespace infernet {
namespace {

struct Case {
  TensorType type;
  Architecture arch;
  double max_logit_error;  // relative to the reference logits' standard deviation
};

constexpr Case kCases[] = {
    {TensorType::kF32, Architecture::kLlama, 2e-5}, {TensorType::kF32, Architecture::kQwen2, 2e-5},
    {TensorType::kF16, Architecture::kLlama, 2e-5}, {TensorType::kBF16, Architecture::kQwen2, 2e-5},
    {TensorType::kQ8_0, Architecture::kLlama, 0.4}, {TensorType::kQ8_0, Architecture::kQwen2, 0.4},
    {TensorType::kQ4_0, Architecture::kLlama, 0.4}, {TensorType::kQ4_0, Architecture::kQwen2, 0.4},
    {TensorType::kQ4_K, Architecture::kLlama, 0.5}, {TensorType::kQ4_K, Architecture::kQwen2, 0.5},
    {TensorType::kQ6_K, Architecture::kLlama, 0.5}, {TensorType::kQ6_K, Architecture::kQwen2, 0.5},
};

std::string CaseName(const testing::TestParamInfo<Case>& info) {
  return std::string(TypeName(info.param.type)) +
         (info.param.arch == Architecture::kQwen2 ? "_qwen2" : "_llama");
}

class ForwardReferenceSweep : public testing::TestWithParam<Case> {};

TEST_P(ForwardReferenceSweep, LongPromptOnAWiderDeeperModel) {
  TestModelSpec spec;
  spec.arch = GetParam().arch;
  spec.chat = DefaultChatFormat(spec.arch, spec.tokenizer);
  spec.weight_type = GetParam().type;
  spec.n_embd = 512;
  spec.n_ff = 1536;
  spec.n_layer = 4;
  spec.n_head = 8;
  spec.n_head_kv = 2;
  spec.n_vocab = 1000;
  spec.n_ctx = 128;
  spec.tied_embeddings = spec.arch == Architecture::kLlama;
  spec.seed = 77;
  auto loaded = LoadTestModel(spec, /*backend_threads=*/4);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto reference = ReferenceModel::Load(loaded->model->file());
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();

  std::vector<TokenId> prompt;
  uint64_t x = 99;
  for (int i = 0; i < 80; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    prompt.push_back(static_cast<TokenId>((x >> 33) % spec.n_vocab));
  }
  ContextParams params;
  params.n_ctx = 128;
  params.max_batch = 32;
  params.kv_type = TensorType::kF32;  // the arithmetic alone (F16 caches: forward_reference_test)
  auto ctx = Context::Create(*loaded->model, params);
  ASSERT_TRUE(ctx.ok());
  std::vector<float> logits;
  for (size_t begin = 0; begin < prompt.size();) {
    const size_t end = std::min(prompt.size(), begin + (begin % 2 ? 7 : 29));
    std::vector<BatchEntry> batch;
    for (size_t i = begin; i < end; ++i) {
      batch.push_back({prompt[i], 0, static_cast<int32_t>(i), true});
    }
    ASSERT_TRUE((*ctx)->Decode(batch, &logits).ok());
    begin = end;
  }
  const ReferenceOutput expected = (*reference)->Forward(prompt);
  const size_t n_vocab = static_cast<size_t>(spec.n_vocab);
  ASSERT_EQ(logits.size(), prompt.size() * n_vocab);
  double sum = 0, sum_sq = 0, max_error = 0;
  for (size_t t = 0; t < prompt.size(); ++t) {
    for (size_t v = 0; v < n_vocab; ++v) {
      const double ref = expected.logits[t][v];
      sum += ref;
      sum_sq += ref * ref;
      max_error = std::max(max_error, std::abs(logits[t * n_vocab + v] - ref));
    }
  }
  const double count = static_cast<double>(prompt.size() * n_vocab);
  const double stddev = std::sqrt(sum_sq / count - (sum / count) * (sum / count));
  ASSERT_GT(stddev, 0.5);
  RecordProperty("relative_logit_error", std::to_string(max_error / stddev));
  // BF16 weights take BF16 activations (8 significant bits) where the CPU has AVX512_BF16.
  const bool bf16_activations = quant::ActivationType(spec.weight_type) == TensorType::kBF16;
  EXPECT_LE(max_error / stddev, bf16_activations ? 0.1 : GetParam().max_logit_error);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, ForwardReferenceSweep, testing::ValuesIn(kCases), CaseName);

}  // namespace
}  // namespace infernet
