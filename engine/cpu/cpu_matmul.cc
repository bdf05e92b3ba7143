#include "engine/cpu/cpu_matmul.h"

#include <algorithm>
#include <array>

#include "engine/cpu/chunk_shares.h"
#include "engine/quant/quant.h"

namespace infernet::cpu {
namespace {

constexpr int64_t kTileRows = kMatMulBlockRows;
// Activation rows per kernel call: a multiple of every kernel's tile width (2, 3 or 4 columns).
constexpr int64_t kTileCols = 12;
// Tokens per pass over a thread's weight rows: their prepared activations stay in cache while
// the weight rows stream through once per pass.
constexpr int64_t kTokenChunk = 64;
// Row blocks go out in chunks (see BlocksPerChunk): each thread streams its own share and then
// takes chunks left in others' (ThreadPool::ParallelForChunks), since on a shared machine one
// thread is often descheduled mid-product, and decode runs ~100 products per token.
constexpr size_t kMinChunkWork = 32 * 1024;  // weight bytes x tokens: claiming costs ~100 ns

}  // namespace

// At least kMinChunkWork, at least 1/16 of a thread's even share (so prefill keeps long runs of
// rows per pass over a token chunk) and at most half of it (so a small matrix still spreads over
// the threads).
int64_t BlocksPerChunk(int64_t blocks, size_t row_bytes, int64_t n, int threads) {
  const size_t block_work = std::max<size_t>(1, row_bytes * kTileRows * static_cast<size_t>(n));
  int64_t per_chunk = static_cast<int64_t>((kMinChunkWork + block_work - 1) / block_work);
  per_chunk = std::max(per_chunk, blocks / (16 * int64_t{threads}));
  per_chunk = std::min(per_chunk, (blocks + 2 * threads - 1) / (2 * int64_t{threads}));
  return std::max<int64_t>(per_chunk, 1);
}

RowChunks RowChunks::For(int64_t rows, size_t row_bytes, int64_t n, int threads) {
  const int64_t blocks = (rows + kTileRows - 1) / kTileRows;
  const int64_t per_chunk = BlocksPerChunk(blocks, row_bytes, n, threads);
  return {rows, per_chunk, (blocks + per_chunk - 1) / per_chunk};
}

int64_t RowChunks::End(int64_t c) const {
  return std::min(rows, (c + 1) * blocks_per_chunk * kTileRows);
}

namespace {

// Rows [r0, r1) of `w`, at most kIdlePrefetchBytes of them from the front, to prefetch.
IdlePrefetch FrontRows(const CpuWeight& w, int64_t r0, int64_t r1) {
  if (r0 >= r1) return IdlePrefetch(w.row(0), 0);
  return IdlePrefetch(w.row(r0),
                      std::min(kIdlePrefetchBytes, static_cast<size_t>(r1 - r0) * w.row_bytes()));
}

}  // namespace

IdlePrefetch ShareOfRows(const CpuWeight& w, const RowChunks& chunks, int threads, int thread) {
  const auto [first, last] = ChunkShares::InitialShare(chunks.count, threads, thread);
  if (first >= last) return FrontRows(w, 0, 0);
  return FrontRows(w, chunks.Begin(first), chunks.End(last - 1));
}

void MultiplyRows(const CpuWeight& w, const uint8_t* act, size_t act_stride, int64_t n,
                  int64_t r_begin, int64_t r_end, float* out, size_t out_stride) {
  const TensorType type = w.type();
  const int64_t k = w.row_length();
  for (int64_t t0 = 0; t0 < n; t0 += kTokenChunk) {
    const int64_t t_end = std::min(n, t0 + kTokenChunk);
    for (int64_t r = r_begin; r < r_end; r += kTileRows) {
      const int rows = static_cast<int>(std::min(kTileRows, r_end - r));
      for (int64_t t = t0; t < t_end; t += kTileCols) {
        const int cols = static_cast<int>(std::min(kTileCols, t_end - t));
        quant::VecDotTile(type, k, w.row(r), w.row_bytes(), rows, act + t * act_stride, act_stride,
                          cols, out + t * out_stride + r, out_stride);
      }
    }
  }
}

void MultiplyRowsAndAdd(const CpuWeight& w, const uint8_t* act, size_t act_stride, int64_t n,
                        int64_t r_begin, int64_t r_end, float* y, float* x) {
  const int64_t m = w.rows();
  MultiplyRows(w, act, act_stride, n, r_begin, r_end, y, static_cast<size_t>(m));
  for (int64_t t = 0; t < n; ++t) {
    float* xt = x + t * m;
    const float* yt = y + t * m;
    for (int64_t r = r_begin; r < r_end; ++r) xt[r] = xt[r] + yt[r];
  }
}

size_t PreparedActivationBytes(const CpuWeight& w, int64_t n, int64_t k) {
  if (quant::ActivationType(w.type()) == TensorType::kF32) return 0;
  return static_cast<size_t>(n) * quant::ActivationRowBytes(w.type(), k);
}

PreparedActivations PrepareActivations(const CpuWeight& w, const float* x, int64_t n, int64_t k,
                                       uint8_t* dst) {
  if (quant::ActivationType(w.type()) == TensorType::kF32) {
    return {reinterpret_cast<const uint8_t*>(x), static_cast<size_t>(k) * sizeof(float)};
  }
  const size_t stride = quant::ActivationRowBytes(w.type(), k);
  for (int64_t t = 0; t < n; ++t) {
    quant::QuantizeActivationRow(w.type(), x + t * k, dst + static_cast<size_t>(t) * stride, k);
  }
  return {dst, stride};
}

ProductBlocks::ProductBlocks(std::span<const MatMulTarget> targets) : count_(targets.size()) {
  for (size_t i = 0; i < count_; ++i) {
    const CpuWeight& w = *targets[i].w;
    targets_[i] = targets[i];
    first_block_[i + 1] = first_block_[i] + (w.rows() + kTileRows - 1) / kTileRows;
    rows_ += w.rows();
    bytes_ += w.row_bytes() * static_cast<size_t>(w.rows());
  }
}

int64_t ProductBlocks::ChunkBlocks(int64_t n, int threads) const {
  const size_t row_bytes = bytes_ / static_cast<size_t>(std::max<int64_t>(1, rows_));
  return BlocksPerChunk(blocks(), row_bytes, n, threads);
}

void ProductBlocks::Run(std::span<const PreparedActivations> acts, int64_t begin, int64_t end,
                        int64_t n) const {
  for (size_t i = 0; i < count_; ++i) {
    const int64_t b0 = std::max(begin, first_block_[i]), b1 = std::min(end, first_block_[i + 1]);
    if (b0 >= b1) continue;
    const MatMulTarget& p = targets_[i];
    const int64_t m = p.w->rows();
    const int64_t r_begin = (b0 - first_block_[i]) * kTileRows;
    const int64_t r_end = std::min(m, (b1 - first_block_[i]) * kTileRows);
    MultiplyRows(*p.w, acts[i].data, acts[i].stride, n, r_begin, r_end, p.out,
                 static_cast<size_t>(m));
    if (p.bias != nullptr) {
      for (int64_t t = 0; t < n; ++t) {
        float* o = p.out + t * m;
        for (int64_t r = r_begin; r < r_end; ++r) o[r] = o[r] + p.bias[r];
      }
    }
  }
}

IdlePrefetch ProductBlocks::Front(int64_t begin, int64_t end) const {
  for (size_t i = 0; i < count_; ++i) {
    if (begin >= first_block_[i + 1]) continue;
    const CpuWeight& w = *targets_[i].w;
    return FrontRows(
        w, (begin - first_block_[i]) * kTileRows,
        std::min(w.rows(), (std::min(end, first_block_[i + 1]) - first_block_[i]) * kTileRows));
  }
  return IdlePrefetch(nullptr, 0);
}

void MatMul(ThreadPool& pool, std::vector<uint8_t>& scratch, const CpuWeight& w, const float* bias,
            const float* x, int64_t n, float* out) {
  const MatMulTarget target{&w, bias, out};
  MatMuls(pool, scratch, std::span(&target, 1), x, n);
}

void MatMuls(ThreadPool& pool, std::vector<uint8_t>& scratch, std::span<const MatMulTarget> targets,
             const float* x, int64_t n) {
  if (targets.empty()) return;
  if (targets.size() > kMaxMatMulTargets) {
    MatMuls(pool, scratch, targets.first(kMaxMatMulTargets), x, n);
    MatMuls(pool, scratch, targets.subspan(kMaxMatMulTargets), x, n);
    return;
  }
  const int64_t k = targets[0].w->row_length();
  // Each distinct activation format gets one region of `scratch`, prepared through the weight type
  // of the first target that uses it; F32 weights read x as it is.
  struct Format {
    TensorType weight_type;
    size_t offset;  // in scratch
    size_t stride;  // bytes per activation row
  };
  std::array<Format, kMaxMatMulTargets> formats{};
  std::array<int, kMaxMatMulTargets> format_of{};  // index into formats, -1 for x as it is
  std::array<PreparedActivations, kMaxMatMulTargets> acts{};
  int n_formats = 0;
  size_t need = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const CpuWeight& w = *targets[i].w;
    acts[i] = {reinterpret_cast<const uint8_t*>(x), static_cast<size_t>(k) * sizeof(float)};
    format_of[i] = -1;
    const TensorType format = quant::ActivationType(w.type());
    if (format == TensorType::kF32) continue;
    int f = 0;
    while (f < n_formats && quant::ActivationType(formats[f].weight_type) != format) ++f;
    if (f == n_formats) {
      formats[f] = Format{w.type(), need, quant::ActivationRowBytes(w.type(), k)};
      need += formats[f].stride * static_cast<size_t>(n);
      ++n_formats;
    }
    format_of[i] = f;
  }
  if (n_formats > 0) {
    if (scratch.size() < need) scratch.resize(need);
    uint8_t* base = scratch.data();
    for (size_t i = 0; i < targets.size(); ++i) {
      if (format_of[i] >= 0) {
        const Format& format = formats[format_of[i]];
        acts[i] = {base + format.offset, format.stride};
      }
    }
    pool.ParallelFor(n, 4, [&](int64_t begin, int64_t end, int) {
      for (int f = 0; f < n_formats; ++f) {
        const Format& format = formats[f];
        for (int64_t t = begin; t < end; ++t) {
          quant::QuantizeActivationRow(format.weight_type, x + t * k,
                                       base + format.offset + t * format.stride, k);
        }
      }
    });
  }

  const ProductBlocks range(targets);
  pool.ParallelForChunks(range.blocks(), range.ChunkBlocks(n, pool.size()),
                         [&](int64_t begin, int64_t end, int) {
                           range.Run(std::span(acts).first(targets.size()), begin, end, n);
                         });
}

}  // namespace infernet::cpu
