#include "cli/generate_command.h"

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli_status.h"
#include "cli/engine_session.h"
#include "cli/utf8_stream.h"
#include "engine/model/inference.h"
#include "engine/tokenizer/chat_template.h"
#include "engine/tokenizer/tokenizer.h"

namespace infernet::cli {
namespace {

struct GenerateFlags {
  EngineFlags engine;
  std::string prompt;
  std::string system;
  bool chat = false;
  std::string chat_format;  // default: from the model's metadata
  int max_tokens = 128;
  SamplingParams sampling;
  bool json = false;
  bool ignore_eos = false;
};

Result<std::string> BuildPrompt(const GenerateFlags& flags, const Model& model) {
  if (!flags.chat) return flags.prompt;
  ChatFormat format;
  if (!flags.chat_format.empty()) {
    INFERNET_ASSIGN_OR_RETURN(format, ChatFormatFromName(flags.chat_format));
  } else {
    auto source = model.file().GetString("tokenizer.chat_template");
    if (!source.ok()) {
      return Status::InvalidArgument(
          "model has no tokenizer.chat_template; pass --chat-format chatml|llama3|llama2");
    }
    INFERNET_ASSIGN_OR_RETURN(format, DetectChatFormat(*source));
  }
  std::vector<ChatMessage> messages;
  if (!flags.system.empty()) messages.push_back({"system", flags.system});
  messages.push_back({"user", flags.prompt});
  return ApplyChatTemplate(format, messages, /*add_generation_prompt=*/true);
}

std::string_view FinishName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kLength:
      return "length";
    case FinishReason::kEndOfGeneration:
      return "stop";
    case FinishReason::kStopped:
      return "stopped";
  }
  return "unknown";
}

int RunGenerate(const GenerateFlags& flags) {
  Status valid = ValidateSamplingParams(flags.sampling);
  if (!valid.ok()) return ReportFailure(valid);
  auto session = OpenEngineSession(flags.engine);
  if (!session.ok()) return ReportFailure(session.status());
  const Model& model = *session->model;

  auto prompt_text = BuildPrompt(flags, model);
  if (!prompt_text.ok()) return ReportFailure(prompt_text.status());
  GenerateRequest request;
  // Chat prompts carry the template's control tokens; plain prompts never turn user text into them.
  request.prompt = model.tokenizer().Encode(*prompt_text, /*add_special=*/true,
                                            /*parse_special=*/flags.chat);
  request.max_tokens = flags.max_tokens;
  request.sampling = flags.sampling;
  request.stop_at_end_of_generation = !flags.ignore_eos;

  Utf8StreamBuffer stream;
  nlohmann::json tokens = nlohmann::json::array();
  auto on_token = [&](const GeneratedToken& t) {
    if (flags.json) {
      tokens.push_back({{"id", t.token}, {"piece", t.piece}, {"logprob", t.logprob}});
    } else {
      std::fputs(stream.Push(t.piece).c_str(), stdout);
      std::fflush(stdout);
    }
    return true;
  };
  auto result = Generate(*session->context, request, on_token);
  if (!result.ok()) return ReportFailure(result.status());

  size_t generated = result->tokens.size();
  double decode_rate = result->decode_seconds > 0 ? generated / result->decode_seconds : 0;
  double prefill_rate =
      result->prefill_seconds > 0 ? result->prompt_tokens / result->prefill_seconds : 0;
  if (flags.json) {
    std::string text;
    for (const auto& t : result->tokens) text += t.piece;
    nlohmann::json out = {{"text", text},
                          {"tokens", tokens},
                          {"finish_reason", FinishName(result->finish)},
                          {"prompt_tokens", result->prompt_tokens},
                          {"completion_tokens", generated},
                          {"seed", flags.sampling.seed}};
    // Invalid UTF-8 (a random model can emit partial characters) is replaced, not fatal.
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::fputs(stream.Flush().c_str(), stdout);
    std::fputs("\n", stdout);
    std::fflush(stdout);  // the summary goes to stderr; keep it after the text on a terminal
    std::fprintf(stderr,
                 "[%d prompt tokens, %.1f tok/s prefill; %zu generated, %.1f tok/s decode; "
                 "finish: %s]\n",
                 result->prompt_tokens, prefill_rate, generated, decode_rate,
                 std::string(FinishName(result->finish)).c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterGenerateCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<GenerateFlags>();
  CLI::App* cmd = app.add_subcommand("generate", "Generate text with a model (streams tokens)");
  AddEngineFlags(*cmd, flags->engine);
  cmd->add_option("-p,--prompt", flags->prompt, "prompt text")->required();
  cmd->add_flag("--chat", flags->chat, "wrap the prompt in the model's chat template");
  cmd->add_option("--system", flags->system, "system message (with --chat)");
  cmd->add_option("--chat-format", flags->chat_format, "chatml, llama3 or llama2 (with --chat)");
  cmd->add_option("-n,--max-tokens", flags->max_tokens, "tokens to generate")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--temperature", flags->sampling.temperature, "0 = greedy")
      ->capture_default_str();
  cmd->add_option("--top-k", flags->sampling.top_k, "0 = off")->capture_default_str();
  cmd->add_option("--top-p", flags->sampling.top_p, "1 = off")->capture_default_str();
  cmd->add_option("--min-p", flags->sampling.min_p, "0 = off")->capture_default_str();
  cmd->add_option("--repeat-penalty", flags->sampling.repeat_penalty, "1 = off")
      ->capture_default_str();
  cmd->add_option("--repeat-last-n", flags->sampling.repeat_last_n, "window of the penalty")
      ->capture_default_str();
  cmd->add_option("--seed", flags->sampling.seed, "sampling seed (same seed, same tokens)")
      ->capture_default_str();
  cmd->add_flag("--ignore-eos", flags->ignore_eos, "keep generating past end-of-generation tokens");
  cmd->add_flag("--json", flags->json, "print one JSON object with tokens and log-probabilities");
  cmd->callback([flags, &exit_code] { exit_code = RunGenerate(*flags); });
}

}  // namespace infernet::cli
