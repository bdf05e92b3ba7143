#include "engine/cpu/rope_math.h"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace infernet::cpu {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Rounds to the nearest integer (ties to even, the default rounding mode) for |x| < 2^51.
double RoundToInteger(double x) {
  constexpr double kShifter = 0x1.8p52;
  return (x + kShifter) - kShifter;
}

// pi/2 as a sum of parts with 22 significant bits (the last one 53), so n * part is exact for
// |n| < 2^31 and x - n * pi/2 keeps about 100 correct bits after cancellation (Cody and Waite).
constexpr double kPiOver2[] = {0x1.921fb8p+0,  -0x1.5dde98p-23, 0x1.846988p-48,
                               0x1.8cc518p-72, -0x1.fc8f9p-97,  0x1.a252049c1114dp-120};
constexpr double kTwoOverPi = 0x1.45f306dc9c883p-1;

// Taylor series on |r| <= pi/4, highest power first: sin r = r - r^3 (1/3! - r^2/5! + ...), cos r
// = 1 - r^2 (1/2! - r^2/4! + ...). The first omitted terms (r^19/19!, r^20/20!) are below 1e-19.
constexpr double kSinCoefficients[] = {
    -1.0 / 355687428096000.0, 1.0 / 1307674368000.0, -1.0 / 6227020800.0, 1.0 / 39916800.0,
    -1.0 / 362880.0,          1.0 / 5040.0,          -1.0 / 120.0,        1.0 / 6.0};
constexpr double kCosCoefficients[] = {1.0 / 6402373705728000.0,
                                       -1.0 / 20922789888000.0,
                                       1.0 / 87178291200.0,
                                       -1.0 / 479001600.0,
                                       1.0 / 3628800.0,
                                       -1.0 / 40320.0,
                                       1.0 / 720.0,
                                       -1.0 / 24.0,
                                       0.5};

template <size_t N>
double Horner(const double (&coefficients)[N], double x) {
  double p = coefficients[0];
  for (size_t i = 1; i < N; ++i) p = p * x + coefficients[i];
  return p;
}

double SinPoly(double r) {
  const double r2 = r * r;
  return r - r * r2 * Horner(kSinCoefficients, r2);
}

double CosPoly(double r) { return 1.0 - r * r * Horner(kCosCoefficients, r * r); }

// ln 2 split so that k * kLn2High is exact for |k| < 2^21.
constexpr double kLn2High = 0x1.62e42ffp-1;
constexpr double kLn2Low = -0x1.718432a1b0e26p-35;
constexpr double kInvLn2 = 0x1.71547652b82fep+0;

// ln(x) for a finite x > 0: x = m * 2^k with m in [sqrt(1/2), sqrt(2)), and
// ln(m) = 2 atanh(s) with s = (m - 1) / (m + 1), |s| < 0.172; terms to s^25 leave under 1e-19.
double Log(double x) {
  int k = 0;
  if (x < 0x1p-1022) {  // subnormal: scale into the normal range first
    x *= 0x1p54;
    k -= 54;
  }
  const auto bits = std::bit_cast<uint64_t>(x);
  k += static_cast<int>((bits >> 52) & 0x7FF) - 1023;
  double m = std::bit_cast<double>((bits & ((uint64_t{1} << 52) - 1)) | (uint64_t{1023} << 52));
  if (m > 0x1.6a09e667f3bcdp+0) {  // sqrt(2)
    m *= 0.5;
    ++k;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double p = 1.0 / 25.0;
  for (int j = 23; j >= 3; j -= 2) p = p * s2 + 1.0 / j;
  const double log_m = 2.0 * s + 2.0 * s * s2 * p;
  return static_cast<double>(k) * kLn2High + (static_cast<double>(k) * kLn2Low + log_m);
}

// e^y for |y| < 700: y = k ln2 + r with |r| <= ln2/2, Taylor series of e^r to r^18 (the first
// omitted term is below 1e-25), then scaled by 2^k through the exponent bits.
double Exp(double y) {
  const double k = RoundToInteger(y * kInvLn2);
  const double r = (y - k * kLn2High) - k * kLn2Low;
  double p = 1.0;  // becomes 1 + r/1 (1 + r/2 (1 + ... (1 + r/18)))
  for (double d = 18.0; d >= 1.0; d -= 1.0) p = 1.0 + p * r / d;
  const auto exponent = static_cast<int64_t>(k) + 1023;
  if (exponent <= 0) return 0.0;
  if (exponent >= 2047) return std::numeric_limits<double>::infinity();
  return p * std::bit_cast<double>(static_cast<uint64_t>(exponent) << 52);
}

}  // namespace

SinCos RopeSinCos(double x) {
  if (x - x != 0.0) return {kNaN, kNaN};  // inf or NaN
  const double n = RoundToInteger(x * kTwoOverPi);
  double r = x;
  for (double part : kPiOver2) r -= n * part;
  const double s = SinPoly(r);
  const double c = CosPoly(r);
  switch (static_cast<int64_t>(n) & 3) {
    case 0:
      return {s, c};
    case 1:
      return {c, -s};
    case 2:
      return {-s, -c};
    default:
      return {-c, s};
  }
}

double RopePow(double base, double exponent) {
  if (!(base > 0.0) || base - base != 0.0) return kNaN;
  return Exp(exponent * Log(base));
}

}  // namespace infernet::cpu
