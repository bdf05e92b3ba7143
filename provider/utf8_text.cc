#include "provider/utf8_text.h"

#include <cstdint>

namespace infernet::provider {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";

struct SequenceScan {
  size_t valid_length = 0;    // > 0: a complete valid sequence of this many bytes
  size_t invalid_length = 0;  // otherwise: bytes of the maximal invalid subpart (>= 1)
  bool truncated = false;     // the invalid subpart is a valid start cut off by the end of input
};

SequenceScan ScanSequence(std::string_view bytes, size_t i) {
  const auto b0 = static_cast<uint8_t>(bytes[i]);
  if (b0 < 0x80) return {1, 0, false};
  size_t length;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return {0, 1, false};
  }
  for (size_t k = 1; k < length; ++k) {
    if (i + k >= bytes.size()) return {0, k, true};
    const auto b = static_cast<uint8_t>(bytes[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return {0, k, false};
  }
  return {length, 0, false};
}

}  // namespace

std::string ToValidUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const SequenceScan scan = ScanSequence(bytes, i);
    if (scan.valid_length > 0) {
      out.append(bytes.substr(i, scan.valid_length));
      i += scan.valid_length;
    } else {
      out.append(kReplacement);
      i += scan.invalid_length;
    }
  }
  return out;
}

size_t CompleteUtf8Prefix(std::string_view bytes) {
  // A truncated sequence can only start in the last three bytes.
  const size_t start = bytes.size() > 3 ? bytes.size() - 3 : 0;
  for (size_t i = start; i < bytes.size(); ++i) {
    if (ScanSequence(bytes, i).truncated) return i;
  }
  return bytes.size();
}

}  // namespace infernet::provider
