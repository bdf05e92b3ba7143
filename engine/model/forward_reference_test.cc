// The engine's forward pass (Context::Decode on the CPU back end) against the float64 reference
// in engine/testing/reference_forward.h, for every weight type and both architectures.
//
// Error measure: the largest absolute logit difference over all positions (24) and the
// vocabulary, divided by the standard deviation of the reference logits (about 1 for these
// models); and the largest relative L2 difference of the final normed hidden state. The reference
// uses the same dequantized weights, so the difference is the engine's arithmetic: float32
// accumulation and, for quantized weights, the rounding of activations to Q8_0 (Q4_0, Q8_0
// weights) or Q8_K (Q4_K, Q6_K weights) before each matrix product. Measured on x86-64 with AVX2
// (llama / qwen2), bounds about 2.5x the worst (docs/engine.md, "Numerical accuracy"):
//
//   weights  activations  logit error          bound   hidden error       bound
//   F32      F32          1.6e-6 / 1.5e-6      2e-5    4.6e-7 / 4.7e-7    5e-6
//   F16      F32          1.4e-6 / 1.6e-6      2e-5    4.5e-7 / 4.9e-7    5e-6
//   BF16     F32          1.6e-6 / 2.0e-6      2e-5    4.7e-7 / 5.0e-7    5e-6
//   BF16     BF16         0.020 / 0.023        0.06    0.0065 / 0.0067    0.02
//   Q8_0     Q8_0         0.080 / 0.092        0.25    0.024 / 0.025      0.06
//   Q4_0     Q8_0         0.088 / 0.091        0.25    0.026 / 0.026      0.06
//   Q4_K     Q8_K         0.104 / 0.121        0.3     0.030 / 0.029      0.08
//   Q6_K     Q8_K         0.117 / 0.115        0.3     0.033 / 0.032      0.08
//
// These run with an F32 KV cache, so that only the arithmetic differs. With the default F16
// cache, the reference rounds each key and value to F16 too (ReferenceOptions); the engine's
// float32 keys then land on the other side of a rounding boundary now and then (one F16 step,
// 2^-11 relative), which for float weights gave logit errors of 1.4e-6 to 3.8e-4 and hidden
// errors of 3.8e-7 to 1.1e-4 (bound 1e-3 / 3e-4; Zen 4, AVX-512), against 1.6e-3 to 2.0e-3 and
// 4.6e-4 to 6.9e-4 from the unrounded reference. Quantized weights stay within their own bounds.
//
// BF16 weights take BF16 activations where the CPU has AVX512_BF16 (quant::ActivationType; row
// measured on AMD Zen 5), F32 activations elsewhere.
// Float weights with float activations agree to float32 rounding. For quantized weights the error
// is that of 8-bit activations (about 0.5% per matrix product, compounded over 2 layers of a random
// network, and the largest of ~12,000 logits is about 4 standard deviations of the per-logit
// error).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/model/context.h"
#include "engine/model/model.h"
#include "engine/quant/quant.h"
#include "engine/testing/reference_forward.h"
#include "engine/testing/temp_test_model.h"

namespace infernet {
namespace {

struct Bound {
  TensorType type;
  double max_logit_error;   // relative to the reference logits' standard deviation
  double max_hidden_error;  // ||engine - reference|| / ||reference|| of the final hidden state
};

constexpr Bound kBounds[] = {
    {TensorType::kF32, 2e-5, 5e-6},  {TensorType::kF16, 2e-5, 5e-6},
    {TensorType::kBF16, 2e-5, 5e-6}, {TensorType::kQ8_0, 0.25, 0.06},
    {TensorType::kQ4_0, 0.25, 0.06}, {TensorType::kQ4_K, 0.3, 0.08},
    {TensorType::kQ6_K, 0.3, 0.08},
};
// BF16 weights when their activations are rounded to BF16 (8 significant bits, like 8-bit quants).
constexpr Bound kBf16ActivationsBound = {TensorType::kBF16, 0.06, 0.02};
// Float weights with an F16 KV cache, against the reference rounding keys and values alike (the
// larger of this and the weight type's bound applies).
constexpr Bound kF16KvBound = {TensorType::kF16, 1e-3, 3e-4};

struct Case {
  TensorType type;
  Architecture arch;
  float rope_scaling = 1.0f;
};

std::string CaseName(const testing::TestParamInfo<Case>& info) {
  return std::string(TypeName(info.param.type)) +
         (info.param.arch == Architecture::kQwen2 ? "_qwen2" : "_llama") +
         (info.param.rope_scaling != 1.0f ? "_linear_rope_scaling" : "");
}

TestModelSpec SpecFor(const Case& c) {
  TestModelSpec spec;
  spec.arch = c.arch;
  spec.chat = DefaultChatFormat(c.arch, spec.tokenizer);
  spec.weight_type = c.type;
  // K-quant blocks hold 256 values: narrower rows would silently fall back to Q8_0.
  const bool k_quant = c.type == TensorType::kQ4_K || c.type == TensorType::kQ6_K;
  spec.n_embd = k_quant ? 256 : 128;
  spec.n_ff = k_quant ? 512 : 320;
  spec.n_layer = 2;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_vocab = c.arch == Architecture::kQwen2 ? 600 : 512;
  spec.n_ctx = 64;
  spec.tied_embeddings = c.arch == Architecture::kQwen2;
  spec.rope_freq_base = c.arch == Architecture::kQwen2 ? 1000000.0f : 10000.0f;
  spec.rope_scaling_factor = c.rope_scaling;
  spec.seed = 11;
  return spec;
}

// A fixed pseudo-random prompt long enough for RoPE and attention to matter.
std::vector<TokenId> Prompt(int64_t n_vocab, int n) {
  std::vector<TokenId> tokens;
  uint64_t x = 12345;
  for (int i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    tokens.push_back(static_cast<TokenId>((x >> 33) % static_cast<uint64_t>(n_vocab)));
  }
  return tokens;
}

struct Errors {
  double logit = 0;   // max |engine - reference| / stddev(reference logits)
  double hidden = 0;  // max over positions of ||engine - reference|| / ||reference||
};

class ForwardReferenceTest : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    spec_ = SpecFor(GetParam());
    auto loaded = LoadTestModel(spec_);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    loaded_ = std::move(*loaded);
    auto reference = ReferenceModel::Load(loaded_.model->file());
    ASSERT_TRUE(reference.ok()) << reference.status().ToString();
    reference_ = std::move(*reference);

    prompt_ = Prompt(spec_.n_vocab, 24);
  }

  // The engine's logits and hidden states for the prompt, with the KV cache in `kv_type`.
  void RunEngine(TensorType kv_type) {
    ContextParams params;
    params.n_ctx = 64;
    params.n_threads = 2;
    params.kv_type = kv_type;
    auto ctx = Context::Create(*loaded_.model, params);
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    std::vector<BatchEntry> batch;
    for (size_t i = 0; i < prompt_.size(); ++i) {
      batch.push_back({prompt_[i], 0, static_cast<int32_t>(i), true});
    }
    logits_.clear();
    hidden_.clear();
    ASSERT_TRUE((*ctx)->Decode(batch, &logits_, &hidden_).ok());
    ASSERT_EQ(logits_.size(), prompt_.size() * spec_.n_vocab);
    ASSERT_EQ(hidden_.size(), prompt_.size() * spec_.n_embd);
  }

  Errors CompareWith(const ReferenceOptions& options) const {
    const ReferenceOutput expected = reference_->Forward(prompt_, options);
    const size_t n_vocab = static_cast<size_t>(spec_.n_vocab);
    const size_t n_embd = static_cast<size_t>(spec_.n_embd);
    double sum = 0, sum_sq = 0, max_error = 0;
    Errors errors;
    for (size_t t = 0; t < prompt_.size(); ++t) {
      for (size_t v = 0; v < n_vocab; ++v) {
        const double ref = expected.logits[t][v];
        sum += ref;
        sum_sq += ref * ref;
        max_error = std::max(max_error, std::abs(logits_[t * n_vocab + v] - ref));
      }
      double diff_sq = 0, norm_sq = 0;
      for (size_t j = 0; j < n_embd; ++j) {
        const double ref = expected.hidden[t][j];
        diff_sq += (hidden_[t * n_embd + j] - ref) * (hidden_[t * n_embd + j] - ref);
        norm_sq += ref * ref;
      }
      errors.hidden = std::max(errors.hidden, std::sqrt(diff_sq / norm_sq));
    }
    const double count = static_cast<double>(prompt_.size() * n_vocab);
    const double stddev = std::sqrt(sum_sq / count - (sum / count) * (sum / count));
    EXPECT_GT(stddev, 0.5) << "degenerate reference logits";
    errors.logit = max_error / stddev;
    char measured[96];
    std::snprintf(measured, sizeof(measured), "logit %.3g, hidden %.3g", errors.logit,
                  errors.hidden);
    RecordProperty("relative_error", measured);
    return errors;
  }

  const Bound& BoundFor(TensorType type) const {
    if (quant::ActivationType(type) == TensorType::kBF16) return kBf16ActivationsBound;
    return *std::find_if(std::begin(kBounds), std::end(kBounds),
                         [&](const Bound& b) { return b.type == type; });
  }

  TestModelSpec spec_;
  LoadedTestModel loaded_;
  std::unique_ptr<ReferenceModel> reference_;
  std::vector<TokenId> prompt_;
  std::vector<float> logits_, hidden_;
};

TEST_P(ForwardReferenceTest, LogitsMatchTheReferenceWithExactActivations) {
  ASSERT_NO_FATAL_FAILURE(RunEngine(TensorType::kF32));
  const Errors errors = CompareWith({});
  const Bound& bound = BoundFor(spec_.weight_type);
  EXPECT_LE(errors.logit, bound.max_logit_error);
  EXPECT_LE(errors.hidden, bound.max_hidden_error);
}

// The default F16 KV cache against the reference rounding keys and values the same way.
TEST_P(ForwardReferenceTest, F16KvCacheMatchesTheReferenceRoundingKeysAndValues) {
  ASSERT_NO_FATAL_FAILURE(RunEngine(TensorType::kF16));
  ReferenceOptions options;
  options.emulate_fp16_kv_cache = true;
  const Errors errors = CompareWith(options);
  const Bound& bound = BoundFor(spec_.weight_type);
  EXPECT_LE(errors.logit, std::max(bound.max_logit_error, kF16KvBound.max_logit_error));
  EXPECT_LE(errors.hidden, std::max(bound.max_hidden_error, kF16KvBound.max_hidden_error));
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const Bound& b : kBounds) {
    for (Architecture arch : {Architecture::kLlama, Architecture::kQwen2}) {
      cases.push_back({b.type, arch});
    }
  }
  cases.push_back({TensorType::kF32, Architecture::kLlama, 4.0f});
  cases.push_back({TensorType::kF32, Architecture::kQwen2, 2.5f});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllTypes, ForwardReferenceTest, testing::ValuesIn(AllCases()), CaseName);

}  // namespace
}  // namespace infernet
