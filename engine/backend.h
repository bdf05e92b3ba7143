// The seam between model code and compute back ends (CPU now, CUDA later).
//
// Model code (engine/model/) describes the forward pass as a sequence of the ops below on opaque
// handles and never branches on which back end runs them. A Backend prepares weights once at load
// time and creates ComputeStreams; a ComputeStream owns the execution resources of one Context
// (threads, scratch, a CUDA stream) and allocates that Context's activations and KV cache.
//
// Shapes: activations are row-major float matrices [rows = tokens, cols = features]. Weights use
// GGUF order: row_length() is the contiguous (input) dimension, rows() the output dimension.
// Ops act on the first `n` rows of their operands; outputs must not alias inputs unless stated.
//
// Determinism: every op computes each output row from its own input row (attention: from its own
// sequence's cache) with a fixed sequence of floating-point operations, so results do not depend
// on how many rows an op processes or on the back end's thread count.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "core/result.h"
#include "engine/gguf/gguf_file.h"
#include "engine/model/model_config.h"
#include "engine/tensor_type.h"

namespace infernet {

// A weight tensor prepared by a back end (CPU: a view of the mapped file; CUDA: a device copy).
class DeviceWeight {
 public:
  virtual ~DeviceWeight() = default;
  TensorType type() const { return type_; }
  int64_t row_length() const { return row_length_; }
  int64_t rows() const { return rows_; }

 protected:
  DeviceWeight(TensorType type, int64_t row_length, int64_t rows)
      : type_(type), row_length_(row_length), rows_(rows) {}

 private:
  TensorType type_;
  int64_t row_length_;
  int64_t rows_;
};

// A float activation matrix [rows, cols] in back-end memory; contents are undefined until written.
class DeviceTensor {
 public:
  virtual ~DeviceTensor() = default;
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }

 protected:
  DeviceTensor(int64_t rows, int64_t cols) : rows_(rows), cols_(cols) {}

 private:
  int64_t rows_;
  int64_t cols_;
};

// Keys and values of `n_layer` layers for `n_seq` sequences of up to `n_ctx` positions, each a
// row of `kv_dim` = n_head_kv * head_dim values, stored as `type()`: F16 (values rounded to
// nearest even when stored) or F32.
class KvCache {
 public:
  virtual ~KvCache() = default;
  virtual uint64_t size_bytes() const = 0;
  TensorType type() const { return type_; }
  int64_t n_layer() const { return n_layer_; }
  int64_t n_seq() const { return n_seq_; }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_head_kv() const { return n_head_kv_; }
  int64_t head_dim() const { return head_dim_; }
  int64_t kv_dim() const { return n_head_kv_ * head_dim_; }

 protected:
  KvCache(int64_t n_layer, int64_t n_seq, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim,
          TensorType type)
      : n_layer_(n_layer),
        n_seq_(n_seq),
        n_ctx_(n_ctx),
        n_head_kv_(n_head_kv),
        head_dim_(head_dim),
        type_(type) {}

 private:
  int64_t n_layer_, n_seq_, n_ctx_, n_head_kv_, head_dim_;
  TensorType type_;
};

// Whether `type` can store a KV cache (F16 or F32).
inline bool IsKvCacheType(TensorType type) {
  return type == TensorType::kF16 || type == TensorType::kF32;
}

// Where each row of a batch belongs: its sequence and its position in that sequence.
// REQUIRES: seq.size() == pos.size().
struct TokenSlots {
  std::span<const int32_t> seq;
  std::span<const int32_t> pos;
  int64_t size() const { return static_cast<int64_t>(pos.size()); }
};

struct RopeParams {
  int64_t n_head = 0;  // heads per row (row length = n_head * head_dim)
  int64_t head_dim = 0;
  int64_t n_rot = 0;  // leading dimensions of each head that rotate (even, <= head_dim)
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;
  RopeOrdering ordering = RopeOrdering::kNormal;
};

struct AttentionParams {
  int64_t n_head = 0;
  int64_t n_head_kv = 0;  // divides n_head; query head h reads KV head h / (n_head / n_head_kv)
  int64_t head_dim = 0;
  float scale = 1.0f;  // applied to q.k before the softmax, usually 1/sqrt(head_dim)
};

// One of the products of ComputeStream::MatMuls: out = w x (+ bias).
struct MatMulProduct {
  const DeviceWeight* w;
  const DeviceWeight* bias;  // optional
  DeviceTensor* out;
};

// The weights of a layer's attention half (ComputeStream::SelfAttention); biases may be null.
struct SelfAttentionWeights {
  const DeviceWeight* norm;  // RMSNorm weight, a vector of n_embd
  const DeviceWeight *wq, *bq, *wk, *bk, *wv, *bv, *wo;
};

// Working tensors of ComputeStream::SelfAttention, at least n rows each: xn of n_embd columns, q
// and attn of n_head * head_dim, k and v of n_head_kv * head_dim; contents undefined afterwards.
struct SelfAttentionScratch {
  DeviceTensor *xn, *q, *k, *v, *attn;
};

// The weights of a layer's feed-forward half (ComputeStream::FeedForward).
struct FeedForwardWeights {
  const DeviceWeight* norm;  // RMSNorm weight, a vector of n_embd
  const DeviceWeight* gate;
  const DeviceWeight* up;
  const DeviceWeight* down;
};

// Working tensors of ComputeStream::FeedForward: xn of n_embd columns, gate and up of n_ff, at
// least n rows each; their contents are undefined afterwards.
struct FeedForwardScratch {
  DeviceTensor* xn;
  DeviceTensor* gate;
  DeviceTensor* up;
};

// The weights of one decoder layer (ComputeStream::DecoderLayers).
struct DecoderLayerWeights {
  SelfAttentionWeights attention;
  FeedForwardWeights feed_forward;
};

class ComputeStream {
 public:
  virtual ~ComputeStream() = default;

  virtual std::unique_ptr<DeviceTensor> NewTensor(int64_t rows, int64_t cols) = 0;
  // Keys and values of n_head_kv heads of head_dim elements per position, stored as `type`.
  // REQUIRES: IsKvCacheType(type).
  virtual std::unique_ptr<KvCache> NewKvCache(int64_t n_layer, int64_t n_seq, int64_t n_ctx,
                                              int64_t n_head_kv, int64_t head_dim,
                                              TensorType type) = 0;

  // dst rows 0..n-1 <- `src` (n * dst.cols() floats).
  virtual void CopyFromHost(const float* src, int64_t n, DeviceTensor& dst) = 0;
  // `dst` (n * src.cols() floats) <- src rows 0..n-1.
  virtual void CopyToHost(const DeviceTensor& src, int64_t n, float* dst) = 0;

  // out[i] = row ids[i] of `table` (any stored type), dequantized. REQUIRES: ids in range.
  virtual void GetRows(const DeviceWeight& table, std::span<const int32_t> ids,
                       DeviceTensor& out) = 0;
  // out[i] = src[rows[i]].
  virtual void GatherRows(const DeviceTensor& src, std::span<const int32_t> rows,
                          DeviceTensor& out) = 0;
  // out[i] = x[i] / sqrt(mean(x[i]^2) + eps) * weight. `out` may alias `x`.
  virtual void RmsNorm(const DeviceTensor& x, const DeviceWeight& weight, float eps, int64_t n,
                       DeviceTensor& out) = 0;
  // out[i][r] = dot(w row r, x[i]) (+ bias[r]). REQUIRES: x.cols() == w.row_length(),
  // out.cols() == w.rows(); bias (optional) is a vector of w.rows() elements.
  virtual void MatMul(const DeviceWeight& w, const DeviceWeight* bias, const DeviceTensor& x,
                      int64_t n, DeviceTensor& out) = 0;
  // MatMul(w, nullptr, x, n, scratch) then CopyToHost(scratch, n, host), which is what this
  // default does; back ends whose memory is the host's write `host` directly (`scratch` then
  // unused: untouched pages of it are never resident).
  virtual void MatMulToHost(const DeviceWeight& w, const DeviceTensor& x, int64_t n,
                            DeviceTensor& scratch, float* host) {
    MatMul(w, nullptr, x, n, scratch);
    CopyToHost(scratch, n, host);
  }
  // MatMul(*p.w, p.bias, x, n, *p.out) for each product, with the same results. Back ends that
  // can run them as one operation (one hand-off to the CPU threads) override it.
  virtual void MatMuls(std::span<const MatMulProduct> products, const DeviceTensor& x, int64_t n) {
    for (const MatMulProduct& p : products) MatMul(*p.w, p.bias, x, n, *p.out);
  }
  // Rotates each head of rows 0..pos.size()-1 of `x` in place by its row's position.
  virtual void Rope(DeviceTensor& x, const RopeParams& params, std::span<const int32_t> pos) = 0;
  // Writes row i of `k`, `v` at (layer, slots.seq[i], slots.pos[i]) of `cache`.
  virtual void StoreKv(KvCache& cache, int64_t layer, const DeviceTensor& k, const DeviceTensor& v,
                       const TokenSlots& slots) = 0;
  // Causal attention: row i of `out` attends with query row i of `q` over positions
  // 0..slots.pos[i] of sequence slots.seq[i] in `layer` of `cache` (which must hold them).
  virtual void Attention(const DeviceTensor& q, const KvCache& cache, int64_t layer,
                         const TokenSlots& slots, const AttentionParams& params,
                         DeviceTensor& out) = 0;
  // out = silu(gate) * up, element-wise. `out` may alias `gate` or `up`.
  virtual void SwiGlu(const DeviceTensor& gate, const DeviceTensor& up, int64_t n,
                      DeviceTensor& out) = 0;
  // x += y, element-wise.
  virtual void Add(DeviceTensor& x, const DeviceTensor& y, int64_t n) = 0;

  // The attention half of a layer on the slots.size() rows of a batch, in place:
  //   x += wo Attention(Rope(wq xn + bq), cache with Rope(wk xn + bk), wv xn + bv stored),
  //   xn = RmsNorm(x, norm, eps),
  // with the results of RmsNorm, MatMuls(q, k, v), Rope of q and k, StoreKv, Attention,
  // MatMul(wo) and Add in turn, which is what this default does. Back ends that can run it as
  // one operation override it.
  virtual void SelfAttention(DeviceTensor& x, const SelfAttentionWeights& w, float eps,
                             const RopeParams& q_rope, const RopeParams& k_rope,
                             const AttentionParams& attention, KvCache& cache, int64_t layer,
                             const TokenSlots& slots, const SelfAttentionScratch& scratch) {
    const int64_t n = slots.size();
    RmsNorm(x, *w.norm, eps, n, *scratch.xn);
    const MatMulProduct qkv[] = {
        {w.wq, w.bq, scratch.q}, {w.wk, w.bk, scratch.k}, {w.wv, w.bv, scratch.v}};
    MatMuls(qkv, *scratch.xn, n);
    Rope(*scratch.q, q_rope, slots.pos);
    Rope(*scratch.k, k_rope, slots.pos);
    StoreKv(cache, layer, *scratch.k, *scratch.v, slots);
    Attention(*scratch.q, cache, layer, slots, attention, *scratch.attn);
    MatMul(*w.wo, nullptr, *scratch.attn, n, *scratch.xn);
    Add(x, *scratch.xn, n);
  }

  // The feed-forward half of a layer on rows 0..n-1, in place:
  //   x += down (SiLU(gate xn) * (up xn)),  xn = RmsNorm(x, norm, eps),
  // with the results of RmsNorm, MatMuls(gate, up), SwiGlu, MatMul(down) and Add in turn, which
  // is what this default does. Back ends that can run it as one operation override it.
  virtual void FeedForward(DeviceTensor& x, const FeedForwardWeights& w, float eps, int64_t n,
                           const FeedForwardScratch& scratch) {
    RmsNorm(x, *w.norm, eps, n, *scratch.xn);
    const MatMulProduct gate_up[] = {{w.gate, nullptr, scratch.gate}, {w.up, nullptr, scratch.up}};
    MatMuls(gate_up, *scratch.xn, n);
    SwiGlu(*scratch.gate, *scratch.up, n, *scratch.gate);
    MatMul(*w.down, nullptr, *scratch.gate, n, *scratch.xn);
    Add(x, *scratch.xn, n);
  }

  // Decoder layers in turn on the slots.size() rows of a batch, in place: for layers[i] (layer i
  // of the cache), SelfAttention then FeedForward, which is what this default does. Back ends
  // that can run several as one operation override it.
  virtual void DecoderLayers(DeviceTensor& x, std::span<const DecoderLayerWeights> layers,
                             float eps, const RopeParams& q_rope, const RopeParams& k_rope,
                             const AttentionParams& attention, KvCache& cache,
                             const TokenSlots& slots, const SelfAttentionScratch& attention_scratch,
                             const FeedForwardScratch& feed_forward_scratch) {
    for (size_t i = 0; i < layers.size(); ++i) {
      SelfAttention(x, layers[i].attention, eps, q_rope, k_rope, attention, cache,
                    static_cast<int64_t>(i), slots, attention_scratch);
      FeedForward(x, layers[i].feed_forward, eps, slots.size(), feed_forward_scratch);
    }
  }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;

  // Prepares a tensor of the model for the ops above; `bytes` (its data in the mapped file) must
  // outlive the returned handle. UNSUPPORTED when the back end cannot use the type/shape.
  virtual Result<std::unique_ptr<DeviceWeight>> PrepareWeight(const gguf::TensorInfo& info,
                                                              std::span<const uint8_t> bytes) = 0;
  // Execution resources for one Context. `n_threads` <= 0 selects the back end's default.
  virtual std::unique_ptr<ComputeStream> CreateStream(int n_threads) = 0;
};

}  // namespace infernet
