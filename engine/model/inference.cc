#include "engine/model/inference.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <span>
#include <string>

#include "engine/model/model.h"

namespace infernet {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Status ValidateTokens(const Context& ctx, std::span<const TokenId> tokens, const char* what) {
  const int64_t n_vocab = ctx.model().config().n_vocab;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= n_vocab) {
      return Status::InvalidArgument(std::string(what) + " token " + std::to_string(i) + " = " +
                                     std::to_string(tokens[i]) + " is outside the vocabulary of " +
                                     std::to_string(n_vocab));
    }
  }
  return Status::Ok();
}

Status CheckFits(const Context& ctx, size_t needed, const std::string& what) {
  const int32_t n_ctx = ctx.params().n_ctx;
  if (needed > static_cast<size_t>(n_ctx)) {
    return Status::OutOfRange(what + " needs " + std::to_string(needed) +
                              " positions but the context holds " + std::to_string(n_ctx));
  }
  return Status::Ok();
}

// Appends `tokens` to sequence `seq` in chunks of max_batch. `wants_output(i)` says whether the
// i-th token's logits/hidden state are needed; they are appended in order to `logits`/`hidden`.
template <typename WantsOutput>
Status Feed(Context& ctx, int32_t seq, std::span<const TokenId> tokens, WantsOutput wants_output,
            std::vector<float>* logits, std::vector<float>* hidden) {
  const size_t max_batch = static_cast<size_t>(ctx.params().max_batch);
  std::vector<BatchEntry> batch;
  for (size_t begin = 0; begin < tokens.size(); begin += max_batch) {
    const size_t end = std::min(tokens.size(), begin + max_batch);
    batch.clear();
    for (size_t i = begin; i < end; ++i) {
      batch.push_back({tokens[i], seq, ctx.SequenceLength(seq) + static_cast<int32_t>(i - begin),
                       wants_output(i)});
    }
    INFERNET_RETURN_IF_ERROR(ctx.Decode(batch, logits, hidden));
  }
  return Status::Ok();
}

}  // namespace

Result<GenerateResult> Generate(Context& ctx, const GenerateRequest& request,
                                const TokenCallback& on_token) {
  if (request.prompt.empty()) return Status::InvalidArgument("the prompt is empty");
  if (request.max_tokens < 0) {
    return Status::InvalidArgument("max_tokens = " + std::to_string(request.max_tokens) +
                                   " must not be negative");
  }
  INFERNET_RETURN_IF_ERROR(ValidateSamplingParams(request.sampling));
  INFERNET_RETURN_IF_ERROR(ValidateTokens(ctx, request.prompt, "prompt"));
  INFERNET_RETURN_IF_ERROR(
      CheckFits(ctx, request.prompt.size() + static_cast<size_t>(request.max_tokens),
                "a prompt of " + std::to_string(request.prompt.size()) +
                    " tokens plus max_tokens " + std::to_string(request.max_tokens)));

  const Tokenizer& tokenizer = ctx.model().tokenizer();
  GenerateResult result;
  result.prompt_tokens = static_cast<int32_t>(request.prompt.size());
  ctx.ClearSequence(0);

  std::vector<float> logits;
  const auto prefill_start = Clock::now();
  const size_t last = request.prompt.size() - 1;
  INFERNET_RETURN_IF_ERROR(Feed(
      ctx, 0, request.prompt, [last](size_t i) { return i == last; }, &logits, nullptr));
  result.prefill_seconds = SecondsSince(prefill_start);

  const auto decode_start = Clock::now();
  std::vector<TokenId> history = request.prompt;
  Sampler sampler(request.sampling);
  for (int32_t i = 0; i < request.max_tokens; ++i) {
    const SampledToken sampled = sampler.Sample(logits, history);
    // The end-of-generation token is not part of the output: it has no text, and callers see
    // why generation ended in `finish`.
    if (request.stop_at_end_of_generation && tokenizer.IsEndOfGeneration(sampled.token)) {
      result.finish = FinishReason::kEndOfGeneration;
      break;
    }
    GeneratedToken token{sampled.token, sampled.logprob,
                         tokenizer.TokenToPiece(sampled.token, false)};
    history.push_back(sampled.token);
    result.tokens.push_back(token);
    if (on_token && !on_token(token)) {
      result.finish = FinishReason::kStopped;
      break;
    }
    if (i + 1 == request.max_tokens) break;  // the last token's logits are never needed
    logits.clear();
    const BatchEntry next{sampled.token, 0, ctx.SequenceLength(0), true};
    INFERNET_RETURN_IF_ERROR(ctx.Decode(std::span(&next, 1), &logits));
  }
  result.decode_seconds = SecondsSince(decode_start);
  return result;
}

Result<std::vector<std::vector<float>>> Embed(Context& ctx,
                                              const std::vector<std::vector<TokenId>>& inputs,
                                              Pooling pooling, bool normalize) {
  const int64_t n_embd = ctx.model().config().n_embd;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const std::string name = "input " + std::to_string(k);
    if (inputs[k].empty()) return Status::InvalidArgument(name + " is empty");
    INFERNET_RETURN_IF_ERROR(ValidateTokens(ctx, inputs[k], name.c_str()));
    INFERNET_RETURN_IF_ERROR(CheckFits(
        ctx, inputs[k].size(), name + " of " + std::to_string(inputs[k].size()) + " tokens"));
  }

  std::vector<std::vector<float>> embeddings;
  std::vector<float> logits, hidden;
  for (const std::vector<TokenId>& input : inputs) {
    ctx.ClearSequence(0);
    logits.clear();
    hidden.clear();
    const size_t last = input.size() - 1;
    INFERNET_RETURN_IF_ERROR(Feed(
        ctx, 0, input, [&](size_t i) { return pooling == Pooling::kMean || i == last; }, &logits,
        &hidden));
    ctx.ClearSequence(0);

    // Pool and normalise in double, in a fixed order, so the result is reproducible.
    const size_t rows = hidden.size() / static_cast<size_t>(n_embd);
    const size_t first_row = pooling == Pooling::kMean ? 0 : rows - 1;
    std::vector<double> sum(static_cast<size_t>(n_embd), 0.0);
    for (size_t r = first_row; r < rows; ++r) {
      for (int64_t j = 0; j < n_embd; ++j) sum[j] += hidden[r * n_embd + j];
    }
    const double count = static_cast<double>(rows - first_row);
    double norm2 = 0;
    for (double& v : sum) {
      v /= count;
      norm2 += v * v;
    }
    const double scale = normalize && norm2 > 0 ? 1.0 / std::sqrt(norm2) : 1.0;
    std::vector<float> embedding(static_cast<size_t>(n_embd));
    for (int64_t j = 0; j < n_embd; ++j) embedding[j] = static_cast<float>(sum[j] * scale);
    embeddings.push_back(std::move(embedding));
  }
  return embeddings;
}

Result<ScoreResult> Score(Context& ctx, const std::vector<TokenId>& prompt,
                          const std::vector<TokenId>& continuation) {
  if (prompt.empty()) return Status::InvalidArgument("the prompt is empty");
  INFERNET_RETURN_IF_ERROR(ValidateTokens(ctx, prompt, "prompt"));
  INFERNET_RETURN_IF_ERROR(ValidateTokens(ctx, continuation, "continuation"));
  ScoreResult result;
  if (continuation.empty()) return result;
  // The last continuation token is only predicted, never fed.
  INFERNET_RETURN_IF_ERROR(CheckFits(ctx, prompt.size() + continuation.size() - 1,
                                     "a prompt of " + std::to_string(prompt.size()) +
                                         " tokens plus a continuation of " +
                                         std::to_string(continuation.size())));

  std::vector<TokenId> tokens = prompt;
  tokens.insert(tokens.end(), continuation.begin(), continuation.end() - 1);
  ctx.ClearSequence(0);
  std::vector<float> logits;
  const size_t first_output = prompt.size() - 1;
  INFERNET_RETURN_IF_ERROR(Feed(
      ctx, 0, tokens, [first_output](size_t i) { return i >= first_output; }, &logits, nullptr));

  const size_t n_vocab = static_cast<size_t>(ctx.model().config().n_vocab);
  for (size_t j = 0; j < continuation.size(); ++j) {
    const float lp = LogProbability(std::span<const float>(logits).subspan(j * n_vocab, n_vocab),
                                    continuation[j]);
    result.token_logprobs.push_back(lp);
    result.total_logprob += lp;
  }
  return result;
}

}  // namespace infernet
