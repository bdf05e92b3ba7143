#include "engine/tokenizer/token_index.h"

#include <cstdint>
#include <functional>

namespace infernet {
namespace {

// At most two thirds full: linear probing then needs about 2 probes to find a text and 5 to
// miss, and the table takes 6 bytes a token.
size_t SlotsFor(size_t count) { return count + count / 2 + 16; }

// The home slot of `text`: the hash's top 32 bits scaled onto [0, slots) by a multiply, so any
// table size works (token ids are 32-bit, so slots < 2^32 and the product fits in 64 bits).
size_t HomeSlot(std::string_view text, size_t slots) {
  const uint64_t hash = std::hash<std::string_view>{}(text);
  return static_cast<size_t>(((hash >> 32) * static_cast<uint64_t>(slots)) >> 32);
}

}  // namespace

TokenIndex::TokenIndex(const PackedStrings& tokens)
    : tokens_(&tokens), slots_(SlotsFor(tokens.size()), -1) {}

void TokenIndex::Insert(TokenId id) {
  const std::string_view text = (*tokens_)[static_cast<size_t>(id)];
  const size_t n = slots_.size();
  for (size_t i = HomeSlot(text, n);; i = i + 1 == n ? 0 : i + 1) {
    TokenId& slot = slots_[i];
    if (slot < 0) {
      slot = id;
      return;
    }
    if ((*tokens_)[static_cast<size_t>(slot)] == text) return;  // the first of duplicates wins
  }
}

TokenId TokenIndex::Find(std::string_view text) const {
  const size_t n = slots_.size();
  for (size_t i = HomeSlot(text, n);; i = i + 1 == n ? 0 : i + 1) {
    const TokenId slot = slots_[i];
    if (slot < 0) return -1;
    if ((*tokens_)[static_cast<size_t>(slot)] == text) return slot;
  }
}

}  // namespace infernet
