// What the SentencePiece and byte-level BPE tokenizers share: the token table, special ids,
// end-of-generation set, and the split of input text around special-token text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "engine/tokenizer/token_index.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/tokenizer_data.h"

namespace infernet {

// CORRUPT naming the key when sizes, types or special ids are inconsistent.
Status ValidateTokenizerData(const TokenizerData& data);

class VocabularyTokenizer : public Tokenizer {
 public:
  size_t vocab_size() const override { return data_.tokens.size(); }
  std::vector<TokenId> Encode(std::string_view text, bool add_special,
                              bool parse_special) const override;
  TokenId bos() const override { return data_.bos_id; }
  TokenId eos() const override { return data_.eos_id; }
  bool IsEndOfGeneration(TokenId id) const override;
  bool IsControl(TokenId id) const override;
  TokenId FindToken(std::string_view text) const override;
  // Control, unknown and unused tokens render as their text only when asked; every other token
  // is its decoded bytes (DecodedPiece).
  std::string TokenToPiece(TokenId id, bool render_special) const override;

 protected:
  // REQUIRES: ValidateTokenizerData(data).ok().
  explicit VocabularyTokenizer(TokenizerData data);

  // Appends the tokens of a run of plain text (never empty). `after_special` is true when the
  // run starts the input or follows a special token.
  virtual void EncodeText(std::string_view text, bool after_special,
                          std::vector<TokenId>& out) const = 0;
  // The bytes ordinary token `id` stands for, decoded from its text on each call (a table of them
  // would be another copy of the vocabulary). REQUIRES: 0 <= id < vocab_size().
  virtual std::string DecodedPiece(TokenId id) const = 0;

  TokenType type(TokenId id) const;
  bool IsSpecialText(TokenId id) const;  // control or user-defined: split out by parse_special
  const TokenizerData& data() const { return data_; }

 private:
  struct SpecialCandidate {
    std::string_view text;
    TokenId id;
  };

  TokenizerData data_;
  TokenIndex token_ids_;  // over data_.tokens
  std::vector<bool> end_of_generation_;
  // Special tokens indexed by their first byte, longest text first.
  std::vector<SpecialCandidate> specials_by_first_byte_[256];
};

}  // namespace infernet
