#include "engine/tokenizer/chat_template.h"

#include <gtest/gtest.h>

namespace infernet {
namespace {

const std::vector<ChatMessage> kConversation = {
    {"system", "Be brief."},
    {"user", "Hi!"},
    {"assistant", "Hello."},
    {"user", "How are you?"},
};

TEST(ChatTemplate, ChatMl) {
  EXPECT_EQ(ApplyChatTemplate(ChatFormat::kChatMl, kConversation, true),
            "<|im_start|>system\nBe brief.<|im_end|>\n"
            "<|im_start|>user\nHi!<|im_end|>\n"
            "<|im_start|>assistant\nHello.<|im_end|>\n"
            "<|im_start|>user\nHow are you?<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(ApplyChatTemplate(ChatFormat::kChatMl, std::span(kConversation).subspan(1, 1), false),
            "<|im_start|>user\nHi!<|im_end|>\n");
}

TEST(ChatTemplate, Llama3LeavesBeginOfTextToTheTokenizer) {
  EXPECT_EQ(ApplyChatTemplate(ChatFormat::kLlama3, kConversation, true),
            "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplate, Llama3TrimsContentLikeItsJinjaTemplate) {
  const std::vector<ChatMessage> m = {{"user", "  padded \n"}};
  EXPECT_EQ(ApplyChatTemplate(ChatFormat::kLlama3, m, false),
            "<|start_header_id|>user<|end_header_id|>\n\npadded<|eot_id|>");
}

TEST(ChatTemplate, Llama2FoldsTheSystemPromptIntoTheFirstTurn) {
  EXPECT_EQ(ApplyChatTemplate(ChatFormat::kLlama2, kConversation, true),
            "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST] Hello. </s>"
            "<s>[INST] How are you? [/INST]");
  const std::vector<ChatMessage> no_system = {{"user", "Hi!"}};
  EXPECT_EQ(ApplyChatTemplate(ChatFormat::kLlama2, no_system, true), "[INST] Hi! [/INST]");
}

TEST(ChatTemplate, DetectsEachFormatFromItsOwnSource) {
  for (ChatFormat f : {ChatFormat::kChatMl, ChatFormat::kLlama3, ChatFormat::kLlama2}) {
    auto detected = DetectChatFormat(ChatTemplateSource(f));
    ASSERT_TRUE(detected.ok());
    EXPECT_EQ(*detected, f) << ChatFormatName(f);
    auto by_name = ChatFormatFromName(ChatFormatName(f));
    ASSERT_TRUE(by_name.ok());
    EXPECT_EQ(*by_name, f);
  }
}

TEST(ChatTemplate, DetectsByMarkers) {
  EXPECT_EQ(*DetectChatFormat("{{ '<|im_start|>' + role }}"), ChatFormat::kChatMl);
  EXPECT_EQ(*DetectChatFormat("x <|start_header_id|> y <|eot_id|>"), ChatFormat::kLlama3);
  EXPECT_EQ(*DetectChatFormat("{{ bos_token + '[INST] ' + content }}"), ChatFormat::kLlama2);
  auto unknown = DetectChatFormat("{{ messages }}");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnsupported);
  EXPECT_FALSE(ChatFormatFromName("vicuna").ok());
}

}  // namespace
}  // namespace infernet
