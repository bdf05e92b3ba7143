#include "engine/tokenizer/byte_level_bpe_tokenizer.h"

#include <array>
#include <queue>
#include <string>
#include <unordered_map>

#include "engine/tokenizer/bpe_pretokenizer.h"
#include "engine/tokenizer/unicode_text.h"
#include "engine/tokenizer/vocabulary_tokenizer.h"

namespace infernet {
namespace {

struct Merge {
  int32_t rank;
  TokenId result;
};

uint64_t PairKey(TokenId left, TokenId right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

std::string ByteToSymbol(uint8_t byte) {
  std::string s;
  unicode::AppendUtf8(unicode::ByteToCodePoint(byte), s);
  return s;
}

// Maps a token's text back to bytes; code points outside the byte mapping are kept as UTF-8.
std::string SymbolsToBytes(std::string_view text) {
  std::string out;
  for (size_t pos = 0; pos < text.size();) {
    uint32_t cp;
    const size_t len = unicode::DecodeUtf8(text, pos, &cp);
    const int byte = cp == unicode::kInvalidCodePoint ? -1 : unicode::CodePointToByte(cp);
    if (byte >= 0) {
      out.push_back(static_cast<char>(byte));
    } else {
      out.append(text.substr(pos, len));
    }
    pos += len;
  }
  return out;
}

class ByteLevelBpeTokenizer final : public VocabularyTokenizer {
 public:
  explicit ByteLevelBpeTokenizer(TokenizerData data)
      : VocabularyTokenizer(std::move(data)),
        flavor_(PreTokenizerFlavorFromName(this->data().pre)),
        // Llama 3's tokenizer looks a whole pre-token up before merging ("ignore_merges").
        whole_word_first_(flavor_ == PreTokenizerFlavor::kLlama3) {}

  // Fills the byte and merge tables; CORRUPT naming the key on a missing token.
  Status Init() {
    for (int b = 0; b < 256; ++b) {
      byte_tokens_[b] = FindToken(ByteToSymbol(static_cast<uint8_t>(b)));
      if (byte_tokens_[b] < 0) {
        return Status::Corrupt("tokenizer.ggml.tokens: no token for byte " + std::to_string(b));
      }
    }
    const auto& merges = data().merges;
    merges_.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      const std::string_view m = merges[i];
      const size_t space = m.find(' ', 1);  // a part may itself start with a space code point
      const auto bad = [&](std::string_view why) {
        return Status::Corrupt("tokenizer.ggml.merges[" + std::to_string(i) + "] \"" +
                               std::string(m) + "\": " + std::string(why));
      };
      if (space == std::string::npos || space + 1 >= m.size()) return bad("not \"left right\"");
      const std::string_view left(m.data(), space);
      const std::string_view right(m.data() + space + 1, m.size() - space - 1);
      const TokenId left_id = FindToken(left);
      const TokenId right_id = FindToken(right);
      const TokenId result = FindToken(std::string(left) + std::string(right));
      if (left_id < 0 || right_id < 0) return bad("a part is not a token");
      if (result < 0) return bad("the merged text is not a token");
      merges_.emplace(PairKey(left_id, right_id), Merge{static_cast<int32_t>(i), result});
    }
    return Status::Ok();
  }

  TokenizerKind kind() const override { return TokenizerKind::kByteLevelBpe; }

 protected:
  // User-defined tokens are their text as written; the others spell bytes as code points.
  std::string DecodedPiece(TokenId id) const override {
    const std::string_view text = data().tokens[static_cast<size_t>(id)];
    return type(id) == TokenType::kUserDefined ? std::string(text) : SymbolsToBytes(text);
  }

  void EncodeText(std::string_view text, bool /*after_special*/,
                  std::vector<TokenId>& out) const override {
    std::string symbols;
    for (std::string_view word : PreTokenize(text, flavor_)) {
      if (whole_word_first_) {
        symbols.clear();
        for (char c : word)
          unicode::AppendUtf8(unicode::ByteToCodePoint(static_cast<uint8_t>(c)), symbols);
        const TokenId whole = FindToken(symbols);
        if (whole >= 0 && type(whole) != TokenType::kControl) {
          out.push_back(whole);
          continue;
        }
      }
      MergeWord(word, out);
    }
  }

 private:
  struct Symbol {
    TokenId id;
    int prev;
    int next;
    bool alive;
  };
  struct Candidate {
    int32_t rank;
    int left;
    int right;
    TokenId left_id;
    TokenId right_id;
  };
  struct CandidateOrder {
    // Lowest rank first; among equal ranks the leftmost pair.
    bool operator()(const Candidate& a, const Candidate& b) const {
      if (a.rank != b.rank) return a.rank > b.rank;
      return a.left > b.left;
    }
  };

  void MergeWord(std::string_view word, std::vector<TokenId>& out) const {
    std::vector<Symbol> symbols(word.size());
    for (size_t i = 0; i < word.size(); ++i) {
      symbols[i] = {byte_tokens_[static_cast<uint8_t>(word[i])], static_cast<int>(i) - 1,
                    static_cast<int>(i) + 1, true};
    }
    if (symbols.empty()) return;
    symbols.back().next = -1;

    std::priority_queue<Candidate, std::vector<Candidate>, CandidateOrder> queue;
    auto try_add = [&](int left, int right) {
      if (left < 0 || right < 0) return;
      auto it = merges_.find(PairKey(symbols[left].id, symbols[right].id));
      if (it == merges_.end()) return;
      queue.push({it->second.rank, left, right, symbols[left].id, symbols[right].id});
    };
    for (size_t i = 1; i < symbols.size(); ++i)
      try_add(static_cast<int>(i - 1), static_cast<int>(i));

    while (!queue.empty()) {
      const Candidate c = queue.top();
      queue.pop();
      Symbol& left = symbols[c.left];
      Symbol& right = symbols[c.right];
      if (!left.alive || !right.alive || left.next != c.right || left.id != c.left_id ||
          right.id != c.right_id) {
        continue;  // stale: a neighbour changed since this pair was queued
      }
      left.id = merges_.at(PairKey(c.left_id, c.right_id)).result;
      right.alive = false;
      left.next = right.next;
      if (right.next >= 0) symbols[right.next].prev = c.left;
      try_add(left.prev, c.left);
      try_add(c.left, left.next);
    }
    for (int i = 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
  }

  PreTokenizerFlavor flavor_;
  bool whole_word_first_;
  std::array<TokenId, 256> byte_tokens_{};
  std::unordered_map<uint64_t, Merge> merges_;  // (left id, right id) -> rank and result
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> MakeByteLevelBpeTokenizer(TokenizerData data) {
  auto tokenizer = std::make_unique<ByteLevelBpeTokenizer>(std::move(data));
  INFERNET_RETURN_IF_ERROR(tokenizer->Init());
  std::unique_ptr<Tokenizer> result = std::move(tokenizer);
  return result;
}

}  // namespace infernet
