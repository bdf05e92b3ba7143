// Bounds-checked little-endian reader over untrusted bytes (internal to the GGUF reader).
//
// Every read checks the remaining length first, so a truncated or lying file yields a CORRUPT
// Status naming what was being read and where, never an over-read.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/result.h"

namespace infernet::gguf {

static_assert(std::endian::native == std::endian::little,
              "the GGUF reader and writer assume a little-endian host");

class ByteCursor {
 public:
  explicit ByteCursor(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }
  size_t size() const { return bytes_.size(); }

  // Reads one little-endian scalar; `what` names the field in the error.
  template <class T>
  Result<T> Read(std::string_view what) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (remaining() < sizeof(T)) return Truncated(what, sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  // Reads a GGUF string (uint64 length + bytes) as a view into the underlying buffer.
  Result<std::string_view> ReadString(std::string_view what) {
    const size_t length_offset = pos_;
    auto length = Read<uint64_t>(what);
    if (!length.ok()) return length.status();
    if (*length > remaining()) {
      return Status::Corrupt(std::string(what) + ": string length " + std::to_string(*length) +
                             " at byte offset " + std::to_string(length_offset) + " exceeds the " +
                             std::to_string(remaining()) + " bytes remaining");
    }
    std::string_view view(reinterpret_cast<const char*>(bytes_.data() + pos_),
                          static_cast<size_t>(*length));
    pos_ += static_cast<size_t>(*length);
    return view;
  }

 private:
  Status Truncated(std::string_view what, size_t need) const {
    return Status::Corrupt("truncated: " + std::string(what) + " needs " + std::to_string(need) +
                           " bytes at byte offset " + std::to_string(pos_) + " but only " +
                           std::to_string(remaining()) + " remain");
  }

  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

}  // namespace infernet::gguf
