#include "provider/task_executor.h"

#include <memory>
#include <string>

#include "engine/gguf/gguf_file.h"
#include "engine/model/context.h"
#include "engine/model/inference.h"
#include "engine/tokenizer/chat_template.h"
#include "provider/utf8_text.h"

namespace infernet::provider {
namespace {

bool Cancelled(const ExecutionHooks& hooks) { return hooks.is_cancelled && hooks.is_cancelled(); }

std::string FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kLength:
      return "length";
    case FinishReason::kEndOfGeneration:
      return "eos";
    case FinishReason::kStopped:
      return "stopped";
  }
  return "unknown";
}

Result<v1::TaskOutput> RunGenerate(Context& ctx, const v1::TaskInput& input,
                                   const v1::GenerationParams& generation,
                                   const SamplingParams& sampling, const ExecutionHooks& hooks) {
  const Model& model = ctx.model();
  GenerateRequest request;
  INFERNET_ASSIGN_OR_RETURN(request.prompt, TokenizePrompt(model, input.text(), generation.chat()));
  request.max_tokens = static_cast<int32_t>(generation.max_tokens());
  request.sampling = sampling;

  std::string pending;  // piece bytes not yet sent because they end inside a character
  bool stopped_by_cancel = false;
  auto on_token = [&](const GeneratedToken& t) {
    if (hooks.on_token) {
      pending += t.piece;
      const size_t complete = CompleteUtf8Prefix(pending);
      v1::TaskEvent::Token event;
      event.set_index(input.index());
      event.set_token(static_cast<uint32_t>(t.token));
      event.set_logprob(t.logprob);
      event.set_text(ToValidUtf8(std::string_view(pending).substr(0, complete)));
      pending.erase(0, complete);
      hooks.on_token(event);
    }
    if (Cancelled(hooks)) {
      stopped_by_cancel = true;
      return false;
    }
    return true;
  };
  INFERNET_ASSIGN_OR_RETURN(GenerateResult result, Generate(ctx, request, on_token));
  if (stopped_by_cancel) return Status::Cancelled("task cancelled by the client");

  v1::TaskOutput output;
  output.set_index(input.index());
  std::string bytes;
  for (const GeneratedToken& t : result.tokens) {
    bytes += t.piece;
    output.add_tokens(static_cast<uint32_t>(t.token));
    output.add_logprobs(t.logprob);
  }
  output.set_text(ToValidUtf8(bytes));
  output.set_prompt_tokens(static_cast<uint32_t>(result.prompt_tokens));
  output.set_finish_reason(FinishReasonName(result.finish));
  return output;
}

Result<v1::TaskOutput> RunEmbed(Context& ctx, const v1::TaskInput& input, v1::Pooling pooling) {
  std::vector<std::vector<TokenId>> tokens = {
      ctx.model().tokenizer().Encode(input.text(), /*add_special=*/true, /*parse_special=*/false)};
  INFERNET_ASSIGN_OR_RETURN(
      auto embeddings, Embed(ctx, tokens, pooling == v1::LAST ? Pooling::kLast : Pooling::kMean,
                             /*normalize=*/true));
  v1::TaskOutput output;
  output.set_index(input.index());
  output.mutable_embedding()->Add(embeddings[0].begin(), embeddings[0].end());
  output.set_prompt_tokens(static_cast<uint32_t>(tokens[0].size()));
  return output;
}

Result<v1::TaskOutput> RunScore(Context& ctx, const v1::TaskInput& input) {
  const Tokenizer& tokenizer = ctx.model().tokenizer();
  std::vector<TokenId> prompt =
      tokenizer.Encode(input.text(), /*add_special=*/true, /*parse_special=*/false);
  std::vector<TokenId> continuation =
      tokenizer.Encode(input.continuation(), /*add_special=*/false, /*parse_special=*/false);
  if (prompt.empty()) {
    return Status::InvalidArgument("input " + std::to_string(input.index()) + ": prompt is empty");
  }
  INFERNET_ASSIGN_OR_RETURN(ScoreResult score, Score(ctx, prompt, continuation));
  v1::TaskOutput output;
  output.set_index(input.index());
  output.set_score_logprob(score.total_logprob);
  output.set_prompt_tokens(static_cast<uint32_t>(prompt.size()));
  return output;
}

}  // namespace

Result<SamplingParams> ToSamplingParams(const v1::GenerationParams& generation) {
  SamplingParams params;
  params.temperature = generation.temperature();
  params.top_k = generation.top_k() > static_cast<uint32_t>(INT32_MAX)
                     ? -1  // refused below
                     : static_cast<int32_t>(generation.top_k());
  params.top_p = generation.top_p() == 0.0f ? 1.0f : generation.top_p();
  params.min_p = generation.min_p();
  params.repeat_penalty =
      generation.repetition_penalty() == 0.0f ? 1.0f : generation.repetition_penalty();
  params.seed = generation.seed();
  INFERNET_RETURN_IF_ERROR(ValidateSamplingParams(params));
  return params;
}

Result<std::vector<TokenId>> TokenizePrompt(const Model& model, const std::string& text,
                                            bool chat) {
  if (!chat) return model.tokenizer().Encode(text, /*add_special=*/true, /*parse_special=*/false);
  auto source = model.file().GetString("tokenizer.chat_template");
  if (!source.ok())
    return Status::InvalidArgument("chat requested but the model has no chat template");
  INFERNET_ASSIGN_OR_RETURN(ChatFormat format, DetectChatFormat(*source));
  std::vector<ChatMessage> messages = {{"user", text}};
  // The rendered template is one string, so control-token text is parsed throughout it: the same
  // prompt `infernet generate --chat` builds, which a verifier must reproduce exactly.
  return model.tokenizer().Encode(ApplyChatTemplate(format, messages, true),
                                  /*add_special=*/true, /*parse_special=*/true);
}

Result<ExecutionSummary> ExecuteTask(const Model& model, const v1::TaskRequest& request,
                                     const ExecutionLimits& limits, const ExecutionHooks& hooks) {
  SamplingParams sampling;
  if (request.kind() == v1::GENERATE) {
    INFERNET_ASSIGN_OR_RETURN(sampling, ToSamplingParams(request.generation()));
    if (request.generation().max_tokens() == 0) {
      return Status::InvalidArgument("generation.max_tokens must be > 0");
    }
  } else if (request.kind() != v1::EMBED && request.kind() != v1::SCORE) {
    return Status::InvalidArgument("task kind is not GENERATE, EMBED or SCORE");
  }
  ContextParams params;
  params.n_ctx = limits.n_ctx;
  params.n_seq = 1;
  params.n_threads = limits.threads;
  params.max_batch = limits.max_batch;
  INFERNET_ASSIGN_OR_RETURN(std::unique_ptr<Context> ctx, Context::Create(model, params));

  ExecutionSummary summary;
  for (const v1::TaskInput& input : request.inputs()) {
    if (Cancelled(hooks)) return Status::Cancelled("task cancelled by the client");
    Result<v1::TaskOutput> output = Status::Internal("unreachable");
    switch (request.kind()) {
      case v1::GENERATE:
        output = RunGenerate(*ctx, input, request.generation(), sampling, hooks);
        break;
      case v1::EMBED:
        output = RunEmbed(*ctx, input, request.pooling());
        break;
      default:
        output = RunScore(*ctx, input);
        break;
    }
    if (!output.ok()) {
      return output.status().WithContext("input " + std::to_string(input.index()));
    }
    summary.prompt_tokens += output->prompt_tokens();
    summary.generated_tokens += static_cast<uint64_t>(output->tokens_size());
    if (hooks.on_output) hooks.on_output(*output);
    summary.outputs.push_back(std::move(output).value());
  }
  return summary;
}

}  // namespace infernet::provider
