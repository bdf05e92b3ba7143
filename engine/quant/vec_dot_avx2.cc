// AVX2/FMA/F16C dot-product kernels, written once as R x C register tiles.
//
// Every output of a tile owns its accumulator(s) and sees exactly the same instruction sequence
// whatever R and C are: tiling only shares loads (activations across rows, decoded weights across
// columns). VecDot is the 1x1 tile, so VecDotTile is bit-identical to VecDot by construction.
#include <immintrin.h>

#include "engine/quant/avx2_common.h"
#include "engine/quant/blocks.h"
#include "engine/quant/dispatch.h"
#include "engine/quant/prefetch.h"

namespace infernet::quant::internal {
namespace {

using avx2::HalfToFloat;
using avx2::HorizontalSum;
using avx2::RowAt;
using avx2::RunTiles;

// ---- Q8_0 weights x Q8_0 activations: per block an exact int32 dot (sign trick +
// maddubs + madd), then one FMA with d_w * d_a.

struct Q8_0Weights {
  using Block = BlockQ8_0;
  INFERNET_AVX2 static __m256i Quants(const Block& b) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
  }
};

template <class Weights>
struct Q8ActKernel {
  // Matrix-vector: one row at a time streams weights faster from DRAM with 2 threads
  // (measured ~49 vs ~37 GB/s for 4-row tiles on 4096 x 14336 Q8_0).
  static constexpr int kRows = 4, kCols = 2, kMatVecRows = 1;
  // part[r][c] = d_w*d_a * (block b's int32 lane sums), fused onto part when kAccumulate.
  template <int R, int C, bool kAccumulate>
  INFERNET_AVX2 static void BlockProducts(const uint8_t* w, size_t ws, const uint8_t* a, size_t as,
                                          int64_t b, uintptr_t ahead, __m256 (&part)[R][C]) {
    using WBlock = typename Weights::Block;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i aq[C];
    float da[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      const BlockQ8_0& ab = RowAt<BlockQ8_0>(a, as, c)[b];
      aq[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab.qs));
      da[c] = HalfToFloat(ab.d);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const WBlock& wb = RowAt<WBlock>(w, ws, r)[b];
      PrefetchAhead(&wb, sizeof(WBlock), ahead);
      const __m256i q = Weights::Quants(wb);
      const __m256i q_abs = _mm256_abs_epi8(q);
      const float dw = HalfToFloat(wb.d);
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        // |q| * (a * sign(q)) == q * a, making the unsigned x signed maddubs usable.
        const __m256i pairs = _mm256_maddubs_epi16(q_abs, _mm256_sign_epi8(aq[c], q));
        const __m256 sums = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, ones));
        const __m256 scale = _mm256_set1_ps(dw * da[c]);
        part[r][c] =
            kAccumulate ? _mm256_fmadd_ps(scale, sums, part[r][c]) : _mm256_mul_ps(scale, sums);
      }
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
    const int64_t blocks = n / kQK8_0;
    int64_t b = 0;
    // Two blocks per step: acc += d1*s1 + d0*s0 halves the accumulator dependency chain.
    for (; b + 2 <= blocks; b += 2) {
      __m256 part[R][C];
      BlockProducts<R, C, false>(w, ws, a, as, b, ahead, part);
      BlockProducts<R, C, true>(w, ws, a, as, b + 1, ahead, part);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) acc[r][c] = _mm256_add_ps(acc[r][c], part[r][c]);
      }
    }
    if (b < blocks) BlockProducts<R, C, true>(w, ws, a, as, b, ahead, acc);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) out[c * os + r] = HorizontalSum(acc[r][c]);
    }
  }
};

// ---- Q4_0 x Q8_0: two blocks per 256-bit vector. The 16-byte nibble arrays of blocks b and b+1
// fill one register, so one shift and two masks unpack 64 quants; the activations are regrouped
// to match (low halves together, high halves together). Quants stay unsigned (0..15) for maddubs
// and the -8 offset is removed in int16 with 8 * (pair sums of a), computed once per column.
// Lanes 0..3 of the int32 sums belong to block b, lanes 4..7 to block b+1; one FMA with
// [dw0*da0 x4 | dw1*da1 x4] scales both. Every int16 stays below 12000 in magnitude (no
// saturation).

struct Q4_0Kernel {
  static constexpr int kRows = 4, kCols = 2, kMatVecRows = 4;

  // Two consecutive fp16 scales as floats in lanes 0 and 1.
  INFERNET_AVX2 static __m128 PairScales(uint16_t d0, uint16_t d1) {
    return _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(d0 | (uint32_t{d1} << 16))));
  }
  INFERNET_AVX2 static __m256i LoadPair(const uint8_t* p0, const uint8_t* p1) {
    return _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p1)),
                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(p0)));
  }

  // part[r][c] (+)= scale * int32 sums of blocks b and b+1.
  template <int R, int C, bool kAccumulate>
  INFERNET_AVX2 static void PairProducts(const uint8_t* w, size_t ws, const uint8_t* a, size_t as,
                                         int64_t b, uintptr_t ahead, __m256 (&part)[R][C]) {
    const __m256i low4 = _mm256_set1_epi8(15);
    const __m256i eight = _mm256_set1_epi8(8);
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i spread = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
    __m256i a_lo[C], a_hi[C], offset[C];
    __m128 da[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      const BlockQ8_0* ab = RowAt<BlockQ8_0>(a, as, c) + b;
      const auto* q0 = reinterpret_cast<const uint8_t*>(ab[0].qs);
      const auto* q1 = reinterpret_cast<const uint8_t*>(ab[1].qs);
      a_lo[c] = LoadPair(q0, q1);
      a_hi[c] = LoadPair(q0 + 16, q1 + 16);
      offset[c] = _mm256_add_epi16(_mm256_maddubs_epi16(eight, a_lo[c]),
                                   _mm256_maddubs_epi16(eight, a_hi[c]));
      da[c] = PairScales(ab[0].d, ab[1].d);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const BlockQ4_0* wb = RowAt<BlockQ4_0>(w, ws, r) + b;
      PrefetchAhead(wb, 2 * sizeof(BlockQ4_0), ahead);
      const __m256i raw = LoadPair(wb[0].qs, wb[1].qs);
      const __m256i lo = _mm256_and_si256(raw, low4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
      const __m128 dw = PairScales(wb[0].d, wb[1].d);
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        const __m256i pairs = _mm256_sub_epi16(
            _mm256_add_epi16(_mm256_maddubs_epi16(lo, a_lo[c]), _mm256_maddubs_epi16(hi, a_hi[c])),
            offset[c]);
        const __m256 sums = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, ones));
        const __m256 scale =
            _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_mul_ps(dw, da[c])), spread);
        part[r][c] =
            kAccumulate ? _mm256_fmadd_ps(scale, sums, part[r][c]) : _mm256_mul_ps(scale, sums);
      }
    }
  }

  // acc[r][c] += scale * int32 sums of the single block b (odd block counts only).
  template <int R, int C>
  INFERNET_AVX2 static void SingleProduct(const uint8_t* w, size_t ws, const uint8_t* a, size_t as,
                                          int64_t b, __m256 (&acc)[R][C]) {
    const __m256i low4 = _mm256_set1_epi8(15);
    const __m256i eight = _mm256_set1_epi8(8);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i aq[C], offset[C];
    float da[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      const BlockQ8_0& ab = RowAt<BlockQ8_0>(a, as, c)[b];
      aq[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab.qs));
      offset[c] = _mm256_maddubs_epi16(eight, aq[c]);
      da[c] = HalfToFloat(ab.d);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const BlockQ4_0& wb = RowAt<BlockQ4_0>(w, ws, r)[b];
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb.qs));
      const __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), low4);
      const float dw = HalfToFloat(wb.d);
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        const __m256i pairs = _mm256_sub_epi16(_mm256_maddubs_epi16(q, aq[c]), offset[c]);
        const __m256 sums = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, ones));
        acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(dw * da[c]), sums, acc[r][c]);
      }
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
    const int64_t blocks = n / kQK4_0;
    int64_t b = 0;
    // Four blocks per step: acc += (pair 1 + pair 0) keeps the loop-carried chain to one add.
    for (; b + 4 <= blocks; b += 4) {
      __m256 part[R][C];
      PairProducts<R, C, false>(w, ws, a, as, b, ahead, part);
      PairProducts<R, C, true>(w, ws, a, as, b + 2, ahead, part);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) acc[r][c] = _mm256_add_ps(acc[r][c], part[r][c]);
      }
    }
    if (b + 2 <= blocks) {
      PairProducts<R, C, true>(w, ws, a, as, b, ahead, acc);
      b += 2;
    }
    if (b < blocks) SingleProduct<R, C>(w, ws, a, as, b, acc);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) out[c * os + r] = HorizontalSum(acc[r][c]);
    }
  }
};

// ---- Q4_K x Q8_K: per super-block, int32 lanes of sum_j sc_j (q.a)_j are folded to 4 lanes and
// packed with 4 lanes of sum_j m_j bsum_j, so one FMA with [d*da x4 | -dmin*da x4] scales both.
// The 12-byte scale/min packing is unpacked with SIMD once per weight block (shared across the
// tile's columns), and each sub-block's scale is broadcast by a byte shuffle from a register.

struct Q4KKernel {
  static constexpr int kRows = 4, kCols = 2, kMatVecRows = 4;

  // Bytes [sc0..sc7, m0..m7] of a super-block. With u0,u1,u2 the three packed little-endian words:
  //   sc0..3 = u0 & 0x3f..   sc4..7 = (u2 & 0x0f..) | ((u0 >> 2) & 0x30..)
  //   m0..3  = u1 & 0x3f..   m4..7  = ((u2 >> 4) & 0x0f..) | ((u1 >> 2) & 0x30..)
  INFERNET_AVX2 static __m128i UnpackScalesAndMins(const BlockQ4_K& b) {
    // 16-byte load: the 4 bytes after `scales` are the block's own qs.
    const __m128i words = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
    const __m128i low_src = _mm_shuffle_epi32(words, _MM_SHUFFLE(2, 1, 2, 0));   // u0 u2 u1 u2
    const __m128i high_src = _mm_shuffle_epi32(words, _MM_SHUFFLE(1, 1, 0, 0));  // u0 u0 u1 u1
    const __m128i low =
        _mm_and_si128(_mm_srlv_epi32(low_src, _mm_setr_epi32(0, 0, 0, 4)),
                      _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
    const __m128i high =
        _mm_and_si128(_mm_srli_epi32(high_src, 2), _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
    return _mm_or_si128(low, high);
  }

  // Shuffle control broadcasting int16 element `j` of each 128-bit lane.
  INFERNET_AVX2 static __m256i BroadcastWord(int j) {
    return _mm256_set1_epi16(static_cast<int16_t>((2 * j) | ((2 * j + 1) << 8)));
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
    const __m256i low4 = _mm256_set1_epi8(15);
    const __m256i spread = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
    for (int64_t b = 0; b < n / kQK_K; ++b) {
      __m128 da[C];  // [da, -da, 0, 0]
      __m128i bsum_pairs[C];
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        const BlockQ8_K& ab = RowAt<BlockQ8_K>(a, as, c)[b];
        da[c] = _mm_setr_ps(ab.d, -ab.d, 0, 0);
        bsum_pairs[c] =
            _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ab.bsums)),
                           _mm_loadu_si128(reinterpret_cast<const __m128i*>(ab.bsums + 8)));
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const BlockQ4_K& wb = RowAt<BlockQ4_K>(w, ws, r)[b];
        PrefetchAhead(&wb, sizeof(BlockQ4_K), ahead);
        const __m128i sc_m = UnpackScalesAndMins(wb);
        const __m256i scales16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sc_m));
        const __m128i mins16 = _mm_unpackhi_epi8(sc_m, _mm_setzero_si128());
        // [d, dmin] from the two adjacent fp16 fields.
        uint32_t d_dmin;
        __builtin_memcpy(&d_dmin, &wb.d, sizeof(d_dmin));
        const __m128 dw = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(d_dmin)));
        __m256i sumi[C];
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) sumi[c] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {
          const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.qs + 32 * k));
          const __m256i lo = _mm256_and_si256(raw, low4);
          const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
          const __m256i s_lo = _mm256_shuffle_epi8(scales16, BroadcastWord(2 * k));
          const __m256i s_hi = _mm256_shuffle_epi8(scales16, BroadcastWord(2 * k + 1));
#pragma GCC unroll 4
          for (int c = 0; c < C; ++c) {
            const int8_t* aq = RowAt<BlockQ8_K>(a, as, c)[b].qs + 64 * k;
            const __m256i a_lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq));
            const __m256i a_hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(aq + 32));
            const __m256i p_lo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, a_lo), s_lo);
            const __m256i p_hi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, a_hi), s_hi);
            sumi[c] = _mm256_add_epi32(sumi[c], _mm256_add_epi32(p_lo, p_hi));
          }
        }
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) {
          const __m128i main4 =
              _mm_add_epi32(_mm256_castsi256_si128(sumi[c]), _mm256_extracti128_si256(sumi[c], 1));
          const __m128i min4 = _mm_madd_epi16(mins16, bsum_pairs[c]);
          const __m256 v = _mm256_cvtepi32_ps(_mm256_set_m128i(min4, main4));
          const __m256 scale =
              _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_mul_ps(dw, da[c])), spread);
          acc[r][c] = _mm256_fmadd_ps(scale, v, acc[r][c]);
        }
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) out[c * os + r] = HorizontalSum(acc[r][c]);
    }
  }
};

// ---- Q6_K x Q8_K: unsigned quants (0..63) through maddubs; the -32 offset and the scales fold
// into one exact int32 sum per super-block: sum_j sc_j ((q.a)_j - 32 bsum_j).

struct Q6KKernel {
  static constexpr int kRows = 4, kCols = 2,
                       kMatVecRows = 1;  // measured: 1x1 tiles beat 4x1 (register pressure)

  // Shuffle control picking int16 element 2g in the low lane and 2g+1 in the high lane.
  INFERNET_AVX2 static __m256i ChunkScaleShuffle(int g) {
    const int16_t lo = static_cast<int16_t>((4 * g) | ((4 * g + 1) << 8));
    const int16_t hi = static_cast<int16_t>((4 * g + 2) | ((4 * g + 3) << 8));
    return _mm256_set_m128i(_mm_set1_epi16(hi), _mm_set1_epi16(lo));
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
    const __m256i low4 = _mm256_set1_epi8(15);
    const __m256i bits45 = _mm256_set1_epi8(0x30);
    for (int64_t b = 0; b < n / kQK_K; ++b) {
      float da[C];
      __m256i bsums[C];
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        const BlockQ8_K& ab = RowAt<BlockQ8_K>(a, as, c)[b];
        da[c] = ab.d;
        bsums[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab.bsums));
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const BlockQ6_K& wb = RowAt<BlockQ6_K>(w, ws, r)[b];
        PrefetchAhead(&wb, sizeof(BlockQ6_K), ahead);
        const __m256i sc16 =
            _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wb.scales)));
        const float d = HalfToFloat(wb.d);
        __m256i sumi[C];
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) sumi[c] = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
          const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.ql + 64 * h));
          const __m256i ql1 =
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.ql + 64 * h + 32));
          const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.qh + 32 * h));
          // Group g of this half: low nibble source and qh bits 2g..2g+1 moved to bits 4..5.
          const __m256i q[4] = {
              _mm256_or_si256(_mm256_and_si256(ql0, low4),
                              _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45)),
              _mm256_or_si256(_mm256_and_si256(ql1, low4),
                              _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45)),
              _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                              _mm256_and_si256(qh, bits45)),
              _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                              _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45)),
          };
          // Scales 8h..8h+7 as int16 in both lanes; chunk g takes 8h+2g (low lane), 8h+2g+1 (high).
          const __m256i half_scales =
              h == 0 ? _mm256_permute4x64_epi64(sc16, 0x44) : _mm256_permute4x64_epi64(sc16, 0xEE);
#pragma GCC unroll 4
          for (int g = 0; g < 4; ++g) {
            const int k = 4 * h + g;  // 32-element chunk = sub-blocks 2k, 2k+1
            const __m256i scale = _mm256_shuffle_epi8(half_scales, ChunkScaleShuffle(g));
#pragma GCC unroll 4
            for (int c = 0; c < C; ++c) {
              const __m256i av = _mm256_loadu_si256(
                  reinterpret_cast<const __m256i*>(RowAt<BlockQ8_K>(a, as, c)[b].qs + 32 * k));
              sumi[c] = _mm256_add_epi32(sumi[c],
                                         _mm256_madd_epi16(_mm256_maddubs_epi16(q[g], av), scale));
            }
          }
        }
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) {
          const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(sc16, bsums[c]), 5);
          const __m256 v = _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi[c], offset));
          acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(d * da[c]), v, acc[r][c]);
        }
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) out[c * os + r] = HorizontalSum(acc[r][c]);
    }
  }
};

}  // namespace

void VecDotTileAvx2(TensorType weight_type, int64_t n, const void* w, size_t w_stride, int rows,
                    const void* a, size_t a_stride, int cols, float* out, size_t out_stride) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  switch (weight_type) {
    case TensorType::kF32:
    case TensorType::kF16:
    case TensorType::kBF16:
      return FloatVecDotTileAvx2(weight_type, n, wb, w_stride, rows, ab, a_stride, cols, out,
                                 out_stride);
    case TensorType::kQ4_0:
      return RunTiles<Q4_0Kernel>(n, wb, w_stride, rows, ab, a_stride, cols, out, out_stride);
    case TensorType::kQ8_0:
      return RunTiles<Q8ActKernel<Q8_0Weights>>(n, wb, w_stride, rows, ab, a_stride, cols, out,
                                                out_stride);
    case TensorType::kQ4_K:
      return RunTiles<Q4KKernel>(n, wb, w_stride, rows, ab, a_stride, cols, out, out_stride);
    case TensorType::kQ6_K:
      return RunTiles<Q6KKernel>(n, wb, w_stride, rows, ab, a_stride, cols, out, out_stride);
    case TensorType::kQ8_K:
      break;
  }
  for (int c = 0; c < cols; ++c) {
    for (int r = 0; r < rows; ++r) out[c * out_stride + r] = 0;
  }
}

float VecDotAvx2(TensorType weight_type, int64_t n, const void* w, const void* a) {
  float out;
  VecDotTileAvx2(weight_type, n, w, 0, 1, a, 0, 1, &out, 0);
  return out;
}

}  // namespace infernet::quant::internal
