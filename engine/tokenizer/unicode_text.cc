#include "engine/tokenizer/unicode_text.h"

#include <algorithm>
#include <array>

namespace infernet::unicode {
namespace {

struct Range {
  uint32_t first;
  uint32_t last;  // inclusive
};

// Sorted, non-overlapping. Approximates \p{L} for the scripts named in the header.
constexpr Range kLetterRanges[] = {
    {0x41, 0x5A},     {0x61, 0x7A},       {0xAA, 0xAA},       {0xB5, 0xB5},       {0xBA, 0xBA},
    {0xC0, 0xD6},     {0xD8, 0xF6},       {0xF8, 0x2C1},      {0x2C6, 0x2D1},     {0x2E0, 0x2E4},
    {0x2EC, 0x2EC},   {0x2EE, 0x2EE},     {0x370, 0x374},     {0x376, 0x377},     {0x37A, 0x37D},
    {0x37F, 0x37F},   {0x386, 0x386},     {0x388, 0x38A},     {0x38C, 0x38C},     {0x38E, 0x3A1},
    {0x3A3, 0x3F5},   {0x3F7, 0x481},     {0x48A, 0x52F},     {0x531, 0x556},     {0x559, 0x559},
    {0x560, 0x588},   {0x5D0, 0x5EA},     {0x5EF, 0x5F2},     {0x620, 0x64A},     {0x66E, 0x66F},
    {0x671, 0x6D3},   {0x6D5, 0x6D5},     {0x904, 0x939},     {0x93D, 0x93D},     {0x950, 0x950},
    {0x958, 0x961},   {0xE01, 0xE30},     {0xE32, 0xE33},     {0xE40, 0xE46},     {0x10A0, 0x10FF},
    {0x1100, 0x11FF}, {0x1E00, 0x1F15},   {0x1F18, 0x1F1D},   {0x1F20, 0x1F45},   {0x1F48, 0x1F4D},
    {0x1F50, 0x1F7D}, {0x1F80, 0x1FBC},   {0x1FC2, 0x1FCC},   {0x1FD0, 0x1FDB},   {0x1FE0, 0x1FEC},
    {0x1FF2, 0x1FFC}, {0x2C00, 0x2CE4},   {0x3005, 0x3006},   {0x3031, 0x3035},   {0x303B, 0x303C},
    {0x3041, 0x3096}, {0x309D, 0x309F},   {0x30A1, 0x30FA},   {0x30FC, 0x30FF},   {0x3105, 0x312F},
    {0x3131, 0x318E}, {0x31F0, 0x31FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA48C},
    {0xAC00, 0xD7A3}, {0xF900, 0xFA6D},   {0xFA70, 0xFAD9},   {0xFF21, 0xFF3A},   {0xFF41, 0xFF5A},
    {0xFF66, 0xFFBE}, {0x20000, 0x2A6DF}, {0x2A700, 0x2EBE0}, {0x30000, 0x3134A},
};

// Approximates \p{N} (Nd, Nl, No) for the same scripts.
constexpr Range kNumberRanges[] = {
    {0x30, 0x39},     {0xB2, 0xB3},     {0xB9, 0xB9},     {0xBC, 0xBE},     {0x660, 0x669},
    {0x6F0, 0x6F9},   {0x966, 0x96F},   {0xE50, 0xE59},   {0x2070, 0x2070}, {0x2074, 0x2079},
    {0x2080, 0x2089}, {0x2150, 0x2189}, {0x2460, 0x249B}, {0x24EA, 0x24FF}, {0x2776, 0x2793},
    {0x3007, 0x3007}, {0x3021, 0x3029}, {0x3038, 0x303A}, {0x3192, 0x3195}, {0x3220, 0x3229},
    {0x3248, 0x324F}, {0x3251, 0x325F}, {0x3280, 0x3289}, {0x32B1, 0x32BF}, {0xFF10, 0xFF19},
};

template <size_t N>
bool InRanges(const Range (&ranges)[N], uint32_t cp) {
  const Range* it =
      std::upper_bound(std::begin(ranges), std::end(ranges), cp,
                       [](uint32_t value, const Range& r) { return value < r.first; });
  if (it == std::begin(ranges)) return false;
  --it;
  return cp <= it->last;
}

struct ByteMapping {
  std::array<uint32_t, 256> byte_to_cp{};
  std::array<int16_t, 324> cp_to_byte{};  // the image is a subset of [0, 324)
};

// Printable bytes map to themselves; the others take code points 256, 257, ... in byte order.
ByteMapping BuildByteMapping() {
  ByteMapping m;
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable =
        (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    m.byte_to_cp[b] = printable ? b : next++;
  }
  m.cp_to_byte.fill(-1);
  for (uint32_t b = 0; b < 256; ++b) m.cp_to_byte[m.byte_to_cp[b]] = static_cast<int16_t>(b);
  return m;
}

const ByteMapping& Mapping() {
  static const ByteMapping mapping = BuildByteMapping();
  return mapping;
}

}  // namespace

size_t Utf8SequenceLength(uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

size_t DecodeUtf8(std::string_view text, size_t pos, uint32_t* code_point) {
  const auto lead = static_cast<uint8_t>(text[pos]);
  const size_t len = Utf8SequenceLength(lead);
  if (len == 1) {
    *code_point = lead < 0x80 ? lead : kInvalidCodePoint;
    return 1;
  }
  if (pos + len > text.size()) {
    *code_point = kInvalidCodePoint;
    return 1;
  }
  uint32_t cp = lead & (0x7F >> len);
  for (size_t i = 1; i < len; ++i) {
    const auto c = static_cast<uint8_t>(text[pos + i]);
    if ((c & 0xC0) != 0x80) {
      *code_point = kInvalidCodePoint;
      return 1;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  // Reject overlong encodings, surrogates and values past U+10FFFF.
  static constexpr uint32_t kMinForLength[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    *code_point = kInvalidCodePoint;
    return 1;
  }
  *code_point = cp;
  return len;
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsLetter(uint32_t cp) { return InRanges(kLetterRanges, cp); }
bool IsNumber(uint32_t cp) { return InRanges(kNumberRanges, cp); }

bool IsWhitespace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

uint32_t ByteToCodePoint(uint8_t byte) { return Mapping().byte_to_cp[byte]; }

int CodePointToByte(uint32_t cp) {
  const auto& table = Mapping().cp_to_byte;
  return cp < table.size() ? table[cp] : -1;
}

}  // namespace infernet::unicode
