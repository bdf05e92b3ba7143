#include "engine/tokenizer/chat_template.h"

#include <string>

namespace infernet {
namespace {

// Jinja sources in the shape model repositories ship them; only their markers matter to
// DetectChatFormat, rendering is done natively below.
constexpr std::string_view kChatMlSource =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}";

constexpr std::string_view kLlama3Source =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + "
    "message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = "
    "bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

constexpr std::string_view kLlama2Source =
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}"
    "{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' ' + content.strip() + ' ' + eos_token }}"
    "{% endif %}{% endfor %}";

std::string_view TrimAsciiWhitespace(std::string_view s) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string RenderChatMl(std::span<const ChatMessage> messages, bool add_generation_prompt) {
  std::string out;
  for (const ChatMessage& m : messages) {
    out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  }
  if (add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

// The leading <|begin_of_text|> is the tokenizer's BOS (Encode with add_special), not text here.
std::string RenderLlama3(std::span<const ChatMessage> messages, bool add_generation_prompt) {
  std::string out;
  for (const ChatMessage& m : messages) {
    out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n";
    out += TrimAsciiWhitespace(m.content);
    out += "<|eot_id|>";
  }
  if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

// Each user turn opens with <s>; the first one comes from the tokenizer's BOS. A leading system
// message is folded into the first user turn. The prompt already ends where the assistant
// speaks, so `add_generation_prompt` adds nothing.
std::string RenderLlama2(std::span<const ChatMessage> messages) {
  std::string out;
  std::string_view system;
  if (!messages.empty() && messages.front().role == "system") {
    system = messages.front().content;
    messages = messages.subspan(1);
  }
  bool first_user_turn = true;
  for (const ChatMessage& m : messages) {
    if (m.role == "assistant") {
      out += " ";
      out += TrimAsciiWhitespace(m.content);
      out += " </s>";
      continue;
    }
    std::string content = m.content;
    if (first_user_turn && !system.empty()) {
      content = "<<SYS>>\n" + std::string(system) + "\n<</SYS>>\n\n" + content;
    }
    if (!first_user_turn) out += "<s>";
    out += "[INST] ";
    out += TrimAsciiWhitespace(content);
    out += " [/INST]";
    first_user_turn = false;
  }
  return out;
}

}  // namespace

Result<ChatFormat> DetectChatFormat(std::string_view jinja_template) {
  if (jinja_template.find("<|start_header_id|>") != std::string_view::npos) {
    return ChatFormat::kLlama3;
  }
  if (jinja_template.find("<|im_start|>") != std::string_view::npos) return ChatFormat::kChatMl;
  if (jinja_template.find("[INST]") != std::string_view::npos) return ChatFormat::kLlama2;
  return Status::Unsupported("tokenizer.chat_template: no known chat format markers");
}

Result<ChatFormat> ChatFormatFromName(std::string_view name) {
  if (name == "chatml") return ChatFormat::kChatMl;
  if (name == "llama3") return ChatFormat::kLlama3;
  if (name == "llama2") return ChatFormat::kLlama2;
  return Status::Unsupported("unknown chat format \"" + std::string(name) +
                             "\" (expected chatml, llama3 or llama2)");
}

std::string_view ChatFormatName(ChatFormat format) {
  switch (format) {
    case ChatFormat::kChatMl:
      return "chatml";
    case ChatFormat::kLlama3:
      return "llama3";
    case ChatFormat::kLlama2:
      return "llama2";
  }
  return "unknown";
}

std::string_view ChatTemplateSource(ChatFormat format) {
  switch (format) {
    case ChatFormat::kChatMl:
      return kChatMlSource;
    case ChatFormat::kLlama3:
      return kLlama3Source;
    case ChatFormat::kLlama2:
      return kLlama2Source;
  }
  return {};
}

std::string ApplyChatTemplate(ChatFormat format, std::span<const ChatMessage> messages,
                              bool add_generation_prompt) {
  switch (format) {
    case ChatFormat::kChatMl:
      return RenderChatMl(messages, add_generation_prompt);
    case ChatFormat::kLlama3:
      return RenderLlama3(messages, add_generation_prompt);
    case ChatFormat::kLlama2:
      return RenderLlama2(messages);
  }
  return {};
}

}  // namespace infernet
