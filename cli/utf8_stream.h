// Streams token pieces to a terminal without splitting UTF-8 characters: a token may end in the
// middle of a multi-byte character, so incomplete trailing bytes are held until completed.
#pragma once

#include <string>
#include <string_view>

namespace infernet::cli {

class Utf8StreamBuffer {
 public:
  // Appends `bytes`; returns the longest prefix of pending bytes that ends on a character
  // boundary (invalid sequences are passed through as they are, never held forever).
  std::string Push(std::string_view bytes);
  // Returns whatever is still held (end of stream).
  std::string Flush();

 private:
  std::string pending_;
};

}  // namespace infernet::cli
