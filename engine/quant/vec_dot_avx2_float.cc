// AVX2/FMA/F16C kernels for float weights (F32, F16, BF16) x F32 activations.
//
// Every output owns one 8-lane accumulator that takes the elements in steps of 8, in order, then
// a fixed-order horizontal sum and a scalar tail, whatever tile it is computed in: so VecDotTile
// stays bit-identical to VecDot (the 1x1 tile).
#include <immintrin.h>

#include <algorithm>

#include "engine/quant/avx2_common.h"
#include "engine/quant/dispatch.h"
#include "engine/quant/prefetch.h"

namespace infernet::quant::internal {
namespace {

using avx2::HalfToFloat;
using avx2::HorizontalSum;
using avx2::RowAt;
using avx2::RunTiles;

struct F32Weights {
  static constexpr size_t kElementBytes = 4;
  INFERNET_AVX2 static __m256 Load8(const uint8_t* p, int64_t i) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(p) + i);
  }
  static float Load1(const uint8_t* p, int64_t i) { return reinterpret_cast<const float*>(p)[i]; }
};

struct F16Weights {
  static constexpr size_t kElementBytes = 2;
  INFERNET_AVX2 static __m256 Load8(const uint8_t* p, int64_t i) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * i)));
  }
  INFERNET_AVX2 static float Load1(const uint8_t* p, int64_t i) {
    return HalfToFloat(reinterpret_cast<const uint16_t*>(p)[i]);
  }
};

struct BF16Weights {
  static constexpr size_t kElementBytes = 2;
  INFERNET_AVX2 static __m256 Load8(const uint8_t* p, int64_t i) {
    const __m256i wide =
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * i)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float Load1(const uint8_t* p, int64_t i) {
    const uint32_t bits = static_cast<uint32_t>(reinterpret_cast<const uint16_t*>(p)[i]) << 16;
    float f;
    __builtin_memcpy(&f, &bits, sizeof(f));
    return f;
  }
};

template <class Weights>
struct FloatKernel {
  // 3 x 4 tiles: 12 accumulators, 3 activation vectors and one decoded weight vector fit the 16
  // registers, and each step decodes 3 weight vectors for 12 FMAs.
  static constexpr int kRows = 3, kCols = 4, kMatVecRows = 4;
  // Elements per 64-byte line of weights: rows are prefetched once per line.
  static constexpr int64_t kLine = 64 / Weights::kElementBytes;

  template <int R, int C>
  INFERNET_AVX2 static void Step(int64_t i, const uint8_t* w, size_t ws, const uint8_t* a,
                                 size_t as, __m256 (&acc)[R][C]) {
    __m256 av[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) av[c] = _mm256_loadu_ps(RowAt<float>(a, as, c) + i);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 wv = Weights::Load8(w + r * ws, i);
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(wv, av[c], acc[r][c]);
    }
  }

  template <int R, int C>
  INFERNET_AVX2 static void Run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as,
                                float* out, size_t os) {
    const uintptr_t ahead = PrefetchDistance(ws, R);
    __m256 acc[R][C];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    }
    int64_t i = 0;
    // The steps of a line are not unrolled: interleaving them made GCC spill the activations to
    // memory operands.
    for (; i + kLine <= n; i += kLine) {
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) PrefetchAhead(w + r * ws + i * Weights::kElementBytes, 64, ahead);
#pragma GCC unroll 1
      for (int64_t j = 0; j < kLine; j += 8) Step<R, C>(i + j, w, ws, a, as, acc);
    }
    for (; i + 8 <= n; i += 8) Step<R, C>(i, w, ws, a, as, acc);
      // Horizontal sums plus the scalar tail [i, n).
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        const float* ac = RowAt<float>(a, as, c);
        float sum = HorizontalSum(acc[r][c]);
        for (int64_t j = i; j < n; ++j) sum += Weights::Load1(w + r * ws, j) * ac[j];
        out[c * os + r] = sum;
      }
    }
  }
};

}  // namespace

void FloatVecDotTileAvx2(TensorType weight_type, int64_t n, const uint8_t* w, size_t w_stride,
                         int rows, const uint8_t* a, size_t a_stride, int cols, float* out,
                         size_t out_stride) {
  switch (weight_type) {
    case TensorType::kF16:
      return RunTiles<FloatKernel<F16Weights>>(n, w, w_stride, rows, a, a_stride, cols, out,
                                               out_stride);
    case TensorType::kBF16:
      return RunTiles<FloatKernel<BF16Weights>>(n, w, w_stride, rows, a, a_stride, cols, out,
                                                out_stride);
    default:
      return RunTiles<FloatKernel<F32Weights>>(n, w, w_stride, rows, a, a_stride, cols, out,
                                               out_stride);
  }
}

}  // namespace infernet::quant::internal
