// Hand-built SentencePiece vocabularies whose expected tokenizations are worked out by hand.
#include "engine/tokenizer/sentencepiece_tokenizer.h"

#include <gtest/gtest.h>

#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/tokenizer_data.h"

namespace infernet {
namespace {

constexpr char kSpace[] = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

// <unk>=0, <s>=1, </s>=2, <0x00>..<0xFF> = 3..258, then the pieces added by each test.
constexpr TokenId kUnk = 0, kBos = 1, kEos = 2;
constexpr TokenId ByteToken(int b) { return 3 + b; }

TokenizerData BaseVocabulary() {
  TokenizerData data;
  data.kind = TokenizerKind::kSentencePiece;
  data.tokens = {"<unk>", "<s>", "</s>"};
  data.token_types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    data.tokens.PushBack(name);
    data.token_types.push_back(6);
  }
  data.scores.assign(data.tokens.size(), 0.0f);
  data.unknown_id = kUnk;
  data.bos_id = kBos;
  data.eos_id = kEos;
  data.add_bos = true;
  return data;
}

TokenId AddPiece(TokenizerData& data, const std::string& text, float score, int type = 1) {
  data.tokens.PushBack(text);
  data.scores.push_back(score);
  data.token_types.push_back(type);
  return static_cast<TokenId>(data.tokens.size() - 1);
}

std::unique_ptr<Tokenizer> Build(TokenizerData data) {
  auto result = Tokenizer::FromData(std::move(data));
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? std::move(result).value() : nullptr;
}

struct AbcVocabulary {
  TokenizerData data = BaseVocabulary();
  TokenId space = AddPiece(data, kSpace, -10);
  TokenId a = AddPiece(data, "a", -10);
  TokenId b = AddPiece(data, "b", -10);
  TokenId c = AddPiece(data, "c", -10);
  TokenId space_a = AddPiece(data, std::string(kSpace) + "a", -1.0f);
  TokenId ab = AddPiece(data, "ab", -2.0f);
  TokenId bc = AddPiece(data, "bc", -0.5f);
  TokenId space_ab = AddPiece(data, std::string(kSpace) + "ab", -3.0f);
};

TEST(SentencePiece, MergesTheHighestScoringPairFirst) {
  AbcVocabulary v;
  auto tok = Build(v.data);
  // "abc" -> "▁abc": symbols ▁ a b c. Pairs: ▁a (-1), ab (-2), bc (-0.5). bc wins; then ▁a
  // (-1) merges; "▁abc" is not a piece, so the result is ▁a, bc.
  EXPECT_EQ(tok->Encode("abc", false, false), (std::vector<TokenId>{v.space_a, v.bc}));
}

TEST(SentencePiece, ScoresDecideBetweenOverlappingPairs) {
  AbcVocabulary v;
  v.data.scores[v.ab] = -0.1f;  // now "ab" beats "bc" and "▁a"
  auto tok = Build(v.data);
  // ▁ a b c -> ▁ ab c -> (▁ab -3 is the only pair left) ▁ab c.
  EXPECT_EQ(tok->Encode("abc", false, false), (std::vector<TokenId>{v.space_ab, v.c}));
}

TEST(SentencePiece, ReplacesSpacesAndAddsTheDummyPrefix) {
  AbcVocabulary v;
  auto tok = Build(v.data);
  // "a b" -> "▁a▁b": ▁a merges, ▁b is not a piece -> ▁a ▁ b.
  EXPECT_EQ(tok->Encode("a b", true, false), (std::vector<TokenId>{kBos, v.space_a, v.space, v.b}));
  EXPECT_EQ(tok->Decode(tok->Encode("a b", true, false)), "a b");
  // Without the dummy prefix the first "a" stays alone.
  v.data.add_space_prefix = false;
  auto no_prefix = Build(v.data);
  EXPECT_EQ(no_prefix->Encode("a", false, false), (std::vector<TokenId>{v.a}));
}

TEST(SentencePiece, FallsBackToByteTokens) {
  AbcVocabulary v;
  auto tok = Build(v.data);
  // "é" is not a piece: its UTF-8 bytes C3 A9 become <0xC3> <0xA9>.
  EXPECT_EQ(tok->Encode("é", false, false),
            (std::vector<TokenId>{v.space, ByteToken(0xC3), ByteToken(0xA9)}));
  EXPECT_EQ(tok->TokenToPiece(ByteToken(0xC3), false), "\xC3");
  EXPECT_EQ(tok->Decode(tok->Encode("aé\n日本語 😀", true, false)), "aé\n日本語 😀");
}

// Ordinary pieces that could spell "<s>" (the BOS token's text) by merging.
void AddBosTextPieces(TokenizerData& data) {
  for (const char* text : {"<", "s", ">", "<s"}) AddPiece(data, text, -1);
}

TEST(SentencePiece, ByteAndControlTokenTextIsNeverAssembled) {
  AbcVocabulary v;
  AddBosTextPieces(v.data);
  auto tok = Build(v.data);
  for (TokenId id : tok->Encode("<s>", false, false)) EXPECT_NE(id, kBos);
  for (TokenId id : tok->Encode("<0x41>", false, false)) EXPECT_NE(id, ByteToken(0x41));
}

TEST(SentencePiece, AMergeablePieceShadowedByAnEarlierControlTokenStillMerges) {
  // "<s>" (id 1) is a control token; a later ordinary piece with the same text must be the one
  // the merges reach, and the control token never.
  AbcVocabulary v;
  AddBosTextPieces(v.data);
  const TokenId piece = AddPiece(v.data, "<s>", -1);
  auto tok = Build(v.data);
  EXPECT_EQ(tok->Encode("<s>", false, false), (std::vector<TokenId>{v.space, piece}));
  EXPECT_EQ(tok->FindToken("<s>"), kBos);
}

TEST(SentencePiece, OfDuplicateOrdinaryPiecesTheFirstIsUsed) {
  AbcVocabulary v;
  AddPiece(v.data, "ab", -2.0f);  // a second "ab", after v.ab
  auto tok = Build(v.data);
  EXPECT_EQ(tok->Encode("cab", false, false), (std::vector<TokenId>{v.space, v.c, v.ab}));
}

TEST(SentencePiece, ParsesSpecialTokensOnlyWhenAsked) {
  AbcVocabulary v;
  auto tok = Build(v.data);
  // A special token starts a new run, which again gets the dummy prefix.
  EXPECT_EQ(tok->Encode("a</s>a", false, true), (std::vector<TokenId>{v.space_a, kEos, v.space_a}));
  const std::vector<TokenId> plain = tok->Encode("a</s>a", false, false);
  for (TokenId id : plain) EXPECT_NE(id, kEos);
  EXPECT_EQ(tok->Decode(plain), "a</s>a");
  EXPECT_EQ(tok->Decode(tok->Encode("a</s>a", false, true), /*render_special=*/true), "a</s>a");
  EXPECT_EQ(tok->Decode(tok->Encode("a</s>a", false, true)), "aa");
}

TEST(SentencePiece, DecodeStripsOnlyTheDummyPrefix) {
  AbcVocabulary v;
  auto tok = Build(v.data);
  EXPECT_EQ(tok->Decode(tok->Encode("  a", true, false)), "  a");
  EXPECT_EQ(tok->Decode(tok->Encode("a  b  ", true, false)), "a  b  ");
  // Pieces keep their space: streaming output concatenates TokenToPiece.
  EXPECT_EQ(tok->TokenToPiece(v.space_a, false), " a");
  EXPECT_EQ(tok->TokenToPiece(kBos, false), "");
  EXPECT_EQ(tok->TokenToPiece(kBos, true), "<s>");
}

TEST(SentencePiece, UnknownWithoutByteTokens) {
  TokenizerData data;
  data.kind = TokenizerKind::kSentencePiece;
  data.tokens = {"<unk>", kSpace, "a"};
  data.token_types = {2, 1, 1};
  data.unknown_id = 0;
  auto tok = Build(data);
  EXPECT_EQ(tok->Encode("a\xC3\xA9", false, false), (std::vector<TokenId>{1, 2, 0, 0}));
}

TEST(SentencePiece, EmptyTextGivesOnlyRequestedSpecials) {
  AbcVocabulary v;
  v.data.add_eos = true;
  auto tok = Build(v.data);
  EXPECT_EQ(tok->Encode("", true, true), (std::vector<TokenId>{kBos, kEos}));
  EXPECT_TRUE(tok->Encode("", false, true).empty());
  EXPECT_TRUE(tok->IsEndOfGeneration(kEos));
  EXPECT_FALSE(tok->IsEndOfGeneration(kBos));
}

TEST(SentencePiece, RejectsScoresOfTheWrongLength) {
  AbcVocabulary v;
  v.data.scores.pop_back();
  auto r = Tokenizer::FromData(v.data);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(r.status().message().find("tokenizer.ggml.scores"), std::string::npos);
}

}  // namespace
}  // namespace infernet
