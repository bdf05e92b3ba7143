#include "engine/tokenizer/bpe_pretokenizer.h"

#include <gtest/gtest.h>

#include <string>

namespace infernet {
namespace {

using Pieces = std::vector<std::string>;

Pieces Split(std::string_view text, PreTokenizerFlavor flavor) {
  Pieces out;
  for (std::string_view p : PreTokenize(text, flavor)) out.emplace_back(p);
  return out;
}

constexpr auto kLlama3 = PreTokenizerFlavor::kLlama3;
constexpr auto kQwen2 = PreTokenizerFlavor::kQwen2;
constexpr auto kGpt2 = PreTokenizerFlavor::kGpt2;

TEST(PreTokenizerFlavor, FromName) {
  EXPECT_EQ(PreTokenizerFlavorFromName("llama-bpe"), kLlama3);
  EXPECT_EQ(PreTokenizerFlavorFromName("qwen2"), kQwen2);
  EXPECT_EQ(PreTokenizerFlavorFromName("something-new"), kGpt2);
  EXPECT_EQ(PreTokenizerFlavorFromName(""), kGpt2);
}

TEST(Llama3PreTokenizer, SplitsContractions) {
  EXPECT_EQ(Split("I'm", kLlama3), (Pieces{"I", "'m"}));
  EXPECT_EQ(Split("we'll they've", kLlama3), (Pieces{"we", "'ll", " they", "'ve"}));
  EXPECT_EQ(Split("I'M", kLlama3), (Pieces{"I", "'M"}));  // case-insensitive
}

TEST(Llama3PreTokenizer, GroupsDigitsByThree) {
  EXPECT_EQ(Split("123456", kLlama3), (Pieces{"123", "456"}));
  EXPECT_EQ(Split("1234567", kLlama3), (Pieces{"123", "456", "7"}));
  EXPECT_EQ(Split("x 42", kLlama3), (Pieces{"x", " ", "42"}));
}

TEST(Llama3PreTokenizer, LeavesOneSpaceForTheNextWord) {
  EXPECT_EQ(Split("  hello", kLlama3), (Pieces{" ", " hello"}));
  EXPECT_EQ(Split("a   b", kLlama3), (Pieces{"a", "  ", " b"}));
  EXPECT_EQ(Split("end   ", kLlama3), (Pieces{"end", "   "}));
}

TEST(Llama3PreTokenizer, KeepsNewlineRunsTogether) {
  EXPECT_EQ(Split("\n\n", kLlama3), (Pieces{"\n\n"}));
  EXPECT_EQ(Split("a\n\nb", kLlama3), (Pieces{"a", "\n\n", "b"}));
  // \s*[\r\n]+ ends at the last newline of the run; the trailing spaces go on.
  EXPECT_EQ(Split("a \n  b", kLlama3), (Pieces{"a", " \n", " ", " b"}));
}

TEST(Llama3PreTokenizer, PunctuationTakesOneLeadingSpaceAndTrailingNewlines) {
  EXPECT_EQ(Split("Hello, world!\n", kLlama3), (Pieces{"Hello", ",", " world", "!\n"}));
  EXPECT_EQ(Split("a ...b", kLlama3), (Pieces{"a", " ...", "b"}));
  // A single non-letter glues onto the following letters.
  EXPECT_EQ(Split("$hello", kLlama3), (Pieces{"$hello"}));
}

TEST(Llama3PreTokenizer, HandlesNonAsciiLetters) {
  EXPECT_EQ(Split("café 日本語", kLlama3), (Pieces{"café", " 日本語"}));
  EXPECT_EQ(Split("a😀b", kLlama3), (Pieces{"a", "😀b"}));
}

TEST(Qwen2PreTokenizer, SplitsEveryDigit) {
  EXPECT_EQ(Split("123456", kQwen2), (Pieces{"1", "2", "3", "4", "5", "6"}));
  EXPECT_EQ(Split("I'm 12", kQwen2), (Pieces{"I", "'m", " ", "1", "2"}));
}

TEST(Gpt2PreTokenizer, FollowsTheGpt2Pattern) {
  EXPECT_EQ(Split("I'm here 123456!", kGpt2), (Pieces{"I", "'m", " here", " 123456", "!"}));
  EXPECT_EQ(Split("  hello", kGpt2), (Pieces{" ", " hello"}));
  EXPECT_EQ(Split("\n\n", kGpt2), (Pieces{"\n\n"}));
  EXPECT_EQ(Split("I'M", kGpt2), (Pieces{"I", "'", "M"}));  // case-sensitive contractions
}

TEST(PreTokenizer, PiecesConcatenateToTheInput) {
  const std::string text = "Mixed: 3.14 \t\n x's \xFF\xC3 日本語\r\n  end";
  for (auto flavor : {kGpt2, kLlama3, kQwen2}) {
    std::string joined;
    for (std::string_view p : PreTokenize(text, flavor)) {
      EXPECT_FALSE(p.empty());
      joined += p;
    }
    EXPECT_EQ(joined, text);
  }
}

}  // namespace
}  // namespace infernet
