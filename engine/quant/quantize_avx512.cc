// AVX-512 quantizers for activation rows (Q8_0 and Q8_K), bit-identical to the scalar ones in
// quantize.cc: the same IEEE operations in the same order per element (max of |x|, d = amax/127,
// inv = 1/d, x * inv rounded to nearest-even, clamped to [-127, 127]), and exact integer sums.
// They matter for prefill, where every matrix product first quantizes its activations.
// GCC 12 reports its own intrinsics' deliberately undefined vectors (_mm512_undefined_*) as
// maybe-uninitialized once they are inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "engine/quant/blocks.h"
#include "engine/quant/dispatch.h"
#include "engine/quant/float_convert.h"

#define INFERNET_AVX512_QUANT __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

namespace infernet::quant::internal {
namespace {

// Like std::max(m, |x|) lane by lane: vmaxps returns its second operand when either is NaN, so
// a NaN x keeps m, as the scalar code does.
INFERNET_AVX512_QUANT inline __m512 MaxAbsStep(__m512 m, __m512 x) {
  return _mm512_max_ps(_mm512_abs_ps(x), m);
}

// x * inv rounded to nearest-even (the default MXCSR mode, as std::nearbyint), clamped to
// [-127, 127], as 16 int32 lanes.
INFERNET_AVX512_QUANT inline __m512i RoundClamp127(__m512 x, __m512 inv) {
  const __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(x, inv));
  return _mm512_min_epi32(_mm512_max_epi32(q, _mm512_set1_epi32(-127)), _mm512_set1_epi32(127));
}

}  // namespace

INFERNET_AVX512_QUANT void QuantizeQ8_0Avx512(const float* src, BlockQ8_0* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float* x = src + b * kQK8_0;
    const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
    const float amax = _mm512_reduce_max_ps(MaxAbsStep(MaxAbsStep(_mm512_setzero_ps(), x0), x1));
    const float d = amax / 127.0f;
    dst[b].d = FloatToFp16(d);
    const __m512 inv = _mm512_set1_ps(d != 0 ? 1.0f / d : 0.0f);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst[b].qs),
                     _mm512_cvtepi32_epi8(RoundClamp127(x0, inv)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst[b].qs + 16),
                     _mm512_cvtepi32_epi8(RoundClamp127(x1, inv)));
  }
}

INFERNET_AVX512_QUANT void QuantizeQ8_KAvx512(const float* src, BlockQ8_K* dst, int64_t n) {
  constexpr int kGroups = kQK_K / 16;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    __m512 m = _mm512_setzero_ps();
    for (int g = 0; g < kGroups; ++g) m = MaxAbsStep(m, _mm512_loadu_ps(x + 16 * g));
    const float d = _mm512_reduce_max_ps(m) / 127.0f;
    dst[b].d = d;
    const __m512 inv = _mm512_set1_ps(d != 0 ? 1.0f / d : 0.0f);
    for (int g = 0; g < kGroups; ++g) {
      const __m512i q = RoundClamp127(_mm512_loadu_ps(x + 16 * g), inv);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst[b].qs + 16 * g), _mm512_cvtepi32_epi8(q));
      dst[b].bsums[g] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
  }
}

}  // namespace infernet::quant::internal
