#include "engine/tokenizer/token_index.h"

#include <gtest/gtest.h>

#include <string>

namespace infernet {
namespace {

TEST(TokenIndexTest, FindsEveryInsertedTextAndNothingElse) {
  PackedStrings tokens;
  for (int i = 0; i < 5000; ++i) tokens.PushBack("t" + std::to_string(i * 7919 % 100003));
  tokens.PushBack("");
  TokenIndex index(tokens);
  for (size_t i = 0; i < tokens.size(); ++i) index.Insert(static_cast<TokenId>(i));
  for (size_t i = 0; i < tokens.size(); ++i) EXPECT_EQ(index.Find(tokens[i]), TokenId(i));
  EXPECT_EQ(index.Find("t"), -1);
  EXPECT_EQ(index.Find("t100003"), -1);
  EXPECT_EQ(index.Find(std::string_view("t0\0", 3)), -1);
}

TEST(TokenIndexTest, KeepsTheFirstOfDuplicateTexts) {
  const PackedStrings tokens = {"a", "b", "a", "c", "b"};
  TokenIndex index(tokens);
  for (TokenId id = 0; id < 5; ++id) index.Insert(id);
  EXPECT_EQ(index.Find("a"), 0);
  EXPECT_EQ(index.Find("b"), 1);
  EXPECT_EQ(index.Find("c"), 3);
}

TEST(TokenIndexTest, IndexesOnlyWhatWasInserted) {
  PackedStrings tokens;
  for (int i = 0; i < 1000; ++i) tokens.PushBack(std::to_string(i));
  TokenIndex index(tokens);
  for (TokenId id = 0; id < 1000; id += 2) index.Insert(id);
  for (TokenId id = 0; id < 1000; ++id) {
    EXPECT_EQ(index.Find(tokens[size_t(id)]), id % 2 == 0 ? id : -1) << id;
  }
}

}  // namespace
}  // namespace infernet
