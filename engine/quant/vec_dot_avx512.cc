// AVX-512 (F/BW/VL/DQ + VNNI) dot-product kernels, written once as R x C register tiles.
//
// Same structure as the AVX2 family: every output of a tile owns its accumulator(s) and sees
// exactly the same instruction sequence whatever R and C are, so VecDot (the 1x1 tile) and
// VecDotTile are bit-identical by construction. Integer dot products are exact in int32
// (vpdpbusd: unsigned x signed bytes), so quantized results differ from the scalar twin only in
// the order of the per-block float scaling.
//
// vpdpbusd needs its first operand unsigned. Q4_0/Q4_K/Q6_K quants are stored unsigned (with an
// offset, removed through the activation sums); for Q8_0 x Q8_0 the weights are made unsigned by
// adding 128, and 128 * sum(a) is subtracted from the accumulator's starting value.
// GCC 12's AVX-512 headers trip -Wuninitialized through their self-initialised "undefined"
// vectors (GCC bug 105593, fixed in GCC 13); the warning points into the headers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <algorithm>

#include "engine/quant/blocks.h"
#include "engine/quant/dispatch.h"
#include "engine/quant/prefetch.h"

#define INFERNET_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

namespace infernet::quant::internal {
namespace {

using TileFn = void (*)(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as,
                        float* out, size_t os);

// Fixed-order horizontal sum (part of every output's op sequence).
INFERNET_AVX512 inline float HorizontalSum(__m512 v) {
  const __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

INFERNET_AVX512 inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

// -offset . q per int32 lane (q signed): the accumulator's starting value that removes `offset`,
// added to vpdpbusd's other operand to make it unsigned, from the lane's dot product with q.
INFERNET_AVX512 inline __m512i MinusOffsetDot(__m512i offset, __m512i q) {
  const __m512i zero = _mm512_setzero_si512();
  return _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, offset, q));
}

template <class T>
const T* RowAt(const uint8_t* base, size_t stride, int index) {
  return reinterpret_cast<const T*>(base + static_cast<size_t>(index) * stride);
}

// ---- Float weights x F32 activations: 16 elements a step, the last n % 16 through a masked step.

struct F32Weights {
  static constexpr size_t kElementBytes = 4;
  INFERNET_AVX512 static __m512 Load16(const uint8_t* p, int64_t i) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(p) + i);
  }
  INFERNET_AVX512 static __m512 LoadMasked(const uint8_t* p, int64_t i, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(p) + i);
  }
};

struct F16Weights {
  static constexpr size_t kElementBytes = 2;
  INFERNET_AVX512 static __m512 Load16(const uint8_t* p, int64_t i) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2 * i)));
  }
  INFERNET_AVX512 static __m512 LoadMasked(const uint8_t* p, int64_t i, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p + 2 * i));
  }
};

// bf16 -> f32 is exact (a 16-bit shift), so F32 activations and the scalar contract are kept.
struct BF16Weights {
  static constexpr size_t kElementBytes = 2;
  INFERNET_AVX512 static __m512 Widen(__m256i bits) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
  }
  INFERNET_AVX512 static __m512 Load16(const uint8_t* p, int64_t i) {
    return Widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2 * i)));
  }
  INFERNET_AVX512 static __m512 LoadMasked(const uint8_t* p, int64_t i, __mmask16 m) {
    return Widen(_mm256_maskz_loadu_epi16(m, p + 2 * i));
  }
};

template <class Weights>
struct FloatKernel {
  // One accumulator per output, so a 6 x 4 tile fits the 32 registers: a tile streams whole rows
  // from L2, and more outputs per loaded byte is what lifts throughput (measured on 12 x 4 blocks,
  // F16: 160 GFLOP/s vs 120 for 4 x 2 tiles with two accumulators each; on Zen 5, 6 x 4 tiles
  // beat 4 x 4 by ~25% for F16, 7% for BF16 and 3% for F32). Single-column products go one row
  // at a time: one sequential stream per thread measured +30 % F16 decode on Zen 5 against four
  // interleaved rows (a single FMA chain, 4 cycles per 16 weights, still outpaces a thread's
  // share of DRAM bandwidth).
  // Slicing rows so that a block's weights stay in L1 measured slower (shorter streams for the
  // prefetchers).
  static constexpr int kRows = 6, kCols = 4, kMatVecRows = 1;
  template <int R, int C>
  INFERNET_AVX512 static void Run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a,
                                  size_t as, float* out, size_t os) {
    const uintptr_t ahead = Avx512PrefetchDistance(ws, R);
    __m512 acc[R][C];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      __m512 av[C];
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) av[c] = _mm512_loadu_ps(RowAt<float>(a, as, c) + i);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        PrefetchAhead<kAvx512Prefetch>(w + r * ws + i * Weights::kElementBytes,
                                       16 * Weights::kElementBytes, ahead);
        const __m512 wv = Weights::Load16(w + r * ws, i);
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(wv, av[c], acc[r][c]);
      }
    }
    if (i < n) {
      const auto m = static_cast<__mmask16>((1u << (n - i)) - 1);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512 wv = Weights::LoadMasked(w + r * ws, i, m);
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
          acc[r][c] =
              _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, RowAt<float>(a, as, c) + i), acc[r][c]);
        }
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) out[c * os + r] = HorizontalSum(acc[r][c]);
    }
  }
};

// ---- Q8_0 x Q8_0: two blocks per register (lanes 0..7 block b, 8..15 block b+1).

struct Q8_0Kernel {
  // Single-column products take 4 rows per tile, sharing each pair of activation blocks (loads,
  // offset, scales) across them: 1.35-1.4x single-thread GFLOP/s on L2-resident 768- and
  // 2048-wide rows against 1 row at a time, and +4-8 % 100m-Q8_0 decode (Zen 4).
  static constexpr int kRows = 4, kCols = 4, kMatVecRows = 4;

  // Quants of blocks p[0] and (when `two`) p[1]; zeros stand in for a missing second block.
  INFERNET_AVX512 static __m512i LoadPair(const BlockQ8_0* p, bool two) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[0].qs));
    const __m256i hi = two ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[1].qs))
                           : _mm256_setzero_si256();
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
  }
  // [d0 x8 | d1 x8] as floats (d1 = 0 when the second block is missing).
  INFERNET_AVX512 static __m512 PairScales(const BlockQ8_0* p, bool two) {
    const uint32_t bits = p[0].d | (two ? uint32_t{p[1].d} << 16 : 0u);
    const __m128 d = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(bits)));
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                                 _mm512_castps128_ps512(d));
  }

  // acc[r][c] += d_w * d_a * int32 lane sums of blocks b and (when kTwo) b+1. vpdpbusd takes the
  // weights, made unsigned by adding 128 (one xor), and the signed activations; the 128 * sum(a)
  // this adds is subtracted from the accumulator's starting value, computed once per column and
  // shared by the tile's rows.
  template <int R, int C, bool kTwo>
  INFERNET_AVX512 static void PairProducts(const uint8_t* w, size_t ws, const uint8_t* a, size_t as,
                                           int64_t b, uintptr_t ahead, __m512 (&acc)[R][C]) {
    const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
    __m512i aq[C], start[C];
    __m512 da[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      const BlockQ8_0* ab = RowAt<BlockQ8_0>(a, as, c) + b;
      aq[c] = LoadPair(ab, kTwo);
      // (w + 128) . a - 128 * sum(a) == w . a
      start[c] = MinusOffsetDot(bias, aq[c]);
      da[c] = PairScales(ab, kTwo);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const BlockQ8_0* wb = RowAt<BlockQ8_0>(w, ws, r) + b;
      PrefetchAhead<kAvx512Prefetch>(wb, 2 * sizeof(BlockQ8_0), ahead);
      const __m512i q = _mm512_xor_si512(LoadPair(wb, kTwo), bias);
      const __m512 dw = PairScales(wb, kTwo);
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        const __m512 sums = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(start[c], q, aq[c]));
        acc[r][c] = _mm512_fmadd_ps(_mm512_mul_ps(dw, da[c]), sums, acc[r][c]);
      }
    }
  }

  // One FMA chain per output, one link per pair of blocks: 4 cycles per 64 bytes of weights still
  // outpaces a thread's share of DRAM bandwidth, and the tile needs no second set of accumulators,
  // which made GCC spill the 4 x 4 tile (measured on Zen 4: 1.1-1.2x GFLOP/s at n = 512).
  template <int R, int C>
  INFERNET_AVX512 static void Run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a,
                                  size_t as, float* out, size_t os) {
    const uintptr_t ahead = Avx512PrefetchDistance(ws, R);
    __m512 acc[R][C];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    }
    const int64_t blocks = n / kQK8_0;
    int64_t b = 0;
    for (; b + 2 <= blocks; b += 2) PairProducts<R, C, true>(w, ws, a, as, b, ahead, acc);
    if (b < blocks) PairProducts<R, C, false>(w, ws, a, as, b, ahead, acc);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) out[c * os + r] = HorizontalSum(acc[r][c]);
    }
  }
};

// ---- Q4_0 x Q8_0: four blocks per register, one per 128-bit lane. A lane holds the 16 nibble
// bytes of its block: low nibbles are elements 0..15, high nibbles 16..31, matched by the
// activations' first and second 16 bytes. Quants stay unsigned (0..15) and the -8 offset starts
// the accumulator at -8 * sum(a).

struct Q4_0Kernel {
  static constexpr int kRows = 4, kCols = 4, kMatVecRows = 4;

  // 16 bytes at `offset` in each of `count` (1..4) blocks, block k in 128-bit lane k.
  template <class Block>
  INFERNET_AVX512 static __m512i GatherLanes(const Block* p, size_t offset, int count) {
    const auto at = [&](int k) {
      return _mm_loadu_si128(
          reinterpret_cast<const __m128i*>(reinterpret_cast<const uint8_t*>(p + k) + offset));
    };
    __m512i v = _mm512_zextsi128_si512(at(0));
    if (count > 1) v = _mm512_inserti32x4(v, at(1), 1);
    if (count > 2) v = _mm512_inserti32x4(v, at(2), 2);
    if (count > 3) v = _mm512_inserti32x4(v, at(3), 3);
    return v;
  }
  // [d_k x4] for k < count, zero beyond.
  template <class Block>
  INFERNET_AVX512 static __m512 LaneScales(const Block* p, int count) {
    uint16_t d[4] = {0, 0, 0, 0};
    for (int k = 0; k < count; ++k) d[k] = p[k].d;
    uint64_t bits;
    __builtin_memcpy(&bits, d, sizeof(bits));
    const __m128 f = _mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<long long>(bits)));
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                                 _mm512_castps128_ps512(f));
  }

  // part[r][c] (+)= scale * int32 lane sums of blocks b .. b+count-1.
  template <int R, int C, bool kAccumulate>
  INFERNET_AVX512 static void QuadProducts(const uint8_t* w, size_t ws, const uint8_t* a, size_t as,
                                           int64_t b, int count, uintptr_t ahead,
                                           __m512 (&part)[R][C]) {
    const __m512i low4 = _mm512_set1_epi8(15);
    const __m512i eight = _mm512_set1_epi8(8);
    __m512i a_lo[C], a_hi[C], start[C];
    __m512 da[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      const BlockQ8_0* ab = RowAt<BlockQ8_0>(a, as, c) + b;
      a_lo[c] = GatherLanes(ab, offsetof(BlockQ8_0, qs), count);
      a_hi[c] = GatherLanes(ab, offsetof(BlockQ8_0, qs) + 16, count);
      const __m512i sum8 = _mm512_dpbusd_epi32(
          _mm512_dpbusd_epi32(_mm512_setzero_si512(), eight, a_lo[c]), eight, a_hi[c]);
      start[c] = _mm512_sub_epi32(_mm512_setzero_si512(), sum8);
      da[c] = LaneScales(ab, count);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const BlockQ4_0* wb = RowAt<BlockQ4_0>(w, ws, r) + b;
      PrefetchAhead<kAvx512Prefetch>(wb, 4 * sizeof(BlockQ4_0), ahead);
      const __m512i raw = GatherLanes(wb, offsetof(BlockQ4_0, qs), count);
      const __m512i lo = _mm512_and_si512(raw, low4);
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low4);
      const __m512 dw = LaneScales(wb, count);
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        const __m512i s =
            _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(start[c], lo, a_lo[c]), hi, a_hi[c]);
        const __m512 sums = _mm512_cvtepi32_ps(s);
        const __m512 scale = _mm512_mul_ps(dw, da[c]);
        part[r][c] =
            kAccumulate ? _mm512_fmadd_ps(scale, sums, part[r][c]) : _mm512_mul_ps(scale, sums);
      }
    }
  }

  template <int R, int C>
  INFERNET_AVX512 static void Run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a,
                                  size_t as, float* out, size_t os) {
    const uintptr_t ahead = Avx512PrefetchDistance(ws, R);
    __m512 acc[R][C];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    }
    const int64_t blocks = n / kQK4_0;
    int64_t b = 0;
    // Eight blocks per step: acc += (quad 1 + quad 0).
    for (; b + 8 <= blocks; b += 8) {
      __m512 part[R][C];
      QuadProducts<R, C, false>(w, ws, a, as, b, 4, ahead, part);
      QuadProducts<R, C, true>(w, ws, a, as, b + 4, 4, ahead, part);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) acc[r][c] = _mm512_add_ps(acc[r][c], part[r][c]);
      }
    }
    for (; b < blocks; b += 4) {
      QuadProducts<R, C, true>(w, ws, a, as, b, static_cast<int>(std::min<int64_t>(4, blocks - b)),
                               ahead, acc);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) out[c * os + r] = HorizontalSum(acc[r][c]);
    }
  }
};

// ---- Q4_K x Q8_K. The 128 nibble bytes of a super-block are two registers; register k's low
// nibbles are sub-blocks 4k and 4k+2 (256-bit halves), its high nibbles 4k+1 and 4k+3, and the
// activations are regrouped to match. Rows go in pairs: the vpdpbusd sums of the same nibbles of
// two rows (|lane| <= 7680 fits int16) are packed into one register with vpackssdw (exact), and
// one vpdpwssd with the matching int16 scales adds each pair of lanes times its sub-block's scale:
// one multiply-add per 64 weights instead of two.
//
// The rest of a super-block is done for the tile's rows together: their scales and mins are
// unpacked in one register (one row per 128-bit lane), the mins meet the activation's sub-block
// sums in one vpmaddwd, and the int32 sums (exact) are reduced to [S_0..S_3 | M_0..M_3], which one
// conversion and one FMA with [d_r*da x4 | -dmin_r*da x4] add to the tile's accumulator. So each
// output's float operations are the same whatever the tile's shape: per super-block, one FMA into
// its S lane and one into its M lane; at the end, S + M. Finishing each row on its own (its own
// unpack, fold of 16 lanes, conversion and FMA, much of it 512-bit shuffles) took ~30 % of a 4-row
// tile's time on Zen 4 (L2-resident 768-wide rows: 87 GFLOP/s single-thread, 123 with that work
// left out); this layout reads 107.
//
// A single activation column (decode) goes through RunColumn: up to 24 rows a call, super-block
// by super-block, so the activations' arrangement (regrouping, sub-block sums) is done once per
// super-block for all the rows instead of once per 4-row tile: 117 GFLOP/s on the same rows, and
// 100m-Q4_K decode +3-8 % (in-process A/B on Zen 4).

struct Q4KKernel {
  static constexpr int kRows = 4, kCols = 4, kMatVecRows = 4;

  // 128-bit lane r (< R) holds bytes [sc0..sc7, m0..m7] of row r's super-block b (see the AVX2
  // kernel for the bit layout); lanes from R on are zero.
  template <int R>
  INFERNET_AVX512 static __m512i UnpackScalesAndMins(const uint8_t* w, size_t ws, int64_t b) {
    // 16-byte loads: the 4 bytes after `scales` are the block's own qs.
    const auto words_of = [&](int r) {
      return _mm_loadu_si128(
          reinterpret_cast<const __m128i*>(RowAt<BlockQ4_K>(w, ws, r)[b].scales));
    };
    __m512i words = _mm512_zextsi128_si512(words_of(0));
    if constexpr (R > 1) words = _mm512_inserti32x4(words, words_of(1), 1);
    if constexpr (R > 2) words = _mm512_inserti32x4(words, words_of(2), 2);
    if constexpr (R > 3) words = _mm512_inserti32x4(words, words_of(3), 3);
    const __m512i low_src = _mm512_shuffle_epi32(words, _MM_PERM_CBCA);   // u0 u2 u1 u2
    const __m512i high_src = _mm512_shuffle_epi32(words, _MM_PERM_BBAA);  // u0 u0 u1 u1
    const __m512i low = _mm512_and_si512(
        _mm512_srlv_epi32(low_src, _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0, 0, 4))),
        _mm512_broadcast_i32x4(_mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f)));
    const __m512i high =
        _mm512_and_si512(_mm512_srli_epi32(high_src, 2),
                         _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0x30303030, 0, 0x30303030)));
    return _mm512_or_si512(low, high);
  }

  // [d_0..d_3 | dmin_0..dmin_3] of super-block b as floats, zero for rows from R on.
  template <int R>
  INFERNET_AVX512 static __m256 RowScales(const uint8_t* w, size_t ws, int64_t b) {
    const auto d_dmin = [&](int r) {
      uint32_t bits;
      __builtin_memcpy(&bits, &RowAt<BlockQ4_K>(w, ws, r)[b].d, sizeof(bits));
      return static_cast<int>(bits);
    };
    __m128i halves = _mm_cvtsi32_si128(d_dmin(0));
    if constexpr (R > 1) halves = _mm_insert_epi32(halves, d_dmin(1), 1);
    if constexpr (R > 2) halves = _mm_insert_epi32(halves, d_dmin(2), 2);
    if constexpr (R > 3) halves = _mm_insert_epi32(halves, d_dmin(3), 3);
    halves = _mm_shuffle_epi8(halves,
                              _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15));
    return _mm256_cvtph_ps(halves);
  }

  // The mins of the 4 rows for vpmaddwd against SubBlockSums: in 128-bit lane l, int16 words
  // 2r and 2r + 1 are row r's m_{2l} and m_{2l+1}.
  INFERNET_AVX512 static __m512i MinsByLane(__m512i sc_m) {
    // Words 8r..8r+7: row r's m0..m7, zero-extended.
    const __m512i mins = _mm512_shuffle_epi8(
        sc_m, _mm512_broadcast_i32x4(
                  _mm_setr_epi8(8, -1, 9, -1, 10, -1, 11, -1, 12, -1, 13, -1, 14, -1, 15, -1)));
    return _mm512_permutexvar_epi16(
        _mm512_set_epi16(31, 30, 23, 22, 15, 14, 7, 6, 29, 28, 21, 20, 13, 12, 5, 4,  //
                         27, 26, 19, 18, 11, 10, 3, 2, 25, 24, 17, 16, 9, 8, 1, 0),
        mins);
  }

  // The activation's sub-block sums s_j = bsums[2j] + bsums[2j+1] (|s_j| <= 32 * 128 fits
  // int16) as int16: in 128-bit lane l, [s_{2l}, s_{2l+1}] repeated 4 times.
  INFERNET_AVX512 static __m512i SubBlockSums(const BlockQ8_K& ab) {
    const __m256i sums = _mm256_madd_epi16(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab.bsums)), _mm256_set1_epi16(1));
    return _mm512_permutexvar_epi32(
        _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
        _mm512_castsi128_si512(_mm256_cvtepi32_epi16(sums)));
  }

  // pshufb control for the int16 scales of a register of packed row pairs (see Run), from
  // [sc0..sc7 of the first row | sc0..sc7 of the second] in every 128-bit lane: in lanes 0-1,
  // words 0-3 take the first row's scale j and words 4-7 the second's; in lanes 2-3, scale j + 2
  // (0x80 zeroes each word's high byte).
  INFERNET_AVX512 static __m512i PairScaleControl(int j) {
    const auto words = [](int index) {
      return static_cast<int>(0x80008000u | index << 16 | index);
    };
    const int a = words(j), b = words(8 + j), c = words(j + 2), d = words(8 + j + 2);
    return _mm512_setr_epi32(a, a, b, b, a, a, b, b, c, c, d, d, c, c, d, d);
  }

  INFERNET_AVX512 static __m512i Join(const int8_t* lo, const int8_t* hi) {
    return _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hi)), 1);
  }

  // Super-block b of C activation columns, arranged for AddSuperBlock.
  template <int C>
  struct Activations {
    __m256 da[C];         // [da x4 | -da x4]
    __m512i sub_sums[C];  // SubBlockSums
    __m512i lo[C][2], hi[C][2];
  };

  template <int C>
  INFERNET_AVX512 static void Arrange(const uint8_t* a, size_t as, int64_t b, Activations<C>& act) {
    const __m256 negate_mins = _mm256_setr_ps(0.0f, 0.0f, 0.0f, 0.0f, -0.0f, -0.0f, -0.0f, -0.0f);
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      const BlockQ8_K& ab = RowAt<BlockQ8_K>(a, as, c)[b];
      act.da[c] = _mm256_xor_ps(_mm256_set1_ps(ab.d), negate_mins);
      act.sub_sums[c] = SubBlockSums(ab);
#pragma GCC unroll 2
      for (int k = 0; k < 2; ++k) {
        const int8_t* q = ab.qs + 128 * k;
        act.lo[c][k] = Join(q, q + 64);
        act.hi[c][k] = Join(q + 32, q + 96);
      }
    }
  }

  // acc[c] (lanes r: sums of d_r*da*S_r; lanes 4 + r: of -dmin_r*da*M_r) += super-block b of
  // rows 0..R-1 times the arranged activations.
  template <int R, int C, bool kPrefetch = true>
  INFERNET_AVX512 static void AddSuperBlock(const uint8_t* w, size_t ws, int64_t b,
                                            const Activations<C>& act, uintptr_t ahead,
                                            __m256 (&acc)[C]) {
    constexpr int kPairs = (R + 1) / 2;
    const __m512i low4 = _mm512_set1_epi8(15);
    const __m512i zero = _mm512_setzero_si512();
    // [lo, hi] nibble scale controls of register k: sub-blocks 4k (+2) and 4k+1 (+2).
    const __m512i pick[2][2] = {{PairScaleControl(0), PairScaleControl(1)},
                                {PairScaleControl(4), PairScaleControl(5)}};
    const __m512i sc_m = UnpackScalesAndMins<R>(w, ws, b);
    const __m256 dw = RowScales<R>(w, ws, b);

    // sumi[p][c], 128-bit lanes: [row 2p, row 2p, row 2p + 1, row 2p + 1] partial sums.
    __m512i sumi[2][C];
#pragma GCC unroll 2
    for (int p = 0; p < kPairs; ++p) {
      const int r0 = 2 * p, r1 = std::min(2 * p + 1, R - 1);
      const BlockQ4_K& w0 = RowAt<BlockQ4_K>(w, ws, r0)[b];
      const BlockQ4_K& w1 = RowAt<BlockQ4_K>(w, ws, r1)[b];
      if constexpr (kPrefetch) {
        PrefetchAhead<kAvx512Prefetch>(&w0, sizeof(BlockQ4_K), ahead);
        if (r1 != r0) PrefetchAhead<kAvx512Prefetch>(&w1, sizeof(BlockQ4_K), ahead);
      }
      // [sc of row r0 | sc of row r1] in every 128-bit lane. A lone last row pairs with
      // itself; the second row's quants are zero then.
      const __m512i pair_sc = _mm512_permutexvar_epi64(
          _mm512_set_epi64(2 * r1, 2 * r0, 2 * r1, 2 * r0, 2 * r1, 2 * r0, 2 * r1, 2 * r0), sc_m);
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) sumi[p][c] = zero;
#pragma GCC unroll 2
      for (int k = 0; k < 2; ++k) {
        const __m512i raw0 = _mm512_loadu_si512(w0.qs + 64 * k);
        const __m512i raw1 = r1 != r0 ? _mm512_loadu_si512(w1.qs + 64 * k) : zero;
        const __m512i lo0 = _mm512_and_si512(raw0, low4);
        const __m512i lo1 = _mm512_and_si512(raw1, low4);
        const __m512i hi0 = _mm512_and_si512(_mm512_srli_epi16(raw0, 4), low4);
        const __m512i hi1 = _mm512_and_si512(_mm512_srli_epi16(raw1, 4), low4);
        const __m512i scale_lo = _mm512_shuffle_epi8(pair_sc, pick[k][0]);
        const __m512i scale_hi = _mm512_shuffle_epi8(pair_sc, pick[k][1]);
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) {
          const __m512i lo = _mm512_packs_epi32(_mm512_dpbusd_epi32(zero, lo0, act.lo[c][k]),
                                                _mm512_dpbusd_epi32(zero, lo1, act.lo[c][k]));
          const __m512i hi = _mm512_packs_epi32(_mm512_dpbusd_epi32(zero, hi0, act.hi[c][k]),
                                                _mm512_dpbusd_epi32(zero, hi1, act.hi[c][k]));
          sumi[p][c] =
              _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(sumi[p][c], lo, scale_lo), hi, scale_hi);
        }
      }
    }
    const __m512i mins = MinsByLane(sc_m);
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      // Per 128-bit lane: [S_0..S_3] and [M_0..M_3] partial sums; then the lanes are added.
      const __m512 first = _mm512_castsi512_ps(sumi[0][c]);
      const __m512 second = kPairs > 1 ? _mm512_castsi512_ps(sumi[1][c]) : _mm512_setzero_ps();
      const __m512i main = _mm512_add_epi32(
          _mm512_castps_si512(_mm512_shuffle_ps(first, second, _MM_SHUFFLE(2, 0, 2, 0))),
          _mm512_castps_si512(_mm512_shuffle_ps(first, second, _MM_SHUFFLE(3, 1, 3, 1))));
      const __m512i mins_by_lane = _mm512_madd_epi16(mins, act.sub_sums[c]);
      const __m256i main8 =
          _mm256_add_epi32(_mm512_castsi512_si256(main), _mm512_extracti64x4_epi64(main, 1));
      const __m256i mins8 = _mm256_add_epi32(_mm512_castsi512_si256(mins_by_lane),
                                             _mm512_extracti64x4_epi64(mins_by_lane, 1));
      const __m256i sums = _mm256_add_epi32(_mm256_permute2x128_si256(main8, mins8, 0x20),
                                            _mm256_permute2x128_si256(main8, mins8, 0x31));
      acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(dw, act.da[c]), _mm256_cvtepi32_ps(sums), acc[c]);
    }
  }

  template <int R, int C>
  INFERNET_AVX512 static void Finish(const __m256 (&acc)[C], float* out, size_t os) {
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      alignas(32) float lanes[8];
      _mm256_store_ps(lanes, acc[c]);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) out[c * os + r] = lanes[r] + lanes[4 + r];
    }
  }

  template <int R, int C>
  INFERNET_AVX512 static void Run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a,
                                  size_t as, float* out, size_t os) {
    const uintptr_t ahead = Avx512PrefetchDistance(ws, R);
    __m256 acc[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) acc[c] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQK_K; ++b) {
      Activations<C> act;
      Arrange<C>(a, as, b, act);
      AddSuperBlock<R, C>(w, ws, b, act, ahead, acc);
    }
    Finish<R, C>(acc, out, os);
  }

  // One activation column against up to kMaxColumnRows rows in 4-row tiles (the last one
  // shorter), super-block by super-block: each super-block of the activations is arranged once
  // for all the tiles instead of once per tile. Every output sees the same operations as in Run.
  static constexpr int kMaxColumnRows = 24;
  INFERNET_AVX512 static void RunColumn(int64_t n, const uint8_t* w, size_t ws, int rows,
                                        const uint8_t* a, float* out) {
    const int full = rows / 4, rest = rows % 4;
    const int64_t blocks = n / kQK_K;
    // The tiles are visited super-block by super-block, not in address order, which the hardware
    // prefetchers do not follow (2-thread DRAM streaming fell 12 % with the kernels' own
    // prefetches): instead the same number of bytes after these rows, normally the next call's,
    // are prefetched in address order, one slice a step.
    const size_t bytes = static_cast<size_t>(rows) * ws;
    const size_t steps = static_cast<size_t>(blocks) * static_cast<size_t>(full + (rest > 0));
    const size_t slice = (bytes + steps - 1) / steps;
    const uint8_t* next = w + bytes;
    __m256 acc[kMaxColumnRows / 4 + 1][1];
    for (int t = 0; t <= full; ++t) acc[t][0] = _mm256_setzero_ps();
    const uint8_t* w_rest = w + static_cast<size_t>(4 * full) * ws;
    const auto prefetch_slice = [&] {
      PrefetchAhead<kAvx512Prefetch>(next, slice, 0);
      next += slice;
    };
    for (int64_t b = 0; b < blocks; ++b) {
      Activations<1> act;
      Arrange<1>(a, 0, b, act);
      for (int t = 0; t < full; ++t) {
        prefetch_slice();
        AddSuperBlock<4, 1, false>(w + static_cast<size_t>(4 * t) * ws, ws, b, act, 0, acc[t]);
      }
      if (rest > 0) prefetch_slice();
      switch (rest) {
        case 1:
          AddSuperBlock<1, 1, false>(w_rest, ws, b, act, 0, acc[full]);
          break;
        case 2:
          AddSuperBlock<2, 1, false>(w_rest, ws, b, act, 0, acc[full]);
          break;
        case 3:
          AddSuperBlock<3, 1, false>(w_rest, ws, b, act, 0, acc[full]);
          break;
        default:
          break;
      }
    }
    for (int t = 0; t < full; ++t) Finish<4, 1>(acc[t], out + 4 * t, 0);
    switch (rest) {
      case 1:
        return Finish<1, 1>(acc[full], out + 4 * full, 0);
      case 2:
        return Finish<2, 1>(acc[full], out + 4 * full, 0);
      case 3:
        return Finish<3, 1>(acc[full], out + 4 * full, 0);
      default:
        return;
    }
  }
};

// ---- Q6_K x Q8_K. Each half (128 quants) is rebuilt into two registers of 64 consecutive
// quants (0..63): ql bytes give the low nibbles, qh (broadcast to both 256-bit halves) the two
// high bits, moved into place with per-half variable shifts. A 128-bit lane is one 16-quant
// sub-block. The -32 offset starts the accumulator at -32 * sum(a), so each vpdpbusd lane is in
// [-16256, 16256]; the two registers of a half are packed to int16 (exact) and one vpdpwssd adds
// each pair of lanes times its sub-block's scale, as in the Q4_K kernel.

// vpermw indices of the Q6_K kernel's int16 scales for the packed pair of registers of half h:
// in 128-bit lane l, words 0-3 take scale 8h + l and words 4-7 scale 8h + 4 + l.
struct Q6KPackedScaleIndex {
  alignas(64) int16_t words[2][32];
  constexpr Q6KPackedScaleIndex() : words{} {
    for (int h = 0; h < 2; ++h) {
      for (int w = 0; w < 32; ++w) {
        words[h][w] = static_cast<int16_t>(8 * h + w / 8 + (w % 8 < 4 ? 0 : 4));
      }
    }
  }
};
constexpr Q6KPackedScaleIndex kQ6KPackedScaleIndex{};

struct Q6KKernel {
  // 4 rows per single-column tile, as for Q8_0: 1.34x single-thread GFLOP/s on L2-resident
  // 768-wide rows against 1 row at a time, the same from memory (Zen 4).
  static constexpr int kRows = 4, kCols = 4, kMatVecRows = 4;

  template <int R, int C>
  INFERNET_AVX512 static void Run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a,
                                  size_t as, float* out, size_t os) {
    const uintptr_t ahead = Avx512PrefetchDistance(ws, R);
    __m512 acc[R][C];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    }
    const __m512i low4 = _mm512_set1_epi8(15);
    const __m512i bits45 = _mm512_set1_epi8(0x30);
    const __m512i thirty_two = _mm512_set1_epi8(32);
    const __m512i zero = _mm512_setzero_si512();
    // Per 64-bit lane: the first 256 bits take qh bits 0-1 (resp. 4-5), the second bits 2-3
    // (resp. 6-7), into bits 4-5.
    const __m512i shift_first = _mm512_setr_epi64(4, 4, 4, 4, 2, 2, 2, 2);
    const __m512i shift_second = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2);
    const __m512i pick[2] = {_mm512_load_si512(kQ6KPackedScaleIndex.words[0]),
                             _mm512_load_si512(kQ6KPackedScaleIndex.words[1])};
    for (int64_t b = 0; b < n / kQK_K; ++b) {
      float da[C];
      __m512i aq[C][4], start[C][4];
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        const BlockQ8_K& ab = RowAt<BlockQ8_K>(a, as, c)[b];
        da[c] = ab.d;
#pragma GCC unroll 4
        for (int m = 0; m < 4; ++m) {
          aq[c][m] = _mm512_loadu_si512(ab.qs + 64 * m);
          start[c][m] = MinusOffsetDot(thirty_two, aq[c][m]);
        }
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const BlockQ6_K& wb = RowAt<BlockQ6_K>(w, ws, r)[b];
        PrefetchAhead<kAvx512Prefetch>(&wb, sizeof(BlockQ6_K), ahead);
        // The 16 scales as int16 (sign-extended).
        const __m512i sc16 = _mm512_castsi256_si512(
            _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wb.scales))));
        const float d = HalfToFloat(wb.d);
        __m512i sumi[C];
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) sumi[c] = zero;
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
          const __m512i ql = _mm512_loadu_si512(wb.ql + 64 * h);
          const __m512i qh = _mm512_broadcast_i64x4(
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.qh + 32 * h)));
          const __m512i q[2] = {
              _mm512_or_si512(_mm512_and_si512(ql, low4),
                              _mm512_and_si512(_mm512_sllv_epi64(qh, shift_first), bits45)),
              _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                              _mm512_and_si512(_mm512_srlv_epi64(qh, shift_second), bits45)),
          };
          // Words 0-3 of 128-bit lane l come from quants 128h + 16l.. (sub-block 8h + l), words
          // 4-7 from 128h + 64 + 16l.. (sub-block 8h + 4 + l).
          const __m512i scale = _mm512_permutexvar_epi16(pick[h], sc16);
#pragma GCC unroll 4
          for (int c = 0; c < C; ++c) {
            const __m512i packed = _mm512_packs_epi32(
                _mm512_dpbusd_epi32(start[c][2 * h], q[0], aq[c][2 * h]),
                _mm512_dpbusd_epi32(start[c][2 * h + 1], q[1], aq[c][2 * h + 1]));
            sumi[c] = _mm512_dpwssd_epi32(sumi[c], packed, scale);
          }
        }
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) {
          acc[r][c] =
              _mm512_fmadd_ps(_mm512_set1_ps(d * da[c]), _mm512_cvtepi32_ps(sumi[c]), acc[r][c]);
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

// ---- Tile selection.

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
  if constexpr (K::kRows >= 6) {
    if (rows == 5) return PickCols<K, 5>(cols);
    if (rows >= 6) return PickCols<K, 6>(cols);
  }
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
    // A single column streams one row at a time once a tile of long rows would exceed
    // kAvx512ShortTileBytes: several interleaved long rows each get only a part of the prefetch
    // distance (see prefetch.h; on Zen 5 with L1 prefetches and an 8 KiB limit, 5632-wide Q4_K
    // rows were 35 % faster one at a time).
    const bool long_rows = ws * static_cast<size_t>(K::kMatVecRows) > kAvx512ShortTileBytes;
    const int matvec_rows = long_rows ? 1 : K::kMatVecRows;
    const int max_rows = std::min(cc == 1 ? matvec_rows : K::kRows, 6);
    if constexpr (requires { K::kMaxColumnRows; }) {
      if (cc == 1 && !long_rows) {
        for (int r0 = 0; r0 < rows; r0 += K::kMaxColumnRows) {
          K::RunColumn(n, w + r0 * ws, ws, std::min(K::kMaxColumnRows, rows - r0), a + c0 * as,
                       out + c0 * os + r0);
        }
        continue;
      }
    }
    for (int r0 = 0; r0 < rows; r0 += max_rows) {
      const int rr = std::min(max_rows, rows - r0);
      PickTile<K>(rr, cc)(n, w + r0 * ws, ws, a + c0 * as, as, out + c0 * os + r0, os);
    }
  }
}

}  // namespace

void VecDotTileAvx512(TensorType weight_type, int64_t n, const void* w, size_t w_stride, int rows,
                      const void* a, size_t a_stride, int cols, float* out, size_t out_stride) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  switch (weight_type) {
    case TensorType::kF32:
      return RunTiles<FloatKernel<F32Weights>>(n, wb, w_stride, rows, ab, a_stride, cols, out,
                                               out_stride);
    case TensorType::kF16:
      return RunTiles<FloatKernel<F16Weights>>(n, wb, w_stride, rows, ab, a_stride, cols, out,
                                               out_stride);
    case TensorType::kBF16:
      return RunTiles<FloatKernel<BF16Weights>>(n, wb, w_stride, rows, ab, a_stride, cols, out,
                                                out_stride);
    case TensorType::kQ4_0:
      return RunTiles<Q4_0Kernel>(n, wb, w_stride, rows, ab, a_stride, cols, out, out_stride);
    case TensorType::kQ8_0:
      return RunTiles<Q8_0Kernel>(n, wb, w_stride, rows, ab, a_stride, cols, out, out_stride);
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

float VecDotAvx512(TensorType weight_type, int64_t n, const void* w, const void* a) {
  float out;
  VecDotTileAvx512(weight_type, n, w, 0, 1, a, 0, 1, &out, 0);
  return out;
}

}  // namespace infernet::quant::internal
