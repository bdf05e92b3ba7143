// Byte-level BPE tokenizer ("gpt2" vocabularies: GPT-2, Llama 3, Qwen2): text is pre-tokenized
// (bpe_pretokenizer.h), each pre-token's bytes are mapped to GPT-2's printable code points, and
// adjacent symbols merge by lowest merge rank.
#pragma once

#include <memory>

#include "core/result.h"
#include "engine/tokenizer/tokenizer_data.h"

namespace infernet {

// CORRUPT naming the key on inconsistent metadata (a byte without a token, a merge whose parts
// or result are not tokens).
Result<std::unique_ptr<Tokenizer>> MakeByteLevelBpeTokenizer(TokenizerData data);

}  // namespace infernet
