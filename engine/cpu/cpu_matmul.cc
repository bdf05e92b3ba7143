#include "engine/cpu/cpu_matmul.h"

#include <algorithm>

#include "engine/quant/quant.h"

namespace infernet::cpu {
namespace {

// Weight rows per block: whole 4- and 6-row register tiles, and few enough that a block's rows stay
// in L2 (24 F16 rows of 14336 are 688 KiB of the 1 MiB on Zen 5) while the token chunk's
// activations stream past them: 24 measured 3-4% faster than 12 for F16/BF16 at n = 512, 36 slower.
constexpr int64_t kTileRows = 24;
// Activation rows per kernel call: a multiple of every kernel's tile width (2, 3 or 4 columns).
constexpr int64_t kTileCols = 12;
// Tokens per pass over a thread's weight rows: their prepared activations stay in cache while
// the weight rows stream through once per pass.
constexpr int64_t kTokenChunk = 64;
// Row blocks go out in chunks (see BlocksPerChunk): each thread streams its own share and then
// takes chunks left in others' (ThreadPool::ParallelForChunks), since on a shared machine one
// thread is often descheduled mid-product, and decode runs ~100 products per token.
constexpr size_t kMinChunkWork = 32 * 1024;  // weight bytes x tokens: claiming costs ~100 ns

// Blocks per claimed chunk: at least kMinChunkWork, at least 1/16 of a thread's even share (so
// prefill keeps long runs of rows per pass over a token chunk) and at most half of it (so a
// small matrix still spreads over the threads).
int64_t BlocksPerChunk(int64_t blocks, size_t row_bytes, int64_t n, int threads) {
  const size_t block_work = std::max<size_t>(1, row_bytes * kTileRows * static_cast<size_t>(n));
  int64_t per_chunk = static_cast<int64_t>((kMinChunkWork + block_work - 1) / block_work);
  per_chunk = std::max(per_chunk, blocks / (16 * int64_t{threads}));
  per_chunk = std::min(per_chunk, (blocks + 2 * threads - 1) / (2 * int64_t{threads}));
  return std::max<int64_t>(per_chunk, 1);
}

}  // namespace

void MatMul(ThreadPool& pool, std::vector<uint8_t>& scratch, const CpuWeight& w, const float* bias,
            const float* x, int64_t n, float* out) {
  const TensorType type = w.type();
  const int64_t k = w.row_length();
  const int64_t m = w.rows();
  const uint8_t* act;
  size_t act_stride;
  if (quant::ActivationType(type) == TensorType::kF32) {
    act = reinterpret_cast<const uint8_t*>(x);  // F32 weights read activations as they are
    act_stride = static_cast<size_t>(k) * sizeof(float);
  } else {
    act_stride = quant::ActivationRowBytes(type, k);
    const size_t need = act_stride * static_cast<size_t>(n);
    if (scratch.size() < need) scratch.resize(need);
    uint8_t* dst = scratch.data();
    pool.ParallelFor(n, 4, [&](int64_t begin, int64_t end, int) {
      for (int64_t t = begin; t < end; ++t) {
        quant::QuantizeActivationRow(type, x + t * k, dst + t * act_stride, k);
      }
    });
    act = dst;
  }

  const int64_t blocks = (m + kTileRows - 1) / kTileRows;
  const int64_t per_chunk = BlocksPerChunk(blocks, w.row_bytes(), n, pool.size());
  pool.ParallelForChunks(blocks, per_chunk, [&](int64_t begin, int64_t end, int) {
    const int64_t r_begin = begin * kTileRows;
    const int64_t r_end = std::min(m, end * kTileRows);
    for (int64_t t0 = 0; t0 < n; t0 += kTokenChunk) {
      const int64_t t_end = std::min(n, t0 + kTokenChunk);
      for (int64_t r = r_begin; r < r_end; r += kTileRows) {
        const int rows = static_cast<int>(std::min(kTileRows, r_end - r));
        for (int64_t t = t0; t < t_end; t += kTileCols) {
          const int cols = static_cast<int>(std::min(kTileCols, t_end - t));
          quant::VecDotTile(type, k, w.row(r), w.row_bytes(), rows, act + t * act_stride,
                            act_stride, cols, out + t * m + r, static_cast<size_t>(m));
        }
      }
    }
    if (bias != nullptr) {
      for (int64_t t = 0; t < n; ++t) {
        float* o = out + t * m;
        for (int64_t r = r_begin; r < r_end; ++r) o[r] = o[r] + bias[r];
      }
    }
  });
}

}  // namespace infernet::cpu
