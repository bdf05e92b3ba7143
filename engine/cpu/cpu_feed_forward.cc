#include "engine/cpu/cpu_feed_forward.h"

#include <algorithm>

#include "engine/cpu/cpu_matmul.h"
#include "engine/cpu/float_exp.h"
#include "engine/cpu/float_vector.h"
#include "engine/quant/quant.h"

namespace infernet::cpu {
FusedFeedForward::FusedFeedForward(int n_threads)
    : per_thread_(static_cast<size_t>(n_threads)),
      gate_up_shares_(n_threads),
      down_shares_(n_threads) {}

void FusedFeedForward::Run(ThreadPool& pool, CpuTensor& x, const CpuWeight& norm,
                           const CpuWeight& gate, const CpuWeight& up, const CpuWeight& down,
                           float eps, int64_t n, float* h, float* u, float* y) {
  const int threads = pool.size();
  const int64_t n_embd = x.cols();
  const int64_t n_ff = gate.rows();
  const bool shared_format = quant::ActivationType(gate.type()) == quant::ActivationType(up.type());

  // Per thread: xn (n * n_embd floats), then the gate activations, then the up activations
  // unless they share the gate's format.
  const size_t xn_bytes = static_cast<size_t>(n * n_embd) * sizeof(float);
  const size_t gate_bytes = PreparedActivationBytes(gate, n, n_embd);
  const size_t up_bytes = shared_format ? 0 : PreparedActivationBytes(up, n, n_embd);
  const size_t per_thread_bytes = xn_bytes + gate_bytes + up_bytes;
  for (auto& buffer : per_thread_) {
    if (buffer.size() < per_thread_bytes) buffer.resize(per_thread_bytes);
  }
  const bool quantize_down = quant::ActivationType(down.type()) != TensorType::kF32;
  const size_t down_stride = quantize_down ? quant::ActivationRowBytes(down.type(), n_ff) : 0;
  if (down_act_.size() < static_cast<size_t>(n) * down_stride) {
    down_act_.resize(static_cast<size_t>(n) * down_stride);
  }
  // Quantization blocks of one down activation row, split evenly over the threads.
  const int64_t down_block = Traits(quant::ActivationType(down.type())).block_elems;
  const int64_t down_blocks = n_ff / down_block;

  const RowChunks gate_up_chunks =
      RowChunks::For(n_ff, gate.row_bytes() + up.row_bytes(), n, threads);
  const RowChunks down_chunks = RowChunks::For(n_embd, down.row_bytes(), n, threads);
  gate_up_shares_.Reset(gate_up_chunks.count, threads);
  down_shares_.Reset(down_chunks.count, threads);

  pool.RunOnAll([&](int thread) {
    uint8_t* mine = per_thread_[static_cast<size_t>(thread)].data();
    auto* xn = reinterpret_cast<float*>(mine);
    for (int64_t t = 0; t < n; ++t) {
      RmsNormF32(x.row(t), norm.floats(), n_embd, eps, xn + t * n_embd);
    }
    const PreparedActivations gate_act = PrepareActivations(gate, xn, n, n_embd, mine + xn_bytes);
    const PreparedActivations up_act =
        shared_format ? gate_act
                      : PrepareActivations(up, xn, n, n_embd, mine + xn_bytes + gate_bytes);

    for (int64_t c = gate_up_shares_.Claim(thread); c >= 0; c = gate_up_shares_.Claim(thread)) {
      const int64_t r0 = gate_up_chunks.Begin(c), r1 = gate_up_chunks.End(c);
      MultiplyRows(gate, gate_act.data, gate_act.stride, n, r0, r1, h, static_cast<size_t>(n_ff));
      MultiplyRows(up, up_act.data, up_act.stride, n, r0, r1, u, static_cast<size_t>(n_ff));
      for (int64_t t = 0; t < n; ++t) {
        float* ht = h + t * n_ff;
        SwiGluF32(ht + r0, u + t * n_ff + r0, ht + r0, r1 - r0);
      }
    }
    IdlePrefetch down_prefetch = ShareOfRows(down, down_chunks, threads, thread);
    pool.Barrier(down_prefetch);

    const uint8_t* down_act = reinterpret_cast<const uint8_t*>(h);
    size_t down_act_stride = static_cast<size_t>(n_ff) * sizeof(float);
    if (quantize_down) {
      const int64_t b0 = down_blocks * thread / threads, b1 = down_blocks * (thread + 1) / threads;
      for (int64_t t = 0; t < n && b0 < b1; ++t) {
        quant::QuantizeActivationRow(down.type(), h + t * n_ff + b0 * down_block,
                                     down_act_.data() + static_cast<size_t>(t) * down_stride +
                                         quant::ActivationRowBytes(down.type(), b0 * down_block),
                                     (b1 - b0) * down_block);
      }
      pool.Barrier(down_prefetch);
      down_act = down_act_.data();
      down_act_stride = down_stride;
    }

    for (int64_t c = down_shares_.Claim(thread); c >= 0; c = down_shares_.Claim(thread)) {
      const int64_t r0 = down_chunks.Begin(c), r1 = down_chunks.End(c);
      MultiplyRowsAndAdd(down, down_act, down_act_stride, n, r0, r1, y, x.data());
    }
  });
}

}  // namespace infernet::cpu
