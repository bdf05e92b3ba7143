// Token sampling: greedy, temperature, top-k, top-p, min-p and repetition penalty, driven by a
// documented PRNG seeded per request so any node reproduces the same tokens from the same seed.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/result.h"
#include "engine/sampling/candidate_order.h"
#include "engine/tokenizer/tokenizer.h"

namespace infernet {

struct SamplingParams {
  float temperature = 0.0f;     // 0 = greedy (argmax; ties go to the lowest token id)
  int32_t top_k = 0;            // 0 = off
  float top_p = 1.0f;           // 1 = off
  float min_p = 0.0f;           // 0 = off
  float repeat_penalty = 1.0f;  // 1 = off; applied to the last `repeat_last_n` tokens
  int32_t repeat_last_n = 64;
  uint64_t seed = 0;
};

// INVALID_ARGUMENT naming the parameter when out of range.
Status ValidateSamplingParams(const SamplingParams& params);

// xoshiro256** seeded through SplitMix64 from a 64-bit seed (see docs/engine-sampling.md);
// NextUnit() returns the top 53 bits as a double in [0, 1). The sequence is fixed forever: changing
// it breaks reproducibility of past jobs.
class SamplingRng {
 public:
  explicit SamplingRng(uint64_t seed);
  uint64_t Next();
  double NextUnit();

 private:
  uint64_t s_[4];
};

struct SampledToken {
  TokenId token;
  float logprob;  // log-probability under the model (log-softmax of the raw logits)
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);  // REQUIRES: ValidateSamplingParams(params).ok()
  // `history`: tokens of this sequence so far (prompt and generated), for the penalty.
  SampledToken Sample(std::span<const float> logits, std::span<const TokenId> history);

 private:
  SamplingParams params_;
  SamplingRng rng_;
  // Working space kept between calls, so that a step allocates nothing once warm.
  std::vector<float> scratch_;
  std::vector<Candidate> candidates_, sort_scratch_;
  std::vector<double> probs_;
};

// The greedy choice: the first index of the largest non-NaN logit (ties go to the lowest id); 0
// when all are NaN.
TokenId GreedyToken(std::span<const float> logits);

// log-softmax of `logits` at `token`, computed in double in a fixed order.
float LogProbability(std::span<const float> logits, TokenId token);

}  // namespace infernet
