#include "cli/utf8_stream.h"

#include <gtest/gtest.h>

namespace infernet::cli {
namespace {

TEST(Utf8StreamBufferTest, PassesAsciiThrough) {
  Utf8StreamBuffer b;
  EXPECT_EQ(b.Push("hello"), "hello");
  EXPECT_EQ(b.Flush(), "");
}

TEST(Utf8StreamBufferTest, HoldsSplitMultiByteCharacterUntilComplete) {
  Utf8StreamBuffer b;
  const std::string euro = "\xE2\x82\xAC";  // U+20AC, three bytes
  EXPECT_EQ(b.Push("a" + euro.substr(0, 1)), "a");
  EXPECT_EQ(b.Push(euro.substr(1, 1)), "");
  EXPECT_EQ(b.Push(euro.substr(2, 1) + "b"), euro + "b");
}

TEST(Utf8StreamBufferTest, FlushReturnsIncompleteTail) {
  Utf8StreamBuffer b;
  EXPECT_EQ(b.Push("x\xF0\x9F"), "x");
  EXPECT_EQ(b.Flush(), "\xF0\x9F");
}

TEST(Utf8StreamBufferTest, InvalidBytesAreNotHeld) {
  Utf8StreamBuffer b;
  EXPECT_EQ(b.Push("\x80\x80"), "\x80\x80");
  EXPECT_EQ(b.Push("\xFF"), "\xFF");
}

}  // namespace
}  // namespace infernet::cli
