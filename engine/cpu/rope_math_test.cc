#include "engine/cpu/rope_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

namespace infernet::cpu {
namespace {

// libm (glibc) is correctly rounded or within an ulp for these, so it serves as the reference.
TEST(RopeMathTest, SinCosMatchLibmOverRoPEAngles) {
  // Angles as RoPE makes them: position x base^(-2i/d), positions up to 2^20.
  double worst = 0;
  int64_t float_mismatches = 0, cases = 0;
  for (int64_t pos = 0; pos < (int64_t{1} << 20); pos = pos * 3 / 2 + 1) {
    for (int i = 0; i < 64; ++i) {
      const double x = static_cast<double>(pos) * std::pow(10000.0, -2.0 * i / 128.0);
      const SinCos sc = RopeSinCos(x);
      worst = std::max({worst, std::abs(sc.sin - std::sin(x)), std::abs(sc.cos - std::cos(x))});
      float_mismatches += static_cast<float>(sc.sin) != static_cast<float>(std::sin(x));
      float_mismatches += static_cast<float>(sc.cos) != static_cast<float>(std::cos(x));
      cases += 2;
    }
  }
  EXPECT_LT(worst, 1e-15);
  // Rounded to float (as RoPE uses them) they agree but for values within ~1e-15 of a midpoint.
  EXPECT_LE(float_mismatches, cases / 100000 + 1) << "of " << cases;
}

TEST(RopeMathTest, SinCosNearMultiplesOfHalfPiAndSigns) {
  for (int64_t n = -100000; n <= 100000; n += 997) {
    const double x = static_cast<double>(n) * M_PI_2;
    const SinCos sc = RopeSinCos(x);
    EXPECT_NEAR(sc.sin, std::sin(x), 1e-15) << x;
    EXPECT_NEAR(sc.cos, std::cos(x), 1e-15) << x;
  }
  EXPECT_EQ(RopeSinCos(0.0).sin, 0.0);
  EXPECT_EQ(RopeSinCos(0.0).cos, 1.0);
  EXPECT_NEAR(RopeSinCos(-1.0).sin, -std::sin(1.0), 1e-16);
  EXPECT_NEAR(RopeSinCos(2147483000.0).sin, std::sin(2147483000.0), 1e-12);
  EXPECT_TRUE(std::isnan(RopeSinCos(std::numeric_limits<double>::infinity()).sin));
  EXPECT_TRUE(std::isnan(RopeSinCos(std::nan("")).cos));
}

TEST(RopeMathTest, PowMatchesLibmForRoPEFrequencies) {
  for (double base : {10000.0, 500000.0, 1000000.0, 2.0, 1.5, 0.25, 1e-300}) {
    // The rounding of exponent * ln(base) bounds the error: about |that product| x 1.1e-16.
    const double tolerance = std::max(3e-15, std::abs(std::log(base)) * 2.2e-16);
    for (int d : {64, 80, 96, 128, 256}) {
      for (int i = 0; i < d / 2; ++i) {
        const double e = -2.0 * i / d;
        const double want = std::pow(base, e);
        EXPECT_NEAR(RopePow(base, e), want, tolerance * want) << base << "^" << e;
      }
    }
  }
  const double subnormal = 4.9e-324;
  EXPECT_NEAR(RopePow(subnormal, -0.5), std::pow(subnormal, -0.5),
              1e-13 * std::pow(subnormal, -0.5));
  EXPECT_EQ(RopePow(10000.0, 0.0), 1.0);
  EXPECT_NEAR(RopePow(2.0, 10.0), 1024.0, 1e-12);
  EXPECT_TRUE(std::isnan(RopePow(0.0, -0.5)));
  EXPECT_TRUE(std::isnan(RopePow(-2.0, 2.0)));
  EXPECT_TRUE(std::isnan(RopePow(std::numeric_limits<double>::infinity(), -0.5)));
}

}  // namespace
}  // namespace infernet::cpu
