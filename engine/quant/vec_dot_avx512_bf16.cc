// BF16 weights x BF16 activations with AVX512_BF16 (the kAvx512Bf16 kernel level), and the
// activation conversion that feeds it.
//
// vdpbf16ps adds two bfloat16 products per float lane, so a 512-bit step covers 32 elements with
// half the bytes and a quarter of the instructions of widening BF16 to F32. The products of two
// 8-bit significands are exact in float; the instruction treats subnormal inputs as zero and
// flushes subnormal results to zero (its scalar twin in vec_dot_scalar.cc does not; such values
// are below 2^-126 and do not occur in model weights or activations that matter).
//
// Tiles follow vec_dot_avx512.cc: each output owns one accumulator and sees the same instruction
// sequence whatever the tile shape, so VecDotAvx512Bf16 (the 1x1 tile) and VecDotTileAvx512Bf16
// are bit-identical by construction.
// GCC 12's AVX-512 headers trip -Wuninitialized through their self-initialised "undefined"
// vectors (GCC bug 105593, fixed in GCC 13); the warning points into the headers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <algorithm>

#include "engine/quant/dispatch.h"
#include "engine/quant/prefetch.h"

#define INFERNET_AVX512_BF16 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,avx2,fma")))
#define INFERNET_AVX512_CONVERT __attribute__((target("avx512f,avx512bw,avx512vl")))

namespace infernet::quant::internal {
namespace {

using TileFn = void (*)(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as,
                        float* out, size_t os);

// Fixed-order horizontal sum (part of every output's op sequence).
INFERNET_AVX512_BF16 inline float HorizontalSum(__m512 v) {
  const __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 32 bfloat16 at element i of the row at `p` (masked: missing elements read as +0).
INFERNET_AVX512_BF16 inline __m512bh Load32(const uint8_t* p, int64_t i) {
  return (__m512bh)_mm512_loadu_si512(p + 2 * i);
}
INFERNET_AVX512_BF16 inline __m512bh LoadMasked(const uint8_t* p, int64_t i, __mmask32 m) {
  return (__m512bh)_mm512_maskz_loadu_epi16(m, p + 2 * i);
}

// Up to 6 x 4 tiles: 24 accumulators, 4 activation vectors and a weight vector fit the 32
// registers (6 rows measured 1.15-1.3x faster than 4 at n = 512 on Zen 5). A single column gets
// kMatVecRows independent chains.
struct Bf16Kernel {
  static constexpr int kRows = 6, kCols = 4, kMatVecRows = 4;
  template <int R, int C>
  INFERNET_AVX512_BF16 static void Run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a,
                                       size_t as, float* out, size_t os) {
    const uintptr_t ahead = Avx512PrefetchDistance(ws, R);
    __m512 acc[R][C];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
      __m512bh av[C];
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) av[c] = Load32(a + c * as, i);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const uint8_t* row = w + r * ws;
        PrefetchAhead<kAvx512Prefetch>(row + 2 * i, 64, ahead);
        const __m512bh wv = Load32(row, i);
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], wv, av[c]);
      }
    }
    if (i < n) {
      const auto m = static_cast<__mmask32>((uint64_t{1} << (n - i)) - 1);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512bh wv = LoadMasked(w + r * ws, i, m);
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) {
          acc[r][c] = _mm512_dpbf16_ps(acc[r][c], wv, LoadMasked(a + c * as, i, m));
        }
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) out[c * os + r] = HorizontalSum(acc[r][c]);
    }
  }
};

template <int R>
TileFn PickCols(int cols) {
  switch (cols) {
    case 1:
      return &Bf16Kernel::Run<R, 1>;
    case 2:
      return &Bf16Kernel::Run<R, 2>;
    case 3:
      return &Bf16Kernel::Run<R, 3>;
    default:
      return &Bf16Kernel::Run<R, 4>;
  }
}

TileFn PickTile(int rows, int cols) {
  switch (rows) {
    case 1:
      return PickCols<1>(cols);
    case 2:
      return PickCols<2>(cols);
    case 3:
      return PickCols<3>(cols);
    case 4:
      return PickCols<4>(cols);
    case 5:
      return PickCols<5>(cols);
    default:
      return PickCols<6>(cols);
  }
}

}  // namespace

void VecDotTileAvx512Bf16(int64_t n, const void* w, size_t w_stride, int rows, const void* a,
                          size_t a_stride, int cols, float* out, size_t out_stride) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  for (int c0 = 0; c0 < cols; c0 += Bf16Kernel::kCols) {
    const int cc = std::min(Bf16Kernel::kCols, cols - c0);
    const int max_rows = cc == 1 ? Bf16Kernel::kMatVecRows : Bf16Kernel::kRows;
    for (int r0 = 0; r0 < rows; r0 += max_rows) {
      const int rr = std::min(max_rows, rows - r0);
      PickTile(rr, cc)(n, wb + r0 * w_stride, w_stride, ab + c0 * a_stride, a_stride,
                       out + c0 * out_stride + r0, out_stride);
    }
  }
}

float VecDotAvx512Bf16(int64_t n, const void* w, const void* a) {
  float out;
  VecDotTileAvx512Bf16(n, w, 0, 1, a, 0, 1, &out, 0);
  return out;
}

// FloatToBf16 on 16 lanes: round to nearest even by adding 0x7fff plus the kept lowest bit; NaN
// keeps its top bits and is made quiet.
INFERNET_AVX512_CONVERT void ConvertToBf16Avx512(const float* src, uint16_t* dst, int64_t n) {
  const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff);
  const __m512i inf = _mm512_set1_epi32(0x7f800000);
  const __m512i bias = _mm512_set1_epi32(0x7fff);
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i quiet = _mm512_set1_epi32(0x40);
  const auto convert = [&](__m512i x) INFERNET_AVX512_CONVERT {
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(x, abs_mask), inf);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(x, 16), one);
    const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(x, bias), lsb), 16);
    return _mm512_mask_or_epi32(rounded, nan, _mm512_srli_epi32(x, 16), quiet);
  };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i v = convert(_mm512_loadu_si512(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm512_cvtepi32_epi16(v));
  }
  if (i < n) {
    const auto m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512i v = convert(_mm512_maskz_loadu_epi32(m, src + i));
    _mm512_mask_cvtepi32_storeu_epi16(dst + i, m, v);
  }
}

}  // namespace infernet::quant::internal
