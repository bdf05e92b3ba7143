// The synthetic vocabularies of `model make-test`, exercised through the real tokenizers.
#include <gtest/gtest.h>

#include <set>

#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/tokenizer_data.h"

namespace infernet {
namespace {

struct Variant {
  TokenizerKind kind;
  bool llama3;
  const char* name;
};

class TestVocabularyTest : public testing::TestWithParam<Variant> {
 protected:
  static std::unique_ptr<Tokenizer> Build(const Variant& v, int size = 1024) {
    auto result = Tokenizer::FromData(BuildTestVocabulary(v.kind, size, v.llama3));
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::move(result).value() : nullptr;
  }
};

TEST_P(TestVocabularyTest, HasTheRequestedSizeAndKind) {
  for (int size : {512, 1024, 4096}) {
    auto tok = Build(GetParam(), size);
    EXPECT_EQ(tok->vocab_size(), static_cast<size_t>(size));
    EXPECT_EQ(tok->kind(), GetParam().kind);
  }
}

TEST_P(TestVocabularyTest, RoundTripsText) {
  auto tok = Build(GetParam());
  const std::string texts[] = {
      "The village sat by the river.",
      "café, naïve, Ελληνικά, русский, 日本語, emoji 😀🎉",
      "  leading, inner   runs and trailing   ",
      "tabs\tand\n\nnewlines\r\n",
      "digits 0 12 345 6789 1897",
      "I'm sure they'll help; we've told them it's true!",
      "",
      "\xFF\xFE invalid UTF-8 \xC3",
  };
  for (const std::string& text : texts) {
    EXPECT_EQ(tok->Decode(tok->Encode(text, true, false)), text) << text;
    EXPECT_EQ(tok->Decode(tok->Encode(text, false, false)), text) << text;
  }
}

TEST_P(TestVocabularyTest, CommonWordsBecomeSingleTokens) {
  auto tok = Build(GetParam());
  for (const char* word : {"the", "village", "river"}) {
    const std::vector<TokenId> ids = tok->Encode(std::string("by ") + word, false, false);
    EXPECT_EQ(tok->TokenToPiece(ids.back(), false), std::string(" ") + word) << word;
  }
  // Far fewer tokens than bytes on in-domain text.
  const std::string text = "the people of the village walked down to the river";
  EXPECT_LT(tok->Encode(text, false, false).size(), text.size() / 3);
}

TEST_P(TestVocabularyTest, IsDeterministic) {
  const TokenizerData a = BuildTestVocabulary(GetParam().kind, 1024, GetParam().llama3);
  const TokenizerData b = BuildTestVocabulary(GetParam().kind, 1024, GetParam().llama3);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.merges, b.merges);
  EXPECT_EQ(a.scores, b.scores);
  auto tok = Build(GetParam());
  const std::string text = "Clara taught anyone who wanted to learn how to read and count.";
  EXPECT_EQ(tok->Encode(text, true, false), tok->Encode(text, true, false));
}

TEST_P(TestVocabularyTest, TokenTextsAreUnique) {
  const TokenizerData data = BuildTestVocabulary(GetParam().kind, 2048, GetParam().llama3);
  const std::set<std::string> distinct(data.tokens.begin(), data.tokens.end());
  EXPECT_EQ(distinct.size(), data.tokens.size());
}

TEST_P(TestVocabularyTest, ChatSpecialsAreControlTokens) {
  auto tok = Build(GetParam());
  const bool bpe = GetParam().kind == TokenizerKind::kByteLevelBpe;
  std::vector<std::string> specials;
  if (GetParam().llama3) {
    specials = {"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                "<|eot_id|>"};
  } else if (bpe) {
    specials = {"<|im_start|>", "<|im_end|>", "<|endoftext|>"};
  } else {
    specials = {"<s>", "</s>"};
  }
  for (const std::string& s : specials) {
    const TokenId id = tok->FindToken(s);
    ASSERT_GE(id, 0) << s;
    EXPECT_TRUE(tok->IsControl(id)) << s;
    EXPECT_EQ(tok->Encode(s, false, true), (std::vector<TokenId>{id})) << s;
    for (TokenId t : tok->Encode(s, false, false)) EXPECT_NE(t, id) << s;
  }
  if (GetParam().llama3) {
    EXPECT_EQ(tok->bos(), tok->FindToken("<|begin_of_text|>"));
    EXPECT_EQ(tok->eos(), tok->FindToken("<|end_of_text|>"));
    EXPECT_TRUE(tok->IsEndOfGeneration(tok->FindToken("<|eot_id|>")));
    EXPECT_EQ(tok->Encode("hi", true, false).front(), tok->bos());
  } else if (bpe) {
    EXPECT_TRUE(tok->IsEndOfGeneration(tok->FindToken("<|im_end|>")));
    EXPECT_TRUE(tok->IsEndOfGeneration(tok->FindToken("<|endoftext|>")));
    EXPECT_FALSE(tok->IsEndOfGeneration(tok->FindToken("<|im_start|>")));
    EXPECT_NE(tok->Encode("hi", true, false).front(), tok->bos());  // Qwen2 adds no BOS
  } else {
    EXPECT_EQ(tok->bos(), tok->FindToken("<s>"));
    EXPECT_EQ(tok->Encode("hi", true, false).front(), tok->bos());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Variants, TestVocabularyTest,
    testing::Values(Variant{TokenizerKind::kSentencePiece, false, "SentencePiece"},
                    Variant{TokenizerKind::kSentencePiece, true, "SentencePieceLlama3"},
                    Variant{TokenizerKind::kByteLevelBpe, false, "Qwen2"},
                    Variant{TokenizerKind::kByteLevelBpe, true, "Llama3"}),
    [](const testing::TestParamInfo<Variant>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace infernet
