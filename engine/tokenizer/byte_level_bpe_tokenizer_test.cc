// Hand-built byte-level BPE vocabularies whose expected tokenizations are worked out by hand.
#include "engine/tokenizer/byte_level_bpe_tokenizer.h"

#include <gtest/gtest.h>

#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/tokenizer_data.h"
#include "engine/tokenizer/unicode_text.h"

namespace infernet {
namespace {

// Ids 0..255 are the GPT-2 byte symbols in byte order (the mapping itself is checked in
// unicode_text_test): printable ASCII is itself, ' ' is "Ġ" (U+0120), '\n' is "Ċ" (U+010A).
std::string ByteSymbol(int b) {
  std::string s;
  unicode::AppendUtf8(unicode::ByteToCodePoint(static_cast<uint8_t>(b)), s);
  return s;
}

TokenizerData ByteVocabulary() {
  TokenizerData data;
  data.kind = TokenizerKind::kByteLevelBpe;
  data.pre = "llama-bpe";
  for (int b = 0; b < 256; ++b) data.tokens.PushBack(ByteSymbol(b));
  data.token_types.assign(256, 1);
  return data;
}

// Adds merge "left right" and its result token; returns the result's id.
TokenId AddMerge(TokenizerData& data, const std::string& left, const std::string& right) {
  data.merges.PushBack(left + " " + right);
  data.tokens.PushBack(left + right);
  data.token_types.push_back(1);
  return static_cast<TokenId>(data.tokens.size() - 1);
}

TokenId AddSpecial(TokenizerData& data, const std::string& text) {
  data.tokens.PushBack(text);
  data.token_types.push_back(3);
  return static_cast<TokenId>(data.tokens.size() - 1);
}

std::unique_ptr<Tokenizer> Build(TokenizerData data) {
  auto result = Tokenizer::FromData(std::move(data));
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? std::move(result).value() : nullptr;
}

TEST(ByteLevelBpe, WithoutMergesEveryByteIsAToken) {
  auto tok = Build(ByteVocabulary());
  EXPECT_EQ(tok->kind(), TokenizerKind::kByteLevelBpe);
  EXPECT_EQ(tok->Encode("hi!", false, false), (std::vector<TokenId>{'h', 'i', '!'}));
}

TEST(ByteLevelBpe, AppliesMergesByRankNotByPosition) {
  TokenizerData data = ByteVocabulary();
  const TokenId lo = AddMerge(data, "l", "o");  // rank 0
  const TokenId ll = AddMerge(data, "l", "l");  // rank 1
  auto tok = Build(std::move(data));
  // "llo": rank 0 "l o" wins over the leftmost pair "l l" -> l, lo.
  EXPECT_EQ(tok->Encode("llo", false, false), (std::vector<TokenId>{'l', lo}));
  // "lll": only "l l" applies; equal ranks merge leftmost first -> ll, l.
  EXPECT_EQ(tok->Encode("lll", false, false), (std::vector<TokenId>{ll, 'l'}));
}

TEST(ByteLevelBpe, BuildsWordsThroughChainedMerges) {
  TokenizerData data = ByteVocabulary();
  const std::string sp = ByteSymbol(' ');
  const TokenId he = AddMerge(data, "h", "e");
  const TokenId ll = AddMerge(data, "l", "l");
  const TokenId hell = AddMerge(data, "he", "ll");
  const TokenId hello = AddMerge(data, "hell", "o");
  const TokenId sp_h = AddMerge(data, sp, "h");
  auto tok = Build(std::move(data));
  EXPECT_EQ(tok->Encode("hello", false, false), (std::vector<TokenId>{hello}));
  EXPECT_EQ(tok->Encode("hell", false, false), (std::vector<TokenId>{hell}));
  EXPECT_EQ(tok->Encode("hel", false, false), (std::vector<TokenId>{he, 'l'}));
  EXPECT_EQ(tok->Encode("all", false, false), (std::vector<TokenId>{'a', ll}));
  // Pre-tokens " hello" and " he": " h" (rank 4) is later than "h e" (rank 0), so "he" forms
  // first and " " stays alone.
  EXPECT_EQ(tok->Encode("hello he", false, false), (std::vector<TokenId>{hello, ' ', he}));
  // Merges never cross pre-token boundaries: "o" and " h" are in different pre-tokens.
  EXPECT_EQ(tok->Encode("o hx", false, false), (std::vector<TokenId>{'o', sp_h, 'x'}));
}

TEST(ByteLevelBpe, DecodesByteSymbolsBackToBytes) {
  TokenizerData data = ByteVocabulary();
  const std::string sp = ByteSymbol(' ');
  AddMerge(data, sp, "a");
  auto tok = Build(std::move(data));
  EXPECT_EQ(ByteSymbol(' '), "\xC4\xA0");
  const std::vector<TokenId> ids = tok->Encode("a a\nb", false, false);
  EXPECT_EQ(ids.size(), 4u);  // a, " a", "\n", b
  EXPECT_EQ(tok->Decode(ids), "a a\nb");
  EXPECT_EQ(tok->TokenToPiece(' ', false), " ");
}

TEST(ByteLevelBpe, SplitsSpecialTokensOnlyWhenAsked) {
  TokenizerData data = ByteVocabulary();
  const TokenId start = AddSpecial(data, "<|im_start|>");
  const TokenId start_long = AddSpecial(data, "<|im_start|>x");
  auto tok = Build(std::move(data));
  EXPECT_EQ(tok->Encode("a<|im_start|>b", false, true), (std::vector<TokenId>{'a', start, 'b'}));
  // Longest match wins.
  EXPECT_EQ(tok->Encode("<|im_start|>x", false, true), (std::vector<TokenId>{start_long}));
  // parse_special off: the text is ordinary bytes.
  const std::vector<TokenId> plain = tok->Encode("<|im_start|>", false, false);
  EXPECT_EQ(plain.size(), 12u);
  for (TokenId id : plain) EXPECT_LT(id, 256);
  EXPECT_TRUE(tok->IsControl(start));
  EXPECT_EQ(tok->TokenToPiece(start, false), "");
  EXPECT_EQ(tok->TokenToPiece(start, true), "<|im_start|>");
}

TEST(ByteLevelBpe, AddsBosAndEosAsConfigured) {
  TokenizerData data = ByteVocabulary();
  const TokenId bos = AddSpecial(data, "<|begin_of_text|>");
  const TokenId eos = AddSpecial(data, "<|end_of_text|>");
  data.bos_id = bos;
  data.eos_id = eos;
  data.add_bos = true;
  data.add_eos = true;
  auto tok = Build(std::move(data));
  EXPECT_EQ(tok->Encode("a", true, false), (std::vector<TokenId>{bos, 'a', eos}));
  EXPECT_EQ(tok->Encode("a", false, false), (std::vector<TokenId>{'a'}));
  EXPECT_EQ(tok->bos(), bos);
  EXPECT_EQ(tok->eos(), eos);
}

TEST(ByteLevelBpe, EndOfGenerationCoversEosEotAndKnownTexts) {
  TokenizerData data = ByteVocabulary();
  const TokenId eos = AddSpecial(data, "</done>");
  const TokenId eot = AddSpecial(data, "<turn_end>");
  const TokenId im_end = AddSpecial(data, "<|im_end|>");
  const TokenId eot_id = AddSpecial(data, "<|eot_id|>");
  const TokenId other = AddSpecial(data, "<|im_start|>");
  data.eos_id = eos;
  data.eot_id = eot;
  auto tok = Build(std::move(data));
  EXPECT_TRUE(tok->IsEndOfGeneration(eos));
  EXPECT_TRUE(tok->IsEndOfGeneration(eot));
  EXPECT_TRUE(tok->IsEndOfGeneration(im_end));
  EXPECT_TRUE(tok->IsEndOfGeneration(eot_id));
  EXPECT_FALSE(tok->IsEndOfGeneration(other));
  EXPECT_FALSE(tok->IsEndOfGeneration('a'));
  EXPECT_FALSE(tok->IsEndOfGeneration(-1));
  EXPECT_EQ(tok->FindToken("<|im_end|>"), im_end);
  EXPECT_EQ(tok->FindToken("nope"), -1);
}

TEST(ByteLevelBpe, RejectsMalformedMetadata) {
  {
    TokenizerData data = ByteVocabulary();
    data.merges.PushBack("h e");  // "he" is not a token
    auto r = Tokenizer::FromData(std::move(data));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(r.status().message().find("tokenizer.ggml.merges[0]"), std::string::npos);
  }
  {
    TokenizerData data = ByteVocabulary();
    data.merges.PushBack("nospace");
    EXPECT_EQ(Tokenizer::FromData(std::move(data)).status().code(), StatusCode::kCorrupt);
  }
  {
    TokenizerData data = ByteVocabulary();
    data.tokens.Truncate(100);  // bytes missing
    data.token_types.resize(100);
    EXPECT_EQ(Tokenizer::FromData(std::move(data)).status().code(), StatusCode::kCorrupt);
  }
  {
    TokenizerData data = ByteVocabulary();
    data.eos_id = 256;
    auto r = Tokenizer::FromData(std::move(data));
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(r.status().message().find("eos_token_id"), std::string::npos);
  }
  {
    TokenizerData data = ByteVocabulary();
    data.token_types[3] = 9;
    EXPECT_EQ(Tokenizer::FromData(std::move(data)).status().code(), StatusCode::kCorrupt);
  }
  {
    TokenizerData data = ByteVocabulary();
    data.token_types.pop_back();
    EXPECT_EQ(Tokenizer::FromData(std::move(data)).status().code(), StatusCode::kCorrupt);
  }
}

}  // namespace
}  // namespace infernet
