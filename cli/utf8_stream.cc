#include "cli/utf8_stream.h"

namespace infernet::cli {
namespace {

// Length a UTF-8 sequence announces by its lead byte; 0 for a continuation or invalid lead.
size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 0;
}

}  // namespace

std::string Utf8StreamBuffer::Push(std::string_view bytes) {
  pending_.append(bytes);
  // Find the start of the last character; hold it back only if it is an incomplete sequence.
  size_t i = pending_.size();
  size_t scanned = 0;
  while (i > 0 && scanned < 4) {
    --i;
    ++scanned;
    unsigned char c = static_cast<unsigned char>(pending_[i]);
    if ((c & 0xC0) != 0x80) {  // a lead byte (or ASCII)
      size_t need = SequenceLength(c);
      if (need > scanned) {
        std::string ready = pending_.substr(0, i);
        pending_.erase(0, i);
        return ready;
      }
      break;
    }
  }
  std::string ready;
  ready.swap(pending_);
  return ready;
}

std::string Utf8StreamBuffer::Flush() {
  std::string rest;
  rest.swap(pending_);
  return rest;
}

}  // namespace infernet::cli
