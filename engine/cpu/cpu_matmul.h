// Matrix product of a stored weight and a batch of activation rows on the CPU.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/cpu/cpu_types.h"
#include "engine/cpu/idle_prefetch.h"
#include "engine/cpu/thread_pool.h"

namespace infernet::cpu {

// out[t * w.rows() + r] = VecDot(w row r, activation row t) (+ bias[r]) for t < n.
// Each activation row is prepared once (QuantizeActivationRow) into `scratch`; weight rows are
// split across threads and multiplied in VecDotTile tiles, so every element is the same VecDot
// whatever n, the tiling or the thread count. `bias`: null or w.rows() floats.
void MatMul(ThreadPool& pool, std::vector<uint8_t>& scratch, const CpuWeight& w, const float* bias,
            const float* x, int64_t n, float* out);

// Weight rows per block: whole 4- and 6-row register tiles, and few enough that a block's rows stay
// in L2 (24 F16 rows of 14336 are 688 KiB of the 1 MiB on Zen 5) while the token chunk's
// activations stream past them: 24 measured 3-4% faster than 12 for F16/BF16 at n = 512, 36 slower.
// Products split their rows across threads in chunks of whole blocks.
constexpr int64_t kMatMulBlockRows = 24;

// Blocks per claimed chunk (ThreadPool::ParallelForChunks) for `blocks` blocks of rows of about
// `row_bytes` each, against n activation rows, on `threads` threads.
int64_t BlocksPerChunk(int64_t blocks, size_t row_bytes, int64_t n, int threads);

// Rows [0, rows) of one weight in chunks of whole blocks, BlocksPerChunk blocks each.
struct RowChunks {
  static RowChunks For(int64_t rows, size_t row_bytes, int64_t n, int threads);
  int64_t Begin(int64_t c) const { return c * blocks_per_chunk * kMatMulBlockRows; }
  int64_t End(int64_t c) const;

  int64_t rows;
  int64_t blocks_per_chunk;
  int64_t count;  // chunks
};

// The weight bytes of the rows in the chunks ChunkShares::InitialShare gives `thread`, at most
// kIdlePrefetchBytes of them from the front: what a thread waiting for the product can
// prefetch.
constexpr size_t kIdlePrefetchBytes = 256 * 1024;
IdlePrefetch ShareOfRows(const CpuWeight& w, const RowChunks& chunks, int threads, int thread);

// Rows [r_begin, r_end) of the product of `w` with n activation rows prepared in w's activation
// format (quant::QuantizeActivationRow; F32 formats: the floats themselves), `act_stride` bytes
// apart: out[t * out_stride + r], each the VecDot MatMul computes for it.
void MultiplyRows(const CpuWeight& w, const uint8_t* act, size_t act_stride, int64_t n,
                  int64_t r_begin, int64_t r_end, float* out, size_t out_stride);

// MultiplyRows into `y` (n rows of w.rows() floats), then x[t][r] += y[t][r] for those rows: an
// output projection whose rows a thread computes, added to the residual stream `x` there.
void MultiplyRowsAndAdd(const CpuWeight& w, const uint8_t* act, size_t act_stride, int64_t n,
                        int64_t r_begin, int64_t r_end, float* y, float* x);

// Activations of n rows in a weight's format: where they are and the bytes between rows.
struct PreparedActivations {
  const uint8_t* data;
  size_t stride;
};
// Bytes PrepareActivations writes for n rows of k floats in w's format (0 for F32 formats).
size_t PreparedActivationBytes(const CpuWeight& w, int64_t n, int64_t k);
// The n rows of `x` (k floats each) in w's activation format, written to `dst`
// (PreparedActivationBytes); F32 formats use x itself.
PreparedActivations PrepareActivations(const CpuWeight& w, const float* x, int64_t n, int64_t k,
                                       uint8_t* dst);

// One product of MatMuls: out = w x (+ bias), laid out as for MatMul.
struct MatMulTarget {
  const CpuWeight* w;
  const float* bias;  // null or w->rows() floats
  float* out;
};

// Products in one MatMuls call or ProductBlocks (a layer's Q, K and V is the most the model asks
// for).
constexpr size_t kMaxMatMulTargets = 4;

// The row blocks of several products with the same activation rows as one range, product i's
// blocks after product i-1's: the range MatMuls splits over the threads.
class ProductBlocks {
 public:
  ProductBlocks() = default;  // no products
  // REQUIRES: 1 <= targets.size() <= kMaxMatMulTargets.
  explicit ProductBlocks(std::span<const MatMulTarget> targets);

  int64_t blocks() const { return first_block_[count_]; }
  // Blocks per claimed chunk (BlocksPerChunk of the products' average row size).
  int64_t ChunkBlocks(int64_t n, int threads) const;
  // Claimed chunks of `per_chunk` blocks that cover the range.
  int64_t Chunks(int64_t per_chunk) const { return (blocks() + per_chunk - 1) / per_chunk; }
  // Blocks [begin, end) of the range: each product's rows there, multiplied with its n
  // activation rows acts[i], plus its bias.
  void Run(std::span<const PreparedActivations> acts, int64_t begin, int64_t end, int64_t n) const;
  // Blocks [begin, end) as far as they lie in the product that holds block `begin`, at most
  // kIdlePrefetchBytes of them: the front of a share, for a thread to prefetch.
  IdlePrefetch Front(int64_t begin, int64_t end) const;

 private:
  std::array<MatMulTarget, kMaxMatMulTargets> targets_{};
  std::array<int64_t, kMaxMatMulTargets + 1> first_block_{};
  size_t count_ = 0;
  size_t bytes_ = 0;
  int64_t rows_ = 0;
};

// The products of several weights with the same n activation rows `x` (all of row length
// x's width), bit-identical to MatMul for each in turn, in one hand-off to the threads: the row
// blocks of all the weights form one range split across them, and each activation format is
// prepared once.
void MatMuls(ThreadPool& pool, std::vector<uint8_t>& scratch, std::span<const MatMulTarget> targets,
             const float* x, int64_t n);

}  // namespace infernet::cpu
