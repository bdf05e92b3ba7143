#include "engine/cpu/float_vector.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "engine/quant/prefetch.h"
#endif

#include <algorithm>
#include <cmath>

#include "engine/quant/float_convert.h"

namespace infernet::cpu {
namespace {

// Reduces 8 lane sums in the documented order and adds the tail [from, n) into its lanes first.
float FinishDot(float* lanes, const float* a, const float* b, int64_t from, int64_t n) {
  for (int64_t i = from; i < n; ++i) lanes[i % 8] = std::fma(a[i], b[i], lanes[i % 8]);
  return SumLanes8(lanes);
}

#if defined(__x86_64__)
// FinishDot for 8 lane sums in a register: the same additions in the same order. With no tail
// left (i == n) they stay in registers: (l0+l4, l1+l5, l2+l6, l3+l7), then s0 = (l0+l4)+(l2+l6)
// and s1 = (l1+l5)+(l3+l7), then s0 + s1.
__attribute__((target("avx2,fma"))) inline float FinishDotNoTailAvx2(__m256 acc) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) float FinishDotAvx2(__m256 acc, const float* a, const float* b,
                                                        int64_t i, int64_t n) {
  if (i == n) return FinishDotNoTailAvx2(acc);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, acc);
  return FinishDot(lanes, a, b, i, n);
}

__attribute__((target("avx2,fma"))) float DotF32Avx2(const float* a, const float* b, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  }
  return FinishDotAvx2(acc, a, b, i, n);
}

__attribute__((target("avx2,fma"))) void AxpyF32Avx2(float alpha, const float* x, float* y,
                                                     int64_t n) {
  const __m256 va = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 vy = _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i));
    _mm256_storeu_ps(y + i, vy);
  }
  for (; i < n; ++i) y[i] = std::fma(alpha, x[i], y[i]);
}

// FinishDotAvx2 (no tail) of 8 rows' lane sums at once, stored to out[0..7]: every sum gets the
// same additions in the same order, done 8 rows per instruction. Per register half-pair:
// (l0+l4, l1+l5, l2+l6, l3+l7); then s0 = (l0+l4)+(l2+l6), s1 = (l1+l5)+(l3+l7); then s0 + s1.
__attribute__((target("avx2,fma"))) void FinishDots8Avx2(const __m256 (&acc)[8], float* out) {
  __m256 pair[4];  // pair[p]: rows 2p (low half) and 2p+1 (high half)
#pragma GCC unroll 4
  for (int p = 0; p < 4; ++p) {
    const __m256 lo = _mm256_permute2f128_ps(acc[2 * p], acc[2 * p + 1], 0x20);
    const __m256 hi = _mm256_permute2f128_ps(acc[2 * p], acc[2 * p + 1], 0x31);
    pair[p] = _mm256_add_ps(lo, hi);
  }
  // quad[q] halves: [s0, s1] of rows 4q, 4q+2 (low) and 4q+1, 4q+3 (high).
  __m256 quad[2];
#pragma GCC unroll 2
  for (int q = 0; q < 2; ++q) {
    const __m256 x = _mm256_shuffle_ps(pair[2 * q], pair[2 * q + 1], _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 y = _mm256_shuffle_ps(pair[2 * q], pair[2 * q + 1], _MM_SHUFFLE(3, 2, 3, 2));
    quad[q] = _mm256_add_ps(x, y);
  }
  const __m256 s0 = _mm256_shuffle_ps(quad[0], quad[1], _MM_SHUFFLE(2, 0, 2, 0));
  const __m256 s1 = _mm256_shuffle_ps(quad[0], quad[1], _MM_SHUFFLE(3, 1, 3, 1));
  const __m256 sums = _mm256_add_ps(s0, s1);  // rows 0, 2, 4, 6 | 1, 3, 5, 7
  _mm256_storeu_ps(out, _mm256_permutevar8x32_ps(sums, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

__attribute__((target("avx2,fma"))) void DotF32RowsAvx2(const float* a, const float* b,
                                                        int64_t stride, int64_t rows, int64_t n,
                                                        float* out) {
  int64_t r = 0;
  // Eight rows a step when n has no tail: their sums are finished together.
  if (n % 8 == 0) {
    for (; r + 8 <= rows; r += 8) {
      const float* b0 = b + r * stride;
      __m256 acc[8];
      for (auto& v : acc) v = _mm256_setzero_ps();
      for (int64_t i = 0; i < n; i += 8) {
        const __m256 va = _mm256_loadu_ps(a + i);
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) {
          acc[k] = _mm256_fmadd_ps(va, _mm256_loadu_ps(b0 + k * stride + i), acc[k]);
        }
      }
      FinishDots8Avx2(acc, out + r);
    }
  }
  for (; r + 4 <= rows; r += 4) {
    const float* b0 = b + r * stride;
    const float* b1 = b0 + stride;
    const float* b2 = b1 + stride;
    const float* b3 = b2 + stride;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m256 va = _mm256_loadu_ps(a + i);
      acc0 = _mm256_fmadd_ps(va, _mm256_loadu_ps(b0 + i), acc0);
      acc1 = _mm256_fmadd_ps(va, _mm256_loadu_ps(b1 + i), acc1);
      acc2 = _mm256_fmadd_ps(va, _mm256_loadu_ps(b2 + i), acc2);
      acc3 = _mm256_fmadd_ps(va, _mm256_loadu_ps(b3 + i), acc3);
    }
    out[r] = FinishDotAvx2(acc0, a, b0, i, n);
    out[r + 1] = FinishDotAvx2(acc1, a, b1, i, n);
    out[r + 2] = FinishDotAvx2(acc2, a, b2, i, n);
    out[r + 3] = FinishDotAvx2(acc3, a, b3, i, n);
  }
  for (; r < rows; ++r) out[r] = DotF32Avx2(a, b + r * stride, n);
}

__attribute__((target("avx2,fma"))) void AxpyF32RowsAvx2(const float* alpha, const float* x,
                                                         int64_t stride, int64_t rows, float* y,
                                                         int64_t n) {
  // Rows in blocks keep the block's slices of x in L1 while y's chunks are revisited.
  constexpr int64_t kBlock = 64;
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
    const int64_t r1 = r0 + kBlock < rows ? r0 + kBlock : rows;
    int64_t i = 0;
    // 64 columns at a time: eight independent add chains hide the add latency.
    for (; i + 64 <= n; i += 64) {
      __m256 vy[8];
      for (int k = 0; k < 8; ++k) vy[k] = _mm256_loadu_ps(y + i + 8 * k);
      for (int64_t r = r0; r < r1; ++r) {
        const __m256 va = _mm256_set1_ps(alpha[r]);
        const float* xr = x + r * stride + i;
        for (int k = 0; k < 8; ++k) {
          vy[k] = _mm256_fmadd_ps(va, _mm256_loadu_ps(xr + 8 * k), vy[k]);
        }
      }
      for (int k = 0; k < 8; ++k) _mm256_storeu_ps(y + i + 8 * k, vy[k]);
    }
    for (; i + 8 <= n; i += 8) {
      __m256 vy = _mm256_loadu_ps(y + i);
      for (int64_t r = r0; r < r1; ++r) {
        vy = _mm256_fmadd_ps(_mm256_set1_ps(alpha[r]), _mm256_loadu_ps(x + r * stride + i), vy);
      }
      _mm256_storeu_ps(y + i, vy);
    }
    for (; i < n; ++i) {
      for (int64_t r = r0; r < r1; ++r) y[i] = std::fma(alpha[r], x[r * stride + i], y[i]);
    }
  }
}

// ---- Several query heads against the same rows (attention's KV groups), 32 registers: each row
// chunk is loaded once for all heads, so a K or V row streams from memory while the work of every
// head of the group on it runs, rather than the first head paying for the load and the others
// running from L1 with the memory idle. Each (head, row) sum sees the same operations in the
// same order as DotF32 / AxpyF32, so the results are the same bits.
#define INFERNET_AVX512VL __attribute__((target("avx2,fma,f16c,avx512f,avx512vl")))

// Eight elements of a row as floats: F32 rows (float) as they are, F16 rows (uint16_t half bits)
// converted exactly, so a kernel over either does the same arithmetic on the same values.
INFERNET_AVX512VL inline __m256 LoadRow8(const float* p) { return _mm256_loadu_ps(p); }
INFERNET_AVX512VL inline __m256 LoadRow8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// Keys and values stream from memory with a stride between rows, one short run per KV head and
// layer, which the hardware prefetchers pick up late: prefetching rows kPrefetchAheadBytes ahead
// into L2, as the matrix kernels do, measured 1.05-1.5x decode-attention GB/s on Zen 4
// (bench/attention_bench.cc). Prefetches never fault, so addresses past the cache are harmless.
template <class T>
inline void PrefetchRows(const T* first, int64_t stride, int rows) {
  quant::internal::PrefetchAhead<quant::internal::PrefetchLevel::kL2>(
      first, static_cast<size_t>(stride * rows) * sizeof(T), quant::internal::kPrefetchAheadBytes);
}

// Dot products of H heads (a + h * n) with R rows of T; n % 8 == 0.
template <int H, int R, class T>
INFERNET_AVX512VL void DotRowsHeadsTile(const float* a, const T* b, int64_t stride, int64_t n,
                                        float* out, int64_t out_stride) {
  __m256 acc[H][R];
#pragma GCC unroll 4
  for (int h = 0; h < H; ++h) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[h][r] = _mm256_setzero_ps();
  }
  for (int64_t i = 0; i < n; i += 8) {
    __m256 va[H];
#pragma GCC unroll 4
    for (int h = 0; h < H; ++h) va[h] = _mm256_loadu_ps(a + h * n + i);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 vb = LoadRow8(b + r * stride + i);
#pragma GCC unroll 4
      for (int h = 0; h < H; ++h) acc[h][r] = _mm256_fmadd_ps(va[h], vb, acc[h][r]);
    }
  }
#pragma GCC unroll 4
  for (int h = 0; h < H; ++h) {
    if constexpr (R == 8) {
      FinishDots8Avx2(acc[h], out + h * out_stride);
    } else {
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) out[h * out_stride + r] = FinishDotNoTailAvx2(acc[h][r]);
    }
  }
}

// All rows for H heads: 8-row tiles while H * 8 accumulators fit beside the H query chunks,
// else 4-row tiles; the last rows % tile one at a time.
template <int H, class T>
INFERNET_AVX512VL void DotRowsHeads(const float* a, const T* b, int64_t stride, int64_t rows,
                                    int64_t n, float* out, int64_t out_stride) {
  constexpr int kTile = H <= 3 ? 8 : 4;
  int64_t r = 0;
  for (; r + kTile <= rows; r += kTile) {
    PrefetchRows(b + r * stride, stride, kTile);
    DotRowsHeadsTile<H, kTile, T>(a, b + r * stride, stride, n, out + r, out_stride);
  }
  for (; r < rows; ++r) {
    PrefetchRows(b + r * stride, stride, 1);
    DotRowsHeadsTile<H, 1, T>(a, b + r * stride, stride, n, out + r, out_stride);
  }
}

// y[h] (y + h * n) += alpha[h * alpha_stride + r] * row r, rows in ascending order, for H heads
// and U 8-float chunks of columns from `col`: the H x U sums stay in registers across rows.
template <int H, int U, class T>
INFERNET_AVX512VL void AxpyRowsHeadsChunk(const float* alpha, int64_t alpha_stride, const T* x,
                                          int64_t stride, int64_t rows, float* y, int64_t n,
                                          int64_t col, bool prefetch) {
  __m256 vy[H][U];
#pragma GCC unroll 4
  for (int h = 0; h < H; ++h) {
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) vy[h][u] = _mm256_loadu_ps(y + h * n + col + 8 * u);
  }
  for (int64_t r = 0; r < rows; ++r) {
    if (prefetch) PrefetchRows(x + r * stride, stride, 1);
    __m256 va[H];
#pragma GCC unroll 4
    for (int h = 0; h < H; ++h) va[h] = _mm256_set1_ps(alpha[h * alpha_stride + r]);
    const T* xr = x + r * stride + col;
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) {
      const __m256 vx = LoadRow8(xr + 8 * u);
#pragma GCC unroll 4
      for (int h = 0; h < H; ++h) vy[h][u] = _mm256_fmadd_ps(va[h], vx, vy[h][u]);
    }
  }
#pragma GCC unroll 4
  for (int h = 0; h < H; ++h) {
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) _mm256_storeu_ps(y + h * n + col + 8 * u, vy[h][u]);
  }
}

// All columns (n % 8 == 0) for H heads, 24 / H chunks at a time (at most 8): the rows of a
// call (attention passes 64) stay in L1 between column passes.
template <int H, class T>
INFERNET_AVX512VL void AxpyRowsHeads(const float* alpha, int64_t alpha_stride, const T* x,
                                     int64_t stride, int64_t rows, float* y, int64_t n) {
  constexpr int kChunks = std::min(8, 24 / H);
  // The first pass over the rows (col == 0) prefetches them; later passes find them in L1.
  int64_t col = 0;
  for (; col + 8 * kChunks <= n; col += 8 * kChunks) {
    AxpyRowsHeadsChunk<H, kChunks, T>(alpha, alpha_stride, x, stride, rows, y, n, col, col == 0);
  }
  for (; col < n; col += 8) {
    AxpyRowsHeadsChunk<H, 1, T>(alpha, alpha_stride, x, stride, rows, y, n, col, col == 0);
  }
}

inline const bool kHasAvx512Vl =
    __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");

// The head-group kernels by number of heads (2-4; one head goes through DotF32Rows/AxpyF32Rows).
template <class T>
using DotRowsHeadsFn = void (*)(const float*, const T*, int64_t, int64_t, int64_t, float*, int64_t);
template <class T>
using AxpyRowsHeadsFn = void (*)(const float*, int64_t, const T*, int64_t, int64_t, float*,
                                 int64_t);
template <class T>
constexpr DotRowsHeadsFn<T> kDotRowsHeads[] = {nullptr, nullptr, DotRowsHeads<2, T>,
                                               DotRowsHeads<3, T>, DotRowsHeads<4, T>};
template <class T>
constexpr AxpyRowsHeadsFn<T> kAxpyRowsHeads[] = {nullptr, nullptr, AxpyRowsHeads<2, T>,
                                                 AxpyRowsHeads<3, T>, AxpyRowsHeads<4, T>};

#endif

// Heads per pass of DotF32RowsHeads / AxpyF32RowsHeads: their sums fill the 32 registers.
constexpr int64_t kHeadsPerPass = 4;

// Whether a pass of `heads` heads over rows of n floats runs through the head-group kernels.
bool UseHeadGroupKernels([[maybe_unused]] int64_t heads, [[maybe_unused]] int64_t n) {
#if defined(__x86_64__)
  return kHasAvx512Vl && n % 8 == 0 && heads > 1;
#else
  return false;
#endif
}

// Splits `heads` into passes of up to kHeadsPerPass: group(first, count) where the head-group
// kernels apply, else one(head) for each head of the pass.
template <class Group, class One>
void ForHeadPasses(int64_t heads, int64_t n, Group group, One one) {
  for (int64_t h0 = 0; h0 < heads; h0 += kHeadsPerPass) {
    const int64_t h = std::min(kHeadsPerPass, heads - h0);
    if (UseHeadGroupKernels(h, n)) {
      group(h0, h);
    } else {
      for (int64_t k = h0; k < h0 + h; ++k) one(k);
    }
  }
}

}  // namespace

float SumLanes8(const float* lanes) {
  const float s0 = (lanes[0] + lanes[4]) + (lanes[2] + lanes[6]);
  const float s1 = (lanes[1] + lanes[5]) + (lanes[3] + lanes[7]);
  return s0 + s1;
}

float DotF32Scalar(const float* a, const float* b, int64_t n) {
  float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) lanes[k] = std::fma(a[i + k], b[i + k], lanes[k]);
  }
  return FinishDot(lanes, a, b, i, n);
}

void AxpyF32Scalar(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::fma(alpha, x[i], y[i]);
}

float DotF32(const float* a, const float* b, int64_t n) {
#if defined(__x86_64__)
  if (kHasAvx2) return DotF32Avx2(a, b, n);
#endif
  return DotF32Scalar(a, b, n);
}

void AxpyF32(float alpha, const float* x, float* y, int64_t n) {
#if defined(__x86_64__)
  if (kHasAvx2) return AxpyF32Avx2(alpha, x, y, n);
#endif
  AxpyF32Scalar(alpha, x, y, n);
}

void RmsNormF32(const float* x, const float* weight, int64_t n, float eps, float* out) {
  const double mean = static_cast<double>(DotF32(x, x, n)) / static_cast<double>(n);
  const float scale = static_cast<float>(1.0 / std::sqrt(mean + static_cast<double>(eps)));
  for (int64_t i = 0; i < n; ++i) out[i] = (x[i] * scale) * weight[i];
}

void DotF32Rows(const float* a, const float* b, int64_t stride, int64_t rows, int64_t n,
                float* out) {
#if defined(__x86_64__)
  if (kHasAvx2) return DotF32RowsAvx2(a, b, stride, rows, n, out);
#endif
  for (int64_t r = 0; r < rows; ++r) out[r] = DotF32Scalar(a, b + r * stride, n);
}

void AxpyF32Rows(const float* alpha, const float* x, int64_t stride, int64_t rows, float* y,
                 int64_t n) {
#if defined(__x86_64__)
  if (kHasAvx2) return AxpyF32RowsAvx2(alpha, x, stride, rows, y, n);
#endif
  for (int64_t r = 0; r < rows; ++r) AxpyF32Scalar(alpha[r], x + r * stride, y, n);
}

void DotF32RowsHeads(const float* a, int64_t heads, const float* b, int64_t stride, int64_t rows,
                     int64_t n, float* out, int64_t out_stride) {
  ForHeadPasses(
      heads, n,
      [&]([[maybe_unused]] int64_t h0, [[maybe_unused]] int64_t h) {
#if defined(__x86_64__)
        kDotRowsHeads<float>[h](a + h0 * n, b, stride, rows, n, out + h0 * out_stride, out_stride);
#endif
      },
      [&](int64_t k) { DotF32Rows(a + k * n, b, stride, rows, n, out + k * out_stride); });
}

void AxpyF32RowsHeads(const float* alpha, int64_t alpha_stride, int64_t heads, const float* x,
                      int64_t stride, int64_t rows, float* y, int64_t n) {
  ForHeadPasses(
      heads, n,
      [&]([[maybe_unused]] int64_t h0, [[maybe_unused]] int64_t h) {
#if defined(__x86_64__)
        kAxpyRowsHeads<float>[h](alpha + h0 * alpha_stride, alpha_stride, x, stride, rows,
                                 y + h0 * n, n);
#endif
      },
      [&](int64_t k) { AxpyF32Rows(alpha + k * alpha_stride, x, stride, rows, y + k * n, n); });
}

namespace {

// Rows of F16 as floats in `buffer` (rows * n, packed), for the passes that have no F16 kernel.
const float* ConvertRows(const uint16_t* b, int64_t stride, int64_t rows, int64_t n,
                         float* buffer) {
  for (int64_t r = 0; r < rows; ++r) quant::Fp16ToFloatRow(b + r * stride, buffer + r * n, n);
  return buffer;
}

}  // namespace

void DotF16RowsHeads(const float* a, int64_t heads, const uint16_t* b, int64_t stride, int64_t rows,
                     int64_t n, float* out, int64_t out_stride, float* buffer) {
  const float* converted = nullptr;
  ForHeadPasses(
      heads, n,
      [&]([[maybe_unused]] int64_t h0, [[maybe_unused]] int64_t h) {
#if defined(__x86_64__)
        kDotRowsHeads<uint16_t>[h](a + h0 * n, b, stride, rows, n, out + h0 * out_stride,
                                   out_stride);
#endif
      },
      [&](int64_t k) {
        if (converted == nullptr) converted = ConvertRows(b, stride, rows, n, buffer);
        DotF32Rows(a + k * n, converted, n, rows, n, out + k * out_stride);
      });
}

void AxpyF16RowsHeads(const float* alpha, int64_t alpha_stride, int64_t heads, const uint16_t* x,
                      int64_t stride, int64_t rows, float* y, int64_t n, float* buffer) {
  const float* converted = nullptr;
  ForHeadPasses(
      heads, n,
      [&]([[maybe_unused]] int64_t h0, [[maybe_unused]] int64_t h) {
#if defined(__x86_64__)
        kAxpyRowsHeads<uint16_t>[h](alpha + h0 * alpha_stride, alpha_stride, x, stride, rows,
                                    y + h0 * n, n);
#endif
      },
      [&](int64_t k) {
        if (converted == nullptr) converted = ConvertRows(x, stride, rows, n, buffer);
        AxpyF32Rows(alpha + k * alpha_stride, converted, n, rows, y + k * n, n);
      });
}

}  // namespace infernet::cpu
