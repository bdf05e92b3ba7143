#include "core/hex.h"

#include <gtest/gtest.h>

namespace infernet {
namespace {

TEST(HexTest, RoundTrips) {
  std::vector<uint8_t> bytes = {0x00, 0x7f, 0x80, 0xff, 0x1a};
  EXPECT_EQ(HexEncode(bytes), "007f80ff1a");
  auto decoded = HexDecode("007F80ff1A");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, bytes);
}

TEST(HexTest, RejectsOddLengthAndBadCharacters) {
  EXPECT_EQ(HexDecode("abc").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HexDecode("zz").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace infernet
