#include "engine/tokenizer/token_index.h"

#include <functional>

namespace infernet {
namespace {

size_t SlotsFor(size_t count) {
  size_t slots = 16;
  while (slots < 2 * count) slots *= 2;
  return slots;
}

}  // namespace

TokenIndex::TokenIndex(const PackedStrings& tokens)
    : tokens_(&tokens), slots_(SlotsFor(tokens.size()), -1) {}

void TokenIndex::Insert(TokenId id) {
  const std::string_view text = (*tokens_)[static_cast<size_t>(id)];
  const size_t mask = slots_.size() - 1;
  for (size_t i = std::hash<std::string_view>{}(text)&mask;; i = (i + 1) & mask) {
    TokenId& slot = slots_[i];
    if (slot < 0) {
      slot = id;
      return;
    }
    if ((*tokens_)[static_cast<size_t>(slot)] == text) return;  // the first of duplicates wins
  }
}

TokenId TokenIndex::Find(std::string_view text) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = std::hash<std::string_view>{}(text)&mask;; i = (i + 1) & mask) {
    const TokenId slot = slots_[i];
    if (slot < 0) return -1;
    if ((*tokens_)[static_cast<size_t>(slot)] == text) return slot;
  }
}

}  // namespace infernet
