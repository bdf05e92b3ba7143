// Software prefetch of matrix weights, shared by the x86-64 kernel files (AVX2 and AVX-512).
// Include only from files compiled for x86-64; prefetch is baseline SSE, so these helpers inline
// into kernels of any target level.
#pragma once

#include <xmmintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace infernet::quant::internal {

// Mapped model files sit in 4 KiB page-cache pages, and hardware prefetchers stop at page
// boundaries, so streaming a matrix-vector product stalls at every page without software prefetch
// (measured: +20 % decode tokens/s on a 1B Q4_K model). A thread keeps about kPrefetchAheadBytes
// of its tile's stream in flight, enough to cover DRAM latency at one core's bandwidth (about
// 100-200 ns x 40 GB/s). Long rows are prefetched kPrefetchAheadBytes / rows (at least
// kPrefetchDistance) ahead in the same row. A tile of short rows (at most kShortTileBytes in all)
// is prefetched whole tiles ahead, at the same place in a later tile's rows, since the rows of a
// matrix are contiguous: a fixed 1 KiB would land in rows the tile is already reading, and the
// hardware prefetchers restart on every short row (measured on Zen 3: a 32000 x 768 F16
// matrix-vector product streamed 12 GB/s, against 23 GB/s for 16384 x 8192). On Zen 5, one tile
// ahead (1.7 KiB for 768-wide Q4_K rows) was too little: 4 KiB gave +25 % decode on the 100m Q4_K
// model, and 8 KiB another +40 % on 100 MB of 768-wide Q4_K rows (bench/matmul_bench.cc).
// Prefetches never fault, so addresses past the matrix are harmless, and no arithmetic changes:
// results are the same bits.
constexpr uintptr_t kPrefetchDistance = 1024;
constexpr size_t kPrefetchAheadBytes = 8192;
constexpr size_t kShortTileBytes = 8192;
// The AVX-512 kernels, which prefetch into L2 (below), treat tiles of up to 32 KiB as short: on
// Zen 4, 4-row tiles of 5632- and 14336-wide Q4_K and Q4_0 rows prefetched a whole tile ahead
// streamed 1.25-1.55x the GB/s of one row at a time prefetched 8 KiB ahead; 4-row tiles
// prefetched 2 KiB ahead in each row were slower still (bench/matmul_bench.cc, Zen 4 sections of
// docs/benchmarks.md).
constexpr size_t kAvx512ShortTileBytes = 32768;

// Bytes ahead to prefetch for a tile of `rows` rows `row_stride` bytes apart: whole tiles ahead
// when the tile is at most `short_tile_bytes`, else kPrefetchAheadBytes / rows in the same row.
inline uintptr_t PrefetchDistance(size_t row_stride, int rows,
                                  size_t short_tile_bytes = kShortTileBytes) {
  const size_t tile = row_stride * static_cast<size_t>(rows);
  if (tile == 0) return kPrefetchDistance;
  if (tile <= short_tile_bytes) return (kPrefetchAheadBytes + tile - 1) / tile * tile;
  return std::max<size_t>(kPrefetchDistance, kPrefetchAheadBytes / static_cast<size_t>(rows));
}

// PrefetchDistance with the AVX-512 kernels' short-tile limit.
inline uintptr_t Avx512PrefetchDistance(size_t row_stride, int rows) {
  return PrefetchDistance(row_stride, rows, kAvx512ShortTileBytes);
}

// Which cache a prefetch fills. On Zen 4 (2 vCPUs), prefetching matrix-vector streams into L2
// only (prefetcht1) measured 1.2-1.6x the GB/s of L1 prefetches for every AVX-512 kernel
// (bench/matmul_bench.cc, see the Zen 4 sections of docs/benchmarks.md); the AVX2 kernels keep
// L1, as tuned on Zen 3.
enum class PrefetchLevel { kL1, kL2 };
constexpr PrefetchLevel kAvx512Prefetch = PrefetchLevel::kL2;

// Prefetches the `bytes` a kernel step consumes at `step`, `distance` bytes ahead: the
// PrefetchDistance of the tile, computed once per tile, since GCC leaves its division inside the
// kernels' loops (a 64-bit div per block of short rows).
template <PrefetchLevel kLevel = PrefetchLevel::kL1>
inline void PrefetchAhead(const void* step, size_t bytes, uintptr_t distance) {
  const uintptr_t ahead = reinterpret_cast<uintptr_t>(step) + distance;
  for (size_t off = 0; off < bytes; off += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(ahead + off),
                 kLevel == PrefetchLevel::kL1 ? _MM_HINT_T0 : _MM_HINT_T1);
  }
}

}  // namespace infernet::quant::internal
