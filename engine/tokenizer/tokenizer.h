// Tokenizers built from GGUF metadata: SentencePiece-style ("llama") and byte-level BPE ("gpt2",
// used by Llama 3 and Qwen2), both with special (control) tokens.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace infernet {
namespace gguf {
class GgufFile;
class GgufWriter;
}  // namespace gguf

using TokenId = int32_t;
struct TokenizerData;  // engine/tokenizer/tokenizer_data.h

enum class TokenizerKind { kSentencePiece, kByteLevelBpe };

class Tokenizer {
 public:
  // Reads tokenizer.ggml.* keys: model, tokens, scores, token_type, merges, bos/eos/eot/pad ids,
  // add_bos_token/add_eos_token (and tokenizer.ggml.pre for the BPE pre-tokenizer flavour).
  // Malformed metadata (ids out of range, missing tokens, bad merges) is CORRUPT, unknown models
  // UNSUPPORTED; the message names the key.
  static Result<std::unique_ptr<Tokenizer>> FromGguf(const gguf::GgufFile& file);
  // The same from already-extracted metadata (what FromGguf reads); same errors.
  static Result<std::unique_ptr<Tokenizer>> FromData(TokenizerData data);
  virtual ~Tokenizer() = default;

  virtual TokenizerKind kind() const = 0;
  virtual size_t vocab_size() const = 0;

  // `add_special`: add BOS (and EOS) as the model's metadata asks.
  // `parse_special`: text of control tokens (e.g. "<|im_start|>") becomes those tokens; when false
  // it is tokenized as plain text, so user input cannot inject control tokens.
  virtual std::vector<TokenId> Encode(std::string_view text, bool add_special,
                                      bool parse_special) const = 0;
  // The bytes a token stands for (may be part of a UTF-8 character). Control tokens give their
  // text when `render_special`, otherwise nothing.
  virtual std::string TokenToPiece(TokenId id, bool render_special) const = 0;
  std::string Decode(std::span<const TokenId> ids, bool render_special = false) const;

  virtual TokenId bos() const = 0;  // -1 when absent
  virtual TokenId eos() const = 0;  // -1 when absent
  // True for EOS, EOT (e.g. <|eot_id|>, <|im_end|>) and other end-of-generation tokens.
  virtual bool IsEndOfGeneration(TokenId id) const = 0;
  virtual bool IsControl(TokenId id) const = 0;
  // Looks a token up by its exact text; -1 when absent.
  virtual TokenId FindToken(std::string_view text) const = 0;

 protected:
  // Decode's body; the default concatenates TokenToPiece. SentencePiece overrides it to drop the
  // dummy-prefix space its encoder adds.
  virtual std::string DecodeTokens(std::span<const TokenId> ids, bool render_special) const;
};

// Writes tokenizer.ggml.* metadata for a small synthetic vocabulary (used by `model make-test`):
// all 256 byte tokens, `vocab_size - 256 - specials` merged/word pieces learned from a fixed
// English corpus, and the special tokens of the chosen chat format (ChatML for BPE, Llama 3 ids
// when `llama3_specials`). REQUIRES: vocab_size >= 512.
void WriteTestVocabulary(gguf::GgufWriter& writer, TokenizerKind kind, int vocab_size,
                         bool llama3_specials);

}  // namespace infernet
