// Chat templates: turning a conversation into the prompt format a model was trained on.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace infernet {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

enum class ChatFormat { kChatMl, kLlama3, kLlama2 };

// Picks the format from a GGUF `tokenizer.chat_template` Jinja string by its distinctive markers;
// UNSUPPORTED when none matches.
Result<ChatFormat> DetectChatFormat(std::string_view jinja_template);
Result<ChatFormat> ChatFormatFromName(std::string_view name);  // "chatml", "llama3", "llama2"
std::string_view ChatFormatName(ChatFormat format);
// The Jinja template text that DetectChatFormat recognises as `format` (written by make-test).
std::string_view ChatTemplateSource(ChatFormat format);

// Renders messages; with `add_generation_prompt`, ends with the assistant header so the model
// continues as the assistant. Special-token text is emitted literally (encode with parse_special).
std::string ApplyChatTemplate(ChatFormat format, std::span<const ChatMessage> messages,
                              bool add_generation_prompt);

}  // namespace infernet
