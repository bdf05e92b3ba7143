// The tokenizer metadata of a GGUF file, extracted into plain values so tokenizers can be built
// and tested without a file (Tokenizer::FromData).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/packed_strings.h"
#include "engine/tokenizer/tokenizer.h"

namespace infernet {

// tokenizer.ggml.token_type values (SentencePiece's piece types).
enum class TokenType : int32_t {
  kUndefined = 0,  // treated as normal
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct TokenizerData {
  TokenizerKind kind = TokenizerKind::kSentencePiece;
  PackedStrings tokens;              // tokenizer.ggml.tokens; id = index
  std::vector<float> scores;         // tokenizer.ggml.scores; empty = all 0 (SentencePiece only)
  std::vector<uint8_t> token_types;  // tokenizer.ggml.token_type (a TokenType); empty = all normal
  PackedStrings merges;              // tokenizer.ggml.merges, "left right", by rank (BPE only)
  TokenId bos_id = -1;
  TokenId eos_id = -1;
  TokenId eot_id = -1;
  TokenId unknown_id = -1;
  TokenId padding_id = -1;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = true;  // tokenizer.ggml.add_space_prefix (SentencePiece only)
  std::string pre;               // tokenizer.ggml.pre (BPE pre-tokenizer flavour)
};

// The synthetic vocabulary written by WriteTestVocabulary, before serialisation (its chat format:
// Llama 3 when `llama3_specials`, else ChatML for BPE and Llama 2 for SentencePiece).
// Deterministic. REQUIRES: vocab_size >= 512.
TokenizerData BuildTestVocabulary(TokenizerKind kind, int vocab_size, bool llama3_specials);

}  // namespace infernet
