#include "provider/utf8_text.h"

#include <gtest/gtest.h>

namespace infernet::provider {
namespace {

TEST(Utf8TextTest, ValidTextIsUnchanged) {
  EXPECT_EQ(ToValidUtf8("héllo \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "héllo \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST(Utf8TextTest, InvalidSequencesBecomeReplacementCharacters) {
  EXPECT_EQ(ToValidUtf8("a\xFF"
                        "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(ToValidUtf8("\xE2\x82"
                        "x"),
            "\xEF\xBF\xBD"
            "x");  // truncated: one maximal subpart
  EXPECT_EQ(ToValidUtf8("x\xF0\x9F"), "x\xEF\xBF\xBD");
}

TEST(Utf8TextTest, CompletePrefixHoldsBackOnlyAnUnfinishedCharacter) {
  EXPECT_EQ(CompleteUtf8Prefix("ab"), 2u);
  EXPECT_EQ(CompleteUtf8Prefix("a\xE2\x82"), 1u);
  EXPECT_EQ(CompleteUtf8Prefix("a\xE2\x82\xAC"), 4u);
  EXPECT_EQ(CompleteUtf8Prefix("a\xFF"), 2u);  // invalid is not held: it can never complete
}

}  // namespace
}  // namespace infernet::provider
