#include "engine/cpu/page_buffer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <new>
#include <utility>

namespace infernet::cpu {
namespace {

TEST(PageBufferTest, MapsWholePagesAndIsWritable) {
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  PageBuffer buffer(page / sizeof(float) + 1);
  EXPECT_EQ(buffer.mapped_bytes(), 2 * page);
  ASSERT_NE(buffer.data(), nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.data()) % page, 0u);
  for (size_t i = 0; i < buffer.mapped_bytes() / sizeof(float); ++i) buffer.data()[i] = float(i);
  EXPECT_EQ(buffer.data()[page / sizeof(float)], float(page / sizeof(float)));
}

TEST(PageBufferTest, EmptyBufferMapsNothing) {
  PageBuffer buffer(0);
  EXPECT_EQ(buffer.data(), nullptr);
  EXPECT_EQ(buffer.mapped_bytes(), 0u);
}

TEST(PageBufferTest, MovesHandOverTheMapping) {
  PageBuffer a(100);
  a.data()[99] = 7.0f;
  float* const mapped = a.data();
  PageBuffer b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.data(), mapped);
  PageBuffer c(10);
  c = std::move(b);
  EXPECT_EQ(c.data(), mapped);
  EXPECT_EQ(c.data()[99], 7.0f);
}

TEST(PageBufferTest, ImpossibleSizesThrowBadAlloc) {
  EXPECT_THROW(PageBuffer(SIZE_MAX / 2), std::bad_alloc);
}

}  // namespace
}  // namespace infernet::cpu
