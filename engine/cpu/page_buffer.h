// Float storage in its own anonymous memory mapping. Activation scratch is resized as batch sizes
// change (see Context), and a buffer from malloc may stay resident after it is freed (glibc keeps
// freed chunks below the top of its heap, and raises its mmap threshold after large frees); a
// mapping of its own gives its pages back to the system when it is destroyed.
#pragma once

#include <cstddef>

namespace infernet::cpu {

class PageBuffer {
 public:
  PageBuffer() = default;
  // Uninitialised (zero pages until written); throws std::bad_alloc when the mapping fails.
  explicit PageBuffer(size_t floats);
  ~PageBuffer();
  PageBuffer(PageBuffer&& other) noexcept;
  PageBuffer& operator=(PageBuffer&& other) noexcept;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;

  float* data() { return data_; }
  const float* data() const { return data_; }
  // Bytes mapped (whole pages).
  size_t mapped_bytes() const { return bytes_; }

 private:
  float* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace infernet::cpu
