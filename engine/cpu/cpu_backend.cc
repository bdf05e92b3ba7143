#include "engine/cpu/cpu_backend.h"

#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "engine/cpu/cpu_attention.h"
#include "engine/cpu/cpu_feed_forward.h"
#include "engine/cpu/cpu_matmul.h"
#include "engine/cpu/cpu_self_attention.h"
#include "engine/cpu/cpu_types.h"
#include "engine/cpu/float_exp.h"
#include "engine/cpu/float_vector.h"
#include "engine/cpu/rope_table.h"
#include "engine/cpu/thread_pool.h"
#include "engine/gguf/gguf_file.h"
#include "engine/quant/quant.h"

namespace infernet::cpu {
namespace {

// Element-wise ops split flattened elements; below this many per thread a hand-off costs more.
constexpr int64_t kMinElementsPerThread = 16384;
// SwiGLU costs ~1.2 ns an element (an e^x each), so a hand-off (~1 us) pays from a few thousand:
// splitting a 2048-wide decode row measured +0.6-0.8 % 100m-Q4_K decode on Zen 4.
constexpr int64_t kMinSwiGluPerThread = 1024;

class CpuStream final : public ComputeStream {
 public:
  explicit CpuStream(int n_threads)
      : pool_(n_threads), self_attention_(n_threads), feed_forward_(n_threads) {}

  std::unique_ptr<DeviceTensor> NewTensor(int64_t rows, int64_t cols) override {
    return std::make_unique<CpuTensor>(rows, cols);
  }
  std::unique_ptr<KvCache> NewKvCache(int64_t n_layer, int64_t n_seq, int64_t n_ctx,
                                      int64_t n_head_kv, int64_t head_dim,
                                      TensorType type) override {
    return std::make_unique<CpuKvCache>(n_layer, n_seq, n_ctx, n_head_kv, head_dim, type);
  }

  void CopyFromHost(const float* src, int64_t n, DeviceTensor& dst) override {
    std::memcpy(AsCpu(dst).data(), src, static_cast<size_t>(n * dst.cols()) * sizeof(float));
  }
  void CopyToHost(const DeviceTensor& src, int64_t n, float* dst) override {
    std::memcpy(dst, AsCpu(src).data(), static_cast<size_t>(n * src.cols()) * sizeof(float));
  }

  void GetRows(const DeviceWeight& table, std::span<const int32_t> ids,
               DeviceTensor& out) override {
    const CpuWeight& w = AsCpu(table);
    CpuTensor& o = AsCpu(out);
    pool_.ParallelFor(static_cast<int64_t>(ids.size()), 8, [&](int64_t begin, int64_t end, int) {
      for (int64_t i = begin; i < end; ++i) {
        quant::DequantizeRow(w.type(), w.row(ids[static_cast<size_t>(i)]), o.row(i),
                             w.row_length());
      }
    });
  }

  void GatherRows(const DeviceTensor& src, std::span<const int32_t> rows,
                  DeviceTensor& out) override {
    const CpuTensor& s = AsCpu(src);
    CpuTensor& o = AsCpu(out);
    for (size_t i = 0; i < rows.size(); ++i) {
      std::memcpy(o.row(static_cast<int64_t>(i)), s.row(rows[i]),
                  static_cast<size_t>(s.cols()) * sizeof(float));
    }
  }

  void RmsNorm(const DeviceTensor& x, const DeviceWeight& weight, float eps, int64_t n,
               DeviceTensor& out) override {
    const CpuTensor& in = AsCpu(x);
    CpuTensor& o = AsCpu(out);
    const float* w = AsCpu(weight).floats();
    const int64_t cols = x.cols();
    pool_.ParallelFor(n, 4, [&](int64_t begin, int64_t end, int) {
      for (int64_t i = begin; i < end; ++i) RmsNormF32(in.row(i), w, cols, eps, o.row(i));
    });
  }

  void MatMul(const DeviceWeight& w, const DeviceWeight* bias, const DeviceTensor& x, int64_t n,
              DeviceTensor& out) override {
    cpu::MatMul(pool_, act_scratch_, AsCpu(w), bias ? AsCpu(*bias).floats() : nullptr,
                AsCpu(x).data(), n, AsCpu(out).data());
  }

  void MatMulToHost(const DeviceWeight& w, const DeviceTensor& x, int64_t n, DeviceTensor&,
                    float* host) override {
    cpu::MatMul(pool_, act_scratch_, AsCpu(w), nullptr, AsCpu(x).data(), n, host);
  }

  void MatMuls(std::span<const MatMulProduct> products, const DeviceTensor& x, int64_t n) override {
    std::vector<MatMulTarget>& targets = matmul_targets_;
    targets.clear();
    for (const MatMulProduct& p : products) {
      targets.push_back(MatMulTarget{&AsCpu(*p.w), p.bias ? AsCpu(*p.bias).floats() : nullptr,
                                     AsCpu(*p.out).data()});
    }
    cpu::MatMuls(pool_, act_scratch_, targets, AsCpu(x).data(), n);
  }

  void Rope(DeviceTensor& x, const RopeParams& p, std::span<const int32_t> pos) override {
    CpuTensor& t = AsCpu(x);
    rope_table_.Prepare(pool_, p.freq_base, p.freq_scale, p.n_rot, pos);
    const bool neox = p.ordering == RopeOrdering::kNeox;
    pool_.ParallelFor(static_cast<int64_t>(pos.size()), 4, [&](int64_t begin, int64_t end, int) {
      for (int64_t r = begin; r < end; ++r) {
        RotateHeads(t.row(r), p.head_dim, p.n_rot, neox, rope_table_.cos(r), rope_table_.sin(r), 0,
                    p.n_head);
      }
    });
  }

  void StoreKv(KvCache& cache, int64_t layer, const DeviceTensor& k, const DeviceTensor& v,
               const TokenSlots& slots) override {
    CpuKvCache& c = AsCpu(cache);
    const int64_t head_dim = c.head_dim();
    for (int64_t i = 0; i < slots.size(); ++i) {
      const int32_t seq = slots.seq[static_cast<size_t>(i)];
      const int32_t pos = slots.pos[static_cast<size_t>(i)];
      for (int64_t h = 0; h < c.n_head_kv(); ++h) {
        c.StoreK(layer, seq, h, pos, 1, AsCpu(k).row(i) + h * head_dim);
        c.StoreV(layer, seq, h, pos, 1, AsCpu(v).row(i) + h * head_dim);
      }
    }
  }

  void Attention(const DeviceTensor& q, const KvCache& cache, int64_t layer,
                 const TokenSlots& slots, const AttentionParams& params,
                 DeviceTensor& out) override {
    CausalAttention(pool_, scores_, AsCpu(q), AsCpu(cache), layer, slots, params, AsCpu(out));
  }

  void SwiGlu(const DeviceTensor& gate, const DeviceTensor& up, int64_t n,
              DeviceTensor& out) override {
    const float* g = AsCpu(gate).data();
    const float* u = AsCpu(up).data();
    float* o = AsCpu(out).data();
    pool_.ParallelFor(n * gate.cols(), kMinSwiGluPerThread, [&](int64_t begin, int64_t end, int) {
      SwiGluF32(g + begin, u + begin, o + begin, end - begin);
    });
  }

  void Add(DeviceTensor& x, const DeviceTensor& y, int64_t n) override {
    float* a = AsCpu(x).data();
    const float* b = AsCpu(y).data();
    pool_.ParallelFor(n * x.cols(), kMinElementsPerThread, [&](int64_t begin, int64_t end, int) {
      for (int64_t i = begin; i < end; ++i) a[i] = a[i] + b[i];
    });
  }

  void SelfAttention(DeviceTensor& x, const SelfAttentionWeights& w, float eps,
                     const RopeParams& q_rope, const RopeParams& k_rope,
                     const AttentionParams& attention, KvCache& cache, int64_t layer,
                     const TokenSlots& slots, const SelfAttentionScratch& scratch) override {
    if (slots.size() > FusedSelfAttention::kMaxRows) {
      ComputeStream::SelfAttention(x, w, eps, q_rope, k_rope, attention, cache, layer, slots,
                                   scratch);
      return;
    }
    self_attention_.Run(
        pool_, rope_table_,
        CpuAttentionArgs(x, w, eps, q_rope, k_rope, attention, cache, layer, slots, scratch));
  }

  // All layers in one hand-off: each thread goes from a layer's attention half to its
  // feed-forward half and on to the next layer through barriers, prefetching the front of its
  // share of the next product while it waits at each; the calling thread prepares the next
  // layer's plans (two slots, alternating) while the layer runs.
  void DecoderLayers(DeviceTensor& x, std::span<const DecoderLayerWeights> layers, float eps,
                     const RopeParams& q_rope, const RopeParams& k_rope,
                     const AttentionParams& attention, KvCache& cache, const TokenSlots& slots,
                     const SelfAttentionScratch& attention_scratch,
                     const FeedForwardScratch& feed_forward_scratch) override {
    const int64_t n = slots.size();
    if (n > FusedSelfAttention::kMaxRows || n > FusedFeedForward::kMaxRows) {
      ComputeStream::DecoderLayers(x, layers, eps, q_rope, k_rope, attention, cache, slots,
                                   attention_scratch, feed_forward_scratch);
      return;
    }
    if (layers.empty()) return;
    const auto attention_args = [&](size_t i) {
      return CpuAttentionArgs(x, layers[i].attention, eps, q_rope, k_rope, attention, cache,
                              static_cast<int64_t>(i), slots, attention_scratch);
    };
    const auto feed_forward_args = [&](size_t i) {
      return CpuFeedForwardArgs(x, layers[i].feed_forward, eps, n, feed_forward_scratch);
    };
    rope_table_.Prepare(pool_, q_rope.freq_base, q_rope.freq_scale, q_rope.n_rot, slots.pos);
    size_t attention_bytes = 0;
    FusedFeedForward::ScratchSize feed_forward_bytes{0, 0};
    for (size_t i = 0; i < layers.size(); ++i) {
      attention_bytes =
          std::max(attention_bytes, FusedSelfAttention::ScratchBytes(attention_args(i)));
      const FusedFeedForward::ScratchSize bytes =
          FusedFeedForward::ScratchBytes(feed_forward_args(i));
      feed_forward_bytes.per_thread = std::max(feed_forward_bytes.per_thread, bytes.per_thread);
      feed_forward_bytes.shared = std::max(feed_forward_bytes.shared, bytes.shared);
    }
    self_attention_.Reserve(attention_bytes);
    feed_forward_.Reserve(feed_forward_bytes);
    const int threads = pool_.size();
    self_attention_.Prepare(0, threads, rope_table_, attention_args(0));
    feed_forward_.Prepare(0, threads, feed_forward_args(0));
    pool_.RunOnAll([&](int thread) {
      for (size_t i = 0; i < layers.size(); ++i) {
        const int slot = static_cast<int>(i % 2), next = 1 - slot;
        const bool last = i + 1 == layers.size();
        // The other slot held layer i - 1, which every thread has left (the barrier below).
        if (thread == 0 && !last) {
          self_attention_.Prepare(next, threads, rope_table_, attention_args(i + 1));
          feed_forward_.Prepare(next, threads, feed_forward_args(i + 1));
        }
        self_attention_.RunThread(slot, pool_, thread);
        pool_.Barrier(thread, feed_forward_.FirstShare(slot, thread));
        feed_forward_.RunThread(slot, pool_, thread);
        if (!last) pool_.Barrier(thread, self_attention_.FirstShare(next, thread));
      }
    });
  }

  void FeedForward(DeviceTensor& x, const FeedForwardWeights& w, float eps, int64_t n,
                   const FeedForwardScratch& scratch) override {
    if (n > FusedFeedForward::kMaxRows) {
      ComputeStream::FeedForward(x, w, eps, n, scratch);
      return;
    }
    feed_forward_.Run(pool_, CpuFeedForwardArgs(x, w, eps, n, scratch));
  }

 private:
  // The arguments of SelfAttention and FeedForward as the fused halves take them.
  static FusedSelfAttention::Args CpuAttentionArgs(DeviceTensor& x, const SelfAttentionWeights& w,
                                                   float eps, const RopeParams& q_rope,
                                                   const RopeParams& k_rope,
                                                   const AttentionParams& attention, KvCache& cache,
                                                   int64_t layer, const TokenSlots& slots,
                                                   const SelfAttentionScratch& s) {
    auto cpu = [](const DeviceWeight* weight) { return weight ? &AsCpu(*weight) : nullptr; };
    return {
        &AsCpu(x),
        {cpu(w.norm), cpu(w.wq), cpu(w.bq), cpu(w.wk), cpu(w.bk), cpu(w.wv), cpu(w.bv), cpu(w.wo)},
        eps,
        q_rope,
        k_rope,
        attention,
        &AsCpu(cache),
        layer,
        slots,
        {&AsCpu(*s.xn), &AsCpu(*s.q), &AsCpu(*s.k), &AsCpu(*s.v), &AsCpu(*s.attn)}};
  }
  static FusedFeedForward::Args CpuFeedForwardArgs(DeviceTensor& x, const FeedForwardWeights& w,
                                                   float eps, int64_t n,
                                                   const FeedForwardScratch& s) {
    return {&AsCpu(x),
            &AsCpu(*w.norm),
            &AsCpu(*w.gate),
            &AsCpu(*w.up),
            &AsCpu(*w.down),
            eps,
            n,
            AsCpu(*s.gate).data(),
            AsCpu(*s.up).data(),
            AsCpu(*s.xn).data()};
  }

  ThreadPool pool_;
  FusedSelfAttention self_attention_;
  FusedFeedForward feed_forward_;
  std::vector<uint8_t> act_scratch_;
  std::vector<MatMulTarget> matmul_targets_;  // MatMuls' reused list
  std::vector<std::vector<float>> scores_;
  RopeTable rope_table_;
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int n_threads) : n_threads_(n_threads) {}

  std::string_view name() const override { return "cpu"; }

  Result<std::unique_ptr<DeviceWeight>> PrepareWeight(const gguf::TensorInfo& info,
                                                      std::span<const uint8_t> bytes) override {
    const int64_t row_length = info.row_length();
    int64_t rows = 1;
    for (size_t d = 1; d < info.shape.size(); ++d) rows *= info.shape[d];
    const size_t row_bytes = RowBytes(info.type, row_length);
    if (bytes.size() < row_bytes * static_cast<size_t>(rows)) {
      return Status::Corrupt("tensor " + info.name + ": data shorter than its shape");
    }
    // Matrices are multiplied against activation rows in the type's activation format.
    if (rows > 1 && row_length % Traits(quant::ActivationType(info.type)).block_elems != 0) {
      return Status::Unsupported("tensor " + info.name + ": row length " +
                                 std::to_string(row_length) + " is not a multiple of the " +
                                 std::string(TypeName(quant::ActivationType(info.type))) +
                                 " activation block");
    }
    auto w = std::make_unique<CpuWeight>(info.type, row_length, rows, bytes.data(), row_bytes);
    if (rows == 1) {
      // Vectors (norm weights, biases) are read as floats by the element-wise ops.
      if (info.type == TensorType::kF32 &&
          reinterpret_cast<uintptr_t>(bytes.data()) % alignof(float) == 0) {
        w->set_floats(reinterpret_cast<const float*>(bytes.data()));
      } else {
        std::vector<float> floats(static_cast<size_t>(row_length));
        quant::DequantizeRow(info.type, bytes.data(), floats.data(), row_length);
        w->set_floats(std::move(floats));
      }
    }
    return std::unique_ptr<DeviceWeight>(std::move(w));
  }

  std::unique_ptr<ComputeStream> CreateStream(int n_threads) override {
    return std::make_unique<CpuStream>(n_threads > 0 ? n_threads : n_threads_);
  }

 private:
  int n_threads_;
};

}  // namespace
}  // namespace infernet::cpu

namespace infernet {

std::unique_ptr<Backend> CreateCpuBackend(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::thread::hardware_concurrency());
  if (n_threads <= 0) n_threads = 1;
  return std::make_unique<cpu::CpuBackend>(n_threads);
}

}  // namespace infernet
