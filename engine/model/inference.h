// The engine's user-facing operations: text generation with per-token log-probabilities,
// embeddings, and scoring of a given continuation. Built on Context; used by the CLI and runtimes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/model/context.h"
#include "engine/sampling/sampler.h"

namespace infernet {

struct GenerateRequest {
  std::vector<TokenId> prompt;  // already tokenized (chat template applied by the caller)
  int32_t max_tokens = 128;
  SamplingParams sampling;
  bool stop_at_end_of_generation = true;
};

struct GeneratedToken {
  TokenId token;
  float logprob;
  std::string piece;  // raw bytes of the token (may split a UTF-8 character)
};

enum class FinishReason { kLength, kEndOfGeneration, kStopped };

struct GenerateResult {
  std::vector<GeneratedToken> tokens;
  FinishReason finish = FinishReason::kLength;
  int32_t prompt_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
};

// Called once per generated token; return false to stop early (finish = kStopped).
using TokenCallback = std::function<bool(const GeneratedToken&)>;

// Runs on sequence 0 of `ctx` (cleared first). Prompt is processed in chunks of max_batch.
Result<GenerateResult> Generate(Context& ctx, const GenerateRequest& request,
                                const TokenCallback& on_token = nullptr);

enum class Pooling { kMean, kLast };

// One embedding (n_embd floats, L2-normalised when `normalize`) per input token list.
Result<std::vector<std::vector<float>>> Embed(Context& ctx,
                                              const std::vector<std::vector<TokenId>>& inputs,
                                              Pooling pooling, bool normalize = true);

struct ScoreResult {
  std::vector<float> token_logprobs;  // one per continuation token
  double total_logprob = 0;
};

// log P(continuation | prompt) token by token. REQUIRES: prompt non-empty.
Result<ScoreResult> Score(Context& ctx, const std::vector<TokenId>& prompt,
                          const std::vector<TokenId>& continuation);

}  // namespace infernet
