#include "core/packed_strings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace infernet {
namespace {

TEST(PackedStringsTest, KeepsEveryStringInOrderIncludingEmptyAndEmbeddedNul) {
  const std::vector<std::string> in = {"", "a", std::string("b\0c", 3), "",
                                       "longer than fifteen bytes"};
  PackedStrings list;
  for (const std::string& s : in) list.PushBack(s);
  ASSERT_EQ(list.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(list[i], in[i]) << i;
  EXPECT_EQ(list.total_chars(), 1 + 3 + 25u);
  EXPECT_EQ(list.ToVector(), in);
}

TEST(PackedStringsTest, IteratesAsARandomAccessRange) {
  const PackedStrings list = {"x", "yy", "zzz"};
  EXPECT_EQ(std::vector<std::string>(list.begin(), list.end()),
            (std::vector<std::string>{"x", "yy", "zzz"}));
  EXPECT_EQ(list.end() - list.begin(), 3);
  EXPECT_EQ(list.begin()[2], "zzz");
  EXPECT_EQ(std::find(list.begin(), list.end(), "yy") - list.begin(), 1);
  EXPECT_EQ(std::find(list.begin(), list.end(), "y"), list.end());
  const std::set<std::string> distinct(list.begin(), list.end());
  EXPECT_EQ(distinct.size(), 3u);
}

TEST(PackedStringsTest, TruncateDropsTheTailAndItsCharacters) {
  PackedStrings list = {"ab", "cd", "ef"};
  list.Truncate(1);
  EXPECT_EQ(list, (PackedStrings{"ab"}));
  list.PushBack("g");
  EXPECT_EQ(list, (PackedStrings{"ab", "g"}));
  list.Truncate(0);
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.total_chars(), 0u);
}

TEST(PackedStringsTest, ACopySharesTheBufferUntilEitherIsChanged) {
  PackedStrings a = {"one", "two"};
  PackedStrings b = a;
  EXPECT_EQ(a[0].data(), b[0].data());  // one buffer
  b.PushBack("three");
  EXPECT_NE(a[0].data(), b[0].data());
  EXPECT_EQ(a, (PackedStrings{"one", "two"}));
  EXPECT_EQ(b, (PackedStrings{"one", "two", "three"}));
  PackedStrings c = b;
  b.Truncate(1);
  EXPECT_EQ(c, (PackedStrings{"one", "two", "three"}));
  EXPECT_EQ(b, (PackedStrings{"one"}));
  PackedStrings moved = std::move(c);
  EXPECT_EQ(moved.size(), 3u);
}

TEST(PackedStringsTest, EqualityComparesTheSplitNotOnlyTheCharacters) {
  EXPECT_EQ((PackedStrings{"ab", "c"}), (PackedStrings{"ab", "c"}));
  EXPECT_NE((PackedStrings{"ab", "c"}), (PackedStrings{"a", "bc"}));
  EXPECT_NE((PackedStrings{"a"}), (PackedStrings{"a", ""}));
}

}  // namespace
}  // namespace infernet
