#include "engine/cpu/float_exp.h"

#include <bit>
#include <limits>

#include "engine/cpu/float_vector.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace infernet::cpu {
namespace {

constexpr float kLog2e = 1.44269504088896341f;
// ln 2 split so that n * kLn2Hi is exact for |n| <= 256 (the low 9 bits of kLn2Hi's significand
// are zero).
constexpr float kLn2Hi = 0.693145751953125f;
constexpr float kLn2Lo = 1.42860682030941723e-6f;
// Adding and subtracting 1.5 * 2^23 rounds a float of magnitude < 2^22 to the nearest integer.
constexpr float kRoundToInt = 12582912.0f;
constexpr float kMaxArg = 88.72283172607422f;   // largest float whose e^x rounds to a finite float
constexpr float kMinArg = -87.33654022216797f;  // ln(FLT_MIN): below it the result is flushed
// 1/k! for k = 7 down to 2; the two lowest coefficients are 1.
constexpr float kInvFact[] = {1.0f / 5040, 1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f};

inline float Max(float a, float b) { return a > b ? a : b; }  // maxps semantics
inline float Min(float a, float b) { return a < b ? a : b; }  // minps semantics

// 2^n for n in [-126, 127], built from its exponent bits.
inline float PowerOfTwo(int32_t n) { return std::bit_cast<float>((n + 127) << 23); }

inline float FinishMax(const float* l) {
  const float m0 = Max(Max(l[0], l[4]), Max(l[2], l[6]));
  const float m1 = Max(Max(l[1], l[5]), Max(l[3], l[7]));
  return Max(m0, m1);
}

inline float SiluTimes(float g, float u) { return g / (1.0f + ExpF32(-g)) * u; }

#if defined(__x86_64__)
#define INFERNET_AVX2 __attribute__((target("avx2")))

// ExpF32 on U vectors of 8 lanes: the same operations in the same order in every lane. Each
// step runs on all U vectors before the next, so the U dependency chains (about 20 operations
// long) are interleaved in program order: one chain at a time filled the out-of-order window
// with operations waiting on their predecessor.
template <int U>
INFERNET_AVX2 inline void ExpAvx2(__m256 (&x)[U]) {
  const __m256 hi = _mm256_set1_ps(kMaxArg), lo = _mm256_set1_ps(kMinArg);
  const __m256 round = _mm256_set1_ps(kRoundToInt);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256i bias = _mm256_set1_epi32(127);
  __m256 nf[U], r[U], p[U];
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) {
    const __m256 xc = _mm256_min_ps(_mm256_max_ps(x[u], lo), hi);
    nf[u] = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(xc, _mm256_set1_ps(kLog2e)), round), round);
    r[u] = _mm256_sub_ps(xc, _mm256_mul_ps(nf[u], _mm256_set1_ps(kLn2Hi)));
  }
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) {
    r[u] = _mm256_sub_ps(r[u], _mm256_mul_ps(nf[u], _mm256_set1_ps(kLn2Lo)));
    p[u] = _mm256_set1_ps(kInvFact[0]);
  }
#pragma GCC unroll 8
  for (int k = 1; k < 6; ++k) {
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) {
      p[u] = _mm256_add_ps(_mm256_mul_ps(p[u], r[u]), _mm256_set1_ps(kInvFact[k]));
    }
  }
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) p[u] = _mm256_add_ps(_mm256_mul_ps(p[u], r[u]), one);
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) p[u] = _mm256_add_ps(_mm256_mul_ps(p[u], r[u]), one);
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) {
    const __m256i n = _mm256_cvttps_epi32(nf[u]);
    const __m256i n1 = _mm256_srai_epi32(n, 1);
    const __m256i n2 = _mm256_sub_epi32(n, n1);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    __m256 res = _mm256_mul_ps(_mm256_mul_ps(p[u], s1), s2);
    res = _mm256_blendv_ps(res, _mm256_set1_ps(std::numeric_limits<float>::infinity()),
                           _mm256_cmp_ps(x[u], hi, _CMP_GT_OQ));
    res = _mm256_blendv_ps(res, _mm256_setzero_ps(), _mm256_cmp_ps(x[u], lo, _CMP_LT_OQ));
    x[u] = _mm256_blendv_ps(res, x[u], _mm256_cmp_ps(x[u], x[u], _CMP_UNORD_Q));
  }
}

INFERNET_AVX2 inline __m256 ExpAvx2(__m256 x) {
  __m256 v[1] = {x};
  ExpAvx2<1>(v);
  return v[0];
}

// Vectors of 8 floats that ExpShiftedAndSum and SwiGluF32 evaluate side by side.
constexpr int kExpVectors = 4;

INFERNET_AVX2 float ScaleAndMaxAvx2(float* x, int64_t n, float scale) {
  const __m256 vs = _mm256_set1_ps(scale);
  __m256 m = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), vs);
    _mm256_storeu_ps(x + i, v);
    m = _mm256_max_ps(m, v);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m);
  for (; i < n; ++i) {
    x[i] = x[i] * scale;
    lanes[i % 8] = Max(lanes[i % 8], x[i]);
  }
  return FinishMax(lanes);
}

INFERNET_AVX2 float ExpShiftedAndSumAvx2(float* x, int64_t n, float shift) {
  const __m256 vs = _mm256_set1_ps(shift);
  __m256 sum = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 * kExpVectors <= n; i += 8 * kExpVectors) {
    __m256 e[kExpVectors];
    for (int u = 0; u < kExpVectors; ++u) e[u] = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8 * u), vs);
    ExpAvx2<kExpVectors>(e);
    for (int u = 0; u < kExpVectors; ++u) {
      _mm256_storeu_ps(x + i + 8 * u, e[u]);
      sum = _mm256_add_ps(sum, e[u]);  // in ascending order, as one vector at a time
    }
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 e = ExpAvx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs));
    _mm256_storeu_ps(x + i, e);
    sum = _mm256_add_ps(sum, e);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  for (; i < n; ++i) {
    x[i] = ExpF32(x[i] - shift);
    lanes[i % 8] = lanes[i % 8] + x[i];
  }
  return SumLanes8(lanes);
}

INFERNET_AVX2 void SwiGluAvx2(const float* g, const float* u, float* out, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  int64_t i = 0;
  for (; i + 8 * kExpVectors <= n; i += 8 * kExpVectors) {
    __m256 vg[kExpVectors], e[kExpVectors];
    for (int j = 0; j < kExpVectors; ++j) {
      vg[j] = _mm256_loadu_ps(g + i + 8 * j);
      e[j] = _mm256_xor_ps(vg[j], sign);
    }
    ExpAvx2<kExpVectors>(e);
    for (int j = 0; j < kExpVectors; ++j) {
      const __m256 silu = _mm256_div_ps(vg[j], _mm256_add_ps(one, e[j]));
      _mm256_storeu_ps(out + i + 8 * j, _mm256_mul_ps(silu, _mm256_loadu_ps(u + i + 8 * j)));
    }
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 vg = _mm256_loadu_ps(g + i);
    const __m256 e = ExpAvx2(_mm256_xor_ps(vg, sign));
    const __m256 silu = _mm256_div_ps(vg, _mm256_add_ps(one, e));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(silu, _mm256_loadu_ps(u + i)));
  }
  for (; i < n; ++i) out[i] = SiluTimes(g[i], u[i]);
}

#endif

}  // namespace

float ExpF32(float x) {
  const float xc = Min(Max(x, kMinArg), kMaxArg);
  float nf = xc * kLog2e;
  nf = nf + kRoundToInt;
  nf = nf - kRoundToInt;
  float r = xc - nf * kLn2Hi;
  r = r - nf * kLn2Lo;
  float p = kInvFact[0];
  for (int k = 1; k < 6; ++k) p = p * r + kInvFact[k];
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const auto n = static_cast<int32_t>(nf);
  const int32_t n1 = n >> 1;  // floor(n / 2), as the vector arithmetic shift
  const float res = p * PowerOfTwo(n1) * PowerOfTwo(n - n1);
  if (x > kMaxArg) return std::numeric_limits<float>::infinity();
  if (x < kMinArg) return 0.0f;
  if (x != x) return x;
  return res;
}

float ScaleAndMaxScalar(float* x, int64_t n, float scale) {
  float lanes[8];
  for (float& l : lanes) l = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    x[i] = x[i] * scale;
    lanes[i % 8] = Max(lanes[i % 8], x[i]);
  }
  return FinishMax(lanes);
}

float ExpShiftedAndSumScalar(float* x, int64_t n, float shift) {
  float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t i = 0; i < n; ++i) {
    x[i] = ExpF32(x[i] - shift);
    lanes[i % 8] = lanes[i % 8] + x[i];
  }
  return SumLanes8(lanes);
}

void SwiGluF32Scalar(const float* g, const float* u, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = SiluTimes(g[i], u[i]);
}

float ScaleAndMax(float* x, int64_t n, float scale) {
#if defined(__x86_64__)
  if (kHasAvx2) return ScaleAndMaxAvx2(x, n, scale);
#endif
  return ScaleAndMaxScalar(x, n, scale);
}

float ExpShiftedAndSum(float* x, int64_t n, float shift) {
#if defined(__x86_64__)
  if (kHasAvx2) return ExpShiftedAndSumAvx2(x, n, shift);
#endif
  return ExpShiftedAndSumScalar(x, n, shift);
}

void SwiGluF32(const float* g, const float* u, float* out, int64_t n) {
#if defined(__x86_64__)
  if (kHasAvx2) return SwiGluAvx2(g, u, out, n);
#endif
  SwiGluF32Scalar(g, u, out, n);
}

}  // namespace infernet::cpu
