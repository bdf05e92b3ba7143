#include "engine/quant/float_convert.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace infernet::quant {
namespace {

bool IsHalfNaN(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0; }

TEST(Fp16, EveryHalfRoundTripsExactly) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = Fp16ToFloat(static_cast<uint16_t>(h));
    if (IsHalfNaN(static_cast<uint16_t>(h))) {
      EXPECT_TRUE(std::isnan(f)) << h;
      EXPECT_TRUE(IsHalfNaN(FloatToFp16(f))) << h;
      EXPECT_EQ(std::signbit(f), (h & 0x8000) != 0);
    } else {
      EXPECT_EQ(FloatToFp16(f), h) << h;
    }
  }
}

TEST(Fp16, DecodesKnownValues) {
  EXPECT_EQ(Fp16ToFloat(0x3c00), 1.0f);
  EXPECT_EQ(Fp16ToFloat(0xc000), -2.0f);
  EXPECT_EQ(Fp16ToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(Fp16ToFloat(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_EQ(Fp16ToFloat(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(Fp16ToFloat(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_EQ(Fp16ToFloat(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(std::bit_cast<uint32_t>(Fp16ToFloat(0x8000)), 0x80000000u);  // -0
}

TEST(Fp16, EncodesKnownValuesWithNearestEvenRounding) {
  EXPECT_EQ(FloatToFp16(1.0f), 0x3c00);
  EXPECT_EQ(FloatToFp16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie -> even (down)
  EXPECT_EQ(FloatToFp16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie -> even (up)
  EXPECT_EQ(FloatToFp16(65519.0f), 0x7bff);
  EXPECT_EQ(FloatToFp16(65520.0f), 0x7c00);  // halfway to 2^16 rounds to inf
  EXPECT_EQ(FloatToFp16(1e10f), 0x7c00);
  EXPECT_EQ(FloatToFp16(-1e10f), 0xfc00);
  EXPECT_EQ(FloatToFp16(std::ldexp(1.0f, -25)), 0x0000);  // tie between 0 and 2^-24 -> 0
  EXPECT_EQ(FloatToFp16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(FloatToFp16(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 ulp tie -> even (2)
  EXPECT_EQ(FloatToFp16(std::ldexp(1.0f, -30)), 0x0000);
  EXPECT_EQ(FloatToFp16(-0.0f), 0x8000);
  EXPECT_TRUE(IsHalfNaN(FloatToFp16(std::numeric_limits<float>::quiet_NaN())));
}

// For random floats the encoding is the nearest half, ties to the even one.
TEST(Fp16, RandomFloatsRoundToNearestEven) {
  std::mt19937 rng(1);
  for (int i = 0; i < 200000; ++i) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(rng()));
    if (std::isnan(f) || std::fabs(f) >= 65520.0f) continue;
    const uint16_t h = FloatToFp16(f);
    const double err = std::fabs(double(Fp16ToFloat(h)) - f);
    for (int delta : {-1, 1}) {
      const uint16_t mag = static_cast<uint16_t>((h & 0x7fff) + delta);
      if ((h & 0x7fff) == 0 && delta < 0) continue;
      if (mag >= 0x7c00) continue;
      const uint16_t other = static_cast<uint16_t>((h & 0x8000) | mag);
      const double other_err = std::fabs(double(Fp16ToFloat(other)) - f);
      ASSERT_LE(err, other_err) << f;
      if (err == other_err) {
        ASSERT_EQ(h & 1, 0) << f;
      }
    }
  }
}

// The row conversions (F16C on x86-64) give the scalar functions' bits for every half, and for
// floats of every class: random bit patterns (NaNs, infinities, subnormals), ties and overflow.
TEST(Fp16, RowConversionsMatchTheScalarFunctions) {
  std::vector<uint16_t> halves(65536 + 5);  // + 5: a tail shorter than a vector
  for (size_t i = 0; i < halves.size(); ++i) halves[i] = static_cast<uint16_t>(i * 40503u);
  std::vector<float> floats(halves.size());
  Fp16ToFloatRow(halves.data(), floats.data(), static_cast<int64_t>(halves.size()));
  for (size_t i = 0; i < halves.size(); ++i) {
    ASSERT_EQ(std::bit_cast<uint32_t>(floats[i]), std::bit_cast<uint32_t>(Fp16ToFloat(halves[i])))
        << "half " << halves[i];
  }

  std::mt19937 rng(2);
  std::vector<float> src(200003);
  for (size_t i = 0; i < src.size(); ++i) {
    const auto bits = static_cast<uint32_t>(rng());
    switch (i % 4) {
      case 0:  // any pattern
        src[i] = std::bit_cast<float>(bits);
        break;
      case 1:  // around the half range and its subnormals
        src[i] =
            std::ldexp(static_cast<float>(bits % 8192), static_cast<int>(bits >> 24) % 48 - 38);
        break;
      case 2:  // exact ties between two halves
        src[i] = Fp16ToFloat(static_cast<uint16_t>(bits)) +
                 std::ldexp(1.0f, -11) * Fp16ToFloat(static_cast<uint16_t>(bits)) *
                     ((bits >> 16) % 2 ? 1.0f : 0.0f);
        break;
      default:  // near the largest half
        src[i] = std::bit_cast<float>(0x477fe000u + bits % 0x4000u) * ((bits >> 31) ? -1.0f : 1.0f);
    }
  }
  std::vector<uint16_t> dst(src.size());
  FloatToFp16Row(src.data(), dst.data(), static_cast<int64_t>(src.size()));
  for (size_t i = 0; i < src.size(); ++i) {
    ASSERT_EQ(dst[i], FloatToFp16(src[i])) << "float bits " << std::bit_cast<uint32_t>(src[i]);
  }
}

TEST(Fp16, NaNsDecodeQuiet) {
  EXPECT_EQ(std::bit_cast<uint32_t>(Fp16ToFloat(0x7c01)), 0x7fc02000u);  // signalling payload 1
  EXPECT_EQ(std::bit_cast<uint32_t>(Fp16ToFloat(0xfe00)), 0xffc00000u);
}

TEST(Bf16, EveryBf16RoundTripsExactly) {
  for (uint32_t b = 0; b < 65536; ++b) {
    const float f = Bf16ToFloat(static_cast<uint16_t>(b));
    EXPECT_EQ(std::bit_cast<uint32_t>(f), b << 16);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(f))));
    } else {
      EXPECT_EQ(FloatToBf16(f), b);
    }
  }
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(FloatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(FloatToBf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // tie -> even (down)
  EXPECT_EQ(FloatToBf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);  // tie -> even (up)
  EXPECT_EQ(FloatToBf16(std::bit_cast<float>(0x3f808001u)), 0x3f81);
  EXPECT_EQ(FloatToBf16(std::numeric_limits<float>::max()), 0x7f80);  // overflow -> inf
  // A signalling NaN whose payload sits only in the low bits must stay NaN.
  EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(std::bit_cast<float>(0x7f800001u)))));
}

}  // namespace
}  // namespace infernet::quant
