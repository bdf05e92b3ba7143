#include "engine/tokenizer/sentencepiece_tokenizer.h"

#include <array>
#include <optional>
#include <queue>
#include <string>

#include "engine/tokenizer/token_index.h"
#include "engine/tokenizer/unicode_text.h"
#include "engine/tokenizer/vocabulary_tokenizer.h"

namespace infernet {
namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK

// "<0xAB>" -> 0xAB, or -1.
int ParseByteToken(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  int value = 0;
  for (char c : text.substr(3, 2)) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return -1;
    }
    value = value * 16 + digit;
  }
  return value;
}

std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    if (text.substr(pos, from.size()) == from) {
      out += to;
      pos += from.size();
    } else {
      out += text[pos++];
    }
  }
  return out;
}

// Only ordinary pieces take part in merging: "<s>" or "<0x41>" must never be assembled from the
// characters of their text.
bool IsMergeable(TokenType t) {
  return t == TokenType::kNormal || t == TokenType::kUndefined || t == TokenType::kUserDefined;
}

class SentencePieceTokenizer final : public VocabularyTokenizer {
 public:
  explicit SentencePieceTokenizer(TokenizerData data) : VocabularyTokenizer(std::move(data)) {
    byte_tokens_.fill(-1);
    const auto& tokens = this->data().tokens;
    bool shadowed = false;  // a mergeable piece whose text first appears as a non-mergeable token
    for (size_t i = 0; i < tokens.size(); ++i) {
      const auto id = static_cast<TokenId>(i);
      const TokenType t = type(id);
      if (t == TokenType::kByte) {
        const int byte = ParseByteToken(tokens[i]);
        if (byte >= 0 && byte_tokens_[byte] < 0) byte_tokens_[byte] = id;
      }
      if (IsMergeable(t) && !IsMergeable(type(FindToken(tokens[i])))) shadowed = true;
    }
    // Usually the whole-vocabulary index answers for merging too (the first token of each text is
    // mergeable whenever any is); only a shadowed piece needs an index of mergeable pieces alone.
    if (shadowed) {
      mergeable_.emplace(tokens);
      for (size_t i = 0; i < tokens.size(); ++i) {
        if (IsMergeable(type(static_cast<TokenId>(i)))) mergeable_->Insert(static_cast<TokenId>(i));
      }
    }
  }

  TokenizerKind kind() const override { return TokenizerKind::kSentencePiece; }

 protected:
  void EncodeText(std::string_view raw, bool after_special,
                  std::vector<TokenId>& out) const override {
    std::string text;
    if (data().add_space_prefix && after_special) text = kSpaceMarker;
    text += ReplaceAll(raw, " ", kSpaceMarker);
    MergeAndEmit(text, out);
  }

  // "<0x41>" byte tokens are their byte (nothing when malformed); other pieces have their
  // U+2581 space markers turned back into spaces.
  std::string DecodedPiece(TokenId id) const override {
    const std::string_view text = data().tokens[static_cast<size_t>(id)];
    if (type(id) != TokenType::kByte) return ReplaceAll(text, kSpaceMarker, " ");
    const int byte = ParseByteToken(text);
    return byte >= 0 ? std::string(1, static_cast<char>(byte)) : std::string();
  }

  // Drops the dummy-prefix space the encoder adds at the start and after special tokens.
  std::string DecodeTokens(std::span<const TokenId> ids, bool render_special) const override {
    std::string out;
    bool strip_next_space = data().add_space_prefix;
    for (TokenId id : ids) {
      std::string piece = TokenToPiece(id, render_special);
      const bool special = id >= 0 && static_cast<size_t>(id) < vocab_size() && IsSpecialText(id);
      if (special) {
        strip_next_space = data().add_space_prefix;
      } else if (!piece.empty()) {
        if (strip_next_space && piece[0] == ' ') piece.erase(0, 1);
        strip_next_space = false;
      }
      out += piece;
    }
    return out;
  }

 private:
  struct Symbol {
    size_t offset;
    size_t length;  // 0 once merged into its left neighbour
    int prev;
    int next;
  };
  struct Bigram {
    float score;
    int left;
    int right;
    size_t length;  // of the merged text, to detect stale entries
  };
  struct BigramOrder {
    // Highest score first; among equal scores the leftmost pair.
    bool operator()(const Bigram& a, const Bigram& b) const {
      if (a.score != b.score) return a.score < b.score;
      return a.left > b.left;
    }
  };

  TokenId LookUp(std::string_view piece) const {
    if (mergeable_) return mergeable_->Find(piece);
    const TokenId id = FindToken(piece);
    return id >= 0 && IsMergeable(type(id)) ? id : -1;
  }

  void MergeAndEmit(std::string_view text, std::vector<TokenId>& out) const {
    std::vector<Symbol> symbols;
    for (size_t pos = 0; pos < text.size();) {
      uint32_t cp;
      const size_t len = unicode::DecodeUtf8(text, pos, &cp);
      const int index = static_cast<int>(symbols.size());
      symbols.push_back({pos, len, index - 1, index + 1});
      pos += len;
    }
    if (symbols.empty()) return;
    symbols.back().next = -1;

    std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
    auto try_add = [&](int left, int right) {
      if (left < 0 || right < 0) return;
      const size_t length = symbols[left].length + symbols[right].length;
      const TokenId id = LookUp(text.substr(symbols[left].offset, length));
      if (id < 0) return;
      const float score = data().scores.empty() ? 0.0f : data().scores[id];
      queue.push({score, left, right, length});
    };
    for (size_t i = 1; i < symbols.size(); ++i)
      try_add(static_cast<int>(i - 1), static_cast<int>(i));

    while (!queue.empty()) {
      const Bigram top = queue.top();
      queue.pop();
      Symbol& left = symbols[top.left];
      Symbol& right = symbols[top.right];
      if (left.length == 0 || right.length == 0 || left.length + right.length != top.length) {
        continue;  // one side already merged elsewhere
      }
      left.length += right.length;
      right.length = 0;
      left.next = right.next;
      if (right.next >= 0) symbols[right.next].prev = top.left;
      try_add(left.prev, top.left);
      try_add(top.left, left.next);
    }

    for (int i = 0; i >= 0; i = symbols[i].next) {
      const std::string_view piece = text.substr(symbols[i].offset, symbols[i].length);
      const TokenId id = LookUp(piece);
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
      for (char c : piece) {
        const TokenId byte_id = byte_tokens_[static_cast<uint8_t>(c)];
        if (byte_id >= 0) {
          out.push_back(byte_id);
        } else if (data().unknown_id >= 0) {
          out.push_back(data().unknown_id);
        }
      }
    }
  }

  std::array<TokenId, 256> byte_tokens_;
  std::optional<TokenIndex> mergeable_;  // mergeable pieces only, over data().tokens, if shadowed
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> MakeSentencePieceTokenizer(TokenizerData data) {
  // The merges of a BPE vocabulary have no meaning here; scores drive the merging.
  std::unique_ptr<Tokenizer> tokenizer = std::make_unique<SentencePieceTokenizer>(std::move(data));
  return tokenizer;
}

}  // namespace infernet
