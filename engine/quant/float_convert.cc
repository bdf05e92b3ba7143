#include "engine/quant/float_convert.h"

#include <bit>

namespace infernet::quant {

float Fp16ToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) {  // inf or NaN: keep the payload in the top mantissa bits
    return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  }
  if (exp == 0) {
    if (mant == 0) return std::bit_cast<float>(sign);
    // Subnormal half: normalize so it becomes a normal float.
    int e = -1;
    do {
      mant <<= 1;
      ++e;
    } while ((mant & 0x400) == 0);
    mant &= 0x3ff;
    return std::bit_cast<float>(sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant << 13));
  }
  return std::bit_cast<float>(sign | (exp + 127 - 15) << 23 | (mant << 13));
}

namespace {

// Shifts `value` right by `shift` bits rounding to nearest, ties to even.
uint32_t ShiftRightNearestEven(uint32_t value, int shift) {
  const uint32_t kept = value >> shift;
  const uint32_t rest = value & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  return kept + ((rest > half || (rest == half && (kept & 1))) ? 1 : 0);
}

}  // namespace

uint16_t FloatToFp16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t abs = x & 0x7fffffff;
  if (abs > 0x7f800000) {  // NaN: keep the top payload bits and force quiet so it stays NaN
    return static_cast<uint16_t>(sign | 0x7e00 | ((abs >> 13) & 0x3ff));
  }
  // 0x477ff000 is halfway between 65504 (largest half) and 65536; ties go to the even inf.
  if (abs >= 0x477ff000) return static_cast<uint16_t>(sign | 0x7c00);
  if (abs < 0x38800000) {  // below the smallest normal half (2^-14): result is subnormal or zero
    const int exp = static_cast<int>(abs >> 23);
    const int shift = 126 - exp;  // half subnormal units are 2^-24
    if (shift > 24) return sign;  // < 2^-25: rounds to zero
    const uint32_t mant = (abs & 0x7fffff) | 0x800000;
    return static_cast<uint16_t>(sign | ShiftRightNearestEven(mant, shift));
  }
  // Normal: rebias the exponent; a rounding carry correctly bumps the exponent.
  const uint32_t rebased = abs - (static_cast<uint32_t>(127 - 15) << 23);
  return static_cast<uint16_t>(sign | ShiftRightNearestEven(rebased, 13));
}

float Bf16ToFloat(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

uint16_t FloatToBf16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((x >> 16) | 0x40);
  return static_cast<uint16_t>((x + 0x7fff + ((x >> 16) & 1)) >> 16);
}

}  // namespace infernet::quant
