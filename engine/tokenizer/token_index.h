// Token text -> id lookup over a token table, in one flat array of ids.
//
// A std::unordered_map<std::string_view, TokenId> of a 32,000-token vocabulary takes about
// 1.5 MiB (a heap node per token); this open-addressing table takes 4 bytes a slot at most two
// thirds full (188 KiB for 32,000 tokens) and compares texts in the table it indexes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/packed_strings.h"
#include "engine/tokenizer/tokenizer.h"

namespace infernet {

class TokenIndex {
 public:
  // An empty index over `tokens`, which must outlive it unchanged. Sized for all of them, so it
  // is never more than two thirds full.
  explicit TokenIndex(const PackedStrings& tokens);

  // Adds token `id`; if its text is already present, the earlier id is kept.
  // REQUIRES: 0 <= id < tokens.size().
  void Insert(TokenId id);
  // The id of `text`, or -1.
  TokenId Find(std::string_view text) const;

 private:
  const PackedStrings* tokens_;
  std::vector<TokenId> slots_;  // -1 = empty; 1.5 * tokens.size() + 16 of them
};

}  // namespace infernet
