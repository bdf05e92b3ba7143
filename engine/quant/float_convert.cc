#include "engine/quant/float_convert.h"

#include <bit>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace infernet::quant {

float Fp16ToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) {  // inf, or NaN: keep the payload in the top mantissa bits, made quiet as
                      // the F16C conversion makes it
    return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13) | (mant != 0 ? 0x400000u : 0));
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

namespace {

#if defined(__x86_64__)
const bool kHasF16c = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");

__attribute__((target("avx,f16c"))) int64_t Fp16ToFloatF16c(const uint16_t* src, float* dst,
                                                            int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  return i;
}

__attribute__((target("avx,f16c"))) int64_t FloatToFp16F16c(const float* src, uint16_t* dst,
                                                            int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
  return i;
}
#endif

}  // namespace

void Fp16ToFloatRow(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
#if defined(__x86_64__)
  if (kHasF16c) i = Fp16ToFloatF16c(src, dst, n);
#endif
  for (; i < n; ++i) dst[i] = Fp16ToFloat(src[i]);
}

void FloatToFp16Row(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
#if defined(__x86_64__)
  if (kHasF16c) i = FloatToFp16F16c(src, dst, n);
#endif
  for (; i < n; ++i) dst[i] = FloatToFp16(src[i]);
}

}  // namespace infernet::quant
