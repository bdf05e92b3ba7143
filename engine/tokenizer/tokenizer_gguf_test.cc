// Tokenizer::FromGguf over files written by WriteTestVocabulary (GgufWriter -> GgufFile).
#include <gtest/gtest.h>

#include "engine/gguf/gguf_file.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/tokenizer/chat_template.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/tokenizer_data.h"

namespace infernet {
namespace {

struct Parsed {
  std::vector<uint8_t> bytes;  // must outlive file
  std::unique_ptr<gguf::GgufFile> file;
};

Parsed Parse(const gguf::GgufWriter& writer) {
  Parsed p;
  p.bytes = writer.WriteToBuffer();
  auto file = gguf::GgufFile::FromBuffer(p.bytes);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  if (file.ok()) p.file = std::move(file).value();
  return p;
}

TEST(TokenizerFromGguf, ReadsWhatWriteTestVocabularyWrote) {
  for (TokenizerKind kind : {TokenizerKind::kSentencePiece, TokenizerKind::kByteLevelBpe}) {
    for (bool llama3 : {false, true}) {
      gguf::GgufWriter writer;
      WriteTestVocabulary(writer, kind, 768, llama3);
      Parsed parsed = Parse(writer);
      ASSERT_NE(parsed.file, nullptr);
      auto from_file = Tokenizer::FromGguf(*parsed.file);
      ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
      auto direct = Tokenizer::FromData(BuildTestVocabulary(kind, 768, llama3));
      ASSERT_TRUE(direct.ok());
      const Tokenizer& a = **from_file;
      const Tokenizer& b = **direct;
      EXPECT_EQ(a.kind(), kind);
      EXPECT_EQ(a.vocab_size(), 768u);
      EXPECT_EQ(a.bos(), b.bos());
      EXPECT_EQ(a.eos(), b.eos());
      const std::string text = "The river, 1897: café 日本語 — I'm here.\n";
      EXPECT_EQ(a.Encode(text, true, true), b.Encode(text, true, true));
      EXPECT_EQ(a.Decode(a.Encode(text, true, false)), text);

      auto chat_template = parsed.file->GetString("tokenizer.chat_template");
      ASSERT_TRUE(chat_template.ok());
      auto format = DetectChatFormat(*chat_template);
      ASSERT_TRUE(format.ok());
      const ChatFormat expected = llama3                                 ? ChatFormat::kLlama3
                                  : kind == TokenizerKind::kByteLevelBpe ? ChatFormat::kChatMl
                                                                         : ChatFormat::kLlama2;
      EXPECT_EQ(*format, expected);
    }
  }
}

TEST(TokenizerFromGguf, RejectsMissingOrUnknownModel) {
  gguf::GgufWriter writer;
  writer.SetValue("general.architecture", gguf::Value::String("llama"));
  Parsed missing = Parse(writer);
  ASSERT_NE(missing.file, nullptr);
  auto r = Tokenizer::FromGguf(*missing.file);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(r.status().message().find("tokenizer.ggml.model"), std::string::npos);

  writer.SetValue("tokenizer.ggml.model", gguf::Value::String("rwkv"));
  Parsed unknown = Parse(writer);
  ASSERT_NE(unknown.file, nullptr);
  EXPECT_EQ(Tokenizer::FromGguf(*unknown.file).status().code(), StatusCode::kUnsupported);
}

TEST(TokenizerFromGguf, RejectsOutOfRangeIdsAndWrongTypes) {
  gguf::GgufWriter writer;
  WriteTestVocabulary(writer, TokenizerKind::kByteLevelBpe, 512, false);
  writer.SetValue("tokenizer.ggml.eos_token_id", gguf::Value::Uint32(512));
  Parsed bad_id = Parse(writer);
  ASSERT_NE(bad_id.file, nullptr);
  auto r = Tokenizer::FromGguf(*bad_id.file);
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(r.status().message().find("eos_token_id"), std::string::npos);

  writer.SetValue("tokenizer.ggml.eos_token_id", gguf::Value::Uint32(1));
  writer.SetValue("tokenizer.ggml.tokens", gguf::Value::String("not an array"));
  Parsed bad_type = Parse(writer);
  ASSERT_NE(bad_type.file, nullptr);
  r = Tokenizer::FromGguf(*bad_type.file);
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(r.status().message().find("tokenizer.ggml.tokens"), std::string::npos);
}

TEST(TokenizerFromGguf, RejectsTokenTypesOutsideTheByteRangeRatherThanWrappingThem) {
  // 262 would wrap to 6 (a byte token) in the one-byte storage, -1 to 255.
  for (int64_t bad : {int64_t{262}, int64_t{-1}, int64_t{1} << 40}) {
    gguf::GgufWriter writer;
    WriteTestVocabulary(writer, TokenizerKind::kSentencePiece, 512, false);
    std::vector<int64_t> types(512, 1);
    types[300] = bad;
    writer.SetValue("tokenizer.ggml.token_type",
                    gguf::Value::IntArray(gguf::ValueType::kInt64, types));
    Parsed parsed = Parse(writer);
    ASSERT_NE(parsed.file, nullptr);
    auto r = Tokenizer::FromGguf(*parsed.file);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(r.status().message().find("tokenizer.ggml.token_type[300]: unknown type " +
                                        std::to_string(bad)),
              std::string::npos)
        << r.status().message();
  }
}

}  // namespace
}  // namespace infernet
