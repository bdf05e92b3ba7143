// Helpers shared by the AVX2 kernel files; include only from files compiled for x86-64.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#define INFERNET_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace infernet::quant::internal::avx2 {

using TileFn = void (*)(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as,
                        float* out, size_t os);

// Fixed-order horizontal sum (part of every output's op sequence).
INFERNET_AVX2 inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

INFERNET_AVX2 inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

template <class T>
const T* RowAt(const uint8_t* base, size_t stride, int index) {
  return reinterpret_cast<const T*>(base + static_cast<size_t>(index) * stride);
}

// Tile function tables: PickTile<K>(rows, cols) is K::Run<rows, cols> for rows, cols in 1..4.
template <class K, int R>
TileFn PickCols(int cols) {
  switch (cols) {
    case 1:
      return &K::template Run<R, 1>;
    case 2:
      return &K::template Run<R, 2>;
    case 3:
      return &K::template Run<R, 3>;
    default:
      return &K::template Run<R, 4>;
  }
}

template <class K>
TileFn PickTile(int rows, int cols) {
  switch (rows) {
    case 1:
      return PickCols<K, 1>(cols);
    case 2:
      return PickCols<K, 2>(cols);
    case 3:
      return PickCols<K, 3>(cols);
    default:
      return PickCols<K, 4>(cols);
  }
}

// Covers rows x cols with tiles of at most K::kRows x K::kCols (K::kMatVecRows x 1 for a single
// column).
template <class K>
void RunTiles(int64_t n, const uint8_t* w, size_t ws, int rows, const uint8_t* a, size_t as,
              int cols, float* out, size_t os) {
  const int max_cols = std::min(K::kCols, 4);
  for (int c0 = 0; c0 < cols; c0 += max_cols) {
    const int cc = std::min(max_cols, cols - c0);
    const int max_rows = std::min(cc == 1 ? K::kMatVecRows : K::kRows, 4);
    for (int r0 = 0; r0 < rows; r0 += max_rows) {
      const int rr = std::min(max_rows, rows - r0);
      PickTile<K>(rr, cc)(n, w + r0 * ws, ws, a + c0 * as, as, out + c0 * os + r0, os);
    }
  }
}

}  // namespace infernet::quant::internal::avx2
