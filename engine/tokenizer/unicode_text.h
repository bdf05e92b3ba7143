// UTF-8 decoding and the small Unicode property tables the BPE pre-tokenizer needs.
//
// The letter/number tables are compact range lists covering ASCII, Latin-1 and Latin Extended,
// IPA, Greek, Cyrillic, Armenian, Hebrew, Arabic, Devanagari, Thai, Hangul, kana and CJK
// ideographs. Code points outside them count as "other" (punctuation-like), which only changes
// how rare scripts are split into pre-tokens, never whether text round-trips.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace infernet::unicode {

// Decodes the UTF-8 sequence starting at text[pos]. Returns its length in bytes (>= 1) and
// stores the code point in *code_point. Invalid or truncated sequences decode as a single byte
// with *code_point = kInvalidCodePoint, so every byte of the input is covered exactly once.
inline constexpr uint32_t kInvalidCodePoint = 0xFFFFFFFFu;
size_t DecodeUtf8(std::string_view text, size_t pos, uint32_t* code_point);

// Length of the UTF-8 sequence announced by its lead byte (1 for continuation/invalid bytes).
size_t Utf8SequenceLength(uint8_t lead_byte);

void AppendUtf8(uint32_t code_point, std::string& out);

bool IsLetter(uint32_t code_point);      // \p{L}
bool IsNumber(uint32_t code_point);      // \p{N}
bool IsWhitespace(uint32_t code_point);  // \s

// GPT-2's reversible byte <-> printable code point mapping used by byte-level BPE vocabularies.
uint32_t ByteToCodePoint(uint8_t byte);
// -1 when `code_point` is not the image of any byte.
int CodePointToByte(uint32_t code_point);

}  // namespace infernet::unicode
