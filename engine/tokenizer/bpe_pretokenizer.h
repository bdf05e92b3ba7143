// Splits text into pre-tokens before byte-level BPE merges, re-stating the regular expressions
// of the supported `tokenizer.ggml.pre` flavours by hand (std::regex is far too slow, and the
// engine takes no regex dependency).
#pragma once

#include <string_view>
#include <vector>

namespace infernet {

enum class PreTokenizerFlavor {
  // GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  // Used for unknown `tokenizer.ggml.pre` values.
  kGpt2,
  // Llama 3 ("llama-bpe"):
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
  //   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  kLlama3,
  // Qwen2: as Llama 3 but every digit is its own pre-token (\p{N} instead of \p{N}{1,3}).
  kQwen2,
};

// "llama-bpe"/"llama3" -> kLlama3, "qwen2" -> kQwen2, anything else -> kGpt2.
PreTokenizerFlavor PreTokenizerFlavorFromName(std::string_view name);

// The pre-tokens of `text`, in order; they concatenate back to `text` exactly (invalid UTF-8
// bytes are treated as single non-letter, non-number characters).
std::vector<std::string_view> PreTokenize(std::string_view text, PreTokenizerFlavor flavor);

}  // namespace infernet
