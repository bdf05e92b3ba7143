#include "engine/tokenizer/unicode_text.h"

#include <gtest/gtest.h>

#include <set>

namespace infernet::unicode {
namespace {

TEST(DecodeUtf8, DecodesOneToFourByteSequences) {
  const std::string text = "a\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80";  // a é 日 😀
  uint32_t cp;
  EXPECT_EQ(DecodeUtf8(text, 0, &cp), 1u);
  EXPECT_EQ(cp, 'a');
  EXPECT_EQ(DecodeUtf8(text, 1, &cp), 2u);
  EXPECT_EQ(cp, 0xE9u);
  EXPECT_EQ(DecodeUtf8(text, 3, &cp), 3u);
  EXPECT_EQ(cp, 0x65E5u);
  EXPECT_EQ(DecodeUtf8(text, 6, &cp), 4u);
  EXPECT_EQ(cp, 0x1F600u);
}

TEST(DecodeUtf8, InvalidSequencesCoverOneByte) {
  uint32_t cp;
  EXPECT_EQ(DecodeUtf8("\xC3", 0, &cp), 1u);  // truncated
  EXPECT_EQ(cp, kInvalidCodePoint);
  EXPECT_EQ(DecodeUtf8("\x80", 0, &cp), 1u);  // stray continuation
  EXPECT_EQ(cp, kInvalidCodePoint);
  EXPECT_EQ(DecodeUtf8("\xC0\xAF", 0, &cp), 1u);  // overlong '/'
  EXPECT_EQ(cp, kInvalidCodePoint);
  EXPECT_EQ(DecodeUtf8("\xED\xA0\x80", 0, &cp), 1u);  // surrogate
  EXPECT_EQ(cp, kInvalidCodePoint);
}

TEST(AppendUtf8, InvertsDecode) {
  for (uint32_t cp : {0x41u, 0xE9u, 0x7FFu, 0x800u, 0x65E5u, 0xFFFFu, 0x10000u, 0x1F600u}) {
    std::string s;
    AppendUtf8(cp, s);
    uint32_t back;
    EXPECT_EQ(DecodeUtf8(s, 0, &back), s.size());
    EXPECT_EQ(back, cp);
  }
}

TEST(UnicodeCategories, ClassifiesCommonScripts) {
  for (uint32_t letter : std::initializer_list<uint32_t>{'a', 'Z', 0xE9u, 0x141u, 0x3B1u, 0x416u,
                                                         0x65E5u, 0x3042u, 0xAC00u}) {
    EXPECT_TRUE(IsLetter(letter)) << std::hex << letter;
    EXPECT_FALSE(IsNumber(letter)) << std::hex << letter;
  }
  for (uint32_t number : std::initializer_list<uint32_t>{'0', '9', 0xB2u, 0x663u, 0xFF11u}) {
    EXPECT_TRUE(IsNumber(number)) << std::hex << number;
    EXPECT_FALSE(IsLetter(number)) << std::hex << number;
  }
  for (uint32_t other : std::initializer_list<uint32_t>{'!', '\'', '-', 0xD7u, 0x3002u, 0x1F600u}) {
    EXPECT_FALSE(IsLetter(other)) << std::hex << other;
    EXPECT_FALSE(IsNumber(other)) << std::hex << other;
  }
  for (uint32_t space : std::initializer_list<uint32_t>{' ', '\t', '\n', '\r', 0xA0u, 0x3000u})
    EXPECT_TRUE(IsWhitespace(space));
  EXPECT_FALSE(IsWhitespace('a'));
}

TEST(ByteMapping, IsTheGpt2Bijection) {
  std::set<uint32_t> images;
  for (int b = 0; b < 256; ++b) {
    const uint32_t cp = ByteToCodePoint(static_cast<uint8_t>(b));
    images.insert(cp);
    EXPECT_EQ(CodePointToByte(cp), b);
  }
  EXPECT_EQ(images.size(), 256u);
  EXPECT_EQ(ByteToCodePoint('a'), static_cast<uint32_t>('a'));  // printable ASCII is itself
  EXPECT_EQ(ByteToCodePoint(0), 256u);                          // first remapped byte
  EXPECT_EQ(ByteToCodePoint(' '), 0x120u);                      // 'Ġ', the 33rd remapped byte
  EXPECT_EQ(ByteToCodePoint('\n'), 0x10Au);                     // 'Ċ'
  EXPECT_EQ(CodePointToByte(0x4E00), -1);
}

}  // namespace
}  // namespace infernet::unicode
