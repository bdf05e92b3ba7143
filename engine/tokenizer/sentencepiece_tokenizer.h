// SentencePiece-style tokenizer ("llama" vocabularies): spaces become U+2581, a dummy-prefix
// space starts each run of text, adjacent pieces merge greedily by highest score, and characters
// no piece covers fall back to <0xXX> byte tokens.
#pragma once

#include <memory>

#include "core/result.h"
#include "engine/tokenizer/tokenizer_data.h"

namespace infernet {

// CORRUPT naming the key on inconsistent metadata.
Result<std::unique_ptr<Tokenizer>> MakeSentencePieceTokenizer(TokenizerData data);

}  // namespace infernet
