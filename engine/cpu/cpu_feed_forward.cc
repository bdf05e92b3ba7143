#include "engine/cpu/cpu_feed_forward.h"

#include <algorithm>

#include "engine/cpu/cpu_matmul.h"
#include "engine/cpu/float_exp.h"
#include "engine/cpu/float_vector.h"
#include "engine/quant/quant.h"

namespace infernet::cpu {
FusedFeedForward::FusedFeedForward(int n_threads) : per_thread_(static_cast<size_t>(n_threads)) {
  for (int slot = 0; slot < kSlots; ++slot) {
    gate_up_shares_.emplace_back(n_threads);
    down_shares_.emplace_back(n_threads);
  }
}

void FusedFeedForward::Run(ThreadPool& pool, const Args& args) {
  Reserve(ScratchBytes(args));
  Prepare(0, pool.size(), args);
  pool.RunOnAll([&](int thread) { RunThread(0, pool, thread); });
}

// Per thread: xn (n * n_embd floats), then the gate activations, then the up activations
// unless they share the gate's format. Shared: the down activations.
FusedFeedForward::Layout FusedFeedForward::LayoutFor(const Args& args) {
  const int64_t n = args.n, n_embd = args.x->cols();
  Layout layout;
  layout.shared_format =
      quant::ActivationType(args.gate->type()) == quant::ActivationType(args.up->type());
  layout.xn_bytes = static_cast<size_t>(n * n_embd) * sizeof(float);
  layout.gate_bytes = PreparedActivationBytes(*args.gate, n, n_embd);
  layout.size.per_thread =
      layout.xn_bytes + layout.gate_bytes +
      (layout.shared_format ? 0 : PreparedActivationBytes(*args.up, n, n_embd));
  layout.quantize_down = quant::ActivationType(args.down->type()) != TensorType::kF32;
  layout.down_stride =
      layout.quantize_down ? quant::ActivationRowBytes(args.down->type(), args.gate->rows()) : 0;
  layout.size.shared = static_cast<size_t>(n) * layout.down_stride;
  return layout;
}

FusedFeedForward::ScratchSize FusedFeedForward::ScratchBytes(const Args& args) {
  return LayoutFor(args).size;
}

void FusedFeedForward::Reserve(ScratchSize bytes) {
  for (auto& buffer : per_thread_) {
    if (buffer.size() < bytes.per_thread) buffer.resize(bytes.per_thread);
  }
  if (down_act_.size() < bytes.shared) down_act_.resize(bytes.shared);
}

void FusedFeedForward::Prepare(int slot, int threads, const Args& args) {
  Plan& p = plans_[static_cast<size_t>(slot)];
  p.args = args;
  p.threads = threads;
  p.layout = LayoutFor(args);
  const CpuWeight &gate = *args.gate, &up = *args.up, &down = *args.down;
  const int64_t n = args.n;
  p.n_embd = args.x->cols();
  p.n_ff = gate.rows();
  // Quantization blocks of one down activation row, split evenly over the threads.
  p.down_block = Traits(quant::ActivationType(down.type())).block_elems;
  p.down_blocks = p.n_ff / p.down_block;
  p.gate_up_chunks = RowChunks::For(p.n_ff, gate.row_bytes() + up.row_bytes(), n, threads);
  p.down_chunks = RowChunks::For(p.n_embd, down.row_bytes(), n, threads);
  gate_up_shares_[static_cast<size_t>(slot)].Reset(p.gate_up_chunks.count, threads);
  down_shares_[static_cast<size_t>(slot)].Reset(p.down_chunks.count, threads);
}

IdlePrefetch FusedFeedForward::FirstShare(int slot, int thread) const {
  const Plan& p = plans_[static_cast<size_t>(slot)];
  return ShareOfRows(*p.args.gate, p.gate_up_chunks, p.threads, thread);
}

void FusedFeedForward::RunThread(int slot, ThreadPool& pool, int thread) {
  const Plan& p = plans_[static_cast<size_t>(slot)];
  const Args& args = p.args;
  ChunkShares& gate_up_shares = gate_up_shares_[static_cast<size_t>(slot)];
  ChunkShares& down_shares = down_shares_[static_cast<size_t>(slot)];
  const int threads = p.threads;
  const Layout& layout = p.layout;
  const int64_t n = args.n, n_embd = p.n_embd, n_ff = p.n_ff;
  const CpuWeight &gate = *args.gate, &up = *args.up, &down = *args.down;
  float *h = args.h, *u = args.u;

  uint8_t* mine = per_thread_[static_cast<size_t>(thread)].data();
  auto* xn = reinterpret_cast<float*>(mine);
  for (int64_t t = 0; t < n; ++t) {
    RmsNormF32(args.x->row(t), args.norm->floats(), n_embd, args.eps, xn + t * n_embd);
  }
  const PreparedActivations gate_act =
      PrepareActivations(gate, xn, n, n_embd, mine + layout.xn_bytes);
  const PreparedActivations up_act =
      layout.shared_format
          ? gate_act
          : PrepareActivations(up, xn, n, n_embd, mine + layout.xn_bytes + layout.gate_bytes);

  for (int64_t c = gate_up_shares.Claim(thread); c >= 0; c = gate_up_shares.Claim(thread)) {
    const int64_t r0 = p.gate_up_chunks.Begin(c), r1 = p.gate_up_chunks.End(c);
    MultiplyRows(gate, gate_act.data, gate_act.stride, n, r0, r1, h, static_cast<size_t>(n_ff));
    MultiplyRows(up, up_act.data, up_act.stride, n, r0, r1, u, static_cast<size_t>(n_ff));
    for (int64_t t = 0; t < n; ++t) {
      float* ht = h + t * n_ff;
      SwiGluF32(ht + r0, u + t * n_ff + r0, ht + r0, r1 - r0);
    }
  }
  IdlePrefetch down_prefetch = ShareOfRows(down, p.down_chunks, threads, thread);
  pool.Barrier(thread, down_prefetch);

  const uint8_t* down_act = reinterpret_cast<const uint8_t*>(h);
  size_t down_act_stride = static_cast<size_t>(n_ff) * sizeof(float);
  if (layout.quantize_down) {
    const int64_t b0 = p.down_blocks * thread / threads;
    const int64_t b1 = p.down_blocks * (thread + 1) / threads;
    for (int64_t t = 0; t < n && b0 < b1; ++t) {
      quant::QuantizeActivationRow(down.type(), h + t * n_ff + b0 * p.down_block,
                                   down_act_.data() + static_cast<size_t>(t) * layout.down_stride +
                                       quant::ActivationRowBytes(down.type(), b0 * p.down_block),
                                   (b1 - b0) * p.down_block);
    }
    pool.Barrier(thread, down_prefetch);
    down_act = down_act_.data();
    down_act_stride = layout.down_stride;
  }

  for (int64_t c = down_shares.Claim(thread); c >= 0; c = down_shares.Claim(thread)) {
    const int64_t r0 = p.down_chunks.Begin(c), r1 = p.down_chunks.End(c);
    MultiplyRowsAndAdd(down, down_act, down_act_stride, n, r0, r1, args.y, args.x->data());
  }
}

}  // namespace infernet::cpu
